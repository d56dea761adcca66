"""``nu.compare(runs)``: a table (metrics, speed, size, parameters, lines of code) and the runs' curves overlaid."""

from __future__ import annotations

import os
import statistics
from typing import Any, Sequence

from nbunify.curves import curves_bundle
from nbunify.runs import Run, RunList, RunStore
from nbunify.table import Table

COLUMNS = ("framework", "run", "status", "epochs", "best val_accuracy", "final val_accuracy", "best val_loss",
           "final loss", "time/epoch (s)", "samples/s", "parameters", "size on disk (KB)", "lines of code")


class Comparison:
    """The comparison of several runs: ``table`` (a Table) and ``runs``; shows the table, then the curves."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self.runs = RunList(runs)
        metric = "val_accuracy" if any(run.history("val_accuracy")[1] for run in runs) else None
        columns = list(COLUMNS)
        if metric is None:  # regression: mean absolute error instead of accuracy
            columns = [c.replace("accuracy", "mae") for c in columns]
        self.table = Table([_row(run) for run in runs], columns, title=f"{len(runs)} run(s) compared")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.table)
        display(curves_bundle(self.runs, "comparison", done=True, png=True), raw=True)

    def __repr__(self) -> str:
        return str(self.table)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.table[index]


def compare(runs: Any = None, store: str | os.PathLike | RunStore | None = None) -> Comparison:
    """Compare runs: a RunList from ``nu.fit``, Run objects, run ids, or None for the latest ``nu.fit`` call's runs."""
    source = store if isinstance(store, RunStore) else RunStore(store)
    if runs is None:
        group = source.latest_group() if source.path.exists() else None
        if group is None:
            raise ValueError(f"no runs to compare in {source.path}: train some with nu.fit(models, data=...) first.")
        chosen = source.load(group=group)
    else:
        items = [runs] if isinstance(runs, (Run, str)) else list(runs.values() if isinstance(runs, dict) else runs)
        if not items:
            raise ValueError("nu.compare needs at least one run.")
        chosen = []
        for item in items:
            if isinstance(item, Run):
                chosen.append(item)
            elif isinstance(item, str):
                chosen.append(source.get(item))
            else:
                raise TypeError(f"nu.compare takes runs (from nu.fit or nu.runs()) or run ids, got {type(item).__name__}")
    return Comparison(chosen)


def _row(run: Run) -> dict[str, Any]:
    times = run.epoch_times
    samples = run.samples_per_second()
    size = run.environment.get("model_bytes")
    lines = _lines_of_code(run)
    metric = "val_accuracy" if run.history("val_accuracy")[1] else "val_mae"
    return {
        "framework": run.framework, "run": run.name, "status": run.status, "epochs": run.epochs_done,
        f"best {metric}": _number(run.best(metric)), f"final {metric}": _number(run.final(metric)),
        "best val_loss": _number(run.best("val_loss")), "final loss": _number(run.final("loss")),
        "time/epoch (s)": f"{statistics.median(times):.3f}" if times else "",
        "samples/s": f"{samples:,.0f}" if samples else "",
        "parameters": f"{run.environment.get('parameters_native', run.parameters):,}",
        "size on disk (KB)": f"{size / 1024:.1f}" if size else "",
        "lines of code": lines if lines is not None else "",
    }


def _lines_of_code(run: Run) -> int | None:
    """Lines of the generated native source of the run's spec (None when it cannot be regenerated)."""
    from nbunify.codegen import code
    from nbunify.spec import Sequential, parse

    spec = getattr(run.model, "_nbunify_spec", None)
    try:
        if not isinstance(spec, Sequential):
            spec = parse(run.spec_text) if run.spec_text else None
        return code(spec, run.framework).lines if spec is not None else None
    except Exception:  # a spec of a newer nbunify, or text the DSL no longer reads: leave the cell empty
        return None


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
