"""Training options (optimizer, loss, schedule, early stopping ...) checked once, the same for every framework."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from nbunify.spec.errors import did_you_mean

#: Optimizers and their defaults. The meaning of every hyper-parameter is torch's (the textbook form),
#: and each backend maps it onto its framework's own optimizer (see docs/training.md for the
#: formulas and the few places where a native optimizer computes something slightly different).
OPTIMIZERS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "rmsprop": {"lr": 1e-3, "rho": 0.9, "epsilon": 1e-8},
    "adagrad": {"lr": 0.01, "epsilon": 1e-10},
}
#: Default weight decay: none, except adamw's decoupled decay (torch's default).
DEFAULT_WEIGHT_DECAY = {"adamw": 0.01}
SCHEDULES = ("constant", "step", "cosine")
LOSSES = ("auto", "cross_entropy", "binary_cross_entropy", "mse")
_LOSS_ALIASES = {"ce": "cross_entropy", "crossentropy": "cross_entropy", "categorical_crossentropy": "cross_entropy",
                 "sparse_categorical_crossentropy": "cross_entropy", "bce": "binary_cross_entropy",
                 "binary_crossentropy": "binary_cross_entropy", "mean_squared_error": "mse"}
CHECKPOINTS = (None, "last", "best")


@dataclass(frozen=True)
class OptimizerOptions:
    """One optimizer's name and hyper-parameters (torch meaning).

    ``weight_decay`` is an L2 penalty ``weight_decay * p`` added to every gradient (torch's
    ``weight_decay``) for every optimizer but adamw, whose decay is decoupled: ``p -= lr * weight_decay * p``
    before the Adam step (torch's AdamW, Loshchilov & Hutter).
    """

    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    rho: float = 0.9
    epsilon: float = 1e-8
    weight_decay: float = 0.0

    @property
    def decoupled_weight_decay(self) -> bool:
        return self.name == "adamw"


@dataclass(frozen=True)
class ScheduleOptions:
    """Learning rate over training: constant, step (``lr * gamma ** (epoch // step_size)``) or cosine
    (per step, from ``lr`` down to ``min_lr`` over all the run's steps)."""

    name: str = "constant"
    step_size: int = 1
    gamma: float = 0.1
    min_lr: float = 0.0


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs."""

    monitor: str = "val_loss"
    patience: int = 3
    min_delta: float = 0.0

    @property
    def mode(self) -> str:
        """"min" for losses and errors, "max" for accuracies."""
        return "min" if self.monitor.endswith(("loss", "mae")) else "max"


@dataclass(frozen=True)
class TrainOptions:
    """Everything about a training run except the model and the data."""

    epochs: int = 3
    batch_size: int = 64
    optimizer: OptimizerOptions = field(default_factory=OptimizerOptions)
    loss: str = "auto"
    metrics: tuple[str, ...] = ("accuracy",)
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)
    early_stopping: EarlyStopping | None = None
    checkpoint: str | None = "last"
    seed: int = 0
    shuffle: bool = True
    drop_last: bool = False

    def to_json(self) -> dict[str, Any]:
        """The hyper-parameters as plain JSON values (stored with each run)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> "TrainOptions":
        values = dict(values)
        values["optimizer"] = OptimizerOptions(**values["optimizer"])
        values["schedule"] = ScheduleOptions(**values["schedule"])
        if values.get("early_stopping") is not None:
            values["early_stopping"] = EarlyStopping(**values["early_stopping"])
        values["metrics"] = tuple(values["metrics"])
        return cls(**values)


def make_options(
    *,
    epochs: Any = 3,
    batch_size: Any = 64,
    optimizer: Any = "adam",
    lr: Any = None,
    momentum: Any = None,
    betas: Any = None,
    rho: Any = None,
    epsilon: Any = None,
    weight_decay: Any = None,
    loss: Any = "auto",
    metrics: Any = ("accuracy",),
    schedule: Any = None,
    step_size: Any = 1,
    gamma: Any = 0.1,
    min_lr: Any = 0.0,
    early_stopping: Any = None,
    checkpoint: Any = "last",
    seed: Any = 0,
    shuffle: Any = True,
    drop_last: Any = False,
) -> TrainOptions:
    """TrainOptions from nu.fit's keyword arguments, with a clear ValueError for any bad value."""
    name = _choice("optimizer", optimizer, OPTIMIZERS)
    defaults = OPTIMIZERS[name]
    given = {"lr": lr, "momentum": momentum, "rho": rho, "epsilon": epsilon}
    for key, value in given.items():
        if value is not None and key not in defaults:
            raise ValueError(f"{key}= does not apply to optimizer {name!r}; it takes "
                             f"{', '.join(sorted([*defaults, 'weight_decay'] + (['betas'] if 'beta1' in defaults else [])))}.")
    values = {key: _number(key, given[key] if given.get(key) is not None else default) for key, default in defaults.items()}
    if betas is not None:
        if "beta1" not in defaults:
            raise ValueError(f"betas= applies to adam and adamw, not to {name!r}.")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers (beta1, beta2), e.g. (0.9, 0.999); got {betas!r}.")
        values["beta1"], values["beta2"] = (_number("beta", value) for value in betas)
    for key in ("momentum", "beta1", "beta2", "rho"):
        if key in values and not 0 <= values[key] < 1:
            raise ValueError(f"{key} must be in [0, 1), got {values[key]!r}.")
    if values["lr"] <= 0:
        raise ValueError(f"lr must be a positive number, got {values['lr']!r}.")
    if "epsilon" in values and values["epsilon"] <= 0:
        raise ValueError(f"epsilon must be a positive number, got {values['epsilon']!r}.")
    decay = _number("weight_decay", DEFAULT_WEIGHT_DECAY.get(name, 0.0) if weight_decay is None else weight_decay)
    if decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}.")
    optimizer_options = OptimizerOptions(name=name, weight_decay=decay, **values)

    schedule_name = _choice("schedule", "constant" if schedule is None else schedule, SCHEDULES)
    schedule_options = ScheduleOptions(schedule_name, _count("step_size", step_size, 1), _number("gamma", gamma),
                                       _number("min_lr", min_lr))
    if not 0 < schedule_options.gamma <= 1:
        raise ValueError(f"gamma (the step schedule's factor) must be in (0, 1], got {gamma!r}.")
    if not 0 <= schedule_options.min_lr < optimizer_options.lr:
        raise ValueError(f"min_lr must be in [0, lr={optimizer_options.lr}), got {min_lr!r}.")

    return TrainOptions(
        epochs=_count("epochs", epochs, 1),
        batch_size=_count("batch_size", batch_size, 1),
        optimizer=optimizer_options,
        loss=_choice("loss", _LOSS_ALIASES.get(loss, loss) if isinstance(loss, str) else loss, LOSSES),
        metrics=_metrics(metrics),
        schedule=schedule_options,
        early_stopping=_early_stopping(early_stopping),
        checkpoint=_choice("checkpoint", checkpoint, CHECKPOINTS),
        seed=_count("seed", seed, 0),
        shuffle=_flag("shuffle", shuffle),
        drop_last=_flag("drop_last", drop_last),
    )


def _metrics(metrics: Any) -> tuple[str, ...]:
    from nbunify.train.metrics import metric_name

    if metrics is None:
        return ()
    if isinstance(metrics, str):
        metrics = [metrics]
    return tuple(dict.fromkeys(metric_name(metric) for metric in metrics))


def _early_stopping(value: Any) -> EarlyStopping | None:
    if value is None or value is False:
        return None
    if value is True:
        return EarlyStopping()
    if isinstance(value, int) and not isinstance(value, bool):
        return EarlyStopping(patience=_count("early_stopping", value, 1))
    if isinstance(value, str):
        return EarlyStopping(monitor=value)
    if isinstance(value, dict):
        unknown = set(value) - {"monitor", "patience", "min_delta"}
        if unknown:
            raise ValueError(f"early_stopping takes monitor, patience and min_delta, not {', '.join(sorted(unknown))}.")
        return EarlyStopping(monitor=str(value.get("monitor", "val_loss")),
                             patience=_count("patience", value.get("patience", 3), 1),
                             min_delta=_number("min_delta", value.get("min_delta", 0.0)))
    if isinstance(value, EarlyStopping):
        return value
    raise ValueError(f"early_stopping is a patience in epochs (e.g. 3), a metric to monitor (e.g. 'val_accuracy'), "
                     f"a dict(monitor=, patience=, min_delta=) or True; got {value!r}.")


def _choice(label: str, value: Any, choices: Any) -> Any:
    key = value.strip().lower() if isinstance(value, str) else value
    if key in choices:
        return key
    names = [choice for choice in choices if choice is not None]
    hint = did_you_mean(str(key), names) if isinstance(key, str) else ""
    raise ValueError(f"unknown {label} {value!r}.{hint} Choose from {', '.join(map(repr, choices))}.")


def _number(label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{label} must be a number, got {value!r}.")
    return float(value)


def _count(label: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{label} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def _flag(label: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{label} must be True or False, got {value!r}.")
    return value
