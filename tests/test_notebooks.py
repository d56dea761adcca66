"""Every demo notebook runs end to end in a real kernel; the tour's key outputs are there."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
NETRON_MIME = "application/vnd.nbunify.netron+json"


def execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run a copy of the notebook in ``workdir`` (files it writes stay out of the repo)."""
    copy = workdir / path.name
    shutil.copy(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def outputs_of(notebook: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def test_there_are_notebooks():
    assert any(path.name == "00-tour.ipynb" for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_without_errors(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NBUNIFY_MODELS_DIR", str(tmp_path / "models"))
    notebook = execute(path, tmp_path)
    errors = [output for output in outputs_of(notebook) if output.output_type == "error"]
    assert errors == []
    if path.name == "00-tour.ipynb":
        check_tour(notebook, tmp_path)


def check_tour(notebook: nbformat.NotebookNode, workdir: Path) -> None:
    outputs = outputs_of(notebook)
    messages = [output["data"][NETRON_MIME] for output in outputs if NETRON_MIME in output.get("data", {})]
    assert [message["title"] for message in messages] == ["tiny_cnn.keras", "linear_classifier.onnx"]
    for message in messages:
        assert (workdir / "models" / message["name"]).stat().st_size == message["size"] > 0
    texts = "\n".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs
    )
    assert "%unify SUBCOMMAND" in texts  # %unify help
    assert "usage: %unify netron" in texts  # %unify netron -h kept the kernel alive
    for framework in ("torch", "tensorflow", "paddle"):
        assert framework in texts
