"""`nu.netron`: publish a model file into the served models directory and ask JupyterLab to open it in netron."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from nbunify.display import MESSAGE_VERSION, netron_bundle
from nbunify.model_files import publish

# ONNX protobufs cannot exceed 2 GiB when serialized in one piece.
_PROTOBUF_LIMIT = 2**31 - 1


def prepare(model: Any, title: str | None = None, open: bool = True) -> dict[str, Any]:
    """Publish ``model`` (path, bytes, ``onnx.ModelProto`` or Keras model) and return the netron message."""
    if isinstance(model, (str, os.PathLike)):
        published = publish(Path(model), title=title)
    elif isinstance(model, (bytes, bytearray, memoryview)):
        published = publish(bytes(model), title=_with_suffix(title or "model", ".onnx"))
    elif _is_onnx_model(model):
        if model.ByteSize() > _PROTOBUF_LIMIT:
            raise ValueError("this ONNX model is over 2 GiB: save it with external data and pass the .onnx path")
        name = _with_suffix(title or model.graph.name or "model", ".onnx")
        published = publish(model.SerializeToString(), title=name)
    elif _framework_of(model) == "keras":
        published = _publish_keras(model, title)
    elif _framework_of(model) is not None:
        raise TypeError(
            f"netron cannot read a live {_framework_of(model)} {type(model).__name__} object. Export it to a file "
            "first (an ONNX file, e.g. with torch.onnx.export or paddle.onnx.export) and pass that path."
        )
    else:
        raise TypeError(
            f"cannot show a {type(model).__name__} in netron: give a model file path, the bytes of one, "
            "an onnx.ModelProto or a Keras model."
        )
    return {"version": MESSAGE_VERSION, **published, "created": int(time.time() * 1000), "open": bool(open)}


def netron(model: Any, title: str | None = None, open: bool = True) -> None:
    """Show ``model`` in netron inside JupyterLab (a main-area tab; ``open=False`` shows only a button)."""
    from IPython.display import display

    display(netron_bundle(prepare(model, title=title, open=open)), raw=True)


def _with_suffix(title: str, default: str) -> str:
    return title if Path(title).suffix else title + default


def _is_onnx_model(value: Any) -> bool:
    return type(value).__name__ == "ModelProto" and hasattr(value, "SerializeToString") and hasattr(value, "graph")


def _framework_of(value: Any) -> str | None:
    """The framework a model object belongs to, from its class hierarchy (no framework import)."""
    for klass in type(value).__mro__:
        root = klass.__module__.split(".", 1)[0]
        if root in ("keras", "tf_keras") or klass.__module__.startswith("tensorflow.python.keras"):
            return "keras"
        if root in ("torch", "tensorflow", "paddle"):
            return root
    return None


def _publish_keras(model: Any, title: str | None) -> dict[str, Any]:
    stem = Path(title).stem if title else (getattr(model, "name", None) or "model")
    with tempfile.TemporaryDirectory(prefix="nbunify-keras-") as folder:
        path = Path(folder) / f"{stem}.keras"
        model.save(path)
        return publish(path, title=path.name)
