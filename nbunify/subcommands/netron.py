"""`%unify netron PATH_OR_MODEL`: open a model file or a notebook variable in a netron tab."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser


def parser() -> SubcommandParser:
    result = SubcommandParser(
        "netron",
        "Open a model in netron inside JupyterLab. MODEL is a file path (.onnx, .tflite, .keras, .pt ...) "
        "or the name of a variable holding an onnx.ModelProto, a Keras model or model bytes.",
    )
    result.add_argument("model", help="file path or variable name")
    result.add_argument("--title", help="tab title (default: the file or model name)")
    result.add_argument("--no-open", dest="open", action="store_false", help="show a button instead of opening a tab")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> None:
    from nbunify.netron_view import netron

    target = options.model
    namespace = shell.user_ns if shell is not None else {}
    if target.isidentifier() and target in namespace:
        model, title = namespace[target], options.title or target
    elif Path(target).expanduser().exists():
        model, title = Path(target).expanduser(), options.title
    else:
        raise UsageError(
            f"%unify netron: {target!r} is neither a file nor a variable in this notebook. "
            "Give the path of a model file (relative to the notebook) or the name of a variable."
        )
    try:
        netron(model, title=title, open=options.open)
    except (TypeError, ValueError, OSError) as error:
        raise UsageError(f"%unify netron: {error}") from None


SUBCOMMAND = Subcommand("netron", "open a model file or variable in a netron tab inside JupyterLab", parser, run)
