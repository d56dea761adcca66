"""In real JupyterLab and chromium: the Runs sidebar lists a folder's runs, opens their curves, and follows training."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from nbunify.runs import Run, RunStore
from nbunify.runs.run import EPOCH, STEP

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ROWS = "#nbunify-runs-panel .nbunify-runs-row"


def write_run(store: RunStore, run_id: str, framework: str, epochs: int, finish: bool) -> Run:
    """A run as nbunify's training loop writes it: added, one flush per epoch, then (if ``finish``) ended.

    A run left "running" belongs to this test's process, which is alive: the server lists it as running.
    """
    run = Run(id=run_id, name=f"mlp-{framework}", framework=framework, dataset="digits", created=time.time())
    store.add(run)
    step, flushed = 0, 0
    for epoch in range(epochs):
        for _ in range(5):
            step += 1
            run.record(STEP, step, epoch, step * 0.02, "loss", 2.0 / step)
        for metric, value in (("loss", 1.0 / (epoch + 1)), ("val_loss", 1.1 / (epoch + 1)),
                              ("val_accuracy", 0.6 + 0.1 * epoch)):
            run.record(EPOCH, step, epoch, step * 0.02, metric, value)
        store.update(run, run.points[flushed:])
        flushed = len(run.points)
    if finish:
        run.status, run.finished = "finished", time.time()
        store.update(run)
    return run


def rows(page) -> dict[str, str]:
    """Run id -> the row's text, as the sidebar shows it now."""
    return json.loads(page.evaluate(
        f"""() => JSON.stringify(Object.fromEntries([...document.querySelectorAll('{ROWS}')]
                .map(row => [row.dataset.runId, row.textContent])))"""
    ))


def wait_for_rows(page, count: int, timeout: float = 30_000) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === {count}", timeout=timeout)


def test_runs_sidebar_lists_opens_curves_and_follows_training(page, lab_server):
    store = RunStore(lab_server.root / "runs-demo" / "nbunify-runs")
    write_run(store, "keras-0001", "keras", epochs=2, finish=True)
    live = write_run(store, "torch-0002", "torch", epochs=1, finish=False)

    page.goto(lab_server.lab_url("runs-demo", page.workspace))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=120_000)
    page.wait_for_selector("#nbunify-runs-panel", state="attached", timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:go-to-path', {path: '/runs-demo'})")
    page.evaluate("() => window.jupyterapp.shell.activateById('nbunify-runs-panel')")
    page.wait_for_selector("#nbunify-runs-panel.nbunify-runs", state="visible", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#nbunify-runs-panel .nbunify-runs-folder').textContent === '/runs-demo'",
        timeout=30_000)
    wait_for_rows(page, 2)

    listed = rows(page)
    assert list(listed) == ["torch-0002", "keras-0001"]  # newest first
    assert "mlp-torch" in listed["torch-0002"] and "torch" in listed["torch-0002"]
    assert "running" in listed["torch-0002"] and "epoch 1 · step 5" in listed["torch-0002"]
    assert "mlp-keras" in listed["keras-0001"] and "keras" in listed["keras-0001"]
    assert "finished" in listed["keras-0001"] and "best val acc 0.7" in listed["keras-0001"]
    colours = page.evaluate(
        f"""() => [...document.querySelectorAll('{ROWS} .nbunify-runs-dot')].map(dot => dot.style.backgroundColor)""")
    assert colours == ["rgb(238, 76, 44)", "rgb(208, 0, 0)"]

    # both runs' curves in one main-area tab
    assert page.is_disabled("#nbunify-runs-panel .nbunify-runs-open")
    for run_id in ("torch-0002", "keras-0001"):
        page.check(f'{ROWS}[data-run-id="{run_id}"] input[type=checkbox]')
    page.click("#nbunify-runs-panel .nbunify-runs-open")
    tab = page.wait_for_selector('.jp-MainAreaWidget[id^="nbunify-runs-curves-"]', timeout=30_000)
    tab_id = tab.get_attribute("id")
    page.wait_for_selector(f'[id="{tab_id}"] .nbunify-curves', state="visible", timeout=30_000)
    assert page.evaluate(
        f"""() => [...window.jupyterapp.shell.widgets('main')].filter(w => w.id === '{tab_id}').length""") == 1
    # opening the same runs again reuses the tab
    page.click("#nbunify-runs-panel .nbunify-runs-open")
    assert page.evaluate(
        """() => [...window.jupyterapp.shell.widgets('main')].filter(w => w.id.startsWith('nbunify-runs-curves-'))
                .length""") == 1

    # a run added while one is running appears without a click on refresh
    write_run(store, "paddle-0003", "paddle", epochs=1, finish=True)
    wait_for_rows(page, 3, timeout=15_000)
    assert list(rows(page)) == ["paddle-0003", "torch-0002", "keras-0001"]
    assert "paddle" in rows(page)["paddle-0003"]
    # selections survive refreshes
    assert page.is_checked(f'{ROWS}[data-run-id="torch-0002"] input[type=checkbox]')
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "runs-sidebar.png"))

    # the running run ends: the row says so by itself, then polling stops
    live.status, live.finished = "finished", time.time()
    store.update(live)
    page.wait_for_function(
        f"""() => document.querySelector('{ROWS}[data-run-id="torch-0002"] .nbunify-runs-status')
                .textContent.includes('finished')""", timeout=15_000)
    page.wait_for_function(
        f"""() => document.querySelector('[id="{tab_id}"] .nbunify-runs-curves-status')
                .textContent === 'all runs ended'""", timeout=15_000)
    page.wait_for_timeout(3_000)  # any poll already scheduled has run
    write_run(store, "torch-0004", "torch", epochs=1, finish=True)
    page.wait_for_timeout(5_000)
    assert len(rows(page)) == 3, "the sidebar kept polling with no run running"
    page.click("#nbunify-runs-panel .nbunify-runs-refresh")
    wait_for_rows(page, 4, timeout=15_000)
    store.close()
    assert page.page_errors == []
