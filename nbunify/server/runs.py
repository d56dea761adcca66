"""The Runs sidebar's API: list a directory's run store and send its runs' curves, read-only and lock-free.

A training process writes ``<directory>/nbunify-runs/runs.sqlite`` (WAL mode) while the sidebar
polls it, so the server opens the file itself with ``mode=rw`` (never ``rwc``: a directory
without a store stays without one), never writes a row, reads each answer in one short read
transaction (a WAL reader never blocks a writer) and closes the connection at once. Runs whose
training process died are reported the way RunStore reports them ("interrupted").
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sqlite3
from pathlib import Path, PurePosixPath
from typing import Any, Sequence
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from nbunify.curves import curves_message
from nbunify.runs.run import EPOCH, STEP, Run
from nbunify.runs.store import DIRECTORY_NAME, FILE_NAME, SCHEMA_VERSION, RunStore
from nbunify.server.security import AUTH_RESOURCE, PathRefused

RUNS_API_ROUTE = "nbunify/api/runs"
CURVES_API_ROUTE = "nbunify/api/runs/curves"
#: Most runs one curves request may name (a chart of more is unreadable anyway).
MAX_CURVE_RUNS = 64
#: Epoch metrics listed by their best value rather than their last one (see Run.best).
BEST_METRICS = ("val_accuracy", "val_mae")
#: Epoch records that are not model metrics: left out of the list.
NOT_METRICS = ("epoch_time", "lr")
#: How long a read waits for SQLite (only a WAL-index recovery makes a WAL reader wait at all).
READ_TIMEOUT = 5.0


def resolve_directory(root_dir: str | os.PathLike, relative_path: str, allow_hidden: bool = False) -> Path:
    """The real path of a directory given relative to the Jupyter root ("" is the root), or PathRefused.

    400 for a malformed or absolute path or a file, 403 for a path that leaves the root (``..``,
    a symlink out) or is hidden (unless ``allow_hidden``, as ``ContentsManager.allow_hidden``), 404
    for a missing directory. The messages mirror security.resolve_in_root's.
    """
    if "\x00" in relative_path:
        raise PathRefused(400, "The path contains a NUL character; give the folder shown in the file browser.")
    given = PurePosixPath(relative_path.replace("\\", "/"))
    if given.is_absolute() or os.path.isabs(relative_path) or os.path.splitdrive(relative_path)[0]:
        raise PathRefused(400, f"{relative_path!r} is an absolute path; give a folder relative to the Jupyter root"
                               " directory, as the file browser shows it.")
    root = Path(os.path.realpath(root_dir))
    target = Path(os.path.realpath(root.joinpath(*given.parts)))
    if target != root and root not in target.parents:
        raise PathRefused(403, f"{relative_path!r} is outside the Jupyter root directory; only runs under it are listed.")
    hidden = [part for part in (*given.parts, *target.relative_to(root).parts) if part.startswith(".") and part != ".."]
    if hidden and not allow_hidden:
        raise PathRefused(403, f"{relative_path!r} is hidden ({hidden[0]!r} starts with a dot) and Jupyter does not"
                               " show hidden folders.")
    if not target.exists():
        raise PathRefused(404, f"There is no folder {relative_path!r} in the Jupyter root directory.")
    if not target.is_dir():
        raise PathRefused(400, f"{relative_path!r} is a file; give the folder that holds {DIRECTORY_NAME}/.")
    return target


def store_file(root_dir: str | os.PathLike, directory: Path) -> Path | None:
    """``<directory>/nbunify-runs/runs.sqlite`` if it exists, None if not; PathRefused(403) if it links out of the root."""
    candidate = directory / DIRECTORY_NAME / FILE_NAME
    if not candidate.exists():
        return None
    root = Path(os.path.realpath(root_dir))
    real = Path(os.path.realpath(candidate))
    if root not in real.parents:
        raise PathRefused(403, f"{DIRECTORY_NAME}/{FILE_NAME} links outside the Jupyter root directory; it is not read.")
    if not real.is_file():
        raise PathRefused(400, f"{DIRECTORY_NAME}/{FILE_NAME} is not a file.")
    return real


class _StoreReader(RunStore):
    """RunStore's queries (and its stale-run check) over a connection that never creates or migrates the file."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._reader: sqlite3.Connection | None = None

    def connect(self) -> sqlite3.Connection:
        if self._reader is None:
            # rw, not rwc: a store deleted meanwhile is not re-created (SQLite falls back to reading a
            # write-protected file); closing the last connection folds the WAL back and removes its files,
            # where a mode=ro connection would leave them behind.
            self._reader = sqlite3.connect(f"file:{quote(str(self.path))}?mode=rw", uri=True, timeout=READ_TIMEOUT,
                                           isolation_level=None)  # transactions begun and ended here, explicitly
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def read(self, ids: Sequence[str] | None = None, points: bool = True) -> tuple[list[Run], dict[str, float]]:
        """Runs (as RunStore.load) and each run's last write time, from one snapshot of the store."""
        connection = self.connect()
        try:
            connection.execute("BEGIN")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise PathRefused(409, f"the run store {self.path.name} was written by a newer nbunify (schema"
                                       f" {version}); upgrade nbunify in the Jupyter server's environment")
            try:
                runs = self.load(ids=ids, points=points)
                updated = dict(connection.execute("SELECT id, updated FROM runs").fetchall())
                if not points:
                    for run in runs:
                        run.points.extend(_summary_points(connection, run.id))
            except sqlite3.OperationalError as error:
                if "no such table" not in str(error):
                    raise
                return [], {}  # an empty file, or one that a first training call is still setting up
            return runs, updated
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")
            self.close()


def _summary_points(connection: sqlite3.Connection, run_id: str) -> list[tuple]:
    """A run's epoch points and its last step loss: enough for Run.final/best/epochs_done/steps_done (index lookups)."""
    columns = "kind, step, epoch, seconds, metric, value"
    rows = connection.execute(f"SELECT {columns} FROM points WHERE run_id=? AND kind=? ORDER BY rowid",
                              (run_id, EPOCH)).fetchall()
    rows += connection.execute(f"SELECT {columns} FROM points WHERE run_id=? AND kind=? AND metric='loss' "
                               "ORDER BY step DESC LIMIT 1", (run_id, STEP)).fetchall()
    return [(*row[:-1], float("nan") if row[-1] is None else row[-1]) for row in rows]


def run_metrics(run: Run) -> dict[str, float | None]:
    """The sidebar's key numbers: ``loss`` of the last step (else of the last epoch), the best ``val_accuracy`` and
    ``val_mae``, the last epoch's value of every other metric (not ``epoch_time`` or ``lr``); non-finite values are None."""
    metrics: dict[str, float | None] = {}
    step_losses = run.history("loss", STEP)[1]
    if step_losses:
        metrics["loss"] = step_losses[-1]
    for metric in run.metric_names(EPOCH):
        if metric in NOT_METRICS or metric in metrics:
            continue
        metrics[metric] = run.best(metric) if metric in BEST_METRICS else run.final(metric)
    return {name: value if value is not None and math.isfinite(value) else None for name, value in metrics.items()}


def run_summary(run: Run, updated: float | None) -> dict[str, Any]:
    return {"id": run.id, "name": run.name, "framework": run.framework, "status": run.status, "message": run.message,
            "dataset": run.dataset, "epochs": run.epochs_done, "steps": run.steps_done, "created": run.created or None,
            "updated": updated, "finished": run.finished, "metrics": run_metrics(run)}


def list_runs(root_dir: str | os.PathLike, relative_path: str, allow_hidden: bool = False) -> dict[str, Any]:
    """The answer of ``GET nbunify/api/runs``: the directory's runs, newest first (PathRefused for a bad path)."""
    store = store_file(root_dir, resolve_directory(root_dir, relative_path, allow_hidden))
    path = _normalized(relative_path)
    if store is None:
        return {"path": path, "store": None, "runs": []}
    runs, updated = _StoreReader(store).read(points=False)
    return {"path": path, "store": str(PurePosixPath(path, DIRECTORY_NAME, FILE_NAME)),
            "runs": [run_summary(run, updated.get(run.id)) for run in reversed(runs)]}


def runs_curves(root_dir: str | os.PathLike, relative_path: str, ids: Sequence[str],
                allow_hidden: bool = False) -> dict[str, Any]:
    """The answer of ``GET nbunify/api/runs/curves``: curves_message of the runs ``ids``, titled with their names."""
    store = store_file(root_dir, resolve_directory(root_dir, relative_path, allow_hidden))
    path = _normalized(relative_path)
    runs = _StoreReader(store).read(ids=ids)[0] if store is not None else []
    missing = [run_id for run_id in ids if run_id not in {run.id for run in runs}]
    if missing:
        folder = repr(path) if path else "the root folder"
        where = f"the run store of {folder}" if store else f"{folder}, which has no run store"
        raise PathRefused(404, f"No run {', '.join(map(repr, missing))} in {where}; refresh the Runs list.")
    return curves_message(runs, curves_title(runs), done=all(run.status != "running" for run in runs))


def curves_title(runs: Sequence[Run]) -> str:
    return ", ".join(run.name for run in runs)


def _normalized(relative_path: str) -> str:
    return "/".join(part for part in relative_path.replace("\\", "/").split("/") if part not in ("", "."))


class _RunsHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    async def answer(self, function: Any, *arguments: Any) -> None:
        root = self.settings["server_root_dir"]
        allow_hidden = bool(getattr(self.contents_manager, "allow_hidden", False))
        try:
            # SQLite reads would stall every other request of the server if run on its event loop.
            result = await asyncio.get_running_loop().run_in_executor(
                None, lambda: function(root, *arguments, allow_hidden=allow_hidden))
        except PathRefused as refusal:
            return self._refuse(refusal.status, refusal.message)
        except (sqlite3.Error, OSError) as error:
            return self._refuse(500, f"cannot read the run store of {arguments[0] or 'the root folder'!r}: {error}")
        self.finish(json.dumps(result, allow_nan=False))

    def _refuse(self, status: int, message: str) -> None:
        # Written directly rather than raised: HTTPError treats "%" in a path as a format string.
        self.log.warning("nbunify: %s %s", status, message)
        self.set_status(status)
        self.finish(json.dumps({"message": message}))


class RunsAPIHandler(_RunsHandler):
    """``nbunify/api/runs?path=<folder>``: the runs of ``<folder>/nbunify-runs/runs.sqlite``, newest first."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.answer(list_runs, self.get_query_argument("path", ""))


class RunsCurvesHandler(_RunsHandler):
    """``nbunify/api/runs/curves?path=<folder>&ids=<id>,<id>``: the curves message of those runs."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        ids = list(dict.fromkeys(run_id for run_id in self.get_query_argument("ids", "").split(",") if run_id))
        if not ids:
            return self._refuse(400, "Name the runs as ids=<id>,<id> (the ids the Runs list gives).")
        if len(ids) > MAX_CURVE_RUNS:
            return self._refuse(400, f"{len(ids)} runs asked for; at most {MAX_CURVE_RUNS} can be drawn together.")
        await self.answer(runs_curves, self.get_query_argument("path", ""), ids)
