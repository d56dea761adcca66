"""`%%unify model NAME --input 1x28x28`: define a model spec in the cell DSL; it lands in the namespace as NAME."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser


def parser() -> SubcommandParser:
    result = SubcommandParser(
        "model",
        "Define a model spec, one layer per line (e.g. `conv2d 6 kernel=5 padding=2 activation=relu`), "
        "indentation for residual/concat blocks. The spec is stored in the notebook as NAME.",
    )
    result.add_argument("name", help="variable name for the spec")
    result.add_argument("--input", dest="input_shape", help="per-sample input shape, channels first, e.g. 1x28x28 "
                        "(or an `input 1x28x28` first line in the cell)")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    from nbunify.spec import SpecError, parse

    if not options.name.isidentifier():
        raise UsageError(f"%%unify model: {options.name!r} is not a valid Python variable name")
    try:
        spec = parse(cell or "", input_shape=options.input_shape, name=options.name)
    except SpecError as error:
        raise UsageError(f"%%unify model {options.name}: {error}") from None
    shell.user_ns[options.name] = spec
    return spec


SUBCOMMAND = Subcommand("model", "define a model spec in the cell DSL (%%unify model NAME --input 1x28x28)",
                        parser, run, takes_cell=True, needs_cell=True)
