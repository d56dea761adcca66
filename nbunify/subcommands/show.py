"""`%unify show NAME`: the interactive graph of a spec, an ONNX file or a model variable."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import user_errors, variable


def parser() -> SubcommandParser:
    result = SubcommandParser(
        "show",
        "Draw a model graph in the notebook: zoom, search, collapse modules, click a node for details. NAME is "
        "a spec, a model variable (torch, keras, paddle, imported, onnx.ModelProto) or an .onnx file path.",
    )
    result.add_argument("name", help="variable name or .onnx file path")
    result.add_argument("--parity", metavar="REPORT",
                        help="variable holding nu.parity(imported, reference, per_node=True): colour nodes by error")
    result.add_argument("--title", default="", help="heading of the graph (default: the model's name)")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> None:
    import nbunify as nu

    namespace = shell.user_ns if shell is not None else {}
    target = options.name
    if target.isidentifier() and target in namespace:
        model = namespace[target]
    elif Path(target).expanduser().is_file():
        model = Path(target).expanduser()
    else:
        raise UsageError(f"%unify show: {target!r} is neither a variable in this notebook nor a file. Give a spec "
                         "or model variable, or the path of an .onnx file (relative to the notebook).")
    report = variable(shell, options.parity, "show") if options.parity else None
    with user_errors("show"):
        try:
            nu.show(model, parity=report, title=options.title)
        except OSError as error:
            raise UsageError(f"%unify show: {error}") from None


SUBCOMMAND = Subcommand("show", "draw the interactive graph of a spec, model or .onnx file", parser, run)
