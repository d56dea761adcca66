"""Where nbunify keeps its files: the model directory the server extension serves, shared with kernels."""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR_ENV = "NBUNIFY_MODELS_DIR"


def data_dir() -> Path:
    """nbunify's folder inside the Jupyter data directory (``jupyter --data-dir``)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "nbunify"


def models_dir(create: bool = True) -> Path:
    """The one directory whose files the server's ``nbunify/models/`` route may serve.

    Kernels write models here and the server reads them; both run on the same machine as the
    same user, so they agree on this path. ``$NBUNIFY_MODELS_DIR`` overrides it (tests, shared
    machines); the server extension's ``NbunifyConfig.models_dir`` setting sets that variable for
    the kernels it starts.
    """
    override = os.environ.get(MODELS_DIR_ENV)
    path = Path(override).expanduser() if override else data_dir() / "models"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path.resolve()
