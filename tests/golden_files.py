"""Golden files under tests/golden/: compare a text with its file; NBUNIFY_UPDATE_GOLDEN=1 rewrites the file instead."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(relative: str, text: str) -> None:
    """``text`` equals ``tests/golden/<relative>`` (or becomes it, when NBUNIFY_UPDATE_GOLDEN=1)."""
    path = GOLDEN / relative
    if os.environ.get("NBUNIFY_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run the tests once with NBUNIFY_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path} changed: review the difference, then rerun with NBUNIFY_UPDATE_GOLDEN=1"
