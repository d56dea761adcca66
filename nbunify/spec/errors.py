"""Errors a user can make in a model spec, with messages that name the layer and the shapes involved."""

from __future__ import annotations

import difflib
from typing import Iterable


class SpecError(ValueError):
    """A model spec that cannot be built: the message says which layer, what is wrong and what to do."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' Did you mean X?' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def shape_text(shape: tuple) -> str:
    """(1, 28, 28) -> '1x28x28' (per sample, batch excluded)."""
    return "x".join("?" if size is None else str(size) for size in shape) or "scalar"
