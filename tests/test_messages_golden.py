"""The kernel -> Lab messages against golden JSON files that the jest specs also read (one contract, two sides).

Regenerate after an intentional change with ``NBUNIFY_UPDATE_GOLDEN=1 pytest tests/test_messages_golden.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from nbunify.display import NETRON_MIME, netron_bundle
from nbunify.netron_view import prepare
from golden_files import check_golden
from onnx_models import tiny_mlp





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
