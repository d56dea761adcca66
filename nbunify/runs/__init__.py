"""Training runs: Run records, the SQLite run store, and ``nu.runs()`` to list and export them."""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Sequence

from nbunify.runs.listing import RunList
from nbunify.runs.run import Run
from nbunify.runs.store import STORE_ENV, RunStore, default_path

__all__ = ["STORE_ENV", "Run", "RunList", "RunStore", "default_path", "runs"]


def runs(ids: Sequence[str] | str | None = None, store: str | os.PathLike | RunStore | None = None,
         framework: str | None = None, status: str | None = None) -> RunList:
    """The runs of the run store (default ``./nbunify-runs/runs.sqlite``), oldest first, as a table.

    Filter by run ``ids``, ``framework`` or ``status``; the result is a list of Run with
    ``.to_csv(path)`` and ``.to_tensorboard(logdir)``.
    """
    source = store if isinstance(store, RunStore) else RunStore(store)
    if not source.path.exists():
        return RunList()
    chosen = source.load(ids=[ids] if isinstance(ids, str) else ids)
    if framework is not None:
        from nbunify.backends import resolve

        chosen = [run for run in chosen if run.framework == resolve(framework)]
    if status is not None:
        chosen = [run for run in chosen if run.status == status]
    return RunList(chosen)


class _CallableModule(ModuleType):
    """``nu.runs()`` works whether ``nbunify.runs`` names this package or its function (importing a
    submodule rebinds the package attribute to the module)."""

    def __call__(self, *args, **kwargs) -> RunList:
        return runs(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
