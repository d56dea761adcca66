"""``nu.fit``: train one model or several (the same batches, in the same order) and keep a Run for each."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Mapping

import numpy as np

from nbunify import backends
from nbunify.data import Dataset
from nbunify.data import load as load_data
from nbunify.runs import Run, RunList, RunStore
from nbunify.train.environment import environment
from nbunify.train.live import LiveCurves, display_mode
from nbunify.train.loop import train
from nbunify.train.member import CHECKPOINT_META, Member
from nbunify.train.options import TrainOptions, make_options
from nbunify.train.plan import make_plan

_RESUMABLE = {"epochs"}


def fit(
    model: Any,
    data: Any = None,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    momentum: float | None = None,
    betas: tuple[float, float] | None = None,
    rho: float | None = None,
    epsilon: float | None = None,
    weight_decay: float | None = None,
    loss: str | None = None,
    metrics: Any = None,
    schedule: str | None = None,
    step_size: int | None = None,
    gamma: float | None = None,
    min_lr: float | None = None,
    early_stopping: Any = None,
    checkpoint: str | None | bool = "last",
    seed: int | None = None,
    shuffle: bool | None = None,
    drop_last: bool | None = None,
    name: str | None = None,
    store: str | os.PathLike | RunStore | None = None,
    resume: str | Mapping[str, str] | None = None,
    live: bool | None = None,
) -> Run | RunList:
    """Train ``model`` (a native model from ``nu.build``) or several (a dict or list of them) on ``data``.

    Every model gets exactly the same batches in the same order and is trained by its framework's
    own loop and optimizer; a Run per model records hyper-parameters, environment, per-step and
    per-epoch metrics and status in the run store (``./nbunify-runs/runs.sqlite`` by default, or
    ``store=``), and a checkpoint (model and optimizer state) after each epoch (``checkpoint="last"``),
    after each improvement (``"best"``) or never (``None``).

    data: a dataset name ("digits", "iris", "mnist" ... see ``nu.data.names()``), ``(x, y)`` arrays or
        a ``nu.data.Dataset``; split by ``seed`` (20% validation).
    optimizer: "sgd", "momentum", "adam" (default), "adamw", "rmsprop" or "adagrad", with ``lr``,
        ``momentum``, ``betas``, ``rho``, ``epsilon``, ``weight_decay`` in torch's meaning.
    loss: "auto" (cross-entropy for classes, binary cross-entropy for one output, mse for regression),
        "cross_entropy", "binary_cross_entropy" or "mse". metrics: "accuracy", "top<k>", "mae".
    schedule: "constant", "step" (``step_size`` epochs, factor ``gamma``) or "cosine" (to ``min_lr``).
    early_stopping: a patience in epochs, a metric to monitor ("val_accuracy"), a dict or True.
    resume: a run id (a dict name -> run id for several models): restores that run's checkpoint
        into ``model`` and continues it, with its own hyper-parameters, up to ``epochs``.
    live: show live curves (default: in a notebook; elsewhere a line per epoch); False for silence.

    Returns the Run (a RunList, also indexable by name, for several models). Ctrl-C stops training
    and returns the runs marked "interrupted"; a run whose loss turns NaN stops as "failed" and the
    others go on.
    """
    given = {key: value for key, value in dict(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, momentum=momentum, betas=betas, rho=rho,
        epsilon=epsilon, weight_decay=weight_decay, loss=loss, metrics=metrics, schedule=schedule, step_size=step_size,
        gamma=gamma, min_lr=min_lr, early_stopping=early_stopping, seed=seed, shuffle=shuffle,
        drop_last=drop_last).items() if value is not None}
    if checkpoint != "last":  # None (and False) mean no checkpoints, True the default "last"
        given["checkpoint"] = "last" if checkpoint is True else checkpoint or None
    models = _models(model)
    run_store = store if isinstance(store, RunStore) else RunStore(store)
    resumed = _resumed_runs(resume, models, run_store, given)
    if resumed:
        first = next(iter(resumed.values()))
        options = TrainOptions.from_json(first.options)
        if "epochs" in given:
            options = TrainOptions.from_json({**first.options, "epochs": make_options(epochs=given["epochs"]).epochs})
        data = first.dataset if data is None else data
    else:
        options = None
    dataset = _dataset("digits" if data is None else data, (options.seed if resumed else given.get("seed", 0)))
    if not resumed:
        if "metrics" not in given:
            given["metrics"] = ("accuracy",) if dataset.task == "classification" else ("mae",)
        options = make_options(**given)
    members = [_member(key, native, dataset, options, name, resumed.get(key)) for key, native in models.items()]
    _check_early_stopping(options, dataset)

    group = uuid.uuid4().hex[:10]
    start_epoch = 0
    for member in members:
        if member.run.id in {run.id for run in resumed.values()}:
            start_epoch = _restore(member, run_store)
            member.run.status, member.run.message, member.run.finished = "running", "", None
        else:
            member.run.group = group
            run_store.add(member.run)
        member.flushed = len(member.run.points)
    mode = display_mode(live)
    title = f"{', '.join(member.run.name for member in members)} on {dataset.name}"
    train(members, dataset, options, run_store, LiveCurves([m.run for m in members], title, mode), start_epoch)
    result = RunList(member.run for member in members)
    return result[0] if not isinstance(model, (Mapping, list, tuple)) else result


def _models(model: Any) -> dict[str, Any]:
    if isinstance(model, Mapping):
        if not model:
            raise ValueError("nu.fit got an empty dict of models: build some with nu.build(spec, ['torch', 'keras', 'paddle']).")
        return dict(model)
    if isinstance(model, (list, tuple)):
        if not model:
            raise ValueError("nu.fit got an empty list of models.")
        keys = [backends.owner(item) for item in model]
        if len(set(keys)) != len(keys):
            keys = [f"{key}-{index}" for index, key in enumerate(keys)]
        return dict(zip(keys, model))
    return {backends.owner(model): model}


def _dataset(data: Any, seed: int) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        return load_data(data[0], data[1], seed=seed)
    return load_data(data, seed=seed)


def _member(key: str, model: Any, dataset: Dataset, options: TrainOptions, name: str | None,
            resumed: Run | None) -> Member:
    framework = backends.owner(model)
    spec = backends.train_spec(model, framework, " before training it with nu.fit")
    _check_data(spec, dataset, framework)
    target_shape = tuple(dataset.y_train.shape[1:])
    plan = make_plan(spec, options, dataset.task, dataset.num_classes, target_shape)
    if resumed is not None:
        run = resumed
    else:
        run_name = f"{name or spec.name}-{key}"
        run = Run(id=uuid.uuid4().hex[:10], name=run_name, framework=framework, spec_name=spec.name,
                  spec_hash=spec.spec_hash(), spec_text=_spec_text(spec), dataset=dataset.name,
                  options=options.to_json(), parameters=spec.parameter_count())
    run.environment = {**run.environment, **environment(framework), "train_samples": len(dataset.x_train),
                       "validation_samples": len(dataset.x_val), "dataset_seed": dataset.seed,
                       "parameters_native": backends.part(framework, "describe").count_parameters(model)[1]}
    run.model = model
    member = Member(model=model, framework=framework, plan=plan, run=run)
    member.trainer = backends.part(framework, "train").Trainer(model, plan)
    member.lr = options.optimizer.lr
    return member


def _check_data(spec: Any, dataset: Dataset, framework: str) -> None:
    """Clear errors before training: input shape, token ids, label range."""
    from nbunify.native import prepare_inputs

    if tuple(dataset.input_shape) != tuple(spec.input_shape):
        raise ValueError(f"spec {spec.name!r} takes inputs of {'x'.join(map(str, spec.input_shape))} per sample but "
                         f"dataset {dataset.name!r} has {'x'.join(map(str, dataset.input_shape))}: build the spec with "
                         f"input_shape={tuple(dataset.input_shape)} (channels first) or reshape the data.")
    if spec.input_layout == "tokens":
        for split in ("train", "validation"):
            prepare_inputs(spec, dataset.arrays(split)[0], framework)
    if dataset.task == "classification":
        outputs = int(np.prod(spec.output_shape))
        top = int(max(dataset.y_train.max(initial=0), dataset.y_val.max(initial=0)))
        if outputs > 1 and top >= outputs:
            raise ValueError(f"labels go up to class {top} but spec {spec.name!r} has {outputs} outputs: make its last "
                             f"layer Dense({top + 1}) or check the labels.")
        if outputs == 1 and top > 1:
            raise ValueError(f"spec {spec.name!r} has 1 output (a binary classifier) but the labels go up to class {top}: "
                             f"end it in Dense({top + 1}) for {top + 1} classes.")


def _check_early_stopping(options: TrainOptions, dataset: Dataset) -> None:
    stopping = options.early_stopping
    if stopping is None:
        return
    known = ["loss", *options.metrics]
    if len(dataset.x_val):
        known += [f"val_{name}" for name in known]
    if stopping.monitor not in known:
        raise ValueError(f"early_stopping monitors {stopping.monitor!r}, which this training does not measure; "
                         f"choose from {', '.join(known)}.")


def _spec_text(spec: Any) -> str:
    try:
        return spec.to_text()
    except Exception:  # a spec the DSL cannot write still trains; compare then counts no code lines
        return ""


def _resumed_runs(resume: Any, models: dict[str, Any], store: RunStore, given: dict[str, Any]) -> dict[str, Run]:
    if resume is None:
        return {}
    extra = sorted(set(given) - _RESUMABLE)
    if extra:
        raise ValueError(f"resume continues a run with its own hyper-parameters; do not pass {', '.join(extra)} "
                         "(only epochs=, to train further).")
    if isinstance(resume, str):
        if len(models) != 1:
            raise ValueError("resume= with several models takes a dict: model name -> run id.")
        resume = {next(iter(models)): resume}
    if not isinstance(resume, Mapping) or set(resume) - set(models):
        raise ValueError(f"resume= names models {sorted(resume) if isinstance(resume, Mapping) else resume!r} "
                         f"but the models are {sorted(models)}.")
    runs = {}
    for key, run_id in resume.items():
        run = store.get(run_id)
        framework = backends.owner(models[key])
        spec = backends.train_spec(models[key], framework)
        if run.framework != framework or run.spec_hash != spec.spec_hash():
            raise ValueError(f"run {run_id} trained a {run.framework} build of spec {run.spec_name!r} "
                             f"({run.spec_hash}); resume it with a {run.framework} build of the same spec.")
        if not run.checkpoint or not (store.checkpoint_directory(run_id) / CHECKPOINT_META).exists():
            raise ValueError(f"run {run_id} has no checkpoint to resume from (trained with checkpoint=None, or "
                             f"stopped before its first epoch ended).")
        runs[key] = run
    if len({json.dumps(run.options, sort_keys=True) for run in runs.values()}) > 1:
        raise ValueError("the runs to resume were trained with different hyper-parameters; resume them one at a time.")
    return runs


def _restore(member: Member, store: RunStore) -> int:
    """Load the run's checkpoint into the member's model and optimizer; drop points recorded after it."""
    directory = store.checkpoint_directory(member.run.id)
    start_epoch = member.load_checkpoint(directory)
    store.truncate(member.run.id, member.step, start_epoch - 1)
    member.run.truncate(member.step, start_epoch - 1)
    store.update(member.run)
    return start_epoch
