"""`%unify help`: list the subcommands, or show one subcommand's help."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser


def parser() -> SubcommandParser:
    result = SubcommandParser("help", "List the %unify subcommands, or show the options of one.")
    result.add_argument("subcommand", nargs="?", help="a subcommand to explain")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> None:
    from nbunify.subcommands import SUBCOMMANDS, suggest

    if options.subcommand:
        subcommand = SUBCOMMANDS.get(options.subcommand)
        if subcommand is None:
            raise UsageError(
                f"%unify has no subcommand {options.subcommand!r}.{suggest(options.subcommand, SUBCOMMANDS)}"
            )
        subcommand.parser().print_help()
        return
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["%unify SUBCOMMAND [options]   (`%unify SUBCOMMAND -h` for the options of one)", ""]
    lines += [f"  {name.ljust(width)}  {sub.summary}" for name, sub in SUBCOMMANDS.items()]
    print("\n".join(lines))


SUBCOMMAND = Subcommand("help", "list the subcommands, or `%unify help NAME` for one", parser, run)
