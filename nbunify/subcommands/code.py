"""`%unify code NAME --framework paddle`: the idiomatic native source of a spec, with its line count."""

from __future__ import annotations

import argparse
from typing import Any

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import frameworks, spec_variable, user_errors


def parser() -> SubcommandParser:
    result = SubcommandParser("code", "Show the native source code that builds the spec NAME, runnable as is.")
    result.add_argument("name", help="a spec variable")
    result.add_argument("--framework", "-f", default="torch", help="torch, keras or paddle; comma-separated for several")
    result.add_argument("--save", metavar="PATH", help="also write the source to PATH (one framework only)")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    from IPython.core.error import UsageError

    import nbunify as nu

    spec = spec_variable(shell, options.name, "code")
    names = frameworks(options.framework)
    if options.save and len(names) > 1:
        raise UsageError("%unify code: --save takes one framework; pick it with --framework")
    with user_errors("code"):
        result = nu.code(spec, names[0] if len(names) == 1 else names)
    if options.save:
        result.save(options.save)
    return result


SUBCOMMAND = Subcommand("code", "idiomatic native source of a spec (--framework torch|keras|paddle)", parser, run)
