"""Binder's files alone build a working environment: fresh venv, binder/requirements.txt, postBuild, tour notebook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_fresh_environment_from_binder_files_runs_the_tour(tmp_path):
    checkout = tmp_path / "repo"
    # What repo2docker sees: the committed tree plus the built extension (postBuild builds it on Binder).
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "artifacts", "lib"))
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "PIP_RETRIES": "0", "PIP_TIMEOUT": "15"}
    env.pop("VIRTUAL_ENV", None)
    run([str(python), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"], cwd=checkout, env=env)
    run(["bash", "binder/postBuild"], cwd=checkout, env=env)
    run([str(python), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "nbclient", "ipykernel"],
        cwd=checkout, env=env)
    workdir = tmp_path / "work"
    workdir.mkdir()
    script = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "errors = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs if o.output_type == 'error']\n"
        "assert not errors, errors\n"
        "mime = 'application/vnd.nbunify.netron+json'\n"
        "print(sum(mime in o.get('data', {}) for c in nb.cells if c.cell_type == 'code' for o in c.outputs))\n"
    )
    env["NBUNIFY_MODELS_DIR"] = str(tmp_path / "models")
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")  # the venv's own kernelspec, not the outer one
    result = subprocess.run([str(python), "-c", script, str(checkout / "notebooks" / "00-tour.ipynb"), str(workdir)],
                            capture_output=True, text=True, env=env, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "2"
    listing = subprocess.run([str(venv / "bin" / "jupyter"), "labextension", "list"], capture_output=True, text=True,
                             env=env)
    assert "nbunify" in listing.stdout + listing.stderr
