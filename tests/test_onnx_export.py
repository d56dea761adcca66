"""nu.to_onnx: each framework's own exporter, checked, stamped, interchangeable, and equal to nu.predict."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import onnxruntime
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.backends import NotBuiltByNbunifyError
from nbunify.convert import export as export_module
from nbunify.convert.export import ExporterNotInstalledError, ExportParityError, to_onnx
from reference_specs import REFERENCE_SPECS, random_inputs, random_weights

FRAMEWORKS = ("torch", "keras", "paddle")  # nu.build loads paddle before TensorFlow whatever the order
TOLERANCE = 1e-5  # float32 inference; measured 6e-8 to 6e-7 for every export here
METADATA = ("nbunify.source_framework", "nbunify.source_framework_version", "nbunify.exporter", "nbunify.version",
            "nbunify.spec", "nbunify.export_max_abs_error")


def run(proto: onnx.ModelProto, inputs: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": inputs})[0]


def metadata(proto: onnx.ModelProto) -> dict[str, str]:
    return {entry.key: entry.value for entry in proto.metadata_props}


@pytest.fixture(scope="module", params=sorted(REFERENCE_SPECS))
def exported(request):
    """One reference spec built in every framework with the same random weights, and each build's export."""
    spec = REFERENCE_SPECS[request.param]()
    models = nu.build(spec, list(FRAMEWORKS), weights=random_weights(spec))
    return spec, models, {name: to_onnx(model) for name, model in models.items()}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_export_is_checked_stamped_and_computes_what_the_model_does(exported, framework):
    spec, models, protos = exported
    proto = protos[framework]
    onnx.checker.check_model(proto, full_check=True)
    stamped = metadata(proto)
    assert set(METADATA) <= stamped.keys()
    assert stamped["nbunify.source_framework"] == framework
    assert stamped["nbunify.spec"] == spec.name and stamped["nbunify.version"] == nu.__version__
    assert float(stamped["nbunify.export_max_abs_error"]) <= TOLERANCE
    assert proto.producer_name
    assert [value.name for value in proto.graph.input] == ["input"]
    assert [value.name for value in proto.graph.output] == ["output"]
    for batch, seed in ((2, 11), (3, 12)):  # two batch sizes: the batch dimension is dynamic
        inputs = random_inputs(spec, batch, seed)
        expected = nu.predict(models[framework], inputs)
        actual = run(proto, inputs)
        assert actual.shape == expected.shape == (batch, *spec.output_shape)
        assert np.abs(actual - expected).max() <= TOLERANCE


def test_the_three_exports_of_one_spec_are_interchangeable(exported):
    spec, _, protos = exported
    inputs = random_inputs(spec, 3, seed=13)  # canonical (channels-first) for all three, keras's included
    outputs = {name: run(proto, inputs) for name, proto in protos.items()}
    for first, second in itertools.combinations(FRAMEWORKS, 2):
        assert np.abs(outputs[first] - outputs[second]).max() <= TOLERANCE, (first, second)


@pytest.fixture(scope="module")
def lenet():
    spec = REFERENCE_SPECS["lenet5"]()
    return spec, nu.build(spec, list(FRAMEWORKS), weights=random_weights(spec))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_path_writes_a_file_with_the_metadata_into_a_new_folder(lenet, framework, tmp_path):
    _, models = lenet
    target = tmp_path / "not" / "yet" / f"{framework}.onnx"
    returned = to_onnx(models[framework], target)
    reread = onnx.load(str(target))
    onnx.checker.check_model(reread)
    assert metadata(reread) == metadata(returned)
    assert metadata(reread)["nbunify.source_framework"] == framework


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_opset_outside_the_exporters_range_is_refused(lenet, framework):
    _, models = lenet
    with pytest.raises(ValueError, match=r"opset 99 is not one the .* supports: choose 11 to \d+"):
        to_onnx(models[framework], opset=99)
    with pytest.raises(TypeError, match="whole number"):
        to_onnx(models[framework], opset="17")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_opset_asked_for_is_the_one_written_and_a_fixed_batch_is_fixed(lenet, framework):
    spec, models = lenet
    proto = to_onnx(models[framework], opset=13, dynamic_batch=False)
    assert {entry.domain: entry.version for entry in proto.opset_import}[""] == 13
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1
    inputs = random_inputs(spec, 1, seed=14)
    assert np.abs(run(proto, inputs) - nu.predict(models[framework], inputs)).max() <= TOLERANCE


def test_what_is_not_a_model_is_refused_clearly():
    for thing in (None, "model.onnx", np.zeros(3), {"torch": 1}):
        with pytest.raises(TypeError, match="nu.to_onnx exports a torch nn.Module, a keras.Model or a paddle"):
            to_onnx(thing)


def test_a_path_that_is_a_folder_is_refused(lenet, tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder; give a file path"):
        to_onnx(lenet[1]["torch"], tmp_path)


def test_a_model_nbunify_did_not_build_needs_example_inputs():
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 2))
    with pytest.raises(NotBuiltByNbunifyError, match="pass inputs=, an example batch in channels-first layout"):
        to_onnx(model)
    example = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    proto = to_onnx(model, inputs=example)
    assert model.training  # exported in eval mode, then put back
    assert "nbunify.spec" not in metadata(proto)
    assert float(metadata(proto)["nbunify.export_max_abs_error"]) <= TOLERANCE
    assert run(proto, example[:1]).shape == (1, 2)


def test_keras_and_paddle_models_nbunify_did_not_build_export_channels_first_from_example_inputs():
    from nbunify.frameworks import load

    paddle = load("paddle")  # paddle before TensorFlow
    keras = load("keras")
    example = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)  # NCHW, as nu.predict takes
    models = {
        "paddle": paddle.nn.Sequential(paddle.nn.Conv2D(3, 4, 3), paddle.nn.LeakyReLU(0.2), paddle.nn.Flatten(),
                                       paddle.nn.Linear(64, 2)),
        "keras": keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                                   keras.layers.Dense(2)]),
    }
    models["paddle"].train()
    for framework, model in models.items():
        proto = to_onnx(model, inputs=example)
        assert metadata(proto)["nbunify.source_framework"] == framework
        assert np.abs(run(proto, example) - nu.predict(model, example)).max() <= TOLERANCE
    # The layers swapped for paddle2onnx's sake are back, and the training flag too.
    assert type(models["paddle"][1]) is paddle.nn.LeakyReLU and models["paddle"].training


def test_example_inputs_that_do_not_fit_the_spec_are_refused(lenet):
    with pytest.raises(ValueError, match=r"takes inputs of shape \(batch, 1, 28, 28\)"):
        to_onnx(lenet[1]["paddle"], inputs=np.zeros((2, 28, 28, 1), np.float32))


def numpy_in_the_middle():
    """A paddle layer that leaves the graph for numpy: dy2static cannot trace it, and paddle2onnx calls sys.exit."""
    from nbunify.frameworks import load

    paddle = load("paddle")

    class NumpyInTheMiddle(paddle.nn.Layer):
        def forward(self, x):
            return paddle.to_tensor(np.sort(x.numpy(), axis=1))

    return NumpyInTheMiddle()


def test_an_exporter_that_fails_says_which_and_why_and_the_process_survives():
    from nbunify.convert.export import OnnxExportError

    with pytest.raises(OnnxExportError, match=r"paddle's ONNX exporter .* failed on this model: .*AxisError"):
        to_onnx(numpy_in_the_middle(), inputs=np.zeros((2, 3), np.float32))  # SystemExit must not escape
    spec = REFERENCE_SPECS["transformer_classifier"]()
    with pytest.raises(OnnxExportError, match=r"torch's ONNX exporter .* failed on this model: .*opset version 11"):
        to_onnx(nu.build(spec, "torch"), opset=11)


def test_a_missing_exporter_package_gives_the_pip_command(lenet, monkeypatch):
    from nbunify.backends.keras import onnx_export

    monkeypatch.setattr(onnx_export, "REQUIREMENTS", {"tf2onnx_is_not_here": "tf2onnx==1.17.0"})
    with pytest.raises(ExporterNotInstalledError, match=r"pip install tf2onnx==1\.17\.0"):
        to_onnx(lenet[1]["keras"])


def test_an_export_that_drifts_from_the_model_is_refused_with_the_export_attached(monkeypatch):
    spec = nu.Sequential([L.Dense(4, activation="tanh")], input_shape=(3,), name="tiny")
    model = nu.build(spec, "torch", weights=random_weights(spec))
    monkeypatch.setattr(export_module, "PARITY_TOLERANCE", -1.0)  # any difference, even 0, is now too much
    with pytest.raises(ExportParityError, match="outputs up to .* away from the model's own") as caught:
        to_onnx(model)
    assert isinstance(caught.value.model, onnx.ModelProto)
    assert caught.value.max_abs_error <= TOLERANCE
