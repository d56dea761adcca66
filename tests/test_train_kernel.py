"""nu.fit in a real Jupyter kernel: live curves arrive as display updates, an interrupt keeps the run, runs outlive a restart."""

from __future__ import annotations

import queue
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parents[1]
CURVES_MIME = "application/vnd.nbunify.curves+json"

SETUP = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
import nbunify as nu, nbunify.layers as L
spec = nu.Sequential([L.Conv2d(4, 3, padding=1, activation="relu"), L.MaxPool2d(2), L.Flatten(), L.Dense(10)],
                     input_shape=(1, 8, 8), name="cnn")
"""


@pytest.fixture
def kernel(tmp_path):
    import os

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": str(ROOT)})
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def execute(client, code: str, timeout: float = 600, on_message=None) -> tuple[dict, list[dict]]:
    """Run ``code``; return the execute_reply content and the iopub messages of this request."""
    message_id = client.execute(code)
    messages = []
    deadline = time.time() + timeout
    while True:
        try:
            message = client.get_iopub_msg(timeout=max(deadline - time.time(), 0.1))
        except queue.Empty:
            raise AssertionError(f"no idle state within {timeout} s; messages so far: {messages[-5:]}") from None
        if message["parent_header"].get("msg_id") != message_id:
            continue
        messages.append(message)
        if on_message is not None:
            on_message(message)
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=60)
    return reply["content"], messages


def curves(messages: list[dict]) -> list[tuple[str, dict]]:
    return [(message["msg_type"], message["content"]["data"]) for message in messages
            if message["msg_type"] in ("display_data", "update_display_data") and CURVES_MIME in message["content"]["data"]]


def test_live_curves_reach_the_front_end_while_training(kernel):
    _, client = kernel
    reply, messages = execute(client, SETUP + "runs = nu.fit(nu.build(spec, ['torch', 'paddle']), 'digits', epochs=15)")
    assert reply["status"] == "ok", reply
    shown = curves(messages)
    assert shown[0][0] == "display_data" and shown[-1][0] == "update_display_data"
    display_ids = {message["content"]["transient"]["display_id"] for message in messages
                   if message["msg_type"] in ("display_data", "update_display_data")}
    assert len(display_ids) == 1  # one output, updated in place
    steps = [max((len(series["y"]) for run in data[CURVES_MIME]["runs"] for series in run["series"].values()), default=0)
             for _, data in shown]
    assert any(0 < count < steps[-1] for count in steps)  # points arrived while training ran
    final = shown[-1][1]
    assert final[CURVES_MIME]["done"] and "image/png" in final
    assert [run["framework"] for run in final[CURVES_MIME]["runs"]] == ["torch", "paddle"]
    assert {run["status"] for run in final[CURVES_MIME]["runs"]} == {"finished"}


def test_an_interrupt_keeps_the_run_and_runs_survive_a_restart(kernel):
    manager, client = kernel
    interrupted = []

    def interrupt_after_first_update(message):
        if not interrupted and message["msg_type"] == "update_display_data":
            interrupted.append(True)
            manager.interrupt_kernel()

    reply, messages = execute(client, SETUP + "run = nu.fit(nu.build(spec, 'torch'), 'digits', epochs=1000)",
                              on_message=interrupt_after_first_update)
    assert interrupted and reply["status"] == "ok", reply  # fit returned: the cell did not fail
    final = curves(messages)[-1][1][CURVES_MIME]
    assert final["done"] and final["runs"][0]["status"] == "interrupted"
    reply, messages = execute(client, "print(run.status, run.steps_done, len(nu.runs()))")
    status, steps, count = "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream").split()
    assert (status, count) == ("interrupted", "1") and int(steps) > 0

    manager.restart_kernel(now=True)
    client.wait_for_ready(timeout=120)
    reply, messages = execute(client, SETUP + "r = nu.runs()[0]; print(r.status, r.steps_done, r.framework)")
    assert reply["status"] == "ok", reply
    text = "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream").split()
    assert text == ["interrupted", steps, "torch"]
