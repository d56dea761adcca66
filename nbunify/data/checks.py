"""Checks and canonical forms of user arrays: float32 features, int64 class ids or float32 targets."""

from __future__ import annotations

from typing import Any

import numpy as np

TASKS = ("classification", "regression")


def features(x: Any, name: str) -> np.ndarray:
    """``x`` as float32 ``(N, F)`` or channels-first images; a ``(N, H, W)`` stack gains a channel axis."""
    array = np.asarray(x)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(
            f"The inputs X of {name!r} are not numbers (dtype {array.dtype}). Pass a numeric array of "
            "shape (samples, features) or channels-first images (samples, channels, height, width)."
        )
    if array.ndim >= 1 and len(array) == 0:
        raise empty(name)
    if array.ndim < 2:
        raise ValueError(
            f"The inputs X of {name!r} have shape {array.shape}, but nbunify needs one row per sample: "
            "(samples, features) for tables or (samples, channels, height, width) for images. For a "
            "single feature use X.reshape(-1, 1)."
        )
    if array.ndim == 3:
        array = array[:, None]  # (N, H, W) grayscale images -> (N, 1, H, W)
    elif array.ndim == 4 and array.shape[-1] in (1, 3, 4) and array.shape[1] not in (1, 3, 4):
        raise ValueError(
            f"The images X of {name!r} have shape {array.shape}, which looks channels-last (N, H, W, C). "
            "nbunify datasets are channels-first as ONNX, torch and paddle are: pass "
            "X.transpose(0, 3, 1, 2) (the keras training path converts batches back to channels-last)."
        )
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"The inputs X of {name!r} contain {bad} NaN or infinite value(s). Remove or impute them "
            "(for example X = np.nan_to_num(X) or drop the rows with np.isfinite(X).all(axis=1)) "
            "before loading the data."
        )
    return np.ascontiguousarray(array)


def empty(name: str) -> ValueError:
    return ValueError(
        f"The dataset {name!r} is empty: it has no samples. Pass at least a few samples per class "
        "(and enough for a validation split, or validation=0)."
    )


def same_length(x: np.ndarray, y: np.ndarray, name: str) -> None:
    if len(x) != len(y):
        raise ValueError(
            f"X and y of {name!r} have different lengths: {len(x)} inputs but {len(y)} labels. Each "
            "sample needs exactly one label: check that X and y come from the same rows, in the same order."
        )


def infer_task(y: np.ndarray, task: str | None) -> str:
    """The task asked for, else classification for integer, boolean or text labels, regression for floats."""
    if task is not None:
        if task not in TASKS:
            raise ValueError(f"Unknown task {task!r}: use 'classification' or 'regression'.")
        return task
    return "regression" if np.issubdtype(y.dtype, np.floating) else "classification"


def labels(
    y: Any, name: str, num_classes: int | None = None, classes: Any = None
) -> tuple[np.ndarray, int, tuple[str, ...] | None]:
    """Class ids as int64 ``(N,)``, the number of classes and their names (text labels are named)."""
    array = np.asarray(y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"The labels y of {name!r} have shape {array.shape}; classification needs one class id per "
            "sample, shape (samples,). For one-hot labels pass y.argmax(axis=1)."
        )
    if array.dtype.kind in "USO":  # text labels: class ids in sorted order of the names
        names, array = np.unique(array.astype(str), return_inverse=True)
        classes = tuple(str(label) for label in names) if classes is None else classes
    elif array.dtype == bool:
        array = array.astype(np.int64)
    elif not np.issubdtype(array.dtype, np.number):
        raise _not_class_ids(name, f"of dtype {array.dtype}")
    elif np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not finite.all() or np.any(array != np.round(array)):
            example = (array[~finite] if not finite.all() else array[array != np.round(array)])[0].item()
            raise _not_class_ids(name, f"such as {example!r}, that are not whole numbers")
    array = array.astype(np.int64)
    if len(array) and array.min() < 0:
        raise _not_class_ids(name, f"such as {int(array.min())}, that are negative")
    found = int(array.max()) + 1 if len(array) else 0
    if classes is not None:
        classes = tuple(str(label) for label in classes)
        num_classes = num_classes or len(classes)
    if num_classes is None:
        num_classes = found
    if found > num_classes:
        raise ValueError(
            f"The labels y of {name!r} go up to {found - 1}, but the dataset has {num_classes} classes "
            f"(ids 0..{num_classes - 1}). Pass num_classes={found} or fix the labels."
        )
    if classes is not None and len(classes) != num_classes:
        raise ValueError(f"{len(classes)} class names were given for {num_classes} classes in {name!r}.")
    return array, int(num_classes), classes


def _not_class_ids(name: str, what: str) -> ValueError:
    return ValueError(
        f"The labels y of {name!r} contain values {what}: classification needs integer class ids "
        "0, 1, ..., num_classes - 1. Map the labels to ids first (for example with "
        "np.unique(y, return_inverse=True)), or pass task='regression' for numeric targets."
    )


def targets(y: Any, name: str) -> np.ndarray:
    """Regression targets as float32 ``(N, T)``: a 1-D ``y`` becomes ``(N, 1)`` to match a model's output."""
    array = np.asarray(y)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"The regression targets y of {name!r} are not numbers (dtype {array.dtype}). Pass float "
            "targets, or task='classification' for class labels."
        )
    array = array.astype(np.float32)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"The regression targets y of {name!r} have shape {array.shape}; use (samples, targets).")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The regression targets y of {name!r} contain NaN or infinite values: remove those rows.")
    return np.ascontiguousarray(array)
