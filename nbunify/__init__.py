"""nbunify: one notebook workbench for PyTorch, TensorFlow/Keras and PaddlePaddle (public API, lazy)."""

from __future__ import annotations

import importlib
from typing import Any

from nbunify._version import __version__

# Public name -> "module:attribute". Nothing here imports a deep-learning framework: each
# attribute is resolved on first use, so `import nbunify` and `%load_ext nbunify` stay fast.
_LAZY_ATTRIBUTES = {
    "frameworks": "nbunify.frameworks:frameworks",
    "netron": "nbunify.netron_view:netron",
    "Sequential": "nbunify.spec.model:Sequential",
    "layers": "nbunify.layers:",
    "spec": "nbunify.spec:",
    "build": "nbunify.native:build",
    "weights": "nbunify.native:weights",
    "load_weights": "nbunify.native:load_weights",
    "predict": "nbunify.native:predict",
    "summary": "nbunify.summary:summary",
    "code": "nbunify.codegen:code",
    "data": "nbunify.data:",
    "fit": "nbunify.train.fit:fit",
    "runs": "nbunify.runs:runs",
    "compare": "nbunify.compare:compare",
    "to_onnx": "nbunify.convert.export:to_onnx",
    "from_onnx": "nbunify.convert.hub:from_onnx",
    "convert": "nbunify.convert.hub:convert",
    "preflight": "nbunify.convert.hub:preflight",
    "parity": "nbunify.convert.parity:parity",
    "show": "nbunify.graph_display:show",
}

__all__ = ["__version__", *_LAZY_ATTRIBUTES]


def __getattr__(name: str) -> Any:
    target = _LAZY_ATTRIBUTES.get(name)
    if target is None:
        raise AttributeError(f"module 'nbunify' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbunify``: register the ``%unify`` magic and the import-order guard."""
    from nbunify.frameworks import install_import_guard
    from nbunify.magics import UnifyMagics

    install_import_guard()
    ipython.register_magics(UnifyMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbunify``: the magic stays registered, as IPython cannot unregister a class."""


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "nbunify"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbunify.server"}]
