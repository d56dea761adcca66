"""Run: one model's training record (hyper-parameters, environment, status, metric points), live or from the store."""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("running", "finished", "interrupted", "failed")
STEP, EPOCH = "step", "epoch"


@dataclass
class Series:
    """One metric of one run: x (step, or epoch number from 1), step, epoch number, seconds and values, in order."""

    x: list[int] = field(default_factory=list)
    #: the optimizer step of each point (for an epoch point: the last step of that epoch)
    step: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass
class Run:
    """A training run of one model in one framework.

    ``points`` are ``(kind, step, epoch, seconds, metric, value)`` tuples: ``kind`` is "step" (one
    optimizer step: ``loss`` and the train metrics of that batch, ``lr``) or "epoch" (means over the
    epoch: ``loss``, ``accuracy`` ..., and ``val_loss``, ``val_accuracy`` ... on the validation
    split, ``epoch_time``); ``step`` counts optimizer steps from 1, ``seconds`` is training time
    since the run started (setup, validation and display excluded).
    """

    id: str
    name: str
    framework: str
    spec_name: str = ""
    spec_hash: str = ""
    spec_text: str = ""
    dataset: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    status: str = "running"
    message: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None
    checkpoint: str = ""
    parameters: int = 0
    group: str = ""
    resumed_from: str = ""
    points: list[tuple[str, int, int, float, str, float]] = field(default_factory=list, repr=False)
    model: Any = field(default=None, repr=False, compare=False)
    _series: dict[tuple[str, str], Series] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=0, repr=False, compare=False)

    def record(self, kind: str, step: int, epoch: int, seconds: float, metric: str, value: float) -> None:
        """Append one point (the training loop's only way to add one)."""
        self.points.append((kind, step, epoch, seconds, metric, value))

    def truncate(self, step: int, epoch: int) -> None:
        """Keep only the points up to optimizer ``step`` and epoch index ``epoch`` (resuming from a checkpoint)."""
        self.points = [point for point in self.points
                       if point[1] <= step and not (point[0] == EPOCH and point[2] > epoch)]
        self._series.clear()
        self._indexed = 0

    def series(self) -> dict[tuple[str, str], "Series"]:
        """Points grouped by ``(kind, metric)``, kept up to date incrementally (cheap to call while training)."""
        for kind, step, epoch, seconds, metric, value in self.points[self._indexed:]:
            entry = self._series.get((kind, metric))
            if entry is None:
                entry = self._series[(kind, metric)] = Series()
            entry.x.append(epoch + 1 if kind == EPOCH else step)
            entry.step.append(step)
            entry.epoch.append(epoch + 1)
            entry.seconds.append(seconds)
            entry.values.append(value)
        self._indexed = len(self.points)
        return self._series

    # -- reading points ----------------------------------------------------------------------
    def history(self, metric: str = "loss", kind: str | None = None) -> tuple[list[int], list[float]]:
        """``(x, values)`` of one metric: per epoch (x = epoch number from 1) for ``val_*`` metrics and
        ``kind="epoch"``, else per step (x = step number)."""
        kind = kind or (EPOCH if metric.startswith("val_") or metric == "epoch_time" else STEP)
        entry = self.series().get((kind, metric))
        return (list(entry.x), list(entry.values)) if entry else ([], [])

    def metric_names(self, kind: str | None = None) -> list[str]:
        return list(dict.fromkeys(metric for point_kind, metric in self.series() if kind is None or point_kind == kind))

    def final(self, metric: str) -> float | None:
        """The metric's last epoch value (None if no epoch recorded it)."""
        values = self.history(metric, EPOCH)[1]
        return values[-1] if values else None

    def best(self, metric: str) -> float | None:
        """The metric's best epoch value: lowest for losses and errors, highest for accuracies."""
        values = [value for value in self.history(metric, EPOCH)[1] if math.isfinite(value)]
        if not values:
            return None
        return min(values) if metric.endswith(("loss", "mae")) else max(values)

    @property
    def epochs_done(self) -> int:
        return len(self.history("loss", EPOCH)[1])

    @property
    def steps_done(self) -> int:
        entry = self.series().get((STEP, "loss"))
        return entry.x[-1] if entry and entry.x else 0

    @property
    def epoch_times(self) -> list[float]:
        return self.history("epoch_time", EPOCH)[1]

    def samples_per_second(self) -> float | None:
        """Training samples per second of training time (sum over epochs)."""
        times = self.epoch_times
        samples = self.environment.get("train_samples")
        if not times or not samples:
            return None
        return samples * len(times) / sum(times)

    # -- display -----------------------------------------------------------------------------
    def describe(self) -> str:
        parts = [f"{self.framework} run {self.id} ({self.name}): {self.status}",
                 f"{self.epochs_done} epoch(s), {self.steps_done} step(s)"]
        for metric in ("loss", "val_loss", "val_accuracy", "val_mae"):
            value = self.final(metric)
            if value is not None:
                parts.append(f"{metric} {value:.4g}")
        if self.message:
            parts.append(self.message)
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<Run {self.describe()}>"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(repr(self))}</code>"
