"""The deterministic train/validation split (stratified for classification) and Dataset assembly."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbunify.data import checks
from nbunify.data.dataset import Dataset

# Mixed into the seed so the split and the batch orders (dataset.py) draw independent streams.
_SPLIT_STREAM = 0


def check_validation(validation: Any) -> float:
    if isinstance(validation, bool) or not isinstance(validation, (int, float, np.floating, np.integer)):
        raise ValueError(f"validation must be a fraction in [0, 1), got {validation!r}.")
    if not 0 <= validation < 1:
        raise ValueError(
            f"validation={validation!r} is not a fraction in [0, 1): it is the share of the samples held "
            "out for validation. Use for example validation=0.2, or validation=0 to train on everything."
        )
    return float(validation)


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}.")
    return int(seed)


def split_indices(
    y: np.ndarray, task: str, validation: float, seed: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation indices; the same (y, validation, seed) always give the same split.

    ``round(validation * N)`` samples go to validation. For classification every class gives its
    share (largest remainders settle the rounding), so both splits keep the class proportions.
    """
    count = len(y)
    validation_count = int(np.floor(validation * count + 0.5))
    if (validation > 0 and validation_count == 0) or validation_count >= count:
        emptied = "validation" if validation_count == 0 else "training"
        raise ValueError(
            f"validation={validation} of the {count} samples of {name!r} leaves the {emptied} split empty. "
            "Use a validation fraction that keeps at least one sample on each side, validation=0 to "
            "train on every sample, or more data."
        )
    generator = np.random.default_rng([seed, _SPLIT_STREAM])
    if task != "classification":
        chosen = generator.permutation(count)[:validation_count]
    else:
        chosen = _stratified(y, validation_count, generator)
    is_validation = np.zeros(count, dtype=bool)
    is_validation[chosen] = True
    return np.flatnonzero(~is_validation), np.flatnonzero(is_validation)


def _stratified(y: np.ndarray, validation_count: int, generator: np.random.Generator) -> np.ndarray:
    class_ids, sizes = np.unique(y, return_counts=True)
    exact = sizes * validation_count / len(y)
    quotas = np.floor(exact).astype(np.int64)
    # Largest remainders first; ties go to the lower class id (a stable sort keeps it deterministic).
    for position in np.argsort(-(exact - quotas), kind="stable")[: validation_count - int(quotas.sum())]:
        quotas[position] += 1
    chosen = [
        generator.permutation(np.flatnonzero(y == class_id))[:quota]
        for class_id, quota in zip(class_ids, quotas, strict=True)
    ]
    return np.concatenate(chosen)


def make_dataset(
    name: str,
    x: Any,
    y: Any,
    *,
    validation: float,
    seed: int,
    task: str | None = None,
    num_classes: int | None = None,
    classes: Any = None,
    standardize: bool = False,
    test: tuple[Any, Any] | None = None,
) -> Dataset:
    """Check ``x`` and ``y``, split them, and return the Dataset.

    ``standardize`` rescales every feature to zero mean and unit variance with the statistics of
    the training split only (no leak from validation or test). ``test`` is an official test split,
    kept apart and checked as the rest.
    """
    validation, seed = check_validation(validation), check_seed(seed)
    x_all, y_all = _checked_pair(name, x, y)
    task = checks.infer_task(y_all, task)
    if task == "classification":
        y_all, num_classes, classes = checks.labels(y_all, name, num_classes, classes)
    else:
        y_all, num_classes, classes = checks.targets(y_all, name), None, None
    train, held_out = split_indices(y_all, task, validation, seed, name)
    x_train, x_val = x_all[train], x_all[held_out]
    y_train, y_val = y_all[train], y_all[held_out]
    x_test = y_test = None
    if test is not None:
        x_test, y_test = _checked_pair(f"{name} (test)", *test)
        if task == "classification":
            y_test = checks.labels(y_test, name, num_classes, classes)[0]
        else:
            y_test = checks.targets(y_test, name)
    if standardize:
        mean = x_train.mean(axis=0, dtype=np.float64)
        scale = x_train.std(axis=0, dtype=np.float64)
        scale[scale == 0] = 1.0
        x_train, x_val = _rescale(x_train, mean, scale), _rescale(x_val, mean, scale)
        x_test = None if x_test is None else _rescale(x_test, mean, scale)
    return Dataset(
        name, task, x_train, y_train, x_val, y_val,
        num_classes=num_classes, classes=classes, seed=seed, x_test=x_test, y_test=y_test,
    )  # fmt: skip


def _checked_pair(name: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim >= 1 and y.ndim >= 1:
        checks.same_length(x, y, name)
    return checks.features(x, name), y


def _rescale(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return ((x - mean) / scale).astype(np.float32)
