"""Member: one model in a fit call, with its trainer, run record, schedule position and stopping state."""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbunify.runs import Run, RunStore
from nbunify.train.plan import TrainPlan

CHECKPOINT_META = "checkpoint.json"


@dataclass(eq=False)
class Member:
    """A model being trained: the native trainer, its Run and the loop's bookkeeping for it."""

    model: Any
    framework: str
    plan: TrainPlan
    run: Run
    trainer: Any = None
    step: int = 0
    lr: float = 0.0
    seconds: float = 0.0
    flushed: int = 0
    best: float | None = None
    bad_epochs: int = 0
    active: bool = True
    metric_sums: dict[str, float] = field(default_factory=dict)

    def stop(self, status: str, message: str = "") -> None:
        self.active = False
        self.run.status = status
        self.run.message = message
        self.run.finished = time.time()

    def flush(self, store: RunStore) -> None:
        """Write the run's state and its points not yet stored, in one transaction."""
        points = self.run.points[self.flushed:]
        store.update(self.run, points)
        self.flushed += len(points)

    def improved(self, value: float | None, mode: str, min_delta: float) -> bool:
        """Whether ``value`` beats the best so far (and remember it)."""
        if value is None or not math.isfinite(value):
            return False
        better = self.best is None or (value < self.best - min_delta if mode == "min" else value > self.best + min_delta)
        if better:
            self.best = value
        return better

    def save_checkpoint(self, directory: Path, epoch: int) -> None:
        """Model and optimizer state (native formats) plus where training stood, replacing the previous checkpoint
        only once the new one is complete."""
        partial = directory.with_name(directory.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        self.trainer.save(partial)
        meta = {"epoch": epoch, "step": self.step, "lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs,
                "seconds": self.seconds, "framework": self.framework, "spec_hash": self.run.spec_hash}
        (partial / CHECKPOINT_META).write_text(json.dumps(meta, indent=1))
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            directory.rename(old)
        partial.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
        self.run.checkpoint = str(directory)
        self.run.environment["model_bytes"] = sum(path.stat().st_size for path in directory.iterdir()
                                                  if path.name.startswith("model"))
        self.run.environment["checkpoint_epoch"] = epoch + 1

    def load_checkpoint(self, directory: Path) -> int:
        """Restore a checkpoint saved by save_checkpoint; returns the epoch to continue from."""
        meta = json.loads((directory / CHECKPOINT_META).read_text())
        self.trainer.restore(directory)
        self.step, self.lr, self.seconds = meta["step"], meta["lr"], meta["seconds"]
        self.best, self.bad_epochs = meta["best"], meta["bad_epochs"]
        self.trainer.set_learning_rate(self.lr)
        return meta["epoch"] + 1
