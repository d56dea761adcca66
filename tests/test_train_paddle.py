"""paddle's native training step (nbunify/backends/paddle/train.py) against the float64 oracle and the contract."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import train_oracle
from nbunify.frameworks import load
from nbunify.train.options import ScheduleOptions, make_options
from nbunify.train.plan import make_plan
from nbunify.train.schedules import learning_rate
from reference_specs import REFERENCE_SPECS, mlp, random_inputs, random_weights, residual_cnn

paddle = load("paddle")

from nbunify.backends.paddle.train import MODEL_FILE, OPTIMIZER_FILE, RNG_FILE, Trainer  # noqa: E402

STEPS = 20
BATCH = 16
# float32 against the float64 oracle over 20 steps; measured at most 2.4e-7 (loss) and 2.3e-7 (weights)
LOSS_TOLERANCE = 1e-6
WEIGHT_TOLERANCE = 1e-6
# rmsprop: paddle divides by sqrt(v + eps'), torch by sqrt(v) + eps; with eps' = eps**2 the weights
# still differ by up to 4.24e-6 after the 20 oracle steps (documented in train.py)
RMSPROP_WEIGHT_TOLERANCE = 5e-6
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
NATIVE = {"sgd": "SGD", "momentum": "Momentum", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSProp",
          "adagrad": "Adagrad"}


def oracle_plan(loss: str = "cross_entropy", final: str | None = None, outputs: int = 5, **options):
    spec = train_oracle.dense_chain(outputs=outputs, final=final)
    regression = loss == "mse"
    options = make_options(loss=loss, metrics=() if regression else ("accuracy",), **options)
    classes = None if regression else max(outputs, 2)
    return make_plan(spec, options, "regression" if regression else "classification", classes, (outputs,))


def batches(plan, steps: int = STEPS, scale: float = 1.0, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(steps):
        x = (rng.standard_normal((BATCH, 8)) * scale).astype(np.float32)
        if plan.loss == "cross_entropy":
            y = rng.integers(0, plan.outputs, BATCH)
        elif plan.loss == "binary_cross_entropy":
            y = rng.integers(0, 2, BATCH)
        else:
            y = rng.standard_normal((BATCH, plan.outputs))
        result.append((x, plan.targets(y)))
    return result


def train_both(plan, data, rates, optimizer_class: type = train_oracle.Optimizer) -> tuple[np.ndarray, np.ndarray, float]:
    """(|loss - oracle| per step, max |weight - oracle|, largest oracle weight) after training on ``data``."""
    model = nu.build(plan.spec, "paddle", seed=0)
    trainer = Trainer(model, plan)
    losses, current = [], plan.optimizer.lr
    for (x, y), rate in zip(data, rates):
        if rate != current:
            trainer.set_learning_rate(rate)
            current = rate
        loss, outputs = trainer.train_step(x, y)
        assert isinstance(loss, float) and outputs.dtype == np.float32 and outputs.shape == (BATCH, plan.outputs)
        losses.append(loss)
    expected_losses, expected = train_oracle.train(plan.spec.initial_weights(0), data, plan.options, plan.loss,
                                                   _final(plan), rates, optimizer_class)
    weights = nu.weights(model)
    assert weights.keys() == expected.keys()
    deviation = max(float(np.abs(weights[key] - expected[key]).max()) for key in weights)
    return np.abs(np.array(losses) - expected_losses), deviation, max(float(np.abs(v).max()) for v in expected.values())


def _final(plan) -> str | None:
    return plan.spec.layers[-1].activation


def rates(kind: str, base: float) -> list[float]:
    if kind == "step":  # a step change at step 10
        return [base] * 10 + [base * 0.3] * (STEPS - 10)
    return [learning_rate(base, ScheduleOptions("cosine"), 0, step, STEPS) for step in range(STEPS)]


@pytest.mark.parametrize("schedule", ["step", "cosine"])
@pytest.mark.parametrize("decay", [0.0, 0.01])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_oracle(name, decay, schedule):
    plan = oracle_plan(optimizer=name, weight_decay=decay)
    assert type(Trainer(nu.build(plan.spec, "paddle"), plan).optimizer).__name__ == NATIVE[name]
    loss_errors, weight_error, _ = train_both(plan, batches(plan), rates(schedule, plan.optimizer.lr))
    assert loss_errors.max() < LOSS_TOLERANCE
    assert weight_error < (RMSPROP_WEIGHT_TOLERANCE if name == "rmsprop" else WEIGHT_TOLERANCE)


def test_adamw_default_decay_is_decoupled():
    """adamw's default 0.01 is paddle AdamW's own decoupled decay (coupled L2 would give other weights)."""
    plan = oracle_plan(optimizer="adamw")
    assert plan.optimizer.weight_decay == 0.01
    data = batches(plan)
    _, weight_error, _ = train_both(plan, data, [1e-3] * STEPS)
    assert weight_error < WEIGHT_TOLERANCE
    coupled = oracle_plan(optimizer="adam", weight_decay=0.01)
    _, coupled_weights = train_oracle.train(plan.spec.initial_weights(0), data, coupled.options, "cross_entropy", None,
                                            [1e-3] * STEPS)
    _, decoupled_weights = train_oracle.train(plan.spec.initial_weights(0), data, plan.options, "cross_entropy", None,
                                              [1e-3] * STEPS)
    difference = max(np.abs(coupled_weights[k] - decoupled_weights[k]).max() for k in coupled_weights)
    assert difference > 100 * WEIGHT_TOLERANCE


class _EpsilonInsideRoot(train_oracle.Optimizer):
    """The oracle with rmsprop's epsilon inside the square root, as paddle computes it."""

    def step(self, weights, grads, lr):
        for key, p in weights.items():
            g = grads[key] + self.o.weight_decay * p
            state = self.state.setdefault(key, {})
            state["v"] = self.o.rho * state.get("v", 0) + (1 - self.o.rho) * g * g
            p -= lr * g / np.sqrt(state["v"] + self.o.epsilon ** 2)


@pytest.mark.parametrize("decay", [0.0, 0.01])
def test_rmsprop_difference_is_only_the_epsilon_placement(decay):
    plan = oracle_plan(optimizer="rmsprop", weight_decay=decay)
    native = Trainer(nu.build(plan.spec, "paddle"), plan).optimizer
    assert native._epsilon == pytest.approx(plan.optimizer.epsilon ** 2) and native._rho == plan.optimizer.rho
    loss_errors, weight_error, _ = train_both(plan, batches(plan), rates("cosine", plan.optimizer.lr), _EpsilonInsideRoot)
    assert loss_errors.max() < LOSS_TOLERANCE and weight_error < WEIGHT_TOLERANCE


@pytest.mark.parametrize("loss, final, outputs", [
    ("cross_entropy", None, 5), ("cross_entropy", "softmax", 5), ("binary_cross_entropy", None, 1),
    ("binary_cross_entropy", "sigmoid", 1), ("mse", None, 5), ("mse", None, 1)])
def test_loss_matches_oracle(loss, final, outputs):
    """Plain SGD, so a wrong gradient scale shows in the weights (Adam would normalize it away)."""
    plan = oracle_plan(loss, final, outputs, optimizer="sgd", lr=0.1)
    assert plan.loss == loss and plan.probabilities == (final is not None)
    loss_errors, weight_error, _ = train_both(plan, batches(plan), [0.1] * STEPS)
    assert loss_errors.max() < LOSS_TOLERANCE
    assert weight_error < WEIGHT_TOLERANCE


def test_clipped_probabilities_give_no_gradient():
    """Saturated softmax (a quarter of the targets below 1e-7): the clip stops their gradient, as in the oracle."""
    plan = oracle_plan("cross_entropy", "softmax", optimizer="sgd", lr=0.05)
    data = batches(plan, steps=10, scale=60.0)
    loss_errors, weight_error, largest = train_both(plan, data, [0.05] * 10)
    # losses near 10 and weights near 1 in float32: measured 2.8e-5 and 2.0e-5 (2.35 if the clip passed gradient)
    assert loss_errors.max() < 1e-4 and weight_error < 1e-4 and largest > 0.5


def test_set_learning_rate_sets_the_native_rate():
    plan = oracle_plan(optimizer="momentum", lr=0.02)
    trainer = Trainer(nu.build(plan.spec, "paddle"), plan)
    assert trainer.optimizer.get_lr() == pytest.approx(0.02)
    trainer.set_learning_rate(0.004)
    assert trainer.optimizer.get_lr() == pytest.approx(0.004)


def classifier_plan(spec, **options):
    return make_plan(spec, make_options(**options), "classification", spec.output_shape[0], ())


def test_evaluate_changes_nothing_and_matches_predict():
    spec = residual_cnn()
    plan = classifier_plan(spec, optimizer="adam")
    x = random_inputs(spec, 8)
    y = plan.targets(np.arange(8) % 10)
    trainers = [Trainer(nu.build(spec, "paddle", weights=random_weights(spec)), plan) for _ in range(2)]
    first = [trainer.train_step(x, y)[0] for trainer in trainers]
    model = trainers[0].model
    before = nu.weights(model)
    loss, outputs = trainers[0].evaluate(x, y)
    after = nu.weights(model)
    assert max(np.abs(after[key] - before[key]).max() for key in before) == 0.0  # running stats too
    predicted = nu.predict(model, x)
    assert outputs.dtype == np.float32 and outputs.shape == (8, 10)
    assert np.abs(outputs - predicted).max() < 1e-6
    expected = -np.log(np.clip(predicted.astype(np.float64), 1e-7, 1 - 1e-7)[np.arange(8), y]).mean()
    assert abs(loss - expected) < 1e-5
    assert model.training and all(layer.training for layer in model.sublayers())
    # the next step is the one a trainer that never evaluated takes (training mode, same state)
    second = [trainer.train_step(x, y) for trainer in trainers]
    assert first[0] == first[1] and abs(second[0][0] - second[1][0]) <= 0.0
    assert np.abs(second[0][1] - second[1][1]).max() <= 0.0
    # training mode really differs here: batch statistics and updated running statistics
    assert np.abs(second[0][1] - outputs).max() > 1e-3
    moved = nu.weights(model)
    assert np.abs(moved["batchnorm_1.running_mean"] - after["batchnorm_1.running_mean"]).max() > 1e-4


@pytest.mark.parametrize("make", [residual_cnn, mlp], ids=["batchnorm", "dropout"])
def test_save_restore_resumes_exactly(make, tmp_path):
    spec = make()
    plan = classifier_plan(spec, optimizer="adam", lr=3e-3)
    rng = np.random.default_rng(5)
    data = [(random_inputs(spec, 8, seed=i), plan.targets(rng.integers(0, spec.output_shape[0], 8))) for i in range(6)]
    trainer = Trainer(nu.build(spec, "paddle", seed=0), plan)
    for x, y in data[:3]:
        trainer.train_step(x, y)
    trainer.set_learning_rate(1e-3)
    trainer.save(tmp_path)
    assert (tmp_path / MODEL_FILE).is_file() and (tmp_path / OPTIMIZER_FILE).is_file()
    uninterrupted = [trainer.train_step(x, y)[0] for x, y in data[3:]]

    resumed = Trainer(nu.build(spec, "paddle", seed=7), plan)  # other weights: restore must replace them
    resumed.restore(tmp_path)
    assert resumed.optimizer.get_lr() == pytest.approx(1e-3)
    losses = [resumed.train_step(x, y)[0] for x, y in data[3:]]
    assert np.abs(np.array(losses) - uninterrupted).max() <= 1e-7
    final, expected = nu.weights(resumed.model), nu.weights(trainer.model)
    assert max(np.abs(final[key] - expected[key]).max() for key in final) <= 1e-7

    fresh = Trainer(nu.build(spec, "paddle", seed=0), plan)  # without the optimizer state the steps differ
    fresh.set_learning_rate(1e-3)
    fresh.model.set_state_dict(paddle.load(str(tmp_path / MODEL_FILE)))
    paddle.set_rng_state(paddle.load(str(tmp_path / RNG_FILE)))
    assert abs(fresh.train_step(*data[3])[0] - uninterrupted[0]) <= 1e-7  # same first loss (same weights) ...
    assert abs(fresh.train_step(*data[4])[0] - uninterrupted[1]) > 1e-4  # ... but not the Adam moments


def test_same_seed_same_dropout():
    spec = mlp()
    x, y = random_inputs(spec, 16), np.arange(16) % 3

    def losses(seed: int) -> np.ndarray:
        plan = classifier_plan(spec, optimizer="sgd", seed=seed)
        trainer = Trainer(nu.build(spec, "paddle", seed=0), plan)
        return np.array([trainer.train_step(x, plan.targets(y))[0] for _ in range(5)])

    first, second, other = losses(3), losses(3), losses(4)
    assert np.abs(first - second).max() <= 0.0
    assert np.abs(first - other).max() > 1e-4  # dropout is on and follows the seed


@pytest.mark.parametrize("name", list(REFERENCE_SPECS))
def test_train_step_on_reference_specs(name):
    spec = REFERENCE_SPECS[name]()
    plan = classifier_plan(spec, optimizer="adam", lr=1e-3)
    classes = spec.output_shape[0]
    x = random_inputs(spec, 8)
    y = plan.targets(np.random.default_rng(1).integers(0, classes, 8))
    trainer = Trainer(nu.build(spec, "paddle", seed=0), plan)
    results = [trainer.train_step(x, y) for _ in range(6)]
    losses = np.array([loss for loss, _ in results])
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0] - 1e-3
    assert all(outputs.shape == (8, classes) and outputs.dtype == np.float32 for _, outputs in results)
