"""`%unify compare [RUNS ...]`: nu.compare on run ids or variables (default: the latest training's runs)."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import user_errors


def parser() -> SubcommandParser:
    result = SubcommandParser("compare", "Compare runs: a table (metrics, time per epoch, samples/s, parameters, size on "
                              "disk, lines of code) and their curves overlaid. Default: the runs of the latest nu.fit.")
    result.add_argument("runs", nargs="*", help="run ids, or variables holding runs (e.g. cnn_runs)")
    result.add_argument("--store", default=None, help="run store file or folder")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    import nbunify as nu
    from nbunify.runs import Run

    chosen: list[Any] = []
    for word in options.runs:
        value = shell.user_ns.get(word, word)
        chosen.extend([value] if isinstance(value, (str, Run)) else list(value))
    try:
        with user_errors("compare"):
            return nu.compare(chosen or None, store=options.store)
    except KeyError as error:
        raise UsageError(f"%unify compare: {error.args[0]}") from None


SUBCOMMAND = Subcommand("compare", "compare runs: table and overlaid curves (nu.compare)", parser, run)
