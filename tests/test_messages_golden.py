"""The kernel -> Lab messages against golden JSON files that the jest specs also read (one contract, two sides).

Regenerate after an intentional change with ``NBUNIFY_UPDATE_GOLDEN=1 pytest tests/test_messages_golden.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from nbunify.curves import curves_message
from nbunify.display import NETRON_MIME, netron_bundle
from nbunify.netron_view import prepare
from nbunify.runs.run import EPOCH, STEP, Run
from golden_files import check_golden
from onnx_models import tiny_mlp


def _finished_run(name: str, framework: str, scale: float, diverged: bool = False) -> Run:
    """Two epochs of three steps: step loss and accuracy, epoch means and validation metrics."""
    run = Run(id=f"{framework}-0001", name=name, framework=framework, status="finished", created=1767225600.0)
    for step in range(1, 7):
        epoch = (step - 1) // 3
        loss = float("nan") if diverged and step == 5 else round(scale * 2.0 / step, 4)
        run.record(STEP, step, epoch, round(0.1 * step, 2), "loss", loss)
        run.record(STEP, step, epoch, round(0.1 * step, 2), "accuracy", round(0.1 * step, 2))
        if step % 3 == 0:
            run.record(EPOCH, step, epoch, round(0.1 * step, 2), "loss", round(scale * 1.5 / step, 4))
            run.record(EPOCH, step, epoch, round(0.1 * step, 2), "val_loss", round(scale * 1.6 / step, 4))
            run.record(EPOCH, step, epoch, round(0.1 * step, 2), "val_accuracy", round(0.15 * step, 2))
    return run


def test_curves_message_matches_the_golden_file():
    runs = [_finished_run("mlp-torch", "torch", 1.0), _finished_run("mlp-keras", "keras", 1.1, diverged=True)]
    message = curves_message(runs, "mlp on digits", done=True)
    epoch_loss = message["runs"][0]["series"]["epoch/loss"]
    assert epoch_loss["x"] == [1, 2] and epoch_loss["step"] == [3, 6] and epoch_loss["epoch"] == [1, 2]
    assert message["runs"][1]["series"]["step/loss"]["y"][4] is None  # NaN is sent as null
    check_golden("curves-message.json", json.dumps(message, indent=2, sort_keys=True) + "\n")


def test_netron_message_matches_the_golden_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NBUNIFY_MODELS_DIR", str(tmp_path / "models"))
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_mlp(), path)
    message = prepare(path, open=True)
    bundle = netron_bundle(message)
    assert bundle[NETRON_MIME] is message and {"text/plain", "text/html"} <= set(bundle)
    assert Path(message["file"]).parent == tmp_path / "models"
    # The two values that change from run to run are pinned; every key, type and format is compared.
    assert isinstance(message["created"], int) and message["created"] > 1_700_000_000_000
    pinned = {**message, "file": "/models/" + message["name"], "created": 1767225600000}
    check_golden("netron-message.json", json.dumps(pinned, indent=2, sort_keys=True) + "\n")
