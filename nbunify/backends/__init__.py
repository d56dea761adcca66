"""Backends, one folder per framework with the same files; a model's type says which backend owns it.

Each ``nbunify/backends/<name>/`` holds:
  ``__init__.py``  NAME, FRAMEWORK (for nbunify.frameworks.load), ``owns(model)`` without importing anything
  ``build.py``     ``build(spec, weights) -> native model`` (idiomatic layers named after the spec's layers)
  ``weights.py``   ``get_weights(model) -> canonical dict``, ``set_weights(model, weights)``
  ``predict.py``   ``predict(model, inputs) -> numpy``: inference mode, channels-first in and out
  ``onnx_import.py`` ``REGISTRY`` (nbunify.convert.registry.Registry), ``import_graph(OnnxGraph) -> native``,
                   ``run(native, numpy inputs) -> numpy outputs``, optional ``hazards(OnnxGraph) -> [str]``;
                   its converters live in ``onnx_ops/<family>.py``, listed in ``onnx_ops/__init__.py``
  ``onnx_export.py`` ``export(model, path, opset, dynamic_batch)``: the framework's own ONNX exporter
Backends are imported only when needed (einops-style): a framework the user never touched stays unimported.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from nbunify.spec.errors import did_you_mean

NAMES = ("torch", "keras", "paddle")
_ALIASES = {"pytorch": "torch", "tensorflow": "keras", "tf": "keras", "paddlepaddle": "paddle"}


def resolve(name: str) -> str:
    """A backend name from what a user may type ("tf", "TensorFlow", "pytorch" ...)."""
    if not isinstance(name, str):
        raise TypeError(f"a framework is named by a string such as 'torch', 'keras' or 'paddle', got {name!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in NAMES:
        raise ValueError(f"unknown framework {name!r}.{did_you_mean(key, [*NAMES, *_ALIASES])} "
                         f"Choose from {', '.join(NAMES)}.")
    return key


def backend(name: str) -> ModuleType:
    """The backend package for ``name``; loads its framework in a process-safe way first."""
    key = resolve(name)
    package = importlib.import_module(f"nbunify.backends.{key}")
    from nbunify.frameworks import load

    load(package.FRAMEWORK)  # FrameworkNotInstalledError names the extra to install
    return package


def part(name: str, module: str) -> ModuleType:
    """``part("torch", "build")`` -> nbunify.backends.torch.build (after loading torch safely)."""
    return importlib.import_module(f"{backend(name).__name__}.{module}")


class NotBuiltByNbunifyError(TypeError, ValueError):
    """A native model without the spec nu.build attaches, so its tensors have no canonical names."""


def spec_of(model: Any, framework: str, hint: str = "") -> Any:
    """The spec ``nu.build`` attached to ``model`` (as ``_nbunify_spec``), or a clear NotBuiltByNbunifyError."""
    from nbunify.spec import Sequential

    spec = getattr(model, "_nbunify_spec", None)
    if not isinstance(spec, Sequential):
        raise NotBuiltByNbunifyError(
            f"this {framework} model ({type(model).__name__}) was not built by nbunify, so its layers cannot be matched "
            f"to canonical weight names: build it with nu.build(spec, {framework!r}){hint}")
    return spec


def train_spec(model: Any, framework: str, hint: str = "") -> Any:
    """What nu.fit trains ``model`` by: its nbunify spec, or for a model nu.from_onnx made, an ImportedSpec read
    from its ONNX graph (cached on the model); otherwise the NotBuiltByNbunifyError of spec_of."""
    proto = getattr(model, "_nbunify_onnx", None)
    if getattr(model, "_nbunify_spec", None) is not None or proto is None:
        return spec_of(model, framework, hint)
    cached = getattr(model, "_nbunify_train_spec", None)
    if cached is None:
        from nbunify.convert.imported_spec import imported_spec

        cached = imported_spec(proto)
        model._nbunify_train_spec = cached
    return cached


def owner(model: Any) -> str:
    """Which backend a native model belongs to, by its type, without importing any framework."""
    for name in NAMES:
        package = importlib.import_module(f"nbunify.backends.{name}")
        if package.owns(model):
            return name
    raise TypeError(f"{type(model).__module__}.{type(model).__name__} is not a torch, keras or paddle model that nbunify knows")
