"""In real JupyterLab and chromium: live training curves are drawn by the curves renderer and updated in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from jupyter_lab import open_notebook_and_run_all, run_cell, write_notebook

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CURVES = ".nbunify-curves"

TRAIN_CELLS = [
    "import nbunify as nu\n"
    "spec = nu.Sequential([nu.layers.Flatten(), nu.layers.Dense(32, activation='relu'), nu.layers.Dense(10)],\n"
    "                     input_shape=(1, 8, 8))\n"
    "model = nu.build(spec, 'torch', seed=0)\n"
    "nu.show(model)",
    # batch_size=4: ~360 steps an epoch, so training lasts long enough for many live updates
    "run = nu.fit(model, data='digits', epochs=10, batch_size=4, seed=0, checkpoint=None)\n"
    "print('trained run', run.id)",
]

# A synthetic message of 2 runs x 50,000 step points, displayed, then updated through its display id (the test
# runs the second cell itself once the first message is drawn: JupyterLab may create a cell's output late, from
# the already updated model, when the browser is busy).
BIG_CELLS = [
    "import math\n"
    "from IPython.display import display, update_display\n"
    "from nbunify.display import CURVES_MIME\n"
    "def big_message(shift):\n"
    "    steps = list(range(1, 50_001))\n"
    "    def series(offset):\n"
    "        return {'kind': 'step', 'metric': 'loss', 'x': steps, 'step': steps,\n"
    "                'epoch': [1 + step // 5000 for step in steps], 'seconds': [step / 1000 for step in steps],\n"
    "                'y': [2 * math.exp(-step / 20000) + offset + shift + 0.05 * math.sin(step / 7) for step in steps]}\n"
    "    runs = [{'id': f'synthetic-{number}', 'name': f'synthetic {number}', 'framework': framework,\n"
    "             'status': 'finished', 'message': '', 'series': {'step/loss': series(number / 10)}}\n"
    "            for number, framework in enumerate(['torch', 'keras'])]\n"
    "    return {CURVES_MIME: {'version': 1, 'title': '100k points', 'done': False, 'metrics': ['loss'], 'runs': runs},\n"
    "            'text/plain': '100k points'}\n"
    "display(big_message(0), raw=True, display_id='big-curves')",
    "update_display(big_message(0.5), raw=True, display_id='big-curves')",
]

# Two runs of one framework, one of them failing (its loss turns NaN), compared in one display.
COMPARE_CELLS = [
    "import nbunify as nu\n"
    "spec = nu.Sequential([nu.layers.Flatten(), nu.layers.Dense(16, activation='relu'), nu.layers.Dense(10)],\n"
    "                     input_shape=(1, 8, 8))\n"
    "good = nu.fit(nu.build(spec, 'torch', seed=0), data='digits', epochs=2, batch_size=32, seed=0,\n"
    "              checkpoint=None, live=False, name='good run')\n"
    "bad = nu.fit(nu.build(spec, 'torch', seed=0), data='digits', epochs=1, batch_size=32, seed=0, optimizer='sgd',\n"
    "             lr=1e30, checkpoint=None, live=False, name='<img src=x onerror=\"window.hacked=1\">')\n"
    "nu.compare([good, bad])",
]

SNAPSHOT = """() => {
    const views = document.querySelectorAll('.nbunify-curves');
    const view = views[0];
    if (!view) return null;
    const running = [...document.querySelectorAll('.jp-InputArea-prompt')].some(p => p.textContent.includes('*'));
    // the newest step the kernel has sent (live updates thin each series to 400 points, so counts stop growing)
    let lastStep = 0;
    const notebook = window.jupyterapp.shell.currentWidget.content;
    for (const cell of notebook.widgets) {
        const outputs = cell.model.outputs;
        for (let index = 0; outputs && index < outputs.length; index++) {
            const data = outputs.get(index).data['application/vnd.nbunify.curves+json'];
            const loss = data && data.runs.length ? data.runs[0].series['step/loss'] : null;
            if (loss && loss.x.length) { lastStep = loss.x[loss.x.length - 1]; }
        }
    }
    return {lastStep, count: views.length, tagged: view.__nbunifyTag === 'first-seen', points: Number(view.dataset.points || 0),
            updates: Number(view.dataset.updates || 0), drawMs: Number(view.dataset.drawMs || 0),
            renderMs: Number(view.dataset.renderMs || 0),
            state: view.dataset.state, done: view.dataset.done, charts: Number(view.dataset.charts || 0), running};
}"""


def _watch_live_updates(page):
    """Snapshots of the curves element while training runs, then the final one."""
    page.wait_for_selector(CURVES, state="attached", timeout=240_000)
    page.evaluate(f"() => {{ document.querySelector('{CURVES}').__nbunifyTag = 'first-seen'; }}")
    snapshots = [page.evaluate(SNAPSHOT)]
    while snapshots[-1]["done"] != "true":
        page.wait_for_function(
            """previous => { const view = document.querySelector('.nbunify-curves');
                return view && (Number(view.dataset.updates) > previous || view.dataset.done === 'true'); }""",
            arg=snapshots[-1]["updates"], timeout=240_000, polling=100)
        snapshots.append(page.evaluate(SNAPSHOT))
    return snapshots


def _set_control(page, selector, script):
    page.evaluate(f"""() => {{ const control = document.querySelector('{CURVES} {selector}'); {script}
        control.dispatchEvent(new Event(control.type === 'range' ? 'input' : 'change', {{bubbles: true}})); }}""")
    page.wait_for_function(f"() => document.querySelector('{CURVES}').dataset.state === 'ready'")
    return page.evaluate(SNAPSHOT)


def test_live_curves_update_in_place_while_a_model_trains(page, lab_server):
    write_notebook(lab_server.root / "curves.ipynb", TRAIN_CELLS)
    open_notebook_and_run_all(page, lab_server, "curves.ipynb")
    snapshots = _watch_live_updates(page)
    live = [snap for snap in snapshots if snap["done"] == "false" and snap["updates"] > 0]
    final = snapshots[-1]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "curves-in-lab.json").write_text(json.dumps(snapshots, indent=1))
    print("live draw ms:", [snap["drawMs"] for snap in snapshots], "points:", [snap["points"] for snap in snapshots],
          "last step:", [snap["lastStep"] for snap in snapshots])

    # points arrived while training ran: at least two updates applied, each with newer steps than the last
    assert len(live) >= 2, snapshots
    assert all(snap["running"] and snap["points"] > 0 for snap in live), live
    assert [snap["lastStep"] for snap in live] == sorted({snap["lastStep"] for snap in live}), live
    assert live[-1]["lastStep"] < final["lastStep"]  # the final message came after them
    # one element throughout: updated in place, never re-created
    assert all(snap["count"] == 1 and snap["tagged"] for snap in snapshots), snapshots
    assert final["updates"] > 1 and final["state"] == "ready"
    assert final["charts"] == 2  # loss and accuracy by default
    status = page.locator(f"{CURVES} .nbunify-curves-run")
    assert status.count() == 1
    assert status.get_attribute("data-status") == "finished"
    assert status.locator(".nbunify-curves-framework").text_content() == "torch"
    # the curves won over the PNG and text fallbacks of the final message
    output = page.locator(".jp-OutputArea-output", has=page.locator(CURVES))
    assert output.locator("img").count() == 0
    assert page.locator(f"{CURVES} .uplot").count() == 2

    # the controls redraw without errors, and their choices stay
    points = final["points"]
    snap = _set_control(page, ".nbunify-curves-metric-input[value=accuracy]", "control.checked = false;")
    assert snap["charts"] == 1 and page.locator(f"{CURVES} .uplot").count() == 1
    snap = _set_control(page, ".nbunify-curves-metric-input[value=accuracy]", "control.checked = true;")
    assert snap["charts"] == 2
    for mode in ("epoch", "seconds", "step"):
        snap = _set_control(page, ".nbunify-curves-xmode-select", f"control.value = '{mode}';")
        assert snap["points"] == points and snap["charts"] == 2, (mode, snap)
        _keep_screenshot(page, f"curves-in-lab-{mode}.png")
    snap = _set_control(page, ".nbunify-curves-log-input", "control.checked = true;")
    assert snap["charts"] == 2 and 0 < snap["points"] <= points
    _keep_screenshot(page, "curves-in-lab-log.png")
    snap = _set_control(page, ".nbunify-curves-log-input", "control.checked = false;")
    snap = _set_control(page, ".nbunify-curves-smoothing-input", "control.value = '0.8';")
    assert page.locator(f"{CURVES} tr.nbunify-curves-raw").count() == 2  # one faint raw line per step series
    assert page.locator(f"{CURVES} .nbunify-curves-smoothing-value").text_content().strip() == "0.80"
    assert snap["points"] == points and snap["tagged"]
    _keep_screenshot(page, "curves-in-lab.png")

    _check_graph_and_runs_sidebar(page)

    # the charts follow the output area's width: after the sidebar closes (wider) and the window shrinks
    _wait_for_charts_to_fit(page)
    assert abs(_plot_width(page) - _charts_width(page)) <= 2
    wide = _plot_width(page)
    page.set_viewport_size({"width": 1000, "height": 900})
    page.wait_for_function(f"() => document.querySelector('{CURVES} .u-wrap').getBoundingClientRect().width < {wide - 100}")
    _wait_for_charts_to_fit(page)
    assert abs(_plot_width(page) - _charts_width(page)) <= 2
    assert page.evaluate(SNAPSHOT)["tagged"]
    assert page.page_errors == []


def _check_graph_and_runs_sidebar(page):
    """The notebook's graph (nu.show of the model it trains) and its run in the Runs sidebar."""
    expected = page.evaluate("""() => {
        const outputs = window.jupyterapp.shell.currentWidget.content.widgets[0].model.outputs;
        for (let index = 0; index < outputs.length; index++) {
            const data = outputs.get(index).data['application/vnd.nbunify.graph+json'];
            if (data) { return data.nodes.length; }
        }
        return -1;
    }""")
    page.wait_for_selector(".nbunify-graph[data-state=ready]", timeout=60_000)
    assert expected == 4  # Flatten, Gemm, Relu, Gemm from torch.onnx.export
    assert page.locator(".nbunify-graph .nbunify-graph-node").count() == expected
    printed = page.locator(".jp-OutputArea-output", has_text="trained run").first.text_content()
    run_id = printed.split("trained run", 1)[1].split()[0]
    page.evaluate("() => window.jupyterapp.shell.activateById('nbunify-runs-panel')")
    row = page.wait_for_selector(f'#nbunify-runs-panel .nbunify-runs-row[data-run-id="{run_id}"]', timeout=30_000)
    assert "torch" in row.text_content() and "finished" in row.text_content()
    page.screenshot(path=str(ARTIFACTS / "curves-graph-and-runs-in-lab.png"))  # the whole page: sidebar and notebook
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")


def _wait_for_charts_to_fit(page):
    """Lumino lays the notebook out on a later frame, and the view resizes on the frame after its ResizeObserver fires."""
    fits = f"""() => {{
        const plot = document.querySelector('{CURVES} .u-wrap').getBoundingClientRect().width;
        return Math.abs(plot - document.querySelector('{CURVES} .nbunify-curves-charts').clientWidth) <= 2;
    }}"""
    try:
        page.wait_for_function(fits, timeout=10_000)
    except PlaywrightTimeout:
        pass  # the assertion that follows reports both widths


def _plot_width(page):
    return page.evaluate(f"() => document.querySelector('{CURVES} .u-wrap').getBoundingClientRect().width")


def _charts_width(page):
    return page.evaluate(f"() => document.querySelector('{CURVES} .nbunify-curves-charts').clientWidth")


def _keep_screenshot(page, name):
    page.locator(CURVES).scroll_into_view_if_needed()
    page.locator(CURVES).screenshot(path=str(ARTIFACTS / name))


def test_a_100k_point_message_is_drawn_and_updated_in_place(page, lab_server):
    write_notebook(lab_server.root / "curves-100k.ipynb", BIG_CELLS)
    open_notebook_and_run_all(page, lab_server, "curves-100k.ipynb", cells=[0])
    page.wait_for_selector(CURVES, state="attached", timeout=240_000)
    page.wait_for_function(f"() => document.querySelector('{CURVES}').dataset.points === '100000'", timeout=240_000)
    page.evaluate(f"() => {{ document.querySelector('{CURVES}').__nbunifyTag = 'first-seen'; }}")
    created = page.evaluate(SNAPSHOT)
    assert created["updates"] == 0
    relogged = _set_control(page, ".nbunify-curves-log-input", "control.checked = true;")
    # zoom into steps ~15,000-25,000 by dragging (uPlot's cursor.drag); the update must keep that range
    assert _leftmost_x(page) < 1000
    box = page.locator(f"{CURVES} .u-over").bounding_box()
    middle = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.3 * box["width"], middle)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.4 * box["width"], middle, steps=5)
    page.mouse.move(box["x"] + 0.5 * box["width"], middle, steps=5)
    page.mouse.up()
    zoomed = _leftmost_x(page)
    assert 10_000 < zoomed < 20_000
    run_cell(page, 1)  # update_display
    page.wait_for_function(f"() => document.querySelector('{CURVES}').dataset.updates === '1'", timeout=120_000)
    updated = page.evaluate(SNAPSHOT)
    timings = {"created": created, "log scale (chart re-created)": relogged, "updated in place": updated}
    (ARTIFACTS / "curves-100k.json").write_text(json.dumps(timings, indent=1))
    for label, snap in timings.items():
        print(f"100k points, {label}: uPlot {snap['drawMs']} ms, with building the columns {snap['renderMs']} ms")
    assert created["points"] == relogged["points"] == updated["points"] == 100_000
    assert updated["tagged"] and updated["count"] == 1 and updated["state"] == "ready"
    # the option chosen before the update is kept by it
    assert page.locator(f"{CURVES} .nbunify-curves-log-input").is_checked()
    assert page.locator(f"{CURVES} .uplot").count() == 1
    assert _leftmost_x(page) == zoomed  # the zoomed x range survived the update
    page.locator(f"{CURVES} .u-over").dblclick()  # uPlot's reset
    assert _leftmost_x(page) < 1000


def _leftmost_x(page):
    """The x value the legend shows with the cursor at the plot's left edge."""
    box = page.locator(f"{CURVES} .u-over").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    text = page.locator(f"{CURVES} .u-legend tr.u-series").first.locator(".u-value").text_content()
    return float(text)
    assert page.page_errors == []


def test_runs_of_one_framework_share_a_colour_and_a_failed_run_says_why(page, lab_server):
    write_notebook(lab_server.root / "curves-compare.ipynb", COMPARE_CELLS)
    open_notebook_and_run_all(page, lab_server, "curves-compare.ipynb")
    page.wait_for_function(f"() => document.querySelector('{CURVES}')?.dataset.state === 'ready'", timeout=240_000)
    lines = page.locator(f"{CURVES} .nbunify-curves-run")
    assert lines.count() == 2
    assert [lines.nth(index).get_attribute("data-status") for index in range(2)] == ["finished", "failed"]
    failed = lines.nth(1)
    assert "the loss became nan" in failed.locator(".nbunify-curves-message").text_content()
    # a run name is text, never HTML (nu.fit appends the framework to a given name)
    assert failed.locator(".nbunify-curves-name").text_content() == '<img src=x onerror="window.hacked=1">-torch'
    assert page.locator(f"{CURVES} img").count() == 0 and page.evaluate("() => window.hacked") is None
    swatches = page.evaluate(f"""() => [...document.querySelectorAll('{CURVES} .nbunify-curves-swatch')]
        .map(swatch => [getComputedStyle(swatch).borderTopColor, getComputedStyle(swatch).borderTopStyle])""")
    assert swatches == [["rgb(238, 76, 44)", "solid"], ["rgb(238, 76, 44)", "dashed"]]
    legend = page.locator(f"{CURVES} .nbunify-curves-chart[data-group=loss] .u-legend .u-label").all_text_contents()
    assert "good run-torch loss" in legend and '<img src=x onerror="window.hacked=1">-torch loss' in legend
    _keep_screenshot(page, "curves-compare-in-lab.png")
    assert page.page_errors == []
