"""Metrics computed in numpy from each framework's outputs, so one definition serves torch, keras and paddle."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from nbunify.spec.errors import did_you_mean

_TOP_K = re.compile(r"^top[_-]?(\d+)(?:[_-]?accuracy)?$")
_ALIASES = {"acc": "accuracy", "top_k": "top5", "top_k_accuracy": "top5", "mean_absolute_error": "mae"}


def metric_name(metric: Any) -> str:
    """The canonical name of a metric: "accuracy", "top<k>" (e.g. "top5") or "mae"."""
    if not isinstance(metric, str):
        raise ValueError(f"metrics are named by strings ('accuracy', 'top5', 'mae'), got {metric!r}.")
    key = metric.strip().lower()
    key = _ALIASES.get(key, key)
    match = _TOP_K.match(key)
    if match:
        k = int(match.group(1))
        if k < 1:
            raise ValueError(f"top-k accuracy needs k >= 1, got {metric!r}.")
        return f"top{k}"
    if key in ("accuracy", "mae"):
        return key
    raise ValueError(f"unknown metric {metric!r}.{did_you_mean(key, ['accuracy', 'top5', 'mae'])} "
                     "Choose from 'accuracy', 'top<k>' (e.g. 'top5') and 'mae'.")


def check_metric(name: str, task: str, outputs: int) -> None:
    """A ValueError when ``name`` does not fit the task (e.g. accuracy of a regression, top5 of 3 classes)."""
    if name == "mae":
        if task == "classification" and outputs > 1:
            raise ValueError("metric 'mae' needs a regression or a single-output binary classifier; use 'accuracy'.")
        return
    if task != "classification":
        raise ValueError(f"metric {name!r} needs a classification dataset; for regression use 'mae'.")
    if name.startswith("top") and int(name[3:]) > max(outputs, 2):
        raise ValueError(f"metric {name!r} needs at least {name[3:]} classes, the model has {outputs} outputs.")


def correct(name: str, outputs: np.ndarray, targets: np.ndarray, loss: str, probabilities: bool) -> float:
    """The batch's sum for metric ``name`` (number correct, or summed absolute error per sample); divide by the count.

    ``targets`` are a TrainPlan's: class ids for cross_entropy (``outputs`` are (N, C) scores), (N, 1)
    0/1 floats for binary_cross_entropy (one score: class 1 when its probability is above 0.5, a logit
    above 0; its mae is that of the probability), targets shaped like ``outputs`` for mse.
    """
    if loss == "binary_cross_entropy":
        scores = outputs.reshape(-1)
        if name == "mae":
            probability = scores if probabilities else 1 / (1 + np.exp(-scores))
            return float(np.abs(probability - targets.reshape(-1)).sum())
        return float(np.count_nonzero((scores > (0.5 if probabilities else 0.0)) == (targets.reshape(-1) > 0.5)))
    if name == "mae":
        errors = np.abs(outputs.reshape(targets.shape) - targets)
        return float(errors.reshape(len(targets), -1).mean(axis=1).sum())
    if name == "accuracy":
        return float(np.count_nonzero(outputs.argmax(axis=-1) == targets))
    k = int(name[3:])
    if k >= outputs.shape[-1]:
        return float(len(targets))
    # top-k: the target's score is beaten by fewer than k others (ties count for the target, as in torch.topk).
    target_scores = np.take_along_axis(outputs, targets[:, None].astype(np.int64), axis=-1)
    return float(np.count_nonzero((outputs > target_scores).sum(axis=-1) < k))
