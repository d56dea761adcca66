"""Generated paddle source against real paddle: golden text, the built model's keys and outputs, runs as a script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.codegen import class_name
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import Layer
from golden_files import check_golden
from reference_specs import REFERENCE_SPECS, lenet5, random_inputs, random_weights

paddle = load("paddle")

TESTS = Path(__file__).resolve().parent
SPEC_NAMES = sorted(REFERENCE_SPECS)




def generated_model(spec: Sequential):
    """Execute the generated source in a fresh namespace (not as __main__) and instantiate its model."""
    namespace = {"__name__": f"generated_{spec.name}"}
    exec(compile(nu.code(spec, "paddle").text, f"<paddle code for {spec.name}>", "exec"), namespace)
    return namespace[class_name(spec)]()


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_text_matches_the_golden_file(name):
    check_golden(f"code/paddle/{name}.py", nu.code(REFERENCE_SPECS[name](), "paddle").text)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_text_is_formatted(name):
    text = nu.code(REFERENCE_SPECS[name](), "paddle").text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all((len(line) - len(line.lstrip(" "))) % 4 == 0 and "\t" not in line for line in lines)
    assert text.endswith("\n") and not text.endswith("\n\n")
    compile(text, name, "exec")


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_generated_model_loads_the_built_weights_and_computes_the_same(name):
    spec = REFERENCE_SPECS[name]()
    built = nu.build(spec, "paddle", weights=random_weights(spec))
    model = generated_model(spec)
    built_state = built.state_dict()
    assert set(model.state_dict()) == set(built_state)
    missing, unexpected = model.set_state_dict(built_state)
    assert not missing and not unexpected
    model.eval()
    inputs = random_inputs(spec)
    with paddle.no_grad():
        got = model(paddle.to_tensor(inputs)).numpy()
    expected = nu.predict(built, inputs)
    assert got.shape == expected.shape == (4, *spec.output_shape)
    assert np.abs(got - expected).max() <= 1e-6


def test_a_generated_file_runs_as_a_script(tmp_path):
    spec = REFERENCE_SPECS["residual_cnn"]()
    script = nu.code(spec, "paddle").save(tmp_path / "residual_cnn.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[2, 10]" in result.stdout.strip().splitlines()[-1]


def test_lenet5_is_short():
    assert nu.code(lenet5(), "paddle").lines < 60


def test_generating_imports_no_framework():
    program = ("import sys; import nbunify as nu; from reference_specs import REFERENCE_SPECS\n"
               "for make in REFERENCE_SPECS.values(): nu.code(make(), 'paddle')\n"
               "print(sorted(m for m in ('paddle', 'torch', 'tensorflow', 'keras') if m in sys.modules))")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                            env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_layer_arguments_use_paddle_spellings():
    spec = Sequential([L.Conv2d(4, (3, 5), stride=(1, 2), use_bias=False), L.BatchNorm(momentum=0.3, epsilon=1e-3),
                       L.MaxPool2d(3, stride=2), L.Flatten(), L.Dropout(0.5), L.Dense(2, use_bias=False)],
                      input_shape=(1, 9, 9), name="spellings")
    text = nu.code(spec, "paddle").text
    assert "nn.Conv2D(1, 4, kernel_size=[3, 5], stride=[1, 2], bias_attr=False)" in text
    assert "nn.BatchNorm2D(4, momentum=0.7, epsilon=0.001)" in text
    assert "nn.MaxPool2D(kernel_size=3, stride=2)" in text
    assert "nn.Dropout()" in text and "bias_attr=False)" in text
    assert "import paddle.nn.functional as F" not in text  # no activation argument, so F is not needed
    model = generated_model(spec)
    model.set_state_dict(nu.build(spec, "paddle", weights=random_weights(spec)).state_dict())
    model.eval()
    assert tuple(model(paddle.to_tensor(random_inputs(spec))).shape) == (4, 2)


def test_a_layer_without_paddle_source_is_named_in_the_error():
    class Custom(Layer):
        KIND = "custom"
        name = None

    spec = Sequential([L.Dense(4), Custom()], input_shape=(3,), name="custom")
    with pytest.raises(SpecError, match="'custom_1' \\(custom\\) has no paddle source; supported layers: dense"):
        nu.code(spec, "paddle")


def test_a_layer_name_that_is_no_identifier_is_refused():
    spec = Sequential([L.Dense(4, name="dense-1")], input_shape=(3,), name="odd_names")
    with pytest.raises(SpecError, match="'dense-1' cannot be an attribute"):
        nu.code(spec, "paddle")
