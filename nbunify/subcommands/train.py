"""`%unify train MODEL --data digits --epochs 3 ...`: nu.fit on a model, a dict of models, or a spec's NAME_models."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.subcommands._lookup import user_errors, variable


def parser() -> SubcommandParser:
    result = SubcommandParser("train", "Train MODEL with nu.fit: every model gets the same batches in the same order; "
                              "live curves show while it runs, and the runs are stored as MODEL_runs.")
    result.add_argument("name", help="a native model, a dict of models, or a spec built with %%unify build "
                                     "(then its NAME_models are trained)")
    result.add_argument("--data", default="digits", help="dataset name or a variable holding a nu.data.Dataset (default digits)")
    result.add_argument("--epochs", type=int, default=None, help="epochs (default 3)")
    result.add_argument("--batch-size", type=int, default=None, help="batch size (default 64)")
    result.add_argument("--optimizer", default=None, help="sgd, momentum, adam (default), adamw, rmsprop, adagrad")
    result.add_argument("--lr", type=float, default=None, help="learning rate (default: the optimizer's)")
    result.add_argument("--momentum", type=float, default=None)
    result.add_argument("--weight-decay", type=float, default=None)
    result.add_argument("--loss", default=None, help="auto (default), cross_entropy, binary_cross_entropy, mse")
    result.add_argument("--metrics", default=None, help="comma-separated: accuracy, top5, mae")
    result.add_argument("--schedule", default=None, help="constant (default), step, cosine")
    result.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE", help="stop after PATIENCE epochs without improvement")
    result.add_argument("--checkpoint", default=None, choices=["last", "best", "none"])
    result.add_argument("--seed", type=int, default=None, help="seed of the split, the batch order and dropout (default 0)")
    result.add_argument("--store", default=None, help="run store file or folder (default ./nbunify-runs)")
    result.add_argument("--resume", default=None, metavar="RUN_ID", help="continue a stored run from its checkpoint")
    result.add_argument("--quiet", action="store_true", help="no live curves")
    return result


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> Any:
    import nbunify as nu
    from nbunify.spec import Sequential

    target = variable(shell, options.name, "train")
    if isinstance(target, Sequential):
        built = shell.user_ns.get(f"{options.name}_models")
        if not isinstance(built, dict):
            raise UsageError(f"%unify train: {options.name!r} is a spec; build it first with "
                             f"`%unify build {options.name}` (which defines {options.name}_models).")
        target = built
    data = shell.user_ns[options.data] if options.data in shell.user_ns else options.data
    arguments = {
        "epochs": options.epochs, "batch_size": options.batch_size, "optimizer": options.optimizer, "lr": options.lr,
        "momentum": options.momentum, "weight_decay": options.weight_decay, "loss": options.loss,
        "metrics": options.metrics.split(",") if options.metrics else None, "schedule": options.schedule,
        "early_stopping": options.early_stopping, "seed": options.seed,
        "checkpoint": False if options.checkpoint == "none" else options.checkpoint,
    }
    with user_errors("train"):
        runs = nu.fit(target, data, store=options.store, resume=options.resume, live=False if options.quiet else None,
                      **{key: value for key, value in arguments.items() if value is not None})
    shell.user_ns[f"{options.name}_runs"] = runs
    return runs


SUBCOMMAND = Subcommand("train", "train models on the same batches with live curves (nu.fit)", parser, run)
