"""The curves message (``application/vnd.nbunify.curves+json``) for runs, with text and PNG fallbacks."""

from __future__ import annotations

import base64
import io
import math
import threading
from typing import Any, Sequence

from nbunify.display import CURVES_MIME, MESSAGE_VERSION
from nbunify.runs.run import EPOCH, Run

#: Points sent per series: longer series are thinned evenly (the last point always kept); the store keeps all.
MAX_POINTS = 2000
#: Points per series in the updates sent while training (the final message has up to MAX_POINTS): a live chart
#: a few hundred pixels wide shows no more, and each update costs the training loop in proportion to its size.
LIVE_POINTS = 400
#: A colour per framework, shared by the PNG fallback and (as a default) by the Lab renderer.
COLOURS = {"torch": "#ee4c2c", "keras": "#d00000", "paddle": "#2932e1"}
_LINE_STYLES = ("-", "--", ":", "-.")


def curves_message(runs: Sequence[Run], title: str = "", done: bool = False,
                   max_points: int = MAX_POINTS) -> dict[str, Any]:
    """The JSON message: every run's series (x, step, epoch, seconds, values) per metric, thinned to ``max_points``.

    Non-finite values are sent as ``null`` (JSON has no NaN) so a diverging run shows its gap.
    """
    message_runs = []
    metrics: dict[str, None] = {}
    for run in runs:
        series = {}
        for (kind, metric), entry in run.series().items():
            indices = _thin(len(entry.x), max_points)
            series[f"{kind}/{metric}"] = {
                "kind": kind, "metric": metric,
                "x": [entry.x[i] for i in indices], "step": [entry.step[i] for i in indices], "epoch": [entry.epoch[i] for i in indices],
                "seconds": [round(entry.seconds[i], 4) for i in indices],
                "y": [_finite(entry.values[i]) for i in indices],
            }
            metrics[metric] = None
        message_runs.append({"id": run.id, "name": run.name, "framework": run.framework, "status": run.status,
                             "message": run.message, "series": series})
    return {"version": MESSAGE_VERSION, "title": title, "done": done, "metrics": list(metrics), "runs": message_runs}


def curves_text(runs: Sequence[Run]) -> str:
    """One line per run: status, epochs, steps and latest metrics."""
    lines = []
    for run in runs:
        latest = []
        for metric in ("loss", "accuracy", "val_loss", "val_accuracy", "val_mae"):
            kind = EPOCH if metric.startswith("val_") else "step"
            values = run.history(metric, kind)[1]
            if values:
                latest.append(f"{metric} {values[-1]:.4g}")
        lines.append(f"{run.framework:<7} {run.name}: {run.status}, epoch {run.epochs_done}, step {run.steps_done}"
                     + (", " + ", ".join(latest) if latest else "") + (f" ({run.message})" if run.message else ""))
    return "\n".join(lines) or "no runs"


def curves_png(runs: Sequence[Run], title: str = "") -> bytes | None:
    """A static picture of the curves (loss, then accuracy/mae), or None without matplotlib.

    Thin lines are per step (training batches), markers per epoch (circles: training mean,
    squares: validation). The figure, its axes and their ticks are made once per panel count and
    reused (only the lines, limits, legend and title change): a new figure costs as much again as drawing.
    """
    groups = [("loss", ("loss", "val_loss")), ("accuracy", ("accuracy", "val_accuracy")), ("mae", ("mae", "val_mae"))]
    panels = [(label, names) for label, names in groups if any(run.history(names[0])[1] or run.history(names[1])[1] for run in runs)]
    if not panels:
        return None
    with _FIGURES_LOCK:
        canvas = _canvas(len(panels))
        if canvas is None:
            return None
        figure, all_axes, heading = canvas
        handles = []
        for index, (axes, (label, (train_name, val_name))) in enumerate(zip(all_axes, panels)):
            for line in list(axes.lines):
                line.remove()
            for number, run in enumerate(runs):
                colour = COLOURS.get(run.framework)
                same_framework = sum(1 for other in runs[:number] if other.framework == run.framework)
                style = _LINE_STYLES[same_framework % len(_LINE_STYLES)]
                steps, values = run.history(train_name, "step")
                if steps:
                    axes.plot(steps, values, style, color=colour, alpha=0.3, linewidth=0.8)
                epoch_steps = _epoch_end_steps(run)
                for name, marker in ((train_name, "o"), (val_name, "s")):
                    epochs, values = run.history(name, EPOCH)
                    if epochs:
                        axes.plot([epoch_steps.get(epoch, epoch) for epoch in epochs], values, style, marker=marker,
                                  markersize=3, color=colour, linewidth=1.3)
                if index == 0:
                    handles.append(_line_2d(colour, style, run.name))
            axes.set_title(f"{label} (o train, \u25a1 validation)", fontsize=9)
            axes.relim()
            axes.autoscale_view()
        for legend in list(figure.legends):
            legend.remove()
        figure.legend(handles=handles, loc="upper right", fontsize=7, frameon=False, ncol=min(len(handles), 3))
        heading.set_text(title)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


_FIGURES: dict[int, Any] = {}
_FIGURES_LOCK = threading.Lock()


def _canvas(panels: int) -> tuple[Any, list[Any], Any] | None:
    """The cached (figure, axes, title text) for ``panels`` side-by-side panels, made on first use."""
    if panels not in _FIGURES:
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            from matplotlib.figure import Figure
        except ImportError:
            return None
        figure = Figure(figsize=(4.6 * panels, 3.2), dpi=72)
        all_axes = [figure.add_subplot(1, panels, index + 1) for index in range(panels)]
        for axes in all_axes:
            axes.set_xlabel("step", fontsize=8)
            axes.tick_params(labelsize=7)
            axes.locator_params(nbins=3)  # few ticks: their labels are most of the drawing time
        heading = figure.text(0.01, 0.97, "", fontsize=9, va="top")
        # fixed margins: tight_layout would cost more than the drawing itself
        figure.subplots_adjust(left=0.07 if panels > 1 else 0.12, right=0.98, bottom=0.14, top=0.8, wspace=0.22)
        _FIGURES[panels] = (figure, all_axes, heading)
    return _FIGURES[panels]


def _line_2d(colour: str | None, style: str, label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, linestyle=style, label=label)


def curves_bundle(runs: Sequence[Run], title: str = "", done: bool = False, png: bool = False,
                  max_points: int = MAX_POINTS) -> dict[str, Any]:
    """The display bundle: the JSON message, text/plain and (when ``png``) a static image/png."""
    bundle: dict[str, Any] = {CURVES_MIME: curves_message(runs, title, done, max_points),
                              "text/plain": curves_text(runs)}
    if png:
        picture = curves_png(runs, title)
        if picture is not None:
            bundle["image/png"] = base64.b64encode(picture).decode("ascii")
    return bundle


def _epoch_end_steps(run: Run) -> dict[int, int]:
    """Epoch number -> step at which it ended, to draw epoch points on the step axis."""
    steps = {}
    for kind, step, epoch, _, metric, _ in run.points:
        if kind == EPOCH and metric == "loss":
            steps[epoch + 1] = step
    return steps


def _thin(count: int, max_points: int = MAX_POINTS) -> range | list[int]:
    if count <= max_points:
        return range(count)
    stride = math.ceil(count / max_points)
    indices = list(range(0, count, stride))
    if indices[-1] != count - 1:
        indices.append(count - 1)
    return indices


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
