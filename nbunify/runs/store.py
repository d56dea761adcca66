"""The run store: one SQLite file (WAL mode) next to the notebook, shared safely by several processes."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

from nbunify.runs.run import Run

#: Environment variable naming the store: a ``.sqlite`` file, or a directory to keep ``runs.sqlite`` in.
STORE_ENV = "NBUNIFY_RUN_STORE"
DIRECTORY_NAME = "nbunify-runs"
FILE_NAME = "runs.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, framework TEXT NOT NULL, spec_name TEXT, spec_hash TEXT,
    spec_text TEXT, dataset TEXT, options TEXT, environment TEXT, status TEXT NOT NULL, message TEXT,
    created REAL, finished REAL, checkpoint TEXT, parameters INTEGER, group_id TEXT, resumed_from TEXT,
    pid INTEGER, host TEXT, updated REAL
);
CREATE TABLE IF NOT EXISTS points (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, kind TEXT NOT NULL, step INTEGER NOT NULL,
    epoch INTEGER NOT NULL, seconds REAL NOT NULL, metric TEXT NOT NULL, value REAL
);
CREATE INDEX IF NOT EXISTS points_by_run ON points (run_id, kind, metric, step);
"""
_RUN_COLUMNS = ("id", "name", "framework", "spec_name", "spec_hash", "spec_text", "dataset", "options", "environment",
                "status", "message", "created", "finished", "checkpoint", "parameters", "group_id", "resumed_from")


def default_path() -> Path:
    """``$NBUNIFY_RUN_STORE`` (a file, or a directory holding runs.sqlite), else ``./nbunify-runs/runs.sqlite``.

    A path without a suffix is a directory.

    The kernel's working directory is the notebook's directory in JupyterLab, so by default the runs
    of a notebook live beside it, in a folder that can be shared or deleted with it.
    """
    configured = os.environ.get(STORE_ENV)
    if configured:
        path = Path(configured).expanduser()
        return path / FILE_NAME if path.is_dir() or not path.suffix else path
    return Path.cwd() / DIRECTORY_NAME / FILE_NAME


class RunStore:
    """Runs and their metric points in one SQLite database.

    Every write is a short transaction; WAL mode lets readers (the Runs sidebar, another notebook)
    read while a training process writes, and a 30 s busy timeout makes concurrent writers wait
    their turn instead of failing.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        path = Path(path).expanduser() if path is not None else default_path()
        if path.is_dir() or not path.suffix:  # a folder (existing or not) holds runs.sqlite
            path = path / FILE_NAME
        self.path = path.resolve()
        self._connection: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"<RunStore {self.path}>"

    @property
    def directory(self) -> Path:
        return self.path.parent

    def checkpoint_directory(self, run_id: str) -> Path:
        """Where a run's checkpoints go: a folder named after the run beside the database."""
        return self.directory / run_id / "checkpoint"

    # -- connection --------------------------------------------------------------------------
    def connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=30.0)
            except (OSError, sqlite3.Error) as error:
                raise OSError(f"cannot open the run store {self.path}: {error}. Choose another place with "
                              f"store='path/to/runs.sqlite' or the {STORE_ENV} environment variable.") from None
            _switch_to_wal(connection, self.path)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                connection.close()
                raise OSError(f"the run store {self.path} was written by a newer nbunify (schema {version}); "
                              "upgrade nbunify or use another store")
            with connection:
                connection.executescript(_SCHEMA)
                connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- writing -----------------------------------------------------------------------------
    def add(self, run: Run) -> None:
        """Insert a new run (its points too, if it has any)."""
        values = _run_values(run)
        with self.connect() as connection:
            connection.execute(
                f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}, pid, host, updated) "
                f"VALUES ({', '.join('?' for _ in _RUN_COLUMNS)}, ?, ?, ?)",
                (*values, os.getpid(), socket.gethostname(), time.time()))
            if run.points:
                _insert_points(connection, run.id, run.points)

    def update(self, run: Run, points: Sequence[tuple] = ()) -> None:
        """Write the run's status, message, checkpoint, environment and ``points`` (new ones only) in one transaction."""
        with self.connect() as connection:
            connection.execute(
                "UPDATE runs SET status=?, message=?, finished=?, checkpoint=?, environment=?, options=?, updated=? "
                "WHERE id=?",
                (run.status, run.message, run.finished, run.checkpoint, json.dumps(run.environment),
                 json.dumps(run.options), time.time(), run.id))
            if points:
                _insert_points(connection, run.id, points)

    def truncate(self, run_id: str, step: int, epoch: int) -> None:
        """Drop a run's points after optimizer ``step`` and epoch index ``epoch`` (resuming rewinds to a checkpoint)."""
        with self.connect() as connection:
            connection.execute("DELETE FROM points WHERE run_id=? AND (step>? OR (kind='epoch' AND epoch>?))",
                               (run_id, step, epoch))

    def delete(self, run_ids: Iterable[str]) -> int:
        """Delete runs and their points (not their checkpoint folders); returns how many runs went."""
        ids = list(run_ids)
        with self.connect() as connection:
            connection.executemany("DELETE FROM points WHERE run_id=?", [(run_id,) for run_id in ids])
            return sum(connection.execute("DELETE FROM runs WHERE id=?", (run_id,)).rowcount for run_id in ids)

    # -- reading -----------------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        """One run with all its points; KeyError naming the store if there is none."""
        runs = self.load(ids=[run_id])
        if not runs:
            known = [row[0] for row in self.connect().execute("SELECT id FROM runs ORDER BY created DESC LIMIT 5")]
            raise KeyError(f"no run {run_id!r} in the run store {self.path}"
                           + (f"; recent runs: {', '.join(known)}" if known else " (it has no runs yet)"))
        return runs[0]

    def load(self, ids: Sequence[str] | None = None, group: str | None = None, points: bool = True) -> list[Run]:
        """Runs (oldest first), all or by ``ids`` / fit call ``group``, with their points unless ``points=False``."""
        query = f"SELECT {', '.join(_RUN_COLUMNS)}, pid, host FROM runs"
        arguments: list[Any] = []
        if ids is not None:
            query += f" WHERE id IN ({', '.join('?' for _ in ids)})"
            arguments = list(ids)
        elif group is not None:
            query += " WHERE group_id=?"
            arguments = [group]
        connection = self.connect()
        rows = connection.execute(query + " ORDER BY created, rowid", arguments).fetchall()
        runs = [_run_from_row(row) for row in rows]
        if points and runs:
            by_id = {run.id: run for run in runs}
            marks = ", ".join("?" for _ in by_id)
            for run_id, *point in connection.execute(
                    f"SELECT run_id, kind, step, epoch, seconds, metric, value FROM points WHERE run_id IN ({marks}) "
                    "ORDER BY rowid", list(by_id)):
                if point[-1] is None:  # SQLite stores NaN as NULL
                    point[-1] = float("nan")
                by_id[run_id].points.append(tuple(point))
        if ids is not None:
            order = {run_id: index for index, run_id in enumerate(ids)}
            runs.sort(key=lambda run: order[run.id])
        return runs

    def count_points(self, run_id: str) -> int:
        return self.connect().execute("SELECT COUNT(*) FROM points WHERE run_id=?", (run_id,)).fetchone()[0]

    def latest_group(self) -> str | None:
        row = self.connect().execute("SELECT group_id FROM runs ORDER BY created DESC, rowid DESC LIMIT 1").fetchone()
        return row[0] if row else None


def _switch_to_wal(connection: sqlite3.Connection, path: Path, patience: float = 30.0) -> None:
    """WAL mode, waiting for other processes: SQLite answers "database is locked" at once, without its busy
    timeout, when another connection holds the lock this switch needs (two notebooks opening a new store)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                connection.close()
                raise OSError(f"cannot open the run store {path}: {error}") from None
            time.sleep(0.05)


def _insert_points(connection: sqlite3.Connection, run_id: str, points: Iterable[tuple]) -> None:
    connection.executemany("INSERT INTO points (run_id, kind, step, epoch, seconds, metric, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(run_id, *point) for point in points])


def _run_values(run: Run) -> tuple:
    return (run.id, run.name, run.framework, run.spec_name, run.spec_hash, run.spec_text, run.dataset,
            json.dumps(run.options), json.dumps(run.environment), run.status, run.message, run.created, run.finished,
            run.checkpoint, run.parameters, run.group, run.resumed_from)


def _run_from_row(row: Sequence[Any]) -> Run:
    values = dict(zip(_RUN_COLUMNS, row[: len(_RUN_COLUMNS)]))
    pid, host = row[len(_RUN_COLUMNS):]
    values["options"] = json.loads(values["options"] or "{}")
    values["environment"] = json.loads(values["environment"] or "{}")
    values["group"] = values.pop("group_id") or ""
    run = Run(**{key: ("" if value is None and key not in ("finished",) else value) for key, value in values.items()})
    if run.status == "running" and host == socket.gethostname() and pid and not _alive(pid):
        run.status = "interrupted"
        run.message = run.message or "the process training it ended before it finished (kernel restart or crash)"
    return run


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
