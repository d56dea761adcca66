"""The training loop: every model steps on the same batch, in turn, with its own framework's trainer."""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np

from nbunify.data import Dataset
from nbunify.runs import RunStore
from nbunify.runs.run import EPOCH, STEP
from nbunify.train.live import LiveCurves
from nbunify.train.member import Member
from nbunify.train.metrics import correct
from nbunify.train.options import TrainOptions
from nbunify.train.schedules import learning_rate

#: Points are written to the store at least this often (seconds), with every checkpoint and when training stops.
FLUSH_SECONDS = 2.0
#: Validation batches hold this many samples at least (inference needs no small batches).
VALIDATION_BATCH = 256


def train(members: Sequence[Member], dataset: Dataset, options: TrainOptions, store: RunStore, live: LiveCurves,
          start_epoch: int = 0) -> None:
    """Train every member for ``options.epochs`` (from ``start_epoch``), recording points in their runs.

    A member whose loss turns NaN/Inf stops (status failed) while the others go on; Ctrl-C stops them
    all (status interrupted). Points are in the store in either case.
    """
    steps_per_epoch = dataset.steps(options.batch_size, "train", options.drop_last)
    total_steps = steps_per_epoch * options.epochs
    metrics = options.metrics
    last_flush = time.perf_counter()
    live.start()
    try:
        for epoch in range(start_epoch, options.epochs):
            active = [member for member in members if member.active]
            if not active:
                break
            started = {member: member.seconds for member in active}
            for member in active:
                member.metric_sums = dict.fromkeys(("loss", *metrics), 0.0)
            seen = 0
            for x, y in dataset.batches(options.batch_size, "train", epoch, options.shuffle, options.drop_last):
                seen += len(y)
                inputs = _inputs(x, active)
                for member in active:
                    if member.active:
                        _step(member, inputs[member.plan.spec.input_dtype], member.plan.targets(y), epoch,
                              total_steps, steps_per_epoch, options)
                live.update()
                if time.perf_counter() - last_flush >= FLUSH_SECONDS:
                    for member in active:
                        member.flush(store)
                    last_flush = time.perf_counter()
            due = time.perf_counter() - last_flush >= FLUSH_SECONDS
            for member in active:
                saved = member.active and _end_epoch(member, dataset, options, store, epoch, seen,
                                                     member.seconds - started[member])
                if due or saved or not member.active:  # a checkpoint's points are stored with it
                    member.flush(store)
                live.epoch_end(member.run, options.epochs)
            if due:
                last_flush = time.perf_counter()
    except KeyboardInterrupt:
        for member in members:
            if member.active:
                member.stop("interrupted", f"stopped by the user (Ctrl-C) after step {member.step}")
    except BaseException as error:
        for member in members:
            if member.active:
                member.stop("failed", f"{type(error).__name__}: {error}")
        raise
    finally:
        for member in members:
            if member.active:
                member.stop("finished")
            member.flush(store)
        live.finish()


def _inputs(x: np.ndarray, members: Sequence[Member]) -> dict[str, np.ndarray]:
    dtypes = {member.plan.spec.input_dtype for member in members}
    return {dtype: x.astype(dtype, copy=False) for dtype in dtypes}


def _step(member: Member, x: np.ndarray, y: np.ndarray, epoch: int, total_steps: int, steps_per_epoch: int,
          options: TrainOptions) -> None:
    run, plan = member.run, member.plan
    rate = learning_rate(plan.optimizer.lr, options.schedule, epoch, member.step, total_steps)
    if rate != member.lr:
        member.trainer.set_learning_rate(rate)
        member.lr = rate
    started = time.perf_counter()
    loss, outputs = member.trainer.train_step(x, y)
    member.step += 1
    count = len(y)
    scores = {name: correct(name, outputs, y, plan.loss, plan.probabilities) for name in options.metrics}
    member.seconds += time.perf_counter() - started
    seconds = member.seconds
    if not math.isfinite(loss):
        run.record(STEP, member.step, epoch, seconds, "loss", loss)
        member.stop("failed", f"the loss became {loss} at step {member.step} (epoch {epoch + 1}); lower the learning "
                              f"rate (lr={member.lr:g}) or check the data for extreme values")
        return
    sums = member.metric_sums
    sums["loss"] += loss * count
    run.record(STEP, member.step, epoch, seconds, "loss", loss)
    for name, value in scores.items():
        sums[name] += value
        run.record(STEP, member.step, epoch, seconds, name, value / count)
    if member.step % steps_per_epoch == 1 or rate != plan.optimizer.lr or member.step == 1:
        run.record(STEP, member.step, epoch, seconds, "lr", rate)


def _end_epoch(member: Member, dataset: Dataset, options: TrainOptions, store: RunStore, epoch: int, seen: int,
               epoch_seconds: float) -> bool:
    """Record the epoch's means and validation, checkpoint, early stopping; True when a checkpoint was saved."""
    run = member.run
    seconds, step = member.seconds, member.step
    for name, total in member.metric_sums.items():
        run.record(EPOCH, step, epoch, seconds, name, total / max(seen, 1))
    if len(dataset.x_val):
        for name, value in _validate(member, dataset, options).items():
            run.record(EPOCH, step, epoch, seconds, f"val_{name}", value)
    run.record(EPOCH, step, epoch, seconds, "epoch_time", epoch_seconds)
    run.record(EPOCH, step, epoch, seconds, "lr", member.lr)
    stopping = options.early_stopping
    monitor = stopping.monitor if stopping else ("val_loss" if len(dataset.x_val) else "loss")
    mode = stopping.mode if stopping else "min"
    improved = member.improved(run.final(monitor), mode, stopping.min_delta if stopping else 0.0)
    member.bad_epochs = 0 if improved else member.bad_epochs + 1
    saved = options.checkpoint == "last" or (options.checkpoint == "best" and improved)
    if saved:
        member.save_checkpoint(store.checkpoint_directory(run.id), epoch)
    if stopping and member.bad_epochs >= stopping.patience and epoch + 1 < options.epochs:
        member.stop("finished", f"early stopping: {monitor} did not improve for {stopping.patience} epoch(s) "
                                f"(best {member.best:.4g})")
    return saved


def _validate(member: Member, dataset: Dataset, options: TrainOptions) -> dict[str, float]:
    plan = member.plan
    sums = dict.fromkeys(("loss", *options.metrics), 0.0)
    count = 0
    batch_size = max(options.batch_size, VALIDATION_BATCH)
    for x, y in dataset.batches(batch_size, "validation", shuffle=False):
        targets = plan.targets(y)
        loss, outputs = member.trainer.evaluate(x.astype(plan.spec.input_dtype, copy=False), targets)
        sums["loss"] += loss * len(y)
        for name in options.metrics:
            sums[name] += correct(name, outputs, targets, plan.loss, plan.probabilities)
        count += len(y)
    return {name: total / max(count, 1) for name, total in sums.items()}
