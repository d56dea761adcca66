"""The keras training step (nbunify.backends.keras.train) against the float64 oracle and real Keras 3."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
import train_oracle as oracle
from nbunify.backends.keras.train import RNG_FILE, WEIGHTS_FILE, Trainer
from nbunify.frameworks import load
from nbunify.spec import Sequential
from nbunify.train.options import make_options
from nbunify.train.plan import make_plan
from reference_specs import REFERENCE_SPECS, random_inputs, random_weights

keras = load("keras")

STEPS, BATCH, RATES = oracle.STEPS, oracle.BATCH, oracle.RATES
dense_plan, batches, rates = oracle.dense_plan, oracle.batches, oracle.rates
#: float32 against the float64 oracle over 20 steps: (max |loss - oracle|, max |weight - oracle|).
#: Where keras's formula is torch's (sgd, momentum), measured at most 1.3e-7 and 1.1e-7.
EXACT = (1e-6, 1e-6)
#: Adam and AdamW also: keras adds epsilon to sqrt(v), not sqrt(v_hat), so the trainer hands keras torch's epsilon
#: times sqrt(1 - beta2**t) at step t (with a constant epsilon: adam 1.36e-5 / 3.22e-4 with L2 decay, adamw
#: 7.2e-7 / 1.63e-5). RMSprop's and Adagrad's epsilon sit inside the square root (measured rmsprop 4.66e-6 / 1.07e-4,
#: adagrad 2.0e-7 / 9.9e-7), documented, not mapped.
TORCH_BOUNDS = {"sgd": EXACT, "momentum": EXACT, "adam": EXACT, "adamw": EXACT, "adagrad": (1e-6, 2e-6),
                "rmsprop": (1e-5, 2e-4)}
#: Against the oracle computing keras's own epsilon placement the rest is float32 rounding (measured 6.1e-7 / 6.9e-7).
KERAS_FORMULA = (1e-6, 1.5e-6)


class KerasFormula(oracle.Optimizer):
    """The oracle with keras's formulas where they are not torch's (epsilon placement), to show nothing else differs."""

    def step(self, weights: dict, grads: dict, lr: float) -> None:
        o = self.o
        if o.name not in ("rmsprop", "adagrad"):
            return super().step(weights, grads, lr)
        self.t += 1
        for key, p in weights.items():
            g = grads[key].copy()
            s = self.state.setdefault(key, {})
            if o.weight_decay:
                g += o.weight_decay * p
            if o.name == "rmsprop":  # keras's epsilon (nbunify's squared) inside the square root
                s["v"] = o.rho * s.get("v", 0) + (1 - o.rho) * g * g
                p -= lr * g / np.sqrt(s["v"] + o.epsilon ** 2)
            else:
                s["sum"] = s.get("sum", 0) + g * g
                p -= lr * g / np.sqrt(s["sum"] + o.epsilon ** 2)


def deviation(losses: list[float], weights: dict, expected_losses: list[float], expected: dict) -> tuple[float, float]:
    return (max(abs(a - b) for a, b in zip(losses, expected_losses)),
            max(float(np.abs(weights[key] - expected[key]).max()) for key in expected))


def train_dense(optimizer: str, weight_decay: float | None, schedule: str, loss: str = "cross_entropy",
                final: str | None = None, initial: dict | None = None) -> dict:
    """Train the keras build of a dense chain for 20 steps, checking each step's contract on the way."""
    lr = RATES[optimizer]
    spec, plan = dense_plan(loss, final, optimizer=optimizer, lr=lr, weight_decay=weight_decay)
    initial = spec.initial_weights(0) if initial is None else initial
    data, lrs = batches(plan), rates(lr, schedule)
    model = nu.build(spec, "keras", weights=initial)
    trainer = Trainer(model, plan)
    losses, current = [], lr
    for (x, y), rate in zip(data, lrs):
        if rate != current:  # as the driver does: only when the schedule changes the rate
            trainer.set_learning_rate(rate)
            current = rate
        before = nu.predict(model, x) if len(losses) in (0, STEPS // 2) else None
        value, outputs = trainer.train_step(x, y)
        assert isinstance(value, float) and outputs.dtype == np.float32 and outputs.shape == (BATCH, plan.outputs)
        if before is not None:  # the training-mode outputs are the forward pass of the weights before the step
            np.testing.assert_allclose(outputs, before, atol=1e-6, rtol=0)
        losses.append(value)
    assert abs(float(trainer.optimizer.learning_rate.numpy()) - lrs[-1]) <= 1e-7 * lrs[-1]
    assert int(trainer.optimizer.iterations.numpy()) == STEPS
    assert trainer._train.experimental_get_tracing_count() == 1  # rate changes do not retrace
    return {"losses": losses, "weights": nu.weights(model), "initial": initial, "data": data, "plan": plan,
            "rates": lrs, "final": final}


def against(result: dict, optimizer_class: type = oracle.Optimizer) -> tuple[float, float, dict]:
    plan = result["plan"]
    expected_losses, expected = oracle.train(result["initial"], result["data"], plan.options, plan.loss, result["final"],
                                             result["rates"], optimizer_class)
    return (*deviation(result["losses"], result["weights"], expected_losses, expected), expected)


@pytest.mark.parametrize("schedule", ["step", "cosine"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("optimizer", list(RATES))
def test_optimizers_follow_the_oracle(optimizer, weight_decay, schedule):
    result = train_dense(optimizer, weight_decay, schedule)
    loss_error, weight_error, expected = against(result)
    loss_bound, weight_bound = TORCH_BOUNDS[optimizer]
    assert loss_error <= loss_bound, loss_error
    assert weight_error <= weight_bound, weight_error
    moved = max(float(np.abs(result["initial"][key] - expected[key]).max()) for key in expected)
    assert moved > 20 * weight_bound  # the run is long enough for a wrong formula to show
    loss_error, weight_error, _ = against(result, KerasFormula)  # what remains is keras's epsilon placement alone
    assert loss_error <= KERAS_FORMULA[0] and weight_error <= KERAS_FORMULA[1], (loss_error, weight_error)
    if weight_decay:  # the decay changes the result far beyond the keras-formula tolerance, so it is really tested
        plan = result["plan"]
        without = make_plan(plan.spec, make_options(optimizer=optimizer, lr=RATES[optimizer], weight_decay=0.0),
                            "classification", 5, (5,))
        _, weights = oracle.train(result["initial"], result["data"], without.options, without.loss, None, result["rates"])
        assert max(float(np.abs(weights[key] - expected[key]).max()) for key in expected) > 100 * KERAS_FORMULA[1]


def test_momentum_buffer_follows_rate_changes():
    """keras keeps m = mu*m - lr*g; without rescaling on a rate change the step schedule would leave torch's path."""
    result = train_dense("momentum", 0.0, "step")
    _, weight_error, _ = against(result)
    assert weight_error <= EXACT[1]
    spec, plan = result["plan"].spec, result["plan"]
    model = nu.build(spec, "keras", weights=result["initial"])
    trainer = Trainer(model, plan)
    for (x, y), rate in zip(result["data"], result["rates"]):
        trainer.optimizer.learning_rate.assign(rate)  # the rate changed behind the trainer's back: keras's own formula
        trainer.train_step(x, y)
    naive = nu.weights(model)
    assert max(float(np.abs(naive[key] - result["weights"][key]).max()) for key in naive) > 100 * EXACT[1]


def test_adamw_default_weight_decay_is_decoupled():
    """adamw's default decay reaches keras's own (decoupled) weight_decay; the others' decay is not handed to keras."""
    for optimizer, decay, native in (("adamw", None, 0.01), ("adam", 0.01, None), ("momentum", 0.01, None)):
        spec, plan = dense_plan("cross_entropy", None, optimizer=optimizer, weight_decay=decay)
        trainer = Trainer(nu.build(spec, "keras", seed=0), plan)
        assert plan.optimizer.weight_decay == 0.01
        assert (trainer.optimizer.weight_decay is None) == (native is None)
        if native is not None:
            assert abs(trainer.optimizer.weight_decay - native) < 1e-12


@pytest.mark.parametrize("loss, final", [("cross_entropy", "softmax"), ("binary_cross_entropy", None),
                                         ("binary_cross_entropy", "sigmoid"), ("mse", None)])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_losses_follow_the_oracle(loss, final, optimizer):
    """Cross-entropy on logits is every run of test_optimizers_follow_the_oracle; here the other four."""
    result = train_dense(optimizer, 0.0, "cosine", loss, final)
    assert result["plan"].probabilities == (final is not None)
    loss_error, weight_error, expected = against(result)
    assert loss_error <= TORCH_BOUNDS[optimizer][0] and weight_error <= TORCH_BOUNDS[optimizer][1]
    loss_error, weight_error, _ = against(result, KerasFormula)
    assert loss_error <= KERAS_FORMULA[0] and weight_error <= KERAS_FORMULA[1], (loss_error, weight_error)
    assert max(float(np.abs(result["initial"][key] - expected[key]).max()) for key in expected) > 1e-2


def test_saturated_softmax_is_clipped():
    """Keras's TF backend would swap a softmax output for its logits in a graph; nbunify clips the probabilities."""
    spec, _ = dense_plan("cross_entropy", "softmax")
    initial = spec.initial_weights(0)
    initial["dense_2.weight"] = initial["dense_2.weight"] * 40  # logits up to 27: 3 target probabilities < 1e-7
    result = train_dense("sgd", 0.0, "constant", "cross_entropy", "softmax", initial)
    x, y = result["data"][0]
    _, hidden, z = oracle._forward({k: v.astype(np.float64) for k, v in initial.items()}, x.astype(np.float64))
    p = oracle._softmax(z)[np.arange(BATCH), y]
    assert (p < 1e-7).sum() >= 2  # the clip is active on this batch
    loss_error, weight_error, expected = against(result)
    # logits of order 30 carry float32 rounding of ~2e-6 into -log p (measured 1.6e-6 and 2.1e-6)
    assert loss_error <= 5e-6 and weight_error <= 5e-6, (loss_error, weight_error)
    # the log-softmax (unclipped) loss would give other weights, far outside the tolerance
    logits_losses, logits = oracle.train(initial, result["data"], result["plan"].options, "cross_entropy", None,
                                         result["rates"])
    assert max(float(np.abs(logits[key] - expected[key]).max()) for key in expected) > 1e-2
    assert abs(result["losses"][0] - logits_losses[0]) > 1.0


def small_bn_spec() -> Sequential:
    """BatchNorm, dropout and a flattened channels-last map feeding a Dense: small enough to trace fast."""
    return Sequential([L.Conv2d(4, 3, padding=1), L.BatchNorm(), L.Activation("relu"), L.Dropout(0.3), L.Flatten(),
                       L.Dense(3)], input_shape=(2, 6, 6), name="small_bn")


def labelled(spec: Sequential, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = random_inputs(spec, batch, seed)
    return x, np.random.default_rng(seed).integers(0, int(np.prod(spec.output_shape)), batch)


def small_trainer(optimizer: str = "adam", seed: int = 0, **options) -> tuple:
    spec = small_bn_spec()
    model = nu.build(spec, "keras", weights=random_weights(spec))
    plan = make_plan(spec, make_options(optimizer=optimizer, seed=seed, **options), "classification", 3, ())
    return model, plan, Trainer(model, plan)


def test_evaluate_changes_nothing_and_equals_predict():
    model, plan, trainer = small_trainer()
    x, y = labelled(plan.spec, 12, 5)
    for _ in range(2):
        trainer.train_step(x, y)
    before, iterations = nu.weights(model), int(trainer.optimizer.iterations.numpy())
    assert np.abs(before["batchnorm_1.running_mean"]).max() > 1e-3  # the statistics have moved
    value, outputs = trainer.evaluate(x, y)
    after = nu.weights(model)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    assert int(trainer.optimizer.iterations.numpy()) == iterations
    predicted = nu.predict(model, x)
    assert outputs.dtype == np.float32 and outputs.shape == (12, 3)
    assert np.abs(outputs - predicted).max() <= 1e-6
    z = predicted.astype(np.float64)
    log_softmax = z - z.max(axis=1, keepdims=True) - np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1,
                                                                                                         keepdims=True))
    assert abs(value + log_softmax[np.arange(12), y].mean()) <= 1e-5
    assert np.abs(trainer.evaluate(x, y)[1] - outputs).max() == 0.0  # dropout off: the same outputs again
    _, training = trainer.train_step(x, y)  # training mode again: batch statistics and dropout
    assert np.abs(training - predicted).max() > 1e-2


def test_save_restore_resumes_exactly(tmp_path):
    model, plan, trainer = small_trainer("adam", lr=0.01)
    data = [labelled(plan.spec, 10, seed) for seed in range(6)]
    for x, y in data[:3]:
        trainer.train_step(x, y)
    trainer.set_learning_rate(0.004)
    trainer.save(tmp_path)
    assert (tmp_path / WEIGHTS_FILE).is_file() and (tmp_path / RNG_FILE).is_file()
    uninterrupted = [trainer.train_step(x, y)[0] for x, y in data[3:]]

    spec = small_bn_spec()
    fresh = nu.build(spec, "keras", seed=1)
    resumed = Trainer(fresh, make_plan(spec, make_options(optimizer="adam", lr=0.01, seed=7), "classification", 3, ()))
    resumed.restore(tmp_path)
    assert int(resumed.optimizer.iterations.numpy()) == 3
    assert abs(float(resumed.optimizer.learning_rate.numpy()) - 0.004) < 1e-9
    losses = [resumed.train_step(x, y)[0] for x, y in data[3:]]
    assert max(abs(a - b) for a, b in zip(losses, uninterrupted)) <= 1e-7, (losses, uninterrupted)
    first, second = nu.weights(model), nu.weights(fresh)
    assert max(float(np.abs(first[key] - second[key]).max()) for key in first) <= 1e-7
    # the per-step epsilon lives only in the compiled step: the optimizer keeps its float, so configs still save
    assert resumed.optimizer.epsilon == 1e-8 and resumed.optimizer.get_config()["epsilon"] == 1e-8
    assert json.loads(json.dumps(fresh.get_compile_config()))["optimizer"]["config"]["epsilon"] == 1e-8


def test_resume_carries_momentum_and_rate(tmp_path):
    """A momentum buffer scaled by the rate (keras's form) continues exactly across a restore and a rate change."""
    model, plan, trainer = small_trainer("momentum", lr=0.05)
    data = [labelled(plan.spec, 10, seed) for seed in range(5)]
    for x, y in data[:2]:
        trainer.train_step(x, y)
    trainer.set_learning_rate(0.02)
    trainer.train_step(*data[2])
    trainer.save(tmp_path)
    trainer.set_learning_rate(0.01)
    uninterrupted = [trainer.train_step(x, y)[0] for x, y in data[3:]]
    fresh = nu.build(plan.spec, "keras", seed=1)
    resumed = Trainer(fresh, plan)
    resumed.restore(tmp_path)
    resumed.set_learning_rate(0.01)
    losses = [resumed.train_step(x, y)[0] for x, y in data[3:]]
    assert max(abs(a - b) for a, b in zip(losses, uninterrupted)) <= 1e-7, (losses, uninterrupted)


def test_dropout_is_seeded():
    x, y = labelled(small_bn_spec(), 10, 4)
    runs = {}
    for name, seed in (("first", 0), ("second", 0), ("other", 1)):
        _, _, trainer = small_trainer("sgd", seed=seed, lr=0.05)
        runs[name] = [trainer.train_step(x, y)[0] for _ in range(3)]
    assert max(abs(a - b) for a, b in zip(runs["first"], runs["second"])) <= 1e-7
    assert max(abs(a - b) for a, b in zip(runs["first"], runs["other"])) > 1e-4  # other masks


@pytest.mark.parametrize("spec", [
    Sequential([L.Conv2d(2, 3, padding=1)], input_shape=(3, 4, 5), name="map_output"),
    Sequential([L.Conv2d(2, 3, padding=1), L.Flatten()], input_shape=(3, 4, 5), name="flattened_map_output"),
], ids=["map", "flattened_map"])
def test_mse_targets_follow_the_output_layout(spec):
    """mse targets are canonical (channels-first); the loss and the outputs must match the canonical prediction."""
    model = nu.build(spec, "keras", seed=0)
    plan = make_plan(spec, make_options(optimizer="sgd", lr=0.1, metrics=("mae",)), "regression", None,
                     spec.output_shape)
    trainer = Trainer(model, plan)
    x = random_inputs(spec, 6, 1)
    y = plan.targets(np.random.default_rng(2).standard_normal((6, *spec.output_shape)).astype(np.float32))
    predicted = nu.predict(model, x)
    value, outputs = trainer.train_step(x, y)
    assert abs(value - float(((predicted.astype(np.float64) - y) ** 2).mean())) <= 1e-6
    assert outputs.shape == (6, *spec.output_shape) and np.abs(outputs - predicted).max() <= 1e-6
    second, _ = trainer.evaluate(x, y)
    assert second < value - 1e-3  # the step went downhill in the canonical layout


@pytest.mark.parametrize("name", list(REFERENCE_SPECS))
def test_train_step_on_every_reference_spec(name):
    spec = REFERENCE_SPECS[name]()
    model = nu.build(spec, "keras", seed=0)
    classes = int(np.prod(spec.output_shape))
    plan = make_plan(spec, make_options(optimizer="adam", lr=3e-3), "classification", classes, ())
    trainer = Trainer(model, plan)
    x, y = labelled(spec, 8, 3)
    losses = []
    for _ in range(5):
        value, outputs = trainer.train_step(x, plan.targets(y))
        assert outputs.shape == (8, *spec.output_shape) and outputs.dtype == np.float32
        losses.append(value)
    assert all(np.isfinite(losses)) and np.isfinite(outputs).all()
    assert losses[-1] < losses[0] - 1e-3, losses
    value, outputs = trainer.train_step(x[:5], plan.targets(y[:5]))  # a smaller last batch
    assert np.isfinite(value) and outputs.shape == (5, *spec.output_shape)
    assert trainer._train.experimental_get_tracing_count() == 1
