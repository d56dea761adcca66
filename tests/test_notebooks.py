"""Every demo notebook runs end to end in a real kernel; the tour's key outputs are there."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
NETRON_MIME = "application/vnd.nbunify.netron+json"
CURVES_MIME = "application/vnd.nbunify.curves+json"
GRAPH_MIME = "application/vnd.nbunify.graph+json"


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
    if path.name == "01-build-once.ipynb":
        check_build_once(notebook)
    if path.name == "02-train-compare.ipynb":
        check_train_compare(notebook, tmp_path)
    if path.name == "03-convert-onnx.ipynb":
        check_convert(notebook)
    if path.name == "05-graphs.ipynb":
        check_graphs(notebook, tmp_path)


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


def check_build_once(notebook: nbformat.NotebookNode) -> None:
    import re

    outputs = outputs_of(notebook)
    text = "\n".join(output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs)
    differences = [float(value) for value in re.findall(r"(?<!LSTM )max \|difference\| = ([0-9.e+-]+)", text)]
    assert len(differences) == 3 and max(differences) <= 1e-5
    lstm_differences = [float(value) for value in re.findall(r"LSTM max \|difference\| = ([0-9.e+-]+)", text)]
    assert len(lstm_differences) == 3 and max(lstm_differences) <= 1e-5
    assert "line 4: layer 'conv2d_2' (conv2d): kernel 30x30 does not fit" in text
    moved = next(cell for cell in notebook.cells if "nu.load_weights(fresh, moved)" in cell.source)
    assert [output.get("text") for output in moved.outputs] == ["True\n"]  # keras -> paddle, bit for bit
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    assert html.count("nbunify-code-side-by-side") == 2
    for framework in ("torch", "keras", "paddle"):
        assert f"<b>{framework}</b>: " in html  # each column states its line count
    assert "61,706" in text or "61,706" in html


def check_train_compare(notebook: nbformat.NotebookNode, workdir: Path) -> None:
    import csv
    import re

    outputs = outputs_of(notebook)
    text = "\n".join(output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs)
    step_one = float(re.search(r"step-1 loss: max \|difference\| = ([0-9.e+-]+)", text).group(1))
    twenty = float(re.search(r"steps 1-20: max \|difference\| = ([0-9.e+-]+)", text).group(1))
    assert step_one <= 1e-5 and twenty <= 1e-5
    curves = [output["data"][CURVES_MIME] for output in outputs if CURVES_MIME in output.get("data", {})]
    trained = next(message for message in curves if len(message["runs"]) == 3 and message["done"])
    assert [run["framework"] for run in trained["runs"]] == ["torch", "keras", "paddle"]
    assert {run["status"] for run in trained["runs"]} == {"finished"}
    assert all("image/png" in output["data"] for output in outputs if CURVES_MIME in output.get("data", {}))
    accuracies = [float(value) for value in re.findall(r"best validation accuracy ([0-9.]+)", text)]
    assert len(accuracies) == 3 and min(accuracies) > 0.9
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    for column in ("time/epoch (s)", "samples/s", "size on disk (KB)", "lines of code"):
        assert column in html
    rows = list(csv.DictReader((workdir / "runs.csv").open()))
    assert {row["framework"] for row in rows} == {"torch", "keras", "paddle"}
    assert len(list((workdir / "tb-logs").glob("*/events.out.tfevents.*"))) >= 3
    assert re.search(r"^18 epochs, validation accuracy 0\.9", text, re.MULTILINE)


def check_convert(notebook: nbformat.NotebookNode) -> None:
    import re

    outputs = outputs_of(notebook)
    text = "\n".join(output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs)
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    accuracy = float(re.search(r"torch validation accuracy: ([0-9.]+)", text).group(1))
    assert accuracy > 0.9
    assert "parity of keras (imported) against torch" in html + text and "DIFFERS" not in html + text
    assert "torch_model_paddle: parity of paddle (imported) against torch" in text
    rows = dict(re.findall(r"^(torch|keras|paddle)\s+accuracy ([0-9.]+)", text, flags=re.MULTILINE))
    assert set(rows) == {"torch", "keras", "paddle"} and len(set(rows.values())) == 1  # the same predictions
    differences = [float(value) for value in re.findall(r"max \|difference\| to torch ([0-9.e+-]+)", text)]
    assert len(differences) == 3 and max(differences) <= 1e-5
    assert re.search(r"per node: \d+ node outputs compared with onnxruntime, \d+ not held; all within tolerance", text)
    assert all(name in text for name in ("keras (converted)", "paddle (converted)", "onnxruntime"))
    assert "UnsupportedModelError" in text and "Warp" in text and "Blend" in text


def check_graphs(notebook: nbformat.NotebookNode, workdir: Path) -> None:
    outputs = outputs_of(notebook)
    graphs = [output["data"] for output in outputs if GRAPH_MIME in output.get("data", {})]
    titles = [data[GRAPH_MIME]["title"] for data in graphs]
    assert len(graphs) == 7, titles  # spec, three builds, converted, drifted, file
    for data in graphs:  # every graph keeps a picture for readers without the extension
        assert {"text/plain", "text/html", "image/png"} <= set(data)
    spec_graph, *built = [data[GRAPH_MIME] for data in graphs[:4]]
    assert spec_graph["source"] == "spec" and [node["scope"] for node in spec_graph["nodes"]].count(["block"]) == 4
    assert [graph["framework"] for graph in built] == ["torch", "keras", "paddle"]
    # the exporters fold the block's BatchNorm into its convolution (eval mode): fewer parameters than the spec's
    assert all(0 < graph["parameter_count"] <= spec_graph["parameter_count"] for graph in built)
    assert any(node["name"] == "/block/Add" and node["scope"] == ["block"] for node in built[0]["nodes"])
    converted, drifted = graphs[4][GRAPH_MIME], graphs[5][GRAPH_MIME]
    assert converted["framework"] == "keras (imported)" and converted["parity"]["first_drift"] is None
    assert any(node["parity"] for node in converted["nodes"])
    first = drifted["parity"]["first_drift"]
    node = next(node for node in drifted["nodes"] if node["id"] == first)
    assert node["op"] == "Conv" and node["parity"]["ok"] is False and "block" in node["name"]
    assert graphs[6][GRAPH_MIME]["title"] == "small_resnet.onnx"
    netron = [output["data"][NETRON_MIME] for output in outputs if NETRON_MIME in output.get("data", {})]
    assert [message["title"] for message in netron] == ["small_resnet.onnx"]
    assert (workdir / "small_resnet.onnx").is_file()
