"""TrainPlan: what a backend trainer gets (spec, options, loss) and the checks made before any training starts.

Each backend provides ``nbunify/backends/<name>/train.py`` with the same class::

    class Trainer:
        def __init__(self, model, plan: TrainPlan): ...      # native optimizer + loss; seeds the framework's RNG
        optimizer                                             # the native optimizer object
        def set_learning_rate(self, lr: float) -> None: ...   # called only when the schedule changes it
        def train_step(self, x, y) -> tuple[float, np.ndarray]: ...  # one native optimizer step
        def evaluate(self, x, y) -> tuple[float, np.ndarray]: ...    # inference mode, no update
        def save(self, directory: Path) -> None: ...          # model and optimizer state, native formats
        def restore(self, directory: Path) -> None: ...       # the inverse of save (resume=run_id)

``x`` is a canonical (channels-first) numpy batch, float32 or int64 token ids; ``y`` is what
``plan.targets`` returns. Both return the batch's mean loss as a float and the model's outputs
as a canonical float32 numpy array (training-mode outputs for ``train_step``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nbunify.spec import Sequential
from nbunify.spec.layers import Activation
from nbunify.train.metrics import check_metric
from nbunify.train.options import OptimizerOptions, TrainOptions


@dataclass(frozen=True)
class TrainPlan:
    """A model's training recipe, the same for each framework's build of ``spec``.

    ``loss`` is "cross_entropy" (int64 class ids against C scores), "binary_cross_entropy" (float
    0/1 targets of shape (N, 1) against one score) or "mse" (float targets shaped like the outputs).
    ``probabilities`` says the spec ends in softmax (cross-entropy) or sigmoid (binary), so its
    outputs are probabilities, not logits: each framework then takes the log of the clipped
    probabilities ``clip(p, 1e-7, 1 - 1e-7)`` (Keras's ``from_logits=False``) instead of a log-softmax.
    """

    spec: Sequential
    options: TrainOptions
    loss: str
    probabilities: bool
    task: str

    @property
    def optimizer(self) -> OptimizerOptions:
        return self.options.optimizer

    @property
    def seed(self) -> int:
        return self.options.seed

    @property
    def outputs(self) -> int:
        """The number of output scores per sample."""
        return int(np.prod(self.spec.output_shape))

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Labels as the trainers' losses take them (see the class docstring)."""
        if self.loss == "cross_entropy":
            return np.asarray(y, np.int64)
        if self.loss == "binary_cross_entropy":
            return np.asarray(y, np.float32).reshape(-1, 1)
        return np.asarray(y, np.float32).reshape(len(y), *self.spec.output_shape)


def final_activation(spec: Sequential) -> str | None:
    """The activation applied last ("softmax", "sigmoid" ...), or None when the spec ends in a plain layer or a block."""
    if hasattr(spec, "output_activation"):  # an imported model's ImportedSpec, read from its graph
        return spec.output_activation
    last = spec.layers[-1]
    if isinstance(last, Activation):
        return last.function
    return getattr(last, "activation", None) if not hasattr(last, "branches") else None


def make_plan(spec: Sequential, options: TrainOptions, task: str, num_classes: int | None,
              target_shape: tuple[int, ...]) -> TrainPlan:
    """The plan for ``spec`` on a dataset of ``task``, or a ValueError saying what does not fit."""
    outputs = int(np.prod(spec.output_shape))
    if len(spec.output_shape) != 1 and task == "classification":
        raise ValueError(f"spec {spec.name!r} outputs {'x'.join(map(str, spec.output_shape))} per sample; a classifier "
                         "must end in a vector of class scores (add Flatten/GlobalAvgPool and a Dense layer).")
    loss = options.loss
    if loss == "auto":
        loss = "mse" if task == "regression" else "binary_cross_entropy" if outputs == 1 else "cross_entropy"
    activation = final_activation(spec)
    if loss == "cross_entropy":
        _check_classifier(spec, task, num_classes, outputs)
        if activation == "sigmoid":
            raise ValueError(f"spec {spec.name!r} ends in a sigmoid, which does not fit loss cross_entropy: end it in "
                             "softmax or in plain scores (logits), or use loss='binary_cross_entropy' with one output.")
        probabilities = activation == "softmax"
    elif loss == "binary_cross_entropy":
        if task != "classification" or (num_classes or 0) > 2 or outputs != 1:
            raise ValueError(f"loss binary_cross_entropy needs a two-class dataset and a model with 1 output; spec "
                             f"{spec.name!r} has {outputs} outputs and the dataset "
                             f"{'is a regression' if task != 'classification' else f'has {num_classes} classes'}.")
        if activation == "softmax":
            raise ValueError(f"spec {spec.name!r} ends in softmax over 1 output (always 1.0): end it in sigmoid or in a "
                             "plain score (logit) for binary cross-entropy.")
        probabilities = activation == "sigmoid"
    else:
        if task == "classification":
            raise ValueError("loss mse needs a regression dataset (float targets); this one is a classification: use "
                             "loss='cross_entropy'.")
        if target_shape != tuple(spec.output_shape) and (len(target_shape), outputs) != (1, target_shape[0] if target_shape else 0):
            raise ValueError(f"spec {spec.name!r} outputs {'x'.join(map(str, spec.output_shape))} per sample but the "
                             f"targets are {'x'.join(map(str, target_shape))}: make the last layer produce the target's shape.")
        probabilities = False
    for metric in options.metrics:
        check_metric(metric, task, outputs)
    return TrainPlan(spec=spec, options=options, loss=loss, probabilities=probabilities, task=task)


def _check_classifier(spec: Sequential, task: str, num_classes: int | None, outputs: int) -> None:
    if task != "classification":
        raise ValueError("loss cross_entropy needs class labels; this dataset is a regression: use loss='mse'.")
    if outputs < 2:
        raise ValueError(f"spec {spec.name!r} has 1 output: cross_entropy needs one score per class; use "
                         "loss='binary_cross_entropy' for a single-output binary classifier.")
    if num_classes is not None and num_classes > outputs:
        raise ValueError(f"labels go up to class {num_classes - 1} but spec {spec.name!r} has only {outputs} outputs: "
                         f"make its last layer Dense({num_classes}).")
