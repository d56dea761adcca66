"""copy.deepcopy of a keras model nbunify made keeps what nbunify knows of it (keras copies by saving and loading)."""

from __future__ import annotations

import copy
import weakref
from typing import Any

#: Tied to the original model: its traced call and training spec (caches a copy builds again) and its record of
#: ONNX values (moved to the copy's own tensors instead of copied).
_NOT_COPIED = ("_nbunify_traced_call", "_nbunify_train_spec", "_nbunify_onnx_values")


def keep_on_deepcopy(model: Any) -> None:
    """Make ``copy.deepcopy(model)``, and of its copies, carry the model's ``_nbunify*`` attributes.

    Keras deep-copies a model through ``__reduce__``: it saves the model to bytes and loads them, which keeps the
    layers and weights but drops every other attribute, so the copy would no longer be a model nu.build or
    nu.from_onnx made (nu.weights, nu.fit, nu.show and nu.parity would refuse it). ``copy.deepcopy`` looks for
    ``__deepcopy__`` on the object itself, so the hook goes on this model only.
    """
    model.__deepcopy__ = _DeepCopy(model)


class _DeepCopy:
    """The hook: keras's own copy, then nbunify's attributes deep-copied onto it (a model made by nu.from_onnx gets
    its record of ONNX values moved to the copy's tensors)."""

    __slots__ = ("_model",)

    def __init__(self, model: Any) -> None:
        self._model = weakref.ref(model)  # no reference cycle through the hook

    def __call__(self, memo: dict[int, Any]) -> Any:
        model = self._model()
        rebuild, arguments = type(model).__reduce__(model)
        clone = rebuild(*arguments)
        memo[id(model)] = clone
        for name, value in list(vars(model).items()):
            if name.startswith("_nbunify") and name not in _NOT_COPIED:
                setattr(clone, name, copy.deepcopy(value, memo))
        values = getattr(model, "_nbunify_onnx_values", None)
        if values is not None:
            clone._nbunify_onnx_values = values.on(clone)
        keep_on_deepcopy(clone)
        return clone
