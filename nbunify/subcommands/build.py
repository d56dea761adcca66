"""`%unify build NAME --to torch,keras,paddle`: native models with identical weights, stored as NAME_<framework>."""

from __future__ import annotations

import argparse
import time
from typing import Any

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import frameworks, spec_variable, user_errors
from nbunify.table import Table


def parser() -> SubcommandParser:
    result = SubcommandParser("build", "Build the spec NAME in each framework with identical initial weights. "
                              "Each model is stored as NAME_<framework>, and all of them in the dict NAME_models.")
    result.add_argument("name", help="a spec variable (from %%unify model or nu.Sequential)")
    result.add_argument("--to", default="torch,keras,paddle", help="frameworks, comma-separated (default: all three)")
    result.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Table:
    import nbunify as nu

    spec = spec_variable(shell, options.name, "build")
    rows, models = [], {}
    for framework in frameworks(options.to):
        started = time.perf_counter()
        with user_errors("build"):
            models[framework] = nu.build(spec, framework, seed=options.seed)
        variable = f"{options.name}_{framework}"
        shell.user_ns[variable] = models[framework]
        rows.append({"framework": framework, "variable": variable, "type": type(models[framework]).__name__,
                     "parameters": f"{spec.parameter_count():,}", "seconds": f"{time.perf_counter() - started:.2f}"})
    shell.user_ns[f"{options.name}_models"] = models
    return Table(rows, ["framework", "variable", "type", "parameters", "seconds"],
                 title=f"{options.name}: identical weights (seed {options.seed}); all in {options.name}_models")


SUBCOMMAND = Subcommand("build", "build a spec in torch, keras and paddle with identical weights", parser, run)
