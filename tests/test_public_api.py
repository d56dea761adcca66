"""The public names of DESIGN.md stay what they are, even after nbunify's own submodules are imported."""

from __future__ import annotations

import importlib
import subprocess
import sys

import nbunify as nu

FUNCTIONS = ("frameworks", "netron", "build", "weights", "load_weights", "predict")


def test_public_functions_stay_callable_after_every_submodule_is_imported():
    for module in ("nbunify.frameworks", "nbunify.netron_view", "nbunify.native", "nbunify.magics", "nbunify.spec"):
        importlib.import_module(module)
    for name in FUNCTIONS:
        assert callable(getattr(nu, name)), name
    assert nu.Sequential.__name__ == "Sequential"
    assert nu.layers.Dense.KIND == "dense"
    assert issubclass(nu.spec.SpecError, ValueError)


def test_importing_nbunify_and_its_spec_imports_no_framework():
    code = (
        "import sys, nbunify as nu\n"
        "spec = nu.Sequential([nu.layers.Dense(4)], input_shape=(3,))\n"
        "nu.frameworks(); spec.initial_weights(0)\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'paddle') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
