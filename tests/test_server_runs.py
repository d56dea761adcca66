"""The Runs sidebar's API on a real Jupyter server: listing a run store, curves of chosen runs, path checks, auth."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from urllib.parse import urlencode

import pytest

from nbunify.curves import curves_message
from nbunify.runs import Run, RunStore
from nbunify.runs.run import EPOCH, STEP

STEPS_PER_EPOCH = 4
#: Validation accuracy per epoch: the best (0.9) is not the last, so "best" and "final" differ.
VAL_ACCURACY = (0.62, 0.9, 0.85)


def train_run(store: RunStore, run_id: str, framework: str, epochs: int, created: float, finish: bool = True,
              diverge: bool = False) -> Run:
    """A run written the way nbunify's training loop writes one: add, then one flush of points per epoch, then the end."""
    run = Run(id=run_id, name=f"mlp-{framework}", framework=framework, spec_name="mlp", dataset="digits",
              options={"optimizer": {"name": "adam", "lr": 0.001}}, created=created, group="g1")
    store.add(run)
    step, flushed = 0, 0
    for epoch in range(epochs):
        for _ in range(STEPS_PER_EPOCH):
            step += 1
            loss = float("nan") if diverge and step == 3 else 2.0 / step
            run.record(STEP, step, epoch, step * 0.01, "loss", loss)
            run.record(STEP, step, epoch, step * 0.01, "accuracy", 0.1 * epoch + 0.01 * step)
            if diverge and step == 3:
                run.status, run.message, run.finished = "failed", "the loss became nan at step 3", created + 5
                store.update(run, run.points[flushed:])
                return run
        seconds = step * 0.01
        for metric, value in (("loss", 1.0 / (epoch + 1)), ("accuracy", 0.5 + 0.1 * epoch),
                              ("val_loss", 1.2 / (epoch + 1)), ("val_accuracy", VAL_ACCURACY[epoch]),
                              ("epoch_time", 0.04), ("lr", 0.001)):
            run.record(EPOCH, step, epoch, seconds, metric, value)
        store.update(run, run.points[flushed:])
        flushed = len(run.points)
    if finish:
        run.status, run.finished = "finished", created + 10
        store.update(run)
    return run


@pytest.fixture
def demo(jp_root_dir):
    """``runs-demo/`` of the server root with a finished keras run and a newer finished torch run."""
    directory = jp_root_dir / "runs-demo"
    store = RunStore(directory / "nbunify-runs" / "runs.sqlite")
    older = train_run(store, "keras-0001", "keras", epochs=2, created=1_700_000_000.0)
    newer = train_run(store, "torch-0002", "torch", epochs=3, created=1_700_000_100.0)
    store.close()
    return directory, older, newer


def get(raw_fetch, route, **query):
    return raw_fetch(f"{route}?{urlencode(query)}")


def body(response):
    return json.loads(response.body)


# -- listing ---------------------------------------------------------------------------------------


async def test_lists_runs_newest_first_with_key_metrics(raw_fetch, demo):
    _, older, newer = demo
    response = await get(raw_fetch, "nbunify/api/runs", path="runs-demo")
    assert response.code == 200
    answer = body(response)
    assert answer["path"] == "runs-demo"
    assert answer["store"] == "runs-demo/nbunify-runs/runs.sqlite"
    assert [run["id"] for run in answer["runs"]] == ["torch-0002", "keras-0001"]
    torch, keras = answer["runs"]
    assert set(torch) == {"id", "name", "framework", "status", "message", "dataset", "epochs", "steps", "created",
                          "updated", "finished", "metrics"}
    assert (torch["name"], torch["framework"], torch["status"], torch["dataset"]) == ("mlp-torch", "torch", "finished",
                                                                                     "digits")
    assert (torch["epochs"], torch["steps"]) == (3, 12)
    assert (keras["epochs"], keras["steps"]) == (2, 8)
    assert torch["created"] == 1_700_000_100.0 and torch["finished"] == 1_700_000_110.0
    assert isinstance(torch["updated"], float) and torch["updated"] > 1_700_000_000
    assert torch["metrics"] == {
        "loss": 2.0 / 12,            # the last step's loss
        "accuracy": 0.5 + 0.1 * 2,   # the last epoch's training accuracy
        "val_loss": 1.2 / 3,         # the last epoch's validation loss
        "val_accuracy": 0.9,         # the best epoch, not the last (0.85)
    }                                # (epoch_time and lr are records, not metrics)
    assert torch["metrics"]["val_accuracy"] == newer.best("val_accuracy")
    assert keras["metrics"]["loss"] == older.history("loss")[1][-1] == 2.0 / 8
    assert keras["metrics"]["val_accuracy"] == 0.9


async def test_a_failed_run_shows_its_message_and_a_null_loss(raw_fetch, jp_root_dir):
    store = RunStore(jp_root_dir / "nbunify-runs")
    train_run(store, "paddle-nan", "paddle", epochs=1, created=1_700_000_000.0, diverge=True)
    store.close()
    answer = body(await get(raw_fetch, "nbunify/api/runs", path=""))
    assert answer["store"] == "nbunify-runs/runs.sqlite"
    [run] = answer["runs"]
    assert (run["status"], run["message"], run["steps"]) == ("failed", "the loss became nan at step 3", 3)
    assert run["metrics"] == {"loss": None}  # JSON has no NaN


async def test_a_folder_without_a_store_lists_nothing_and_creates_nothing(raw_fetch, jp_root_dir):
    (jp_root_dir / "empty").mkdir()
    for path in ("empty", "empty/", ""):
        response = await get(raw_fetch, "nbunify/api/runs", path=path)
        assert response.code == 200
        assert body(response) == {"path": path.rstrip("/"), "store": None, "runs": []}
    assert list((jp_root_dir / "empty").iterdir()) == []
    assert not (jp_root_dir / "nbunify-runs").exists()


async def test_listing_leaves_the_store_files_as_they_were(raw_fetch, demo):
    directory, _, _ = demo
    before = sorted(os.listdir(directory / "nbunify-runs"))
    content = (directory / "nbunify-runs" / "runs.sqlite").read_bytes()
    assert (await get(raw_fetch, "nbunify/api/runs", path="runs-demo")).code == 200
    assert sorted(os.listdir(directory / "nbunify-runs")) == before == ["runs.sqlite"]
    assert (directory / "nbunify-runs" / "runs.sqlite").read_bytes() == content


# -- curves ----------------------------------------------------------------------------------------


async def test_curves_of_chosen_runs_are_the_curves_message(raw_fetch, demo):
    directory, _, _ = demo
    response = await get(raw_fetch, "nbunify/api/runs/curves", path="runs-demo", ids="torch-0002,keras-0001")
    assert response.code == 200
    runs = RunStore(directory / "nbunify-runs").load(ids=["torch-0002", "keras-0001"])
    expected = curves_message(runs, "mlp-torch, mlp-keras", done=True)
    assert body(response) == json.loads(json.dumps(expected))
    assert [run["id"] for run in body(response)["runs"]] == ["torch-0002", "keras-0001"]
    assert body(response)["runs"][0]["series"]["step/loss"]["x"] == list(range(1, 13))


async def test_curves_of_unknown_runs_answer_404_naming_them(raw_fetch, demo):
    response = await get(raw_fetch, "nbunify/api/runs/curves", path="runs-demo", ids="torch-0002,nope-1,nope-2")
    assert response.code == 404
    message = body(response)["message"]
    assert "'nope-1', 'nope-2'" in message and "torch-0002" not in message
    response = await get(raw_fetch, "nbunify/api/runs/curves", path="runs-demo", ids="")
    assert response.code == 400 and "ids=" in body(response)["message"]


# -- a store being written -------------------------------------------------------------------------


async def test_a_run_being_written_is_listed_as_running_without_blocking_the_writer(raw_fetch, demo):
    directory, _, _ = demo
    writer = RunStore(directory / "nbunify-runs")
    live = train_run(writer, "paddle-live", "paddle", epochs=1, created=1_700_000_200.0, finish=False)
    connection = writer.connect()
    connection.execute("BEGIN IMMEDIATE")  # the writer is in the middle of its next flush
    connection.execute("INSERT INTO points (run_id, kind, step, epoch, seconds, metric, value) "
                       "VALUES ('paddle-live', 'step', 5, 1, 0.05, 'loss', 0.123)")
    try:
        answer = body(await get(raw_fetch, "nbunify/api/runs", path="runs-demo"))
        curves = body(await get(raw_fetch, "nbunify/api/runs/curves", path="runs-demo", ids="paddle-live"))
        # the reader holds nothing: another writer that will not wait gets the lock once the flush is done
        connection.execute("COMMIT")
        other = sqlite3.connect(writer.path, timeout=0)
        with other:
            other.execute("UPDATE runs SET message='still going' WHERE id='paddle-live'")
        other.close()
    finally:
        writer.close()
    assert [run["id"] for run in answer["runs"]] == ["paddle-live", "torch-0002", "keras-0001"]
    running = answer["runs"][0]
    assert (running["status"], running["finished"], running["steps"]) == ("running", None, 4)
    assert running["metrics"]["loss"] == live.history("loss")[1][-1] == 0.5  # the uncommitted 0.123 is not seen
    assert curves["done"] is False and curves["runs"][0]["status"] == "running"
    after = body(await get(raw_fetch, "nbunify/api/runs", path="runs-demo"))["runs"][0]
    assert (after["steps"], after["metrics"]["loss"], after["message"]) == (5, 0.123, "still going")


async def test_a_running_run_whose_process_died_is_listed_as_interrupted(raw_fetch, demo):
    directory, _, _ = demo
    store = RunStore(directory / "nbunify-runs")
    train_run(store, "orphan", "torch", epochs=1, created=1_700_000_300.0, finish=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.connect() as connection:
        connection.execute("UPDATE runs SET pid=? WHERE id='orphan'", (dead.pid,))
    store.close()
    run = body(await get(raw_fetch, "nbunify/api/runs", path="runs-demo"))["runs"][0]
    assert (run["id"], run["status"]) == ("orphan", "interrupted")
    assert "ended before it finished" in run["message"]
    curves = body(await get(raw_fetch, "nbunify/api/runs/curves", path="runs-demo", ids="orphan"))
    assert curves["done"] is True


# -- paths and authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("../", 403, "outside the Jupyter root"),
        ("runs-demo/../..", 403, "outside the Jupyter root"),
        ("/etc", 400, "absolute path"),
        ("out-link", 403, "outside the Jupyter root"),
        ("store-link-out", 403, "links outside"),
        ("no-such-folder", 404, "no folder"),
        ("runs-demo/nbunify-runs/runs.sqlite", 400, "is a file"),
        (".hidden", 403, "hidden"),
    ],
)
async def test_paths_outside_the_root_or_malformed_are_refused(raw_fetch, jp_root_dir, tmp_path, demo, path, status,
                                                                words):
    outside = tmp_path / "outside"
    RunStore(outside / "nbunify-runs").add(Run(id="secret-run", name="secret", framework="torch"))
    os.symlink(outside, jp_root_dir / "out-link")
    (jp_root_dir / "store-link-out").mkdir()
    os.symlink(outside / "nbunify-runs", jp_root_dir / "store-link-out" / "nbunify-runs")
    (jp_root_dir / ".hidden").mkdir()
    for route, extra in (("nbunify/api/runs", {}), ("nbunify/api/runs/curves", {"ids": "secret-run"})):
        response = await get(raw_fetch, route, path=path, **extra)
        assert response.code == status, route
        assert words in body(response)["message"], body(response)["message"]
        assert b"secret-run" not in response.body


@pytest.mark.parametrize("route", ["nbunify/api/runs?path=runs-demo",
                                   "nbunify/api/runs/curves?path=runs-demo&ids=torch-0002"])
async def test_anonymous_requests_are_refused(raw_fetch, demo, route):
    response = await raw_fetch(route, anonymous=True)
    assert response.code in (401, 403)
    assert "Location" not in response.headers
    assert b"torch-0002" not in response.body and b"mlp" not in response.body


def test_metric_values_are_finite_or_null():
    from nbunify.server.runs import run_metrics

    run = Run(id="r", name="r", framework="torch")
    run.record(EPOCH, 1, 0, 0.1, "val_accuracy", math.nan)
    run.record(EPOCH, 1, 0, 0.1, "val_loss", math.inf)
    assert run_metrics(run) == {"val_accuracy": None, "val_loss": None}
