"""`%unify convert MODEL --to paddle`: nu.convert (export, import, parity) stored as MODEL_<framework>."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import frameworks, user_errors


def parser() -> SubcommandParser:
    result = SubcommandParser("convert", "Convert a native model (a variable) or an ONNX file to other frameworks "
                              "through ONNX, proving parity on seeded inputs. Each result is stored as "
                              "<name>_<framework> with its parity report.")
    result.add_argument("model", help="a variable holding a native model, or a path to a .onnx file")
    result.add_argument("--to", required=True, help="target frameworks, comma-separated (e.g. keras,paddle)")
    result.add_argument("--opset", type=int, default=None, help="ONNX opset of the export (default: the exporter's)")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    import nbunify as nu
    from nbunify.convert.errors import ParityError

    namespace = shell.user_ns if shell is not None else {}
    if options.model in namespace:
        source, stem = namespace[options.model], options.model
    elif options.model.endswith(".onnx") or Path(options.model).is_file():
        source, stem = options.model, _identifier(Path(options.model).stem)
    else:
        raise UsageError(f"%unify convert: {options.model!r} is neither a variable in this notebook nor an ONNX file")
    for framework in frameworks(options.to):
        try:
            with user_errors("convert"):
                native = nu.convert(source, framework, opset=options.opset)
        except ParityError as error:
            shell.user_ns[f"{stem}_{framework}"] = error.model
            raise UsageError(f"%unify convert: {error}\n(the converted model is kept as {stem}_{framework})") from None
        shell.user_ns[f"{stem}_{framework}"] = native
        print(f"{stem}_{framework}: {native._nbunify_parity}")
    return None


def _identifier(text: str) -> str:
    cleaned = "".join(character if character.isalnum() else "_" for character in text).strip("_") or "model"
    return cleaned if not cleaned[0].isdigit() else f"model_{cleaned}"


SUBCOMMAND = Subcommand("convert", "convert a model to other frameworks through ONNX, with parity (nu.convert)",
                        parser, run)
