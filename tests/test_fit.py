"""nu.fit end to end with torch (the quickest framework): runs, checks before training, NaN, Ctrl-C, resume, live display."""

from __future__ import annotations

import _thread
import sqlite3
import threading
import time

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.display import CURVES_MIME


def cnn(name: str = "cnn", dropout: float = 0.0) -> nu.Sequential:
    layers = [L.Conv2d(4, 3, padding=1, activation="relu"), L.MaxPool2d(2), L.Flatten()]
    layers += [L.Dropout(dropout)] if dropout else []
    return nu.Sequential([*layers, L.Dense(10)], input_shape=(1, 8, 8), name=name)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "runs"


def test_fit_trains_records_and_checkpoints_a_run(store):
    model = nu.build(cnn(), "torch", seed=0)
    run = nu.fit(model, "digits", epochs=2, optimizer="adam", lr=1e-2, batch_size=64, store=store, live=False)
    assert run.status == "finished" and run.framework == "torch" and run.model is model
    assert run.epochs_done == 2 and run.steps_done == 2 * 23  # 1,438 training digits in batches of 64
    assert run.final("val_accuracy") > 0.7 > run.history("accuracy")[1][0]
    assert run.final("loss") < run.history("loss")[1][0]
    assert set(run.metric_names("epoch")) >= {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_time", "lr"}
    assert run.environment["torch"].startswith("2.") and run.environment["threads"] >= 1
    assert run.environment["train_samples"] == 1438 and run.parameters == cnn().parameter_count()
    stored = nu.runs(store=store)[0]
    assert stored.id == run.id and len(stored.points) == len(run.points)
    assert stored.options["optimizer"]["lr"] == 1e-2
    files = sorted(path.name for path in (store / run.id / "checkpoint").iterdir())
    assert files == ["checkpoint.json", "model.pt", "optimizer.pt", "rng.pt"]
    assert stored.environment["model_bytes"] == (store / run.id / "checkpoint" / "model.pt").stat().st_size


@pytest.mark.parametrize("checkpoint, files", [
    (None, None), (False, None), (True, ["checkpoint.json", "model.pt", "optimizer.pt", "rng.pt"]),
    ("best", ["checkpoint.json", "model.pt", "optimizer.pt", "rng.pt"]),
])
def test_checkpoint_none_writes_no_checkpoint(store, checkpoint, files):
    run = nu.fit(nu.build(cnn(), "torch", seed=0), "digits", epochs=1, checkpoint=checkpoint, store=store, live=False)
    directory = store / run.id / "checkpoint"
    assert run.status == "finished" and run.options["checkpoint"] == (None if files is None else
                                                                      "best" if checkpoint == "best" else "last")
    assert (sorted(path.name for path in directory.iterdir()) if directory.exists() else None) == files
    assert bool(run.checkpoint) == (files is not None) and ("model_bytes" in run.environment) == (files is not None)


@pytest.mark.parametrize("data, spec, message", [
    ("iris", cnn(), r"spec 'cnn' takes inputs of 1x8x8 per sample but dataset 'iris' has 4"),
    ((np.zeros((20, 1, 8, 8), np.float32), np.arange(20) % 12), cnn(), r"labels go up to class 11 but spec 'cnn' has 10 outputs"),
    ((np.zeros((0, 1, 8, 8), np.float32), np.zeros(0, np.int64)), cnn(), "empty"),
    ((np.zeros((20, 1, 8, 8), np.float32), np.zeros(19, np.int64)), cnn(), "20 .* 19|19 .* 20"),
])
def test_bad_data_is_refused_before_training_starts(store, data, spec, message):
    model = nu.build(spec, "torch")
    before = {key: value.copy() for key, value in nu.weights(model).items()}
    with pytest.raises(ValueError, match=message):
        nu.fit(model, data, epochs=1, store=store, live=False)
    assert len(nu.runs(store=store)) == 0
    assert all(np.array_equal(before[key], value) for key, value in nu.weights(model).items())
    assert nu.predict(model, np.zeros((2, 1, 8, 8))).shape == (2, 10)  # the model still works


def test_a_diverging_run_stops_with_a_message_and_the_others_go_on(store):
    good, bad = nu.build(cnn("good"), "torch"), nu.build(cnn("bad"), "torch")
    nu.load_weights(bad, {key: np.full_like(value, 1e38) for key, value in nu.weights(bad).items()})
    runs = nu.fit({"good": good, "bad": bad}, "digits", epochs=2, store=store, live=False)
    assert runs["good"].status == "finished" and runs["good"].epochs_done == 2
    assert runs["bad"].status == "failed" and runs["bad"].steps_done == 1
    assert "the loss became" in runs["bad"].message and "lower the learning rate" in runs["bad"].message
    assert nu.runs(store=store)["bad"].status == "failed"


def test_ctrl_c_keeps_the_partial_run_marked_interrupted(store):
    model = nu.build(cnn(), "torch")

    def interrupt_once_points_are_stored():
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with sqlite3.connect(store / "runs.sqlite") as connection:
                    if connection.execute("SELECT COUNT(*) FROM points").fetchone()[0] > 0:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        _thread.interrupt_main()  # what Ctrl-C (or a kernel interrupt) raises in the training loop

    threading.Thread(target=interrupt_once_points_are_stored, daemon=True).start()
    run = nu.fit(model, "digits", epochs=500, store=store, live=False)
    assert run.status == "interrupted" and "Ctrl-C" in run.message
    assert 0 < run.steps_done < 500 * 23 and f"after step {run.steps_done}" in run.message
    stored = nu.runs(store=store)[0]
    assert stored.status == "interrupted" and len(stored.points) == len(run.points) > 0
    assert nu.predict(model, np.zeros((1, 1, 8, 8))).shape == (1, 10)


def test_early_stopping_ends_a_run_that_stopped_improving(store):
    run = nu.fit(nu.build(cnn(), "torch"), "digits", epochs=6, optimizer="sgd", lr=1e-9,
                 early_stopping={"monitor": "val_loss", "patience": 2, "min_delta": 0.1}, store=store, live=False)
    assert run.status == "finished" and run.epochs_done == 3
    assert "early stopping: val_loss did not improve for 2 epoch(s)" in run.message
    with pytest.raises(ValueError, match="early_stopping monitors 'val_top5'.*choose from loss, accuracy, val_loss"):
        nu.fit(nu.build(cnn(), "torch"), "digits", early_stopping="val_top5", store=store, live=False)


def test_resume_continues_from_the_checkpoint_as_if_never_stopped(store):
    spec = cnn()
    options = dict(optimizer="adam", schedule="step", step_size=1, gamma=0.5, lr=5e-3, store=store, live=False)
    straight = nu.fit(nu.build(spec, "torch"), "digits", epochs=3, **options)
    first = nu.fit(nu.build(spec, "torch"), "digits", epochs=1, **options)
    assert first.status == "finished"
    # A restarted kernel: a fresh build of the spec, resumed from the store, trained up to 3 epochs.
    resumed = nu.fit(nu.build(spec, "torch"), resume=first.id, epochs=3, store=store, live=False)
    assert resumed.id == first.id and resumed.status == "finished" and resumed.epochs_done == 3
    assert resumed.history("loss", "epoch")[0] == [1, 2, 3]
    weights, expected = nu.weights(resumed.model), nu.weights(straight.model)
    assert max(float(np.abs(weights[key] - expected[key]).max()) for key in weights) < 1e-6
    np.testing.assert_allclose(resumed.history("val_loss")[1][1:], straight.history("val_loss")[1][1:], rtol=1e-5)
    with pytest.raises(ValueError, match="resume continues a run with its own hyper-parameters; do not pass lr"):
        nu.fit(nu.build(spec, "torch"), resume=first.id, lr=0.1, store=store, live=False)
    with pytest.raises(ValueError, match="resume it with a torch build of the same spec"):
        nu.fit(nu.build(nu.Sequential([L.Flatten(), L.Dense(10)], input_shape=(1, 8, 8)), "torch"),
               resume=first.id, store=store, live=False)


def test_the_same_seed_gives_the_same_run_even_with_dropout(store):
    losses = []
    for _ in range(2):
        run = nu.fit(nu.build(cnn(dropout=0.5), "torch"), "digits", epochs=1, seed=3, store=store, live=False)
        losses.append(run.history("loss")[1])
    assert losses[0] == losses[1]
    other = nu.fit(nu.build(cnn(dropout=0.5), "torch"), "digits", epochs=1, seed=4, store=store, live=False)
    assert other.history("loss")[1] != losses[0]


def test_live_curves_update_one_display_and_end_with_a_picture(store):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:
        run = nu.fit(nu.build(cnn(), "torch"), "digits", epochs=2, store=store, live=True)
    bundles = [output.data for output in captured.outputs]
    assert bundles and all(CURVES_MIME in bundle and "text/plain" in bundle for bundle in bundles)
    first, last = bundles[0][CURVES_MIME], bundles[-1][CURVES_MIME]
    assert first["runs"][0]["id"] == run.id and not first["done"]
    assert last["done"] and last["runs"][0]["status"] == "finished"
    assert len(last["runs"][0]["series"]["step/loss"]["y"]) == run.steps_done
    assert "image/png" in bundles[-1] and all("image/png" not in bundle for bundle in bundles[:-1])
    assert "val_accuracy" in bundles[-1]["text/plain"]
