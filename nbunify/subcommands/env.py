"""`%unify env`: which frameworks are installed and loaded, with versions, devices and threads."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from importlib import metadata
from typing import Any

from nbunify.subcommands import Subcommand, SubcommandParser
from nbunify.table import Table

_COMPONENTS = ("numpy", "onnx", "onnxruntime", "jupyterlab", "ipywidgets", "netron")


def parser() -> SubcommandParser:
    return SubcommandParser("env", "Show frameworks (installed, loaded, version, devices, threads) and components.")


def components() -> Table:
    """Versions of the non-framework pieces nbunify relies on, without importing them."""
    from nbunify import __version__
    from nbunify.paths import models_dir

    rows = [
        {"component": "nbunify", "version": __version__},
        {"component": "python", "version": f"{platform.python_version()} ({sys.executable})"},
        {"component": "cpus", "version": str(os.cpu_count())},
    ]
    for name in _COMPONENTS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"component": name, "version": version})
    rows.append({"component": "models directory", "version": str(models_dir(create=False))})
    return Table(rows, ["component", "version"], title="Components")


def run(shell: Any, options: argparse.Namespace, cell: str | None) -> None:
    from IPython.display import display

    from nbunify.frameworks import frameworks

    display(frameworks())
    display(components())


SUBCOMMAND = Subcommand("env", "frameworks and components: installed, loaded, versions, devices", parser, run)
