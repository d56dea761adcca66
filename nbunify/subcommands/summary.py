"""`%unify summary NAME`: the per-layer table of a spec or of a model built by nu.build."""

from __future__ import annotations

import argparse
from typing import Any

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import user_errors, variable


def parser() -> SubcommandParser:
    result = SubcommandParser("summary", "Per-layer table (name, type, output shape, parameters, trainable) of a "
                              "spec or a native model; the same rows in every framework.")
    result.add_argument("name", help="a spec or a model variable (e.g. lenet or lenet_keras)")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    import nbunify as nu

    model = variable(shell, options.name, "summary")
    with user_errors("summary"):
        return nu.summary(model)


SUBCOMMAND = Subcommand("summary", "per-layer table of a spec or model, in any framework", parser, run)
