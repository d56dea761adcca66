"""The torch backend: nn.Sequential models named after the spec's layers (no torch import until a model is built)."""

from __future__ import annotations

import sys
from typing import Any

NAME = "torch"
FRAMEWORK = "torch"


def owns(model: Any) -> bool:
    """True for a ``torch.nn.Module``, checked only when torch is already imported (so never imports it).

    A Keras 3 model on Keras's torch backend is also an ``nn.Module``; it belongs to the keras backend.
    """
    torch = sys.modules.get("torch")
    module_class = getattr(getattr(torch, "nn", None), "Module", None)
    if module_class is None or not isinstance(model, module_class):
        return False
    keras_layer = getattr(sys.modules.get("keras"), "Layer", None)
    return not (isinstance(keras_layer, type) and isinstance(model, keras_layer))
