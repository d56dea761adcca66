"""paddle's exports share one paddle2onnx child process, which is started again after it dies."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import nbunify as nu
from nbunify.convert.export import OnnxExportError, to_onnx
from nbunify.frameworks import load

paddle = load("paddle")
from nbunify.backends.paddle.converter import CONVERTER  # noqa: E402 - after paddle is loaded the safe way

L = nu.layers
SPEC = nu.Sequential([L.Conv2d(4, 3, padding=1), L.Activation("relu"), L.Flatten(), L.Dense(3)], input_shape=(1, 6, 6))


@pytest.fixture
def model():
    return nu.build(SPEC, "paddle", seed=0)


def test_exports_share_one_converter_process_and_write_only_the_file_asked_for(model, tmp_path):
    to_onnx(model)  # the process is running after the first export
    started = CONVERTER.started
    first = to_onnx(model, path=tmp_path / "first.onnx")
    second = to_onnx(model, path=tmp_path / "second.onnx")
    assert CONVERTER.started == started
    assert sorted(os.listdir(tmp_path)) == ["first.onnx", "second.onnx"]  # no log or program beside them
    assert [node.op_type for node in first.graph.node] == [node.op_type for node in second.graph.node]
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "second.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0], nu.predict(model, x),
                               atol=1e-5, rtol=1e-5)


def test_a_converter_that_died_is_started_again(model):
    to_onnx(model)
    started = CONVERTER.started
    os.kill(CONVERTER._process.pid, signal.SIGKILL)
    CONVERTER._process.wait()
    assert len(to_onnx(model).graph.node) > 0
    assert CONVERTER.started == started + 1


def test_a_conversion_that_fails_says_why_and_the_converter_serves_the_next_one(model, tmp_path):
    from nbunify.backends.paddle import onnx_export

    to_onnx(model)
    started = CONVERTER.started
    (tmp_path / "model.json").write_text("{not a program")
    (tmp_path / "model.pdiparams").write_bytes(b"")
    with pytest.raises(OnnxExportError, match=r"paddle's ONNX exporter .* failed on this model: Failed to convert "
                                              r"PaddlePaddle model: .*parse error"):
        onnx_export._convert_saved_program(str(tmp_path / "model"), tmp_path / "out.onnx", 17)
    assert not (tmp_path / "out.onnx").exists()
    assert len(to_onnx(model).graph.node) > 0
    assert CONVERTER.started == started  # paddle2onnx's sys.exit was caught in the converter, which lives on
