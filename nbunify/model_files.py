"""Publish model files into the served models directory, under content-addressed names."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from nbunify.paths import models_dir

#: Route (relative to the Jupyter base URL) under which the server extension serves models_dir().
MODELS_ROUTE = "nbunify/models"

_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 1 << 20


def safe_stem(title: str) -> str:
    """A file-name stem made of [A-Za-z0-9._-] only, never empty, never starting with a dot."""
    stem = _UNSAFE_CHARACTERS.sub("-", Path(title).stem).strip("-.") or "model"
    return stem[:64]


def publish(source: str | os.PathLike | bytes, title: str | None = None, suffix: str | None = None) -> dict[str, Any]:
    """Copy a model file (a path, or the bytes of one) into models_dir() and describe it.

    The stored name is ``<stem>-<sha256[:12]><suffix>``: publishing the same content twice
    reuses one file, and two different models with the same title never overwrite each other.
    Returns ``{"name", "title", "url", "file", "size"}`` where ``url`` is relative to the Jupyter
    base URL. Raises FileNotFoundError/IsADirectoryError/ValueError with a plain message.
    """
    target_dir = models_dir()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ValueError("the model is empty (0 bytes); nothing to show")
        title = title or f"model{suffix or '.onnx'}"
        digest = hashlib.sha256(data).hexdigest()
        write = lambda handle: handle.write(data)  # noqa: E731
        size = len(data)
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"no such model file: {path}")
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory; give the model file inside it")
        size = path.stat().st_size
        if size == 0:
            raise ValueError(f"{path} is empty (0 bytes); nothing to show")
        title = title or path.name
        digest = _file_digest(path)
        write = lambda handle: _copy_into(path, handle)  # noqa: E731
    suffix = (suffix if suffix is not None else Path(title).suffix).lower()
    if not re.fullmatch(r"(\.[a-z0-9]{1,10})?", suffix):
        raise ValueError(f"unsupported file suffix {suffix!r}")
    name = f"{safe_stem(title)}-{digest[:12]}{suffix}"
    final = target_dir / name
    if not final.exists():
        # Write to a temporary file in the same directory, then rename: a reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=target_dir, prefix=".partial-", delete=False) as handle:
            write(handle)
        os.replace(handle.name, final)
    return {"name": name, "title": title, "url": f"{MODELS_ROUTE}/{name}", "file": str(final), "size": size}


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_into(path: Path, handle: Any) -> None:
    with open(path, "rb") as source:
        shutil.copyfileobj(source, handle, _CHUNK)
