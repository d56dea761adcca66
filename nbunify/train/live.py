"""The live training display: one output updated in place (throttled) in a notebook, epoch lines elsewhere."""

from __future__ import annotations

import sys
import time
import uuid
from typing import Sequence

from nbunify.curves import LIVE_POINTS, curves_bundle
from nbunify.runs.run import Run

#: At most this many display updates per second while training (the last state is always sent).
UPDATES_PER_SECOND = 2.0
#: Share of the training time live updates may take: after each one the next waits its cost / LIVE_BUDGET, so
#: curves of long runs (bigger messages) or many runs update less often rather than slow training down.
LIVE_BUDGET = 0.01


def _shell():
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where display updates reach a front end)."""
    return getattr(_shell(), "kernel", None) is not None


def display_mode(live: bool | None) -> str:
    """``live`` None: curves in a notebook, a line per epoch elsewhere; True: curves in any IPython; False: nothing."""
    if live is False:
        return "off"
    if in_notebook() or (live and _shell() is not None):
        return "display"
    return "text"


class LiveCurves:
    """Shows every run's curves overlaid in one display, updated with ``update_display``.

    ``mode`` is "display" (a notebook), "text" (print a line per run and epoch) or "off".
    Updates carry the JSON message (LIVE_POINTS per series) and text, at most UPDATES_PER_SECOND and within
    LIVE_BUDGET of the time; the final one has every point (up to MAX_POINTS) and a PNG so a saved notebook shows
    the curves.
    """

    def __init__(self, runs: Sequence[Run], title: str, mode: str) -> None:
        self.runs = list(runs)
        self.title = title
        self.mode = mode
        self.display_id = f"nbunify-curves-{uuid.uuid4().hex[:12]}"
        self.interval = 1.0 / UPDATES_PER_SECOND
        self._last = 0.0
        self._shown = False

    def start(self) -> None:
        if self.mode == "display":
            from IPython.display import display

            display(curves_bundle(self.runs, self.title), raw=True, display_id=self.display_id)
            self._shown = True
            self._last = time.perf_counter()

    def update(self) -> None:
        """Send the current curves if the last update is older than the throttle interval."""
        if self.mode != "display":
            return
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._send(curves_bundle(self.runs, self.title, max_points=LIVE_POINTS))
            self._last = time.perf_counter()
            self.interval = max(1.0 / UPDATES_PER_SECOND, (self._last - now) / LIVE_BUDGET)

    def epoch_end(self, run: Run, epochs: int) -> None:
        if self.mode == "text":
            metrics = [f"{name} {run.final(name):.4g}" for name in run.metric_names("epoch")
                       if name not in ("lr", "epoch_time") and run.final(name) is not None]
            print(f"{run.framework:<7} epoch {run.epochs_done}/{epochs}: " + ", ".join(metrics), flush=True)
        else:
            self.update()

    def finish(self) -> None:
        """The final state, with the PNG fallback."""
        if self.mode == "display":
            self._send(curves_bundle(self.runs, self.title, done=True, png=True))
        elif self.mode == "text":
            for run in self.runs:
                if run.status != "finished":
                    print(f"{run.framework:<7} {run.status}: {run.message}", flush=True)

    def _send(self, bundle: dict) -> None:
        from IPython.display import display, update_display

        if self._shown:
            update_display(bundle, raw=True, display_id=self.display_id)
        else:
            display(bundle, raw=True, display_id=self.display_id)
            self._shown = True
