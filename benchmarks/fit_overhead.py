"""nu.fit (live curves on, in a real Jupyter kernel) against a hand-written native loop: median time ratio per framework.

Both train the same CNN from the same weights on the same digits batches (Adam, batch 64),
measure loss and accuracy per batch and validate after every epoch (60 epochs: about 5 s in torch). nu.fit also
writes the run store and sends the live curves to the front end through the kernel (checkpoints off: the hand loop
saves none). Runs alternate (fit, hand, hand, fit ...) so both see the same machine load. Goal: median ratio <= 1.03.

    python benchmarks/fit_overhead.py [--repeats 9] [--epochs 60]

nu.fit's fixed cost, mostly the final matplotlib picture of the curves (printed, about 0.05-0.1 s), dominates very
short runs and vanishes in long ones; its per-step cost is about 0.5%. This 2-core machine's speed swings by +-25%
from one second to the next (the same loop takes 0.65-0.90 s), so single ratios scatter widely: the median over the
repeats is the figure of merit, and best/best (the fastest run of each) is printed as a second, less disturbed one.
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INSIDE = r'''
import statistics, sys, tempfile, time
sys.path.insert(0, ROOT)
import numpy as np
import nbunify as nu, nbunify.layers as L
from nbunify.frameworks import load, set_threads

for name in ("paddle", "torch", "keras"):
    load(name)
set_threads(2)
data = nu.data.load("digits", seed=0)
spec = nu.Sequential([L.Conv2d(16, 3, padding=1, activation="relu"), L.MaxPool2d(2),
                      L.Conv2d(32, 3, padding=1, activation="relu"), L.MaxPool2d(2),
                      L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10)], input_shape=(1, 8, 8), name="cnn")
BATCH, LR = 64, 1e-3


def hand_torch(model):
    import torch
    import torch.nn.functional as F
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        model.train()
        for x, y in data.batches(BATCH, "train", epoch):
            xb, yb = torch.from_numpy(x), torch.from_numpy(y)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(xb)
            loss = F.cross_entropy(outputs, yb)
            loss.backward()
            optimizer.step()
            loss.item(), int((outputs.detach().numpy().argmax(1) == y).sum())
        model.eval()
        with torch.inference_mode():
            for x, y in data.batches(256, "validation", shuffle=False):
                outputs = model(torch.from_numpy(x))
                F.cross_entropy(outputs, torch.from_numpy(y)).item(), int((outputs.numpy().argmax(1) == y).sum())


def hand_keras(model):
    import keras
    tf = load("tensorflow")
    tf.random.set_seed(0)
    optimizer = keras.optimizers.Adam(learning_rate=LR, epsilon=1e-8)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x_train = np.ascontiguousarray(data.x_train.transpose(0, 2, 3, 1))  # a keras user keeps images NHWC
    x_val = np.ascontiguousarray(data.x_val.transpose(0, 2, 3, 1))

    @tf.function(reduce_retracing=True)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            outputs = model(x, training=True)
            loss = loss_fn(y, outputs)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss, outputs

    @tf.function(reduce_retracing=True)
    def val_step(x, y):
        outputs = model(x, training=False)
        return loss_fn(y, outputs), outputs

    for epoch in range(EPOCHS):
        order = data.order("train", epoch)
        for start in range(0, len(order), BATCH):
            chosen = order[start:start + BATCH]
            y = data.y_train[chosen]
            loss, outputs = train_step(x_train[chosen], y)
            float(loss), int((outputs.numpy().argmax(1) == y).sum())
        for start in range(0, len(x_val), 256):
            y = data.y_val[start:start + 256]
            loss, outputs = val_step(x_val[start:start + 256], y)
            float(loss), int((outputs.numpy().argmax(1) == y).sum())


def hand_paddle(model):
    import paddle
    import paddle.nn.functional as F
    paddle.seed(0)
    optimizer = paddle.optimizer.Adam(learning_rate=LR, parameters=model.parameters(), epsilon=1e-8)
    for epoch in range(EPOCHS):
        model.train()
        for x, y in data.batches(BATCH, "train", epoch):
            outputs = model(paddle.to_tensor(x))
            loss = F.cross_entropy(outputs, paddle.to_tensor(y))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            loss.item(), int((outputs.numpy().argmax(1) == y).sum())
        model.eval()
        with paddle.no_grad():
            for x, y in data.batches(256, "validation", shuffle=False):
                outputs = model(paddle.to_tensor(x))
                F.cross_entropy(outputs, paddle.to_tensor(y)).item(), int((outputs.numpy().argmax(1) == y).sum())


HAND = {"torch": hand_torch, "keras": hand_keras, "paddle": hand_paddle}

from nbunify.train import live  # noqa: E402  time spent in the final picture, to report the fixed cost
picture_seconds = []
_finish = live.LiveCurves.finish


def _timed_finish(self):
    started = time.perf_counter()
    _finish(self)
    picture_seconds.append(time.perf_counter() - started)


live.LiveCurves.finish = _timed_finish
store = tempfile.mkdtemp()


def timed(framework, how):
    model = nu.build(spec, framework, seed=0)
    started = time.perf_counter()
    if how == "fit":
        run = nu.fit(model, data, epochs=EPOCHS, batch_size=BATCH, optimizer="adam", lr=LR, checkpoint=None,
                     store=store, live=True)
        assert run.status == "finished", run
    else:
        HAND[framework](model)
    return time.perf_counter() - started


for framework in HAND:  # warm-up: first calls pay one-off costs (kernels, tracing machinery)
    timed(framework, "fit"), timed(framework, "hand")
results = {framework: {"fit": [], "hand": [], "ratio": []} for framework in HAND}
for repeat in range(REPEATS):
    for framework in HAND:
        order = ("fit", "hand") if repeat % 2 == 0 else ("hand", "fit")
        seconds = {how: timed(framework, how) for how in order}
        for how, value in seconds.items():
            results[framework][how].append(value)
        results[framework]["ratio"].append(seconds["fit"] / seconds["hand"])
print("RESULTS")
print(f"{'framework':<10}{'nu.fit (s)':>12}{'hand loop (s)':>15}{'median ratio':>14}{'min ratio':>11}{'max ratio':>11}"
      f"{'best/best':>11}   goal: median ratio <= 1.03")
for framework, values in results.items():
    ratios = values["ratio"]
    fit, hand, ratio = (statistics.median(values["fit"]), statistics.median(values["hand"]), statistics.median(ratios))
    best = min(values["fit"]) / min(values["hand"])  # the fastest of each: the least disturbed by the machine
    print(f"{framework:<10}{fit:>12.3f}{hand:>15.3f}{ratio:>14.3f}{min(ratios):>11.3f}{max(ratios):>11.3f}"
          f"{best:>11.3f}   {'met' if ratio <= 1.03 else 'NOT met'}")
print(f"final curves picture (in every nu.fit above): median {statistics.median(picture_seconds):.3f} s")
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=60)
    options = parser.parse_args()
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=tempfile.mkdtemp())
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    code = f"ROOT = {str(ROOT)!r}; EPOCHS = {options.epochs}; REPEATS = {options.repeats}\n" + INSIDE
    message_id = client.execute(code)
    updates = 0
    started = time.time()
    try:
        while True:
            try:
                message = client.get_iopub_msg(timeout=1800)
            except queue.Empty:
                sys.exit("the kernel went silent for 30 minutes")
            if message["parent_header"].get("msg_id") != message_id:
                continue
            kind = message["msg_type"]
            if kind in ("display_data", "update_display_data"):
                updates += 1  # the live curves the front end received
            elif kind == "stream":
                print(message["content"]["text"], end="", flush=True)
            elif kind == "error":
                sys.exit("\n".join(message["content"]["traceback"]))
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                break
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    print(f"(live curve messages received by the client: {updates}; wall time {time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
