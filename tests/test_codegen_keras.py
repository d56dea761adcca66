"""nu.code(spec, "keras"): golden text, and the generated source builds nu.build's model, layer for layer and number for number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError
from golden_files import check_golden
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights
from test_backend_keras import extra_specs

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-6  # the same layers with the same weights: only float32 evaluation order may differ


def nested_specs() -> dict[str, Sequential]:
    """Shapes the reference specs do not reach: nested blocks, long lines, sequences, a map output."""
    return {
        "nested_blocks": Sequential([
            L.Conv2d(4, 3, padding=1),
            L.Concat([L.Residual([L.Conv2d(4, 3, padding="same", name="a_rather_long_layer_name_for_wrapping")],
                                 shortcut=[L.Residual([L.Conv2d(4, 1)])])],
                     [L.Concat([L.Conv2d(2, 1)], []), L.Conv2d(4, 1)], []),
            L.Conv2d(6, (3, 2), stride=(2, 1), padding=(1, 0), groups=2, activation="leaky_relu", use_bias=False,
                     name="convolution_with_every_argument_it_could_possibly_take"),
        ], input_shape=(2, 9, 8), name="NestedBlocks-2"),
        "sequence": Sequential([L.Dense(5, activation="softmax"), L.Activation("leaky_relu"), L.Concat([L.Dense(5)], []),
                                L.Activation("softmax"), L.Flatten(), L.Dense(2)], input_shape=(4, 6), name="sequence"),
    }


#: Extra specs of the backend tests whose code has something of its own to show (helpers, notes, aliases).
CODE_EXTRAS = ("map_1d_flatten", "reshapes", "flatten_to_map", "transposes", "conv_transpose_variety", "recurrent_variety",
               "convolution_variety")
SPECS = {**{name: make() for name, make in {**REFERENCE_SPECS, **COVERAGE_SPECS}.items()}, **nested_specs(),
         **{name: spec for name, spec in extra_specs().items() if name in CODE_EXTRAS}}


@pytest.fixture(scope="module")
def keras():
    return load("keras")


def generated_model(spec: Sequential):
    from nbunify.backends.keras.codegen import function_name

    namespace = {"__name__": "generated"}
    exec(compile(nu.code(spec, "keras").text, f"<keras code of {spec.name}>", "exec"), namespace)
    return namespace[f"build_{function_name(spec)}"]()


@pytest.mark.parametrize("name", sorted(REFERENCE_SPECS))
def test_code_equals_the_golden_file(name):
    text = nu.code(REFERENCE_SPECS[name](), "keras").text
    check_golden(f"code/keras/{name}.py", text)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_code_is_formatted(name):
    text = nu.code(SPECS[name], "keras").text
    compile(text, name, "exec")
    assert all(len(line) <= 100 for line in text.splitlines())
    assert all((len(line) - len(line.lstrip())) % 4 == 0 for line in text.splitlines())
    assert text == nu.code(SPECS[name], "keras").text


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_model_is_the_built_model(name, keras):
    from nbunify.backends.keras.layout import to_canonical_outputs, to_keras_inputs
    from nbunify.backends.keras.weights import set_weights

    spec = SPECS[name]
    weights = random_weights(spec)
    built = nu.build(spec, "keras", weights=weights)
    model = generated_model(spec)
    # Input layers keep keras's own numbered names (input_layer_7); a Transpose is an Identity layer in the
    # built model only (generated code says in a comment that keras needs no transpose there).
    own = lambda m: [layer for layer in m.layers if not isinstance(layer, (keras.layers.InputLayer, keras.layers.Identity))]
    signature = lambda m: {(layer.name, type(layer).__name__, tuple(tuple(w.shape) for w in layer.weights)) for layer in own(m)}
    assert signature(model) == signature(built)
    assert model.name == built.name and model.count_params() == built.count_params()
    model._nbunify_spec, model._nbunify_layout = spec, built._nbunify_layout
    set_weights(model, weights)  # the canonical weights load into the generated model as into the built one
    assert all(np.array_equal(got, expected) for got, expected in zip(model.get_weights(), built.get_weights()))

    inputs = random_inputs(spec)
    outputs = keras.ops.convert_to_numpy(model(to_keras_inputs(inputs, spec.input_layout), training=False))
    outputs = to_canonical_outputs(outputs, spec.output_layout, built._nbunify_layout.output_permutation)
    expected = nu.predict(built, inputs)
    assert outputs.shape == expected.shape == (len(inputs), *spec.output_shape)
    assert np.abs(outputs - expected).max() <= TOLERANCE


@pytest.mark.parametrize("name", sorted({**REFERENCE_SPECS, **COVERAGE_SPECS}))
def test_generated_file_runs_as_a_script(name, tmp_path):
    spec = SPECS[name]
    script = nu.code(spec, "keras").save(tmp_path / f"{name}.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = (*spec.output_shape[1:], spec.output_shape[0]) if spec.output_layout == "map" else spec.output_shape
    assert f"(4, {', '.join(map(str, stored))})" in result.stdout


def test_helper_classes_and_build_only_layers_are_written_as_a_reader_needs():
    transformer = nu.code(SPECS["transformer_classifier"], "keras").text
    assert transformer.count("class TransformerEncoder(layers.Layer):") == 1
    assert '@keras.saving.register_keras_serializable(package="nbunify")' in transformer
    assert "class " not in nu.code(SPECS["lstm_text_classifier"], "keras").text
    transposes = nu.code(SPECS["transposes"], "keras").text
    assert "Identity" not in transposes and "# transpose_1: torch's x.transpose(1, 2)" in transposes
    assert 'branch_1 = layers.Dense(3, name="dense_1")(x)' in transposes and "    outputs = x\n" not in transposes
    assert "# Outputs are channels-last too: .transpose(0, 2, 1)" in transposes


def test_lenet5_is_short():
    assert nu.code(REFERENCE_SPECS["lenet5"](), "keras").lines < 60


def test_generating_imports_no_framework():
    program = ("import sys; import nbunify as nu; from reference_specs import REFERENCE_SPECS\n"
               "for make in REFERENCE_SPECS.values(): nu.code(make(), 'keras')\n"
               "print(sorted(m for m in ('keras', 'tensorflow', 'torch', 'paddle') if m in sys.modules))")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"


def test_specs_keras_cannot_build_are_refused_like_build():
    dense_on_map = Sequential([L.Conv2d(2, 3), L.Dense(4)], input_shape=(1, 6, 6))
    with pytest.raises(SpecError, match="cannot build layer 'dense_1' \\(dense\\)"):
        nu.code(dense_on_map, "keras")
    strided_dilated = Sequential([L.Conv2d(2, 3, stride=2, dilation=2)], input_shape=(1, 9, 9))
    with pytest.raises(SpecError, match="stride > 1 together with dilation > 1"):
        nu.code(strided_dilated, "keras")
    reshaped = Sequential([L.Conv2d(2, 1), L.Concat([L.Flatten()], [L.Flatten()]), L.Reshape((4, 9))], input_shape=(1, 3, 3))
    with pytest.raises(SpecError, match="cannot build layer 'reshape_1' \\(reshape\\)"):
        nu.code(reshaped, "keras")
