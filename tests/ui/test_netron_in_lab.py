"""In real JupyterLab and chromium: `%unify netron` and "Open in Netron" show netron's drawn graph in a tab."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from onnx_models import tiny_mlp
from jupyter_lab import open_notebook_and_run_all, write_notebook

pytestmark = pytest.mark.browser

EXPECTED_OPS = {"Gemm", "Relu", "Softmax"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _netron_frame(page, model_name):
    selector = f'[id="nbunify-netron-{model_name}"] iframe.nbunify-netron-frame'
    frame_element = page.wait_for_selector(selector, timeout=120_000)
    assert set(frame_element.get_attribute("sandbox").split()) == {"allow-scripts", "allow-same-origin"}
    frame = frame_element.content_frame()
    frame.wait_for_selector("#nodes g.node", timeout=120_000)
    return frame


def _assert_ops_drawn(frame, ops):
    # netron replaces window.eval, so only selector waits work inside its page.
    for op in sorted(ops):
        frame.wait_for_selector(f"#nodes g.node >> text={op}", timeout=30_000)


def test_unify_netron_opens_the_model_in_a_lab_tab(page, lab_server):
    onnx.save(tiny_mlp(), lab_server.root / "tiny.onnx")
    write_notebook(lab_server.root / "netron.ipynb", ["%load_ext nbunify", "%unify netron tiny.onnx"])
    open_notebook_and_run_all(page, lab_server, "netron.ipynb")

    card = page.wait_for_selector(".nbunify-netron-card", state="attached", timeout=120_000)
    assert "tiny.onnx" in card.text_content()
    model_name = json.loads(page.evaluate(
        """() => JSON.stringify([...document.querySelectorAll('[id^="nbunify-netron-"]')].map(e => e.id))"""
    ))[0].removeprefix("nbunify-netron-")
    frame = _netron_frame(page, model_name)
    _assert_ops_drawn(frame, EXPECTED_OPS)
    # netron's traps are handled: no update prompt, no consent dialog in front of the graph
    assert not frame.is_visible("text=Please update to the newest version")
    assert not frame.is_visible("text=This app uses cookies")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "netron-in-lab.png"))
    assert page.page_errors == []


def test_open_in_netron_command_serves_a_file_from_the_file_browser(page, lab_server):
    onnx.save(tiny_mlp("from_browser", hidden=5), lab_server.root / "browser model.onnx")
    page.goto(lab_server.lab_url("", page.workspace))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('nbunify:open-netron')",
                           timeout=120_000)
    assert page.evaluate("() => window.jupyterapp.commands.label('nbunify:open-netron')") == "Open in Netron"
    page.evaluate("() => window.jupyterapp.commands.execute('nbunify:open-netron', {path: 'browser model.onnx'})")
    frame_element = page.wait_for_selector("iframe.nbunify-netron-frame", timeout=120_000)
    frame = frame_element.content_frame()
    frame.wait_for_selector("#nodes g.node", timeout=120_000)
    _assert_ops_drawn(frame, EXPECTED_OPS)
    page.screenshot(path=str(ARTIFACTS / "open-in-netron-command.png"))
