"""The run store: SQLite round trips, two writing processes, restarts, listing, CSV and TensorBoard export."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nbunify as nu
from nbunify.runs import Run, RunList, RunStore, default_path
from nbunify.runs.store import STORE_ENV

ROOT = Path(__file__).resolve().parents[1]


def _run(run_id: str, framework: str = "torch", steps: int = 10) -> Run:
    run = Run(id=run_id, name=f"mlp-{framework}", framework=framework, dataset="digits", spec_name="mlp",
              options={"optimizer": {"name": "sgd"}}, environment={"train_samples": 100})
    for step in range(1, steps + 1):
        run.record("step", step, (step - 1) // 5, 0.01 * step, "loss", 1.0 / step)
        run.record("step", step, (step - 1) // 5, 0.01 * step, "accuracy", step / steps)
    for epoch in range(steps // 5):
        run.record("epoch", 5 * (epoch + 1), epoch, 0.05 * (epoch + 1), "val_loss", 0.5 - 0.1 * epoch)
        run.record("epoch", 5 * (epoch + 1), epoch, 0.05 * (epoch + 1), "val_accuracy", 0.6 + 0.1 * epoch)
        run.record("epoch", 5 * (epoch + 1), epoch, 0.05 * (epoch + 1), "epoch_time", 0.05)
    return run


def test_a_run_and_its_points_survive_a_new_connection(tmp_path):
    store = RunStore(tmp_path)
    run = _run("r1")
    store.add(run)
    run.status, run.checkpoint = "finished", "somewhere"
    run.record("epoch", 10, 1, 0.2, "loss", float("nan"))
    store.update(run, run.points[-1:])
    store.close()

    again = RunStore(tmp_path / "runs.sqlite").get("r1")  # a new process would open it the same way
    assert (again.status, again.checkpoint, again.framework, again.options) == ("finished", "somewhere", "torch", run.options)
    assert len(again.points) == len(run.points) == 27
    assert again.points[:3] == run.points[:3]
    assert math.isnan(again.points[-1][-1])  # NaN is stored as NULL and comes back as NaN
    assert again.history("val_accuracy") == ([1, 2], [0.6, 0.7])
    assert again.best("val_loss") == pytest.approx(0.4) and again.final("val_accuracy") == pytest.approx(0.7)
    assert RunStore(tmp_path).connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_run_ids_name_the_store_and_recent_runs(tmp_path):
    store = RunStore(tmp_path)
    store.add(_run("known1"))
    with pytest.raises(KeyError, match=r"no run 'nope' in the run store .*runs.sqlite; recent runs: known1"):
        store.get("nope")


def test_default_location_is_beside_the_notebook_and_configurable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert default_path() == tmp_path / "nbunify-runs" / "runs.sqlite"
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "elsewhere"))
    assert default_path() == tmp_path / "elsewhere" / "runs.sqlite"
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "mine.sqlite"))
    assert default_path() == tmp_path / "mine.sqlite"
    RunStore().add(_run("r9"))
    assert [run.id for run in nu.runs()] == ["r9"]


_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from nbunify.runs import Run, RunStore
    store = RunStore({path!r})
    for number in range(4):
        run = Run(id=f"{{sys.argv[1]}}-{{number}}", name="concurrent", framework="torch")
        store.add(run)
        for flush in range(25):
            points = [("step", flush * 40 + i, 0, 0.0, "loss", float(i)) for i in range(40)]
            run.points.extend(points)
            store.update(run, points)
        run.status = "finished"
        store.update(run)
""")


def test_two_processes_writing_at_once_lose_no_rows(tmp_path):
    path = tmp_path / "shared.sqlite"
    script = _WRITER.format(root=str(ROOT), path=str(path))
    writers = [subprocess.Popen([sys.executable, "-c", script, name]) for name in ("a", "b")]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    runs = RunStore(path).load()
    assert len(runs) == 8
    assert {run.status for run in runs} == {"finished"}
    assert [len(run.points) for run in runs] == [1000] * 8


def test_a_running_run_whose_process_died_shows_as_interrupted(tmp_path):
    path = tmp_path / "runs.sqlite"
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom nbunify.runs import Run, RunStore\n" \
             f"RunStore({str(path)!r}).add(Run(id='orphan', name='x', framework='keras'))"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    run = RunStore(path).get("orphan")
    assert run.status == "interrupted"
    assert "ended before it finished" in run.message


def test_runs_lists_filters_and_indexes_by_name(tmp_path):
    store = RunStore(tmp_path)
    for run_id, framework in (("a", "torch"), ("b", "keras"), ("c", "paddle")):
        store.add(_run(run_id, framework))
    listed = nu.runs(store=tmp_path)
    assert isinstance(listed, RunList) and [run.id for run in listed] == ["a", "b", "c"]
    assert listed["keras"].id == "b" and listed["mlp-paddle"].id == "c" and listed[0].id == "a"
    assert [run.id for run in nu.runs(store=tmp_path, framework="tf")] == ["b"]
    assert [run.id for run in nu.runs(["c", "a"], store=tmp_path)] == ["c", "a"]
    text = repr(listed)
    assert "3 run(s)" in text and "mlp-keras" in text and "0.7" in text
    assert "<table" in listed._repr_html_()
    with pytest.raises(KeyError, match="no run named 'jax'"):
        listed["jax"]
    assert repr(nu.runs(store=tmp_path / "empty")) == "no runs"


def test_csv_export_has_every_point(tmp_path):
    runs = RunList([_run("a"), _run("b", "paddle", steps=5)])
    path = runs.to_csv(tmp_path / "out" / "runs.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == sum(len(run.points) for run in runs) == 26 + 13
    first = rows[0]
    assert (first["run_id"], first["framework"], first["kind"], first["step"], first["epoch"], first["metric"]) == \
        ("a", "torch", "step", "1", "1", "loss")
    assert float(first["value"]) == 1.0


def test_tensorboard_export_is_read_back_by_tensorflow(tmp_path):
    runs = RunList([_run("a"), _run("b", "keras")])
    files = runs.to_tensorboard(tmp_path / "tb")
    assert [file.parent.name for file in files] == ["mlp-torch-a", "mlp-keras-b"]
    reader = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from nbunify.frameworks import load
        tf = load("tensorflow")
        from tensorflow.core.util import event_pb2
        scalars = []
        for record in tf.data.TFRecordDataset({str(files[0])!r}):  # checks each record's CRC
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                scalars.append([value.tag, event.step, value.simple_value])
            if event.file_version:
                scalars.append(["version", event.step, event.file_version])
        print(json.dumps(scalars))
    """)
    result = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    scalars = json.loads(result.stdout.strip().splitlines()[-1])
    assert scalars[0] == ["version", 0, "brain.Event:2"]
    assert ["step/loss", 4, pytest.approx(0.25)] in scalars
    assert ["epoch/val_accuracy", 2, pytest.approx(0.7)] in scalars
    assert len(scalars) == 1 + 26
