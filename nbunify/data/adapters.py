"""Inputs to numpy (x, y): arrays, a torch Dataset/DataLoader, a tf.data.Dataset, a paddle Dataset/DataLoader.

Frameworks are recognised by the modules of an object's classes and never imported here: an
object of a framework exists only once its user loaded that framework.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

_X_KEYS = ("x", "image", "images", "input", "inputs", "features", "data")
_Y_KEYS = ("y", "label", "labels", "target", "targets")


def framework_of(value: Any) -> str | None:
    """``"torch"``, ``"tensorflow"`` or ``"paddle"`` when a class of ``value`` comes from it, else None."""
    for cls in type(value).__mro__:
        root = cls.__module__.split(".")[0]
        if root in ("torch", "tensorflow", "paddle"):
            return root
    return None


def default_name(value: Any) -> str:
    framework = framework_of(value)
    return f"{framework}:{type(value).__name__}" if framework else "arrays"


def to_arrays(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Materialize every (input, label) sample of a framework dataset or loader into two numpy arrays."""
    framework = framework_of(value)
    if framework == "torch" and hasattr(value, "tensors"):  # TensorDataset: no per-sample loop
        return _pair([numpy(tensor) for tensor in value.tensors], value)
    if framework == "tensorflow":
        elements: Iterable[Any] = value.as_numpy_iterator()
    elif _is_map_style(value):
        elements = (value[index] for index in range(len(value)))
    else:
        elements = iter(value)
    return _collect(elements, value)


def _is_map_style(value: Any) -> bool:
    """A dataset indexed by position (torch/paddle Dataset), as opposed to a loader or an iterable dataset."""
    is_loader = any(cls.__name__ == "DataLoader" for cls in type(value).__mro__)
    return not is_loader and hasattr(value, "__getitem__") and hasattr(value, "__len__")


def numpy(value: Any) -> np.ndarray:
    """A tensor of any framework (or a number, a list) as a numpy array on the CPU."""
    if hasattr(value, "detach"):  # torch and paddle tensors that may require gradients
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _collect(elements: Iterable[Any], source: Any) -> tuple[np.ndarray, np.ndarray]:
    inputs: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    batched: bool | None = None
    for element in elements:
        x, y = _split_element(element, source)
        if batched is None:
            batched = y.ndim >= 1 and x.ndim >= 1 and x.shape[0] == y.shape[0] and not _is_map_style(source)
        inputs.append(x)
        labels.append(y)
    if batched is None:
        return np.empty((0,), np.float32), np.empty((0,), np.int64)
    join = np.concatenate if batched else np.stack
    return join(inputs), join(labels)


def _split_element(element: Any, source: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(element, dict):
        x_key = next((key for key in _X_KEYS if key in element), None)
        y_key = next((key for key in _Y_KEYS if key in element), None)
        if x_key is None or y_key is None:
            raise _no_labels(source, f"dict elements with keys {sorted(element)}")
        return numpy(element[x_key]), numpy(element[y_key])
    if isinstance(element, (tuple, list)) and len(element) == 2:
        return numpy(element[0]), numpy(element[1])
    if isinstance(element, (tuple, list)):
        raise _no_labels(source, f"elements of {len(element)} parts")
    raise _no_labels(source, f"{type(element).__name__} elements")


def _pair(parts: list[np.ndarray], source: Any) -> tuple[np.ndarray, np.ndarray]:
    if len(parts) != 2:
        raise _no_labels(source, f"elements of {len(parts)} parts")
    return parts[0], parts[1]


def _no_labels(source: Any, what: str) -> ValueError:
    return ValueError(
        f"{default_name(source)} yields {what}; nbunify needs (input, label) pairs, as "
        "TensorDataset(x, y), tf.data.Dataset.from_tensor_slices((x, y)) or a Dataset whose "
        "__getitem__ returns (x, y) give. Wrap the dataset so each element is (input, label), or "
        "pass numpy arrays: nu.data.load(X, y)."
    )
