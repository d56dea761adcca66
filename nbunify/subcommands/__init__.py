"""Registry of `%unify` subcommands: each module declares a parser and a run function."""

from __future__ import annotations

import argparse
import difflib
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from IPython.core.error import UsageError

# One module per subcommand, listed explicitly (no discovery magic): nbunify/subcommands/<module>.py
_MODULES = ("help", "env", "model", "build", "summary", "code", "train", "runs", "compare", "convert", "show", "netron")


class HelpShown(Exception):
    """Raised after `-h` printed a subcommand's help: the magic returns quietly."""


class SubcommandParser(argparse.ArgumentParser):
    """An ArgumentParser that never calls sys.exit: errors become UsageError, -h prints and stops."""

    def __init__(self, name: str, description: str, **kwargs: Any) -> None:
        super().__init__(prog=f"%unify {name}", description=description, add_help=True, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}. Run `{self.prog} -h` for its options.")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            print(message)
        raise HelpShown()

    def print_help(self, file: Any = None) -> None:
        print(self.format_help())


@dataclass(frozen=True)
class Subcommand:
    name: str
    summary: str
    parser: Callable[[], SubcommandParser]
    run: Callable[[Any, argparse.Namespace, str | None], Any]
    takes_cell: bool = False
    needs_cell: bool = False


def suggest(word: str, choices: Iterable[str]) -> str:
    """' Did you mean ...?' for the closest choice, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _load() -> dict[str, Subcommand]:
    table: dict[str, Subcommand] = {}
    for module_name in _MODULES:
        module = importlib.import_module(f"nbunify.subcommands.{module_name}")
        subcommand = module.SUBCOMMAND
        table[subcommand.name] = subcommand
    return table


SUBCOMMANDS: dict[str, Subcommand] = _load()
