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
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, lenet5, random_inputs, random_weights
from test_backend_paddle import EXTRA_SPECS, recurrent_blocks

paddle = load("paddle")

TESTS = Path(__file__).resolve().parent
SPEC_NAMES = sorted(REFERENCE_SPECS)
ALL_SPECS = {**REFERENCE_SPECS, **COVERAGE_SPECS, **EXTRA_SPECS}


def generated_model(spec: Sequential):
    """Execute the generated source in a fresh namespace (not as __main__) and instantiate its model."""
    namespace = {"__name__": f"generated_{spec.name}"}
    exec(compile(nu.code(spec, "paddle").text, f"<paddle code for {spec.name}>", "exec"), namespace)
    return namespace[class_name(spec)]()


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_text_matches_the_golden_file(name):
    check_golden(f"code/paddle/{name}.py", nu.code(REFERENCE_SPECS[name](), "paddle").text)


@pytest.mark.parametrize("name", ALL_SPECS)
def test_text_is_formatted(name):
    text = nu.code(ALL_SPECS[name](), "paddle").text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all((len(line) - len(line.lstrip(" "))) % 4 == 0 and "\t" not in line for line in lines)
    assert text.endswith("\n") and not text.endswith("\n\n")
    compile(text, name, "exec")


@pytest.mark.parametrize("name", ALL_SPECS)
def test_generated_model_loads_the_built_weights_and_computes_the_same(name):
    spec = ALL_SPECS[name]()
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


@pytest.mark.parametrize("name, shape", [("residual_cnn", "[2, 10]"), ("lstm_text_classifier", "[2, 4]")])
def test_a_generated_file_runs_as_a_script(tmp_path, name, shape):
    script = nu.code(REFERENCE_SPECS[name](), "paddle").save(tmp_path / f"{name}.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert shape in result.stdout.strip().splitlines()[-1]


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


def test_sequence_layers_use_paddle_spellings():
    text = nu.code(COVERAGE_SPECS["conv1d_text"](), "paddle").text
    assert "self.conv1d_1 = nn.Conv1D(8, 12, kernel_size=4, stride=2, padding=1)" in text
    assert "nn.Conv1D(12, 12, kernel_size=3, padding=2, dilation=2, groups=4)" in text
    assert "x = x.transpose([0, 2, 1])  # [N, 8, 30]" in text and "x = x.mean(axis=1)  # [N, 16]" in text
    assert "x = F.softmax(self.conv1d_2(x), axis=1)" in text  # a map's channels
    assert '("dense_1_softmax", nn.Softmax(axis=-1))' in text and "axis=-1," in text  # a sequence's features
    assert 'nn.SimpleRNN(12, 6, direction="bidirect")' in text and "x, _ = self.simple_rnn_1(x)" in text
    assert "x = self.multihead_attention_1(x, x, x)" in text
    assert "nn.LayerNorm(16, epsilon=0.001)" in text and "outputs = model(paddle.randint(0, 25, [2, 30]))" in text
    series = nu.code(COVERAGE_SPECS["time_series"](), "paddle").text
    assert "nn.Conv1D(6, 3, kernel_size=4, padding=[1, 2])" in series
    assert "_, (h, _) = self.lstm_1(x)\n        x = paddle.concat([h[-2], h[-1]], axis=-1)  # [N, 14]" in series
    decoder = nu.code(COVERAGE_SPECS["decoder"](), "paddle").text
    assert "x = x.reshape([x.shape[0], 2, 4, 4])  # [N, 2, 4, 4]" in decoder
    assert "nn.Conv2DTranspose(\n            4, 3, kernel_size=[2, 3], stride=[2, 1], bias_attr=False\n        )" in decoder


def test_only_the_helper_classes_a_model_uses_are_written():
    plain = nu.code(REFERENCE_SPECS["lstm_text_classifier"](), "paddle").text
    assert "class LSTM" not in plain and "class Concat" not in plain and "_, (h, _) = self.lstm_2(x)" in plain
    text = nu.code(recurrent_blocks(), "paddle").text
    classes = [line.split("(")[0][len("class "):] for line in text.splitlines() if line.startswith("class ")]
    assert classes == ["Residual", "Concat", "Transpose", "SimpleRNN", "LSTM", "GRU", "RecurrentBlocks"]
    assert '("lstm_1", LSTM(6, 3, direction="bidirect", return_sequences=True))' in text
    assert '("gru_2", GRU(8, 3, direction="bidirect"))' in text


def test_a_helper_class_the_model_class_would_shadow_is_renamed():
    spec = Sequential([L.Concat([L.Dense(2)], [L.Dense(3)]), L.Dense(1)], input_shape=(4,), name="concat")
    text = nu.code(spec, "paddle").text
    assert "class ConcatLayer(nn.Layer):" in text and "self.concat_1 = ConcatLayer(" in text
    model = generated_model(spec)
    model.set_state_dict(nu.build(spec, "paddle", weights=random_weights(spec)).state_dict())
    assert tuple(model(paddle.to_tensor(random_inputs(spec))).shape) == (4, 1)


def test_a_layer_norm_epsilon_paddle_refuses_is_an_error_in_code_too():
    spec = Sequential([L.LayerNorm(epsilon=0.01)], input_shape=(3, 5), name="wide_epsilon")
    with pytest.raises(SpecError, match="layer 'layernorm_1' \\(layernorm\\) has epsilon=0.01.*give epsilon <= 0.001"):
        nu.code(spec, "paddle")


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
