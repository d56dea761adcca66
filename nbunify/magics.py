"""The `%unify` line/cell magic: split the line, pick the subcommand, parse its arguments, run it."""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from nbunify.subcommands import SUBCOMMANDS, HelpShown, suggest


@magics_class
class UnifyMagics(Magics):
    """Hosts ``%unify``; each subcommand lives in ``nbunify/subcommands/<name>.py``."""

    @line_cell_magic
    def unify(self, line: str, cell: str | None = None) -> Any:
        """Build, train, compare, convert and deploy models across frameworks. ``%unify help`` lists subcommands."""
        try:
            words = shlex.split(line, posix=True)
        except ValueError as error:  # unbalanced quotes
            raise UsageError(f"%unify could not read this line ({error}). Check your quotes.") from None
        if not words or words[0] in ("-h", "--help"):
            words = ["help", *words[1:]]
        name, arguments = words[0], words[1:]
        subcommand = SUBCOMMANDS.get(name)
        if subcommand is None:
            raise UsageError(
                f"%unify has no subcommand {name!r}.{suggest(name, SUBCOMMANDS)} "
                "Run `%unify help` to list them."
            )
        if cell is not None and not subcommand.takes_cell:
            raise UsageError(f"`%unify {name}` is a line magic: use one % and put everything on one line.")
        if cell is None and subcommand.needs_cell:
            raise UsageError(f"`%%unify {name}` needs a cell body: start the cell with %%unify {name} ...")
        try:
            options = subcommand.parser().parse_args(arguments)
        except HelpShown:
            return None
        return subcommand.run(self.shell, options, cell)
