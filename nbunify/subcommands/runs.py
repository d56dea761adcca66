"""`%unify runs`: the run store's runs as a table; export them to CSV or TensorBoard."""

from __future__ import annotations

import argparse
from typing import Any

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import user_errors


def parser() -> SubcommandParser:
    result = SubcommandParser("runs", "List the runs of the run store (default ./nbunify-runs/runs.sqlite).")
    result.add_argument("ids", nargs="*", help="only these run ids")
    result.add_argument("--framework", default=None, help="only this framework's runs")
    result.add_argument("--status", default=None, choices=["running", "finished", "interrupted", "failed"])
    result.add_argument("--store", default=None, help="run store file or folder")
    result.add_argument("--csv", default=None, metavar="PATH", help="also write the runs' points to this CSV file")
    result.add_argument("--tensorboard", default=None, metavar="LOGDIR", help="also write TensorBoard event files here")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    import nbunify as nu

    with user_errors("runs"):
        listed = nu.runs(options.ids or None, store=options.store, framework=options.framework, status=options.status)
    if options.csv:
        print(f"wrote {listed.to_csv(options.csv)}")
    if options.tensorboard:
        files = listed.to_tensorboard(options.tensorboard)
        print(f"wrote {len(files)} event file(s) under {options.tensorboard}: tensorboard --logdir {options.tensorboard}")
    return listed


SUBCOMMAND = Subcommand("runs", "list stored training runs; export to CSV or TensorBoard", parser, run)
