"""nu.convert and %unify convert: export, import and a parity proof, with the result and its report kept."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import nbunify as nu
from nbunify.convert import parity as parity_module
from nbunify.convert.errors import ParityError
from nbunify.convert.hub import run
from reference_specs import lenet5, random_inputs, random_weights, residual_cnn

#: The round-trip bound of issue 5 (float32 models; measured 1e-7 to 6e-7 on these specs).
ROUND_TRIP = 1e-5


@pytest.mark.parametrize("source, target", [("torch", "paddle"), ("paddle", "torch")])
def test_a_converted_model_computes_what_the_source_does(source, target):
    spec = residual_cnn()
    model = nu.build(spec, source, weights=random_weights(spec))
    converted = nu.convert(model, target)
    report = converted._nbunify_parity
    assert report.ok and report.max_abs_error <= ROUND_TRIP and report.outputs[0].top1_agreement == 1.0
    inputs = random_inputs(spec, batch=5)  # another batch size than the proof's: the batch stays dynamic
    expected = nu.predict(model, inputs)
    got = run(converted, [inputs])[0]
    assert got.shape == expected.shape and float(np.abs(got - expected).max()) <= ROUND_TRIP
    assert nu.parity(converted, model, inputs=inputs).ok


def test_an_onnx_file_converts_too(tmp_path):
    spec = lenet5()
    model = nu.build(spec, "torch", weights=random_weights(spec))
    path = tmp_path / "lenet5.onnx"
    nu.to_onnx(model, path)
    converted = nu.convert(path, "paddle")
    assert converted._nbunify_parity.ok
    assert {entry.key for entry in converted._nbunify_onnx.metadata_props} >= {"nbunify.source_framework"}


def test_a_conversion_that_differs_raises_and_keeps_the_model(monkeypatch):
    spec = lenet5()
    model = nu.build(spec, "torch", weights=random_weights(spec))
    monkeypatch.setitem(parity_module.TOLERANCES, np.dtype(np.float32), (0.0, 0.0))  # any rounding differs
    with pytest.raises(ParityError, match="differs from the source beyond tolerance") as caught:
        nu.convert(model, "paddle")
    assert caught.value.model is not None and not caught.value.report.ok
    assert caught.value.report.max_abs_error > 0


def test_the_magic_stores_each_result_with_its_report(ip, tmp_path):
    spec = lenet5()
    ip.user_ns["lenet"] = nu.build(spec, "paddle", weights=random_weights(spec))
    with capture_output() as captured:
        ip.run_line_magic("unify", "convert lenet --to torch")
    assert "lenet_torch: parity of torch (imported) against paddle" in captured.stdout and " ok" in captured.stdout
    assert ip.user_ns["lenet_torch"]._nbunify_parity.ok
    with pytest.raises(UsageError, match="neither a variable in this notebook nor an ONNX file"):
        ip.run_line_magic("unify", "convert nothing_here --to torch")
    with pytest.raises(UsageError, match="unknown framework 'caffe'"):
        ip.run_line_magic("unify", "convert lenet --to caffe")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model at all")
    with pytest.raises(UsageError, match="not an ONNX model"):
        ip.run_line_magic("unify", f"convert {broken} --to torch")


def test_predict_takes_an_imported_model_and_checks_its_inputs():
    spec = lenet5()
    model = nu.build(spec, "torch", weights=random_weights(spec))
    imported = nu.from_onnx(nu.to_onnx(model), "paddle")
    inputs = random_inputs(spec, batch=3).astype(np.float64)  # numpy's default float: taken as the graph's float32
    assert float(np.abs(nu.predict(imported, inputs) - nu.predict(model, inputs)).max()) <= ROUND_TRIP
    with pytest.raises(ValueError, match=r"input 'input' of this paddle model \(imported from ONNX\) has shape "
                                         r"\?x1x28x28 \(\? = any\), got 3x28x28x1"):
        nu.predict(imported, inputs.transpose(0, 2, 3, 1))
    with pytest.raises(ValueError, match="takes float32, got int64"):
        nu.predict(imported, np.zeros((3, 1, 28, 28), np.int64))
