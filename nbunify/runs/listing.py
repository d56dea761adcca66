"""RunList: runs as a table (``nu.runs()``) that exports to CSV and TensorBoard."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from nbunify.runs.export import to_csv, to_tensorboard
from nbunify.runs.run import Run
from nbunify.table import Table

COLUMNS = ("id", "name", "framework", "status", "dataset", "optimizer", "epochs", "steps", "final loss",
           "final val_loss", "best val_accuracy", "created")


class RunList(list):
    """A list of Run with a table display; ``.to_csv(path)`` and ``.to_tensorboard(logdir)`` export them."""

    def __getitem__(self, key):
        """By position, or by name or framework (``runs["torch"]``) when ``key`` is a string."""
        if isinstance(key, str):
            for run in self:
                if key in (run.name, run.id, run.framework) or run.name.endswith(f"-{key}"):
                    return run
            raise KeyError(f"no run named {key!r}; runs: {', '.join(run.name for run in self)}")
        value = super().__getitem__(key)
        return RunList(value) if isinstance(key, slice) else value

    def table(self) -> Table:
        return Table([_row(run) for run in self], COLUMNS, title=f"{len(self)} run(s)")

    def to_csv(self, path: str | os.PathLike) -> Path:
        return to_csv(self, path)

    def to_tensorboard(self, logdir: str | os.PathLike) -> list[Path]:
        return to_tensorboard(self, logdir)

    def __repr__(self) -> str:
        return str(self.table()) if self else "no runs"

    def _repr_html_(self) -> str:
        return self.table()._repr_html_() if self else "<i>no runs</i>"


def _row(run: Run) -> dict[str, Any]:
    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.4g}"

    return {
        "id": run.id, "name": run.name, "framework": run.framework, "status": run.status, "dataset": run.dataset,
        "optimizer": run.options.get("optimizer", {}).get("name", ""), "epochs": run.epochs_done,
        "steps": run.steps_done, "final loss": number(run.final("loss")), "final val_loss": number(run.final("val_loss")),
        "best val_accuracy": number(run.best("val_accuracy")),
        "created": datetime.datetime.fromtimestamp(run.created).strftime("%Y-%m-%d %H:%M:%S") if run.created else "",
    }
