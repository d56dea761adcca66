"""The paddle backend: spec -> paddle.nn.Layer, canonical weights, inference (imports paddle only when used)."""

from __future__ import annotations

import sys
from typing import Any

NAME = "paddle"
FRAMEWORK = "paddle"


def owns(model: Any) -> bool:
    """True for a paddle.nn.Layer; never imports paddle (a model of it cannot exist before its import)."""
    paddle = sys.modules.get("paddle")
    layer_type = getattr(getattr(paddle, "nn", None), "Layer", None)
    return isinstance(layer_type, type) and isinstance(model, layer_type)
