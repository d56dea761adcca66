"""In real JupyterLab and chromium: the graph renderer draws nbunify graph messages, laid out by ELK in a Web Worker."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nbunify.graph import onnx_message
from onnx_models import densenet
from jupyter_lab import open_notebook_and_run_all, write_notebook

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MIME = "application/vnd.nbunify.graph+json"
XSS_NAME = "<img src=x onerror=window.__xss=1>"
TIMINGS = ARTIFACTS / "graph-timings.json"


def _small_model() -> onnx.ModelProto:
    """30 nodes named as torch.onnx.export names them: a stem, three residual blocks, a node named with markup, a head."""
    import numpy as np

    rng = np.random.default_rng(0)
    nodes, weights = [], []

    def weight(name, shape):
        weights.append(numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.1, name))
        return name

    def node(op, name, inputs, **attributes):
        output = f"{name}_output_0"
        nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
        return output

    def conv(x, scope):
        key = scope.strip("/").replace("/", ".")
        return node("Conv", f"{scope}/Conv", [x, weight(f"{key}.weight", (8, 8 if "stem" not in scope else 3, 3, 3))],
                    kernel_shape=[3, 3], pads=[1, 1, 1, 1])

    def norm(x, scope):
        key = scope.strip("/").replace("/", ".")
        names = [weight(f"{key}.{part}", (8,)) for part in ("weight", "bias", "mean")]
        weights.append(numpy_helper.from_array(np.ones(8, np.float32), f"{key}.var"))
        return node("BatchNormalization", f"{scope}/BatchNormalization", [x, *names, f"{key}.var"])

    x = conv("input", "/stem/conv")
    x = node("Relu", "/stem/relu/Relu", [norm(x, "/stem/bn")])
    for block in (1, 2, 3):
        scope = f"/blocks/block{block}"
        h = node("Relu", f"{scope}/relu1/Relu", [norm(conv(x, f"{scope}/conv1"), f"{scope}/bn1")])
        h = norm(conv(h, f"{scope}/conv2"), f"{scope}/bn2")
        x = node("Relu", f"{scope}/relu2/Relu", [node("Add", f"{scope}/Add", [h, x])])
    x = node("Identity", XSS_NAME, [x])
    x = node("GlobalAveragePool", "/head/pool/GlobalAveragePool", [x])
    x = node("Flatten", "/head/flatten/Flatten", [x])
    x = node("Dropout", "/head/dropout/Dropout", [x])
    x = node("Gemm", "/head/fc/Gemm", [x, weight("head.fc.weight", (10, 8)), weight("head.fc.bias", (10,))], transB=1)
    y = node("Softmax", "/head/softmax/Softmax", [x], axis=1)
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["N", 10])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return onnx.shape_inference.infer_shapes(model)


def _display_cell(file_name: str) -> str:
    return ("import json\nfrom IPython.display import display\n"
            f"display({{{MIME!r}: json.load(open({file_name!r})), 'text/plain': 'graph'}}, raw=True)")


def _live_cell(first: str, then: str, go: str) -> str:
    """Display one message, then, once the test has created the file `go`, replace it through its display id
    (the renderer must update in place)."""
    return ("import json, os, time\nfrom IPython.display import display, update_display\n"
            f"display({{{MIME!r}: json.load(open({first!r})), 'text/plain': 'graph'}}, raw=True, display_id='live')\n"
            f"deadline = time.monotonic() + 120\nwhile not os.path.exists({go!r}) and time.monotonic() < deadline:\n"
            "    time.sleep(0.1)\n"
            f"update_display({{{MIME!r}: json.load(open({then!r})), 'text/plain': 'graph'}}, raw=True, display_id='live')")


def _wait_ready(page, count, timeout=120_000):
    page.wait_for_function(
        f"() => document.querySelectorAll('.nbunify-graph[data-state=\"ready\"]').length === {count}", timeout=timeout)


def _wait_counts(page, index, nodes, groups, timeout=60_000):
    """Wait until graph `index` is ready and shows this many message nodes and collapsed groups."""
    page.wait_for_function(
        """([index, nodes, groups]) => {
            const root = document.querySelectorAll('.nbunify-graph')[index];
            return root && root.dataset.state === 'ready'
                && root.querySelectorAll('g.nbunify-graph-node').length === nodes
                && root.querySelectorAll('g.nbunify-graph-group').length === groups;
        }""", arg=[index, nodes, groups], timeout=timeout)


def _timings(root) -> dict:
    return {key: root.get_attribute(f"data-{key}") for key in ("render-ms", "layout-ms", "draw-ms", "layout-engine", "visible-items")}


def _record(name, value):
    ARTIFACTS.mkdir(exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[name] = value
    TIMINGS.write_text(json.dumps(data, indent=2))


def _assert_layout_ran_in_a_worker(page, root):
    assert root.get_attribute("data-layout-engine") == "worker"
    # ELK's worker, made from a Blob of elk-worker.min.js (chunk names differ between dev and production builds,
    # so the proof is the worker itself; the main-thread fallback would say "main-thread" above)
    assert any(worker.url.startswith("blob:") for worker in page.workers)


def test_graphs_are_drawn_searched_collapsed_and_exported(page, lab_server):
    small = onnx_message(_small_model(), title="small residual net")
    assert len(small["nodes"]) == 30
    (lab_server.root / "graph-small.json").write_text(json.dumps(small))
    parity = json.loads((GOLDEN / "graph-parity.json").read_text())
    (lab_server.root / "graph-parity.json").write_text(json.dumps(parity))
    (lab_server.root / "graph-tiny.json").write_text((GOLDEN / "graph-tiny.json").read_text())
    write_notebook(lab_server.root / "graph.ipynb", [_display_cell("graph-small.json"), _display_cell("graph-parity.json"),
                                                      _live_cell("graph-tiny.json", "graph-small.json", "graph-go")])
    open_notebook_and_run_all(page, lab_server, "graph.ipynb")

    # The third output shows the tiny graph, then the kernel replaces it: the same element redraws the new one.
    _wait_counts(page, 2, 4, 0)
    live = page.locator(".nbunify-graph").nth(2).element_handle()
    live.evaluate("element => { element.__first = true; }")
    (lab_server.root / "graph-go").touch()  # now the kernel sends the update
    _wait_counts(page, 2, 30, 0)
    assert live.evaluate("element => element.isConnected && element.__first === true")
    _wait_ready(page, 3)

    graphs = page.locator(".nbunify-graph")
    first, second = graphs.nth(0), graphs.nth(1)
    assert first.locator("g.nbunify-graph-node").count() == 30
    assert second.locator("g.nbunify-graph-node").count() == len(parity["nodes"])
    assert first.locator("g.nbunify-graph-io").count() == 2
    _record("small (30 nodes)", _timings(first))
    _record("parity (4 nodes)", _timings(second))
    _assert_layout_ran_in_a_worker(page, first)

    # A name made of markup is text: in the tooltip, and no <img> anywhere, no script ran.
    xss_id = next(node["id"] for node in small["nodes"] if node["name"] == XSS_NAME)
    xss = first.locator(f'g.nbunify-graph-node[data-id="{xss_id}"]')
    assert xss.locator("title").text_content().startswith(f"Identity  {XSS_NAME}")
    assert xss.locator("text.nbunify-graph-name").text_content().startswith("<img src=x")
    assert page.locator(".nbunify-graph img").count() == 0
    assert page.evaluate("() => window.__xss") is None

    # Search highlights the matches and centres the first; a node's click opens its details.
    search = first.locator("input.nbunify-graph-search")
    search.fill("relu")
    page.wait_for_function("() => document.querySelectorAll('.nbunify-graph')[0]"
                           ".querySelectorAll('g.nbunify-graph-match').length === 7")
    assert first.locator(".nbunify-graph-status").text_content().endswith("7 matches")
    # The details panel shows the markup name whole, as text.
    search.fill("Identity")
    page.wait_for_function(f"() => document.querySelector('.nbunify-graph g.nbunify-graph-match[data-id=\"{xss_id}\"]')")
    xss.click()
    name_row = first.locator(".nbunify-graph-details .nbunify-graph-details-value").first
    assert name_row.text_content() == XSS_NAME
    assert page.locator(".nbunify-graph img").count() == 0
    # Keys typed in the search box are text, not notebook shortcuts ("a"/"b" would insert cells).
    search.fill("")
    search.press_sequentially("ab")
    assert search.input_value() == "ab"
    assert page.locator(".jp-Notebook .jp-Cell").count() == 3
    search.fill("block2/conv1")
    conv_id = next(node["id"] for node in small["nodes"] if node["name"] == "/blocks/block2/conv1/Conv")
    page.wait_for_function(f"() => document.querySelector('.nbunify-graph g.nbunify-graph-match[data-id=\"{conv_id}\"]')")
    first.locator(f'g.nbunify-graph-node[data-id="{conv_id}"]').click()
    details = first.locator(".nbunify-graph-details")
    details.wait_for(state="visible")
    assert details.locator(".nbunify-graph-details-op").text_content() == "Conv"
    assert "/blocks/block2/conv1/Conv" in details.text_content()
    assert "float32[8,8,3,3]" in details.text_content()  # its weight, under Parameters
    assert "kernel_shape" in details.text_content()
    page.screenshot(path=str(ARTIFACTS / "graph-in-lab.png"))

    # Collapse a block from the details panel: its 7 nodes become one group; a click on the group expands it.
    details.locator('button.nbunify-graph-collapse[data-scope="blocks/block2"]').click()
    _wait_counts(page, 0, 23, 1)
    assert first.locator('g.nbunify-graph-group[data-scope="blocks/block2"]').count() == 1
    first.locator('g.nbunify-graph-group[data-scope="blocks/block2"]').click()
    _wait_counts(page, 0, 30, 0)
    # Collapse all three blocks at once, open "blocks" (its blocks stay collapsed), then expand all.
    first.locator(f'g.nbunify-graph-node[data-id="{conv_id}"]').click()
    details.locator('button.nbunify-graph-collapse[data-scope="blocks"]').click()
    _wait_counts(page, 0, 9, 1)
    first.locator('g.nbunify-graph-group[data-scope="blocks"]').click()
    _wait_counts(page, 0, 9, 3)
    first.locator('button[data-action="expand-all"]').click()
    _wait_counts(page, 0, 30, 0)
    # A small graph opens expanded: its first view is "Expand all", so there is no "First view" button.
    assert first.locator('button[data-action="first-view"]').is_hidden()
    # "Collapse all": stem, blocks and head become boxes; the top-level node stays.
    first.locator('button[data-action="collapse-all"]').click()
    _wait_counts(page, 0, 1, 3)
    assert sorted(first.locator("g.nbunify-graph-group").evaluate_all("gs => gs.map(g => g.dataset.scope)")) == [
        "blocks", "head", "stem"]
    first.locator('button[data-action="expand-all"]').click()
    _wait_counts(page, 0, 30, 0)
    _record("small (30 nodes), expand all after collapse all", _timings(first))

    # Exports: a standalone SVG with the markup name escaped, and a PNG.
    with page.expect_download() as download_info:
        first.locator('button[data-action="export-svg"]').click()
    download = download_info.value
    assert download.suggested_filename == "small_residual_net.svg"
    svg_path = ARTIFACTS / "graph-export.svg"
    download.save_as(svg_path)
    svg = svg_path.read_text()
    assert svg.startswith("<svg") and "&lt;img src=x onerror=window.__xss=1&gt;" in svg and "<img" not in svg
    with page.expect_download() as download_info:
        first.locator('button[data-action="export-png"]').click()
    png_path = ARTIFACTS / "graph-export.png"
    download_info.value.save_as(png_path)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Parity: the overlay is on, the first drift is marked, red beyond tolerance, green within.
    assert second.locator('input[data-overlay="parity"]').is_checked()
    drift = parity["parity"]["first_drift"]
    marked = second.locator("g.nbunify-graph-first-drift")
    assert marked.count() == 1
    assert marked.locator("xpath=..").get_attribute("data-id") == drift
    drift_colour = second.locator(f'g.nbunify-graph-node[data-id="{drift}"] .nbunify-graph-parity rect').get_attribute("stroke")
    assert drift_colour.startswith("hsl(0,")
    ok_id = next(node["id"] for node in parity["nodes"] if node["parity"] and node["parity"]["ok"])
    ok_colour = second.locator(f'g.nbunify-graph-node[data-id="{ok_id}"] .nbunify-graph-parity rect').get_attribute("stroke")
    assert ok_colour.startswith("hsl(140,")
    assert second.locator(".nbunify-graph-parity").first.is_visible()
    second.scroll_into_view_if_needed()
    second.screenshot(path=str(ARTIFACTS / "graph-parity-in-lab.png"))
    second.locator(f'g.nbunify-graph-node[data-id="{drift}"]').click()
    parity_details = second.locator(".nbunify-graph-details")
    parity_details.wait_for(state="visible")
    assert "Parity: keras (imported) vs onnxruntime" in parity_details.text_content()
    assert "this is the first node beyond tolerance" in parity_details.text_content()
    drift_name = next(node["name"] for node in parity["nodes"] if node["id"] == drift)
    assert parity_details.locator(".nbunify-graph-details-value").first.text_content() == drift_name
    second.locator('input[data-overlay="parity"]').uncheck()
    assert not second.locator(".nbunify-graph-parity").first.is_visible()
    # The parameter overlay shows counts on the nodes that hold weights.
    first.locator('input[data-overlay="params"]').check()
    assert first.locator(".nbunify-graph-params").first.is_visible()
    # The dark theme restyles boxes, edges and text through JupyterLab's CSS variables.
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    first.scroll_into_view_if_needed()
    first.screenshot(path=str(ARTIFACTS / "graph-dark-in-lab.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=30_000)
    assert page.page_errors == []


def test_a_1701_node_densenet_starts_collapsed_and_expands(page, lab_server):
    message = onnx_message(densenet((24, 48, 96, 72), growth=12), title="densenet 1701")
    assert len(message["nodes"]) == 1701
    (lab_server.root / "graph-densenet.json").write_text(json.dumps(message))
    write_notebook(lab_server.root / "densenet.ipynb", [_display_cell("graph-densenet.json")])
    open_notebook_and_run_all(page, lab_server, "densenet.ipynb")
    _wait_ready(page, 1)
    root = page.locator(".nbunify-graph").first
    groups = root.locator("g.nbunify-graph-group").count()
    nodes = root.locator("g.nbunify-graph-node").count()
    assert groups == 240  # one per dense layer
    assert nodes + groups + 2 == int(root.get_attribute("data-visible-items")) <= 300
    assert root.locator('g.nbunify-graph-group[data-scope="features/denseblock3/denselayer12"]').count() == 1
    _record("densenet 1701, collapsed", _timings(root))
    _assert_layout_ran_in_a_worker(page, root)
    page.screenshot(path=str(ARTIFACTS / "graph-densenet-in-lab.png"))

    # A dense layer's group opens into its 7 nodes.
    root.locator('g.nbunify-graph-group[data-scope="features/denseblock3/denselayer12"]').dispatch_event("click")
    _wait_counts(page, 0, nodes + 7, groups - 1)

    # Expand all lays out all 1,701 nodes in the worker: the page's long tasks (drawing) are recorded beside ELK's time.
    page.evaluate(
        """() => {
            window.__longTasks = [];
            window.__observer = new PerformanceObserver(list => window.__longTasks.push(...list.getEntries().map(e => e.duration)));
            window.__observer.observe({entryTypes: ['longtask']});
        }""")
    root.locator('button[data-action="expand-all"]').click()
    _wait_counts(page, 0, 1701, 0, timeout=180_000)
    page.wait_for_timeout(500)  # let the first paint of the big drawing finish and be reported
    long_tasks = page.evaluate("() => { window.__observer.disconnect(); return window.__longTasks; }")
    timings = _timings(root)
    timings["main-thread-long-tasks-ms"] = [round(duration) for duration in long_tasks]
    _record("densenet 1701, expand all", timings)
    assert root.get_attribute("data-layout-engine") == "worker"
    page.screenshot(path=str(ARTIFACTS / "graph-densenet-expanded-in-lab.png"))
    # "First view" goes back to the dense layers collapsed, as the graph opened
    root.locator('button[data-action="first-view"]').click()
    _wait_counts(page, 0, nodes, groups, timeout=60_000)
    assert page.page_errors == []


def test_without_web_workers_the_layout_runs_on_the_main_thread_and_says_so(page, lab_server):
    page.add_init_script("window.Worker = class { constructor() { throw new Error('workers blocked by the test'); } };")
    (lab_server.root / "graph-tiny.json").write_text((GOLDEN / "graph-tiny.json").read_text())
    write_notebook(lab_server.root / "no-worker.ipynb", [_display_cell("graph-tiny.json")])
    open_notebook_and_run_all(page, lab_server, "no-worker.ipynb")
    _wait_counts(page, 0, 4, 0)
    root = page.locator(".nbunify-graph").first
    assert root.get_attribute("data-layout-engine") == "main-thread"
    assert "layout on the main thread (no worker: workers blocked by the test)" in root.locator(
        ".nbunify-graph-status").text_content()
    assert page.evaluate("() => window.__xss") is None
    assert page.page_errors == []
