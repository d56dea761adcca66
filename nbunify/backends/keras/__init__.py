"""The keras backend: channels-last functional Keras 3 models built from a spec (imports nothing until used)."""

from __future__ import annotations

import sys
from typing import Any

NAME = "keras"
FRAMEWORK = "keras"  # nbunify.frameworks.load("keras") imports TensorFlow order-safely, then keras


def owns(model: Any) -> bool:
    """True for a keras.Model; never imports keras (a model of it cannot exist unless it is loaded)."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)
