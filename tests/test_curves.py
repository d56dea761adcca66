"""The curves picture: one cached figure per panel count, redrawn from scratch for every call."""

from __future__ import annotations

import io

import numpy as np
import pytest

from nbunify import curves
from nbunify.runs.run import EPOCH, STEP, Run

PIL = pytest.importorskip("PIL.Image")


def run(framework: str, scale: float, metrics: tuple[str, ...] = ("accuracy",), steps: int = 40) -> Run:
    result = Run(id=f"{framework}{scale}", name=f"cnn-{framework}", framework=framework)
    for step in range(1, steps + 1):
        epoch = (step - 1) // 10
        result.record(STEP, step, epoch, step * 0.01, "loss", scale * np.exp(-step / 20))
        for name in metrics:
            result.record(STEP, step, epoch, step * 0.01, name, 1 - np.exp(-step / 15))
        if step % 10 == 0:
            result.record(EPOCH, step, epoch, step * 0.01, "loss", scale * np.exp(-step / 20))
            result.record(EPOCH, step, epoch, step * 0.01, "val_loss", scale * np.exp(-step / 25))
    return result


def pixels(picture: bytes) -> np.ndarray:
    return np.asarray(PIL.open(io.BytesIO(picture)).convert("RGB"))


def test_a_reused_figure_keeps_nothing_from_the_previous_picture():
    torch_run, paddle_run = run("torch", 1.0), run("paddle", 3.0)
    first = curves.curves_png([torch_run], "one")
    both = curves.curves_png([torch_run, paddle_run], "two runs")
    again = curves.curves_png([torch_run], "one")
    assert first == again  # the paddle lines, its legend entry and the title are gone
    assert first != both and pixels(first).shape == pixels(both).shape == (230, 662, 3)
    blue = np.array([0x29, 0x32, 0xE1])  # paddle's colour is drawn only when the paddle run is
    assert (np.abs(pixels(both).astype(int) - blue).sum(-1) < 30).sum() > 50
    assert (np.abs(pixels(again).astype(int) - blue).sum(-1) < 30).sum() == 0


def test_panels_follow_the_metrics():
    loss_only = curves.curves_png([run("torch", 1.0, metrics=())])
    loss_and_mae = curves.curves_png([run("keras", 1.0, metrics=("mae",))])
    assert pixels(loss_only).shape[1] < pixels(loss_and_mae).shape[1]  # one panel, then two
    assert curves.curves_png([Run(id="x", name="empty", framework="torch")]) is None


def test_live_updates_are_thinned_and_the_final_message_keeps_every_point(monkeypatch):
    from nbunify.display import CURVES_MIME
    from nbunify.train import live

    long_run = run("torch", 1.0, steps=1500)
    sent = []
    curves_live = live.LiveCurves([long_run], "long", "display")
    monkeypatch.setattr(curves_live, "_send", sent.append)
    curves_live.update()
    curves_live.finish()
    during, final = (bundle[CURVES_MIME]["runs"][0]["series"]["step/loss"]["x"] for bundle in sent)
    assert len(during) <= curves.LIVE_POINTS + 1 and during[-1] == 1500  # the latest point is always there
    assert len(final) == 1500 and "image/png" in sent[1] and "image/png" not in sent[0]


def test_an_expensive_update_makes_the_next_one_wait_in_proportion(monkeypatch):
    import time

    from nbunify.train import live

    curves_live = live.LiveCurves([run("torch", 1.0)], "slow", "display")
    monkeypatch.setattr(curves_live, "_send", lambda bundle: time.sleep(0.03))
    curves_live.update()
    # 30 ms of sending may take LIVE_BUDGET (1%) of the time: the next update waits about 3 s, not 0.5 s
    assert curves_live.interval >= 0.03 / live.LIVE_BUDGET
    cheap = live.LiveCurves([run("torch", 1.0)], "cheap", "display")
    monkeypatch.setattr(cheap, "_send", lambda bundle: None)
    cheap.update()
    assert cheap.interval == 1.0 / live.UPDATES_PER_SECOND
