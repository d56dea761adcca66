"""The ONNX hub's framework-neutral core: loading and checking models, op registries, pre-flight, parity."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _CallableModule(ModuleType):
    """``nu.convert(model, "paddle")`` works whether ``nbunify.convert`` names this package or the function
    (importing a submodule rebinds the package attribute to the module)."""

    def __call__(self, model: Any, to: str, inputs: Any = None, opset: int | None = None) -> Any:
        from nbunify.convert.hub import convert

        return convert(model, to, inputs=inputs, opset=opset)


sys.modules[__name__].__class__ = _CallableModule
