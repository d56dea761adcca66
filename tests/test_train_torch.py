"""The torch training step (nbunify.backends.torch.train) against the float64 oracle, and its contract with real torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nbunify as nu
import nbunify.layers as L
import train_oracle as oracle
from nbunify.backends import NotBuiltByNbunifyError
from nbunify.backends.torch.train import MODEL_FILE, OPTIMIZER_FILE, Trainer
from nbunify.spec import Sequential
from nbunify.train.options import make_options
from nbunify.train.plan import make_plan
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights, residual_cnn

#: float32 against the float64 oracle over 20 steps; measured at most 3.1e-7 (loss) and 1.5e-7 (weights).
LOSS_TOLERANCE = 1e-6
WEIGHT_TOLERANCE = 1e-6
STEPS, BATCH, RATES = oracle.STEPS, oracle.BATCH, oracle.RATES
dense_plan, rates = oracle.dense_plan, oracle.rates


def train_against_oracle(optimizer: str, weight_decay: float | None, schedule: str, loss: str = "cross_entropy",
                         final: str | None = None) -> dict:
    """Train the torch build and the oracle on the same batches; the deviations and what the oracle gives."""
    lr = RATES[optimizer]
    spec, plan = dense_plan(loss, final, optimizer=optimizer, lr=lr, weight_decay=weight_decay)
    data = oracle.batches(plan)
    schedule_rates = rates(lr, schedule)
    model = nu.build(spec, "torch", seed=0)
    trainer = Trainer(model, plan)
    losses, current = [], lr
    for (x, y), rate in zip(data, schedule_rates):
        if rate != current:  # as the driver does: only when the schedule changes the rate
            trainer.set_learning_rate(rate)
            current = rate
        before = nu.predict(model, x)
        value, outputs = trainer.train_step(x, plan.targets(y))
        assert isinstance(value, float) and outputs.dtype == np.float32 and outputs.shape == (BATCH, plan.outputs)
        np.testing.assert_allclose(outputs, before, atol=1e-6, rtol=0)  # the forward pass of the weights before the step
        losses.append(value)
    assert trainer.optimizer.param_groups[0]["lr"] == schedule_rates[-1]
    initial = spec.initial_weights(0)
    expected_losses, expected = oracle.train(initial, data, plan.options, plan.loss, final, schedule_rates)
    weights = nu.weights(model)
    return {
        "loss": max(abs(a - b) for a, b in zip(losses, expected_losses)),
        "weights": max(float(np.abs(weights[key] - expected[key]).max()) for key in expected),
        "moved": max(float(np.abs(initial[key] - expected[key]).max()) for key in expected),
        "oracle": expected, "data": data, "plan": plan, "rates": schedule_rates,
    }


@pytest.mark.parametrize("schedule", ["step", "cosine"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("optimizer", list(RATES))
def test_optimizers_follow_the_oracle(optimizer, weight_decay, schedule):
    result = train_against_oracle(optimizer, weight_decay, schedule)
    assert result["loss"] <= LOSS_TOLERANCE, result["loss"]
    assert result["weights"] <= WEIGHT_TOLERANCE, result["weights"]
    assert result["moved"] > 1000 * WEIGHT_TOLERANCE  # the run is long enough for a wrong formula to show
    if weight_decay:  # and the decay changes the result far beyond the tolerance (so it is really tested)
        _, without = oracle.train(oracle.dense_chain().initial_weights(0), result["data"],
                                  make_options(optimizer=optimizer, lr=RATES[optimizer], weight_decay=0.0),
                                  "cross_entropy", None, result["rates"])
        assert max(float(np.abs(without[key] - result["oracle"][key]).max()) for key in without) > 50 * WEIGHT_TOLERANCE


def test_adamw_default_weight_decay_is_decoupled():
    result = train_against_oracle("adamw", None, "cosine")
    assert result["plan"].optimizer.weight_decay == 0.01
    assert result["loss"] <= LOSS_TOLERANCE and result["weights"] <= WEIGHT_TOLERANCE


@pytest.mark.parametrize("loss, final", [("cross_entropy", None), ("cross_entropy", "softmax"),
                                         ("binary_cross_entropy", None), ("binary_cross_entropy", "sigmoid"),
                                         ("mse", None)])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_losses_follow_the_oracle(loss, final, optimizer):
    result = train_against_oracle(optimizer, 0.0, "cosine", loss, final)
    assert result["plan"].probabilities == (final is not None)
    assert result["loss"] <= LOSS_TOLERANCE, result["loss"]
    assert result["weights"] <= WEIGHT_TOLERANCE, result["weights"]
    assert result["moved"] > 1000 * WEIGHT_TOLERANCE


def test_clipped_probabilities():
    """Saturated probabilities: the loss is -log(1e-7) per wrong sample, not inf (and no gradient flows there)."""
    from nbunify.backends.torch.train import make_loss

    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]], requires_grad=True)
    value = make_loss("cross_entropy", True)(p, torch.tensor([1, 0]))
    assert abs(value.item() - (-np.log(1e-7) - np.log(0.5)) / 2) < 1e-5
    value.backward()
    assert p.grad[0].abs().max().item() == 0.0 and abs(p.grad[1, 0].item() + 1.0) < 1e-6
    binary = make_loss("binary_cross_entropy", True)(torch.tensor([[1.0], [0.25]]), torch.tensor([[0.0], [1.0]]))
    upper = float(np.float32(1 - 1e-7))  # 1 - 1.19e-7: the float32 clip, as Keras's from_logits=False clips too
    assert upper < 1 - 1e-7 and abs(binary.item() - (-np.log1p(-upper) - np.log(0.25)) / 2) < 1e-5


def cnn_plan(spec: Sequential, optimizer: str = "adam", **options):
    return make_plan(spec, make_options(optimizer=optimizer, **options), "classification", 10, ())


def labelled(spec: Sequential, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = random_inputs(spec, batch, seed)
    return x, np.random.default_rng(seed).integers(0, int(np.prod(spec.output_shape)), batch)


def test_evaluate_changes_nothing_and_equals_predict():
    spec = residual_cnn()
    model = nu.build(spec, "torch", weights=random_weights(spec))
    plan = cnn_plan(spec)
    trainer = Trainer(model, plan)
    x, y = labelled(spec, 8, 4)
    trainer.train_step(x, plan.targets(y))
    state = {key: value.clone() for key, value in model.state_dict().items()}  # num_batches_tracked included
    canonical = nu.weights(model)
    moments = [value["exp_avg"].clone() for value in trainer.optimizer.state.values()]
    value, outputs = trainer.evaluate(x, plan.targets(y))
    assert all(torch.equal(state[key], tensor) for key, tensor in model.state_dict().items())
    assert all(np.array_equal(canonical[key], array) for key, array in nu.weights(model).items())
    assert all(torch.equal(a, value["exp_avg"]) for a, value in zip(moments, trainer.optimizer.state.values()))
    assert all(module.training for module in model.modules())
    np.testing.assert_allclose(outputs, nu.predict(model, x), atol=1e-6, rtol=0)
    expected = -np.log(np.clip(outputs[np.arange(8), y].astype(np.float64), 1e-7, 1 - 1e-7)).mean()
    assert abs(value - expected) < 1e-5
    # the training-mode outputs (batch statistics) differ from inference's: evaluate really switched modes
    training_outputs = trainer.train_step(x, plan.targets(y))[1]
    assert np.abs(training_outputs - outputs).max() > 1e-3


def test_evaluate_keeps_a_frozen_module_frozen_and_does_not_touch_the_rng():
    spec = REFERENCE_SPECS["mlp"]()
    model = nu.build(spec, "torch", seed=0)
    plan = make_plan(spec, make_options(), "classification", 3, ())
    trainer = Trainer(model, plan)
    model.dense_1.eval()  # a user's choice the trainer must not undo
    x, y = labelled(spec, 8, 5)
    rng = torch.get_rng_state()
    trainer.evaluate(x, plan.targets(y))
    assert torch.equal(rng, torch.get_rng_state())
    assert not model.dense_1.training and model.dropout_1.training and model.training


def test_save_restore_resumes_exactly(tmp_path):
    spec = residual_cnn()
    plan = cnn_plan(spec, "adam", lr=0.01)
    data = [labelled(spec, 8, seed) for seed in range(6)]

    def steps(trainer, part):
        return [trainer.train_step(x, plan.targets(y))[0] for x, y in part]

    uninterrupted = Trainer(nu.build(spec, "torch", seed=0), plan)
    steps(uninterrupted, data[:3])
    uninterrupted.set_learning_rate(0.004)  # the current rate is part of the optimizer state
    uninterrupted.save(tmp_path)
    assert (tmp_path / MODEL_FILE).exists() and (tmp_path / OPTIMIZER_FILE).exists()
    expected = steps(uninterrupted, data[3:])

    resumed = Trainer(nu.build(spec, "torch", seed=7), plan)  # other weights: restore must replace them
    resumed.restore(tmp_path)
    assert resumed.optimizer.param_groups[0]["lr"] == 0.004
    assert int(next(iter(resumed.optimizer.state.values()))["step"]) == 3
    got = steps(resumed, data[3:])
    assert max(abs(a - b) for a, b in zip(got, expected)) <= 1e-7, (got, expected)
    after, reference = nu.weights(resumed.model), nu.weights(uninterrupted.model)
    assert max(float(np.abs(after[key] - reference[key]).max()) for key in after) <= 1e-7
    # without the optimizer state (fresh moments at step 0) the same weights would go elsewhere
    fresh = Trainer(nu.build(spec, "torch", seed=0), plan)
    fresh.model.load_state_dict(torch.load(tmp_path / MODEL_FILE, weights_only=True))
    fresh.set_learning_rate(0.004)
    assert max(abs(a - b) for a, b in zip(steps(fresh, data[3:]), expected)) > 1e-4


def test_resume_continues_the_dropout_stream(tmp_path):
    spec = REFERENCE_SPECS["mlp"]()
    plan = make_plan(spec, make_options(optimizer="sgd", lr=0.1, seed=3), "classification", 3, ())
    x, y = labelled(spec, 16, 6)
    uninterrupted = Trainer(nu.build(spec, "torch", seed=0), plan)
    uninterrupted.train_step(x, plan.targets(y))
    uninterrupted.save(tmp_path)
    expected = [uninterrupted.train_step(x, plan.targets(y))[0] for _ in range(3)]
    resumed = Trainer(nu.build(spec, "torch", seed=0), plan)
    resumed.restore(tmp_path)
    assert [resumed.train_step(x, plan.targets(y))[0] for _ in range(3)] == pytest.approx(expected, abs=1e-7)


def test_dropout_is_seeded():
    spec = Sequential([L.Dense(32, activation="relu"), L.Dropout(0.5), L.Dense(3)], input_shape=(8,), name="dropout")
    x, y = labelled(spec, 16, 7)

    def run(seed):
        plan = make_plan(spec, make_options(optimizer="sgd", lr=0.1, seed=seed), "classification", 3, ())
        trainer = Trainer(nu.build(spec, "torch", seed=0), plan)
        return [trainer.train_step(x, plan.targets(y))[0] for _ in range(5)]

    first = run(1)
    torch.rand(100)  # the global stream moved in between: the trainer reseeds
    assert max(abs(a - b) for a, b in zip(run(1), first)) <= 0.0
    assert max(abs(a - b) for a, b in zip(run(2), first)) > 1e-3  # dropout is active and follows the seed


def plan_for(spec: Sequential, seed: int):
    """A plan for a reference spec: cross-entropy for a vector of scores that is not sigmoids, mse otherwise."""
    outputs = int(np.prod(spec.output_shape))
    last = spec.layers[-1]
    if len(spec.output_shape) == 1 and outputs > 1 and getattr(last, "activation", None) != "sigmoid":
        plan = make_plan(spec, make_options(optimizer="adam", lr=0.01), "classification", outputs, ())
        y = np.random.default_rng(seed).integers(0, outputs, 8)
    else:
        plan = make_plan(spec, make_options(optimizer="adam", lr=0.01, metrics="mae"), "regression", None,
                         tuple(spec.output_shape))
        y = np.random.default_rng(seed).uniform(0.2, 0.8, (8, *spec.output_shape)).astype(np.float32)
    return plan, y


@pytest.mark.parametrize("name", [*REFERENCE_SPECS, *COVERAGE_SPECS])
def test_train_step_on_every_reference_spec(name):
    spec = {**REFERENCE_SPECS, **COVERAGE_SPECS}[name]()
    model = nu.build(spec, "torch", weights=random_weights(spec))
    plan, y = plan_for(spec, 8)
    x = random_inputs(spec, 8, 9)
    trainer = Trainer(model, plan)
    targets = plan.targets(y)
    before = trainer.evaluate(x, targets)[0]
    losses = []
    for _ in range(6):
        value, outputs = trainer.train_step(x, targets)
        losses.append(value)
        assert outputs.shape == (8, *spec.output_shape) and outputs.dtype == np.float32
    after = trainer.evaluate(x, targets)[0]
    assert np.isfinite(losses).all() and np.isfinite([before, after]).all()
    assert losses[-1] < losses[0] - 1e-3 and after < before - 1e-3, (losses, before, after)
    weights = nu.weights(model)  # LSTM/SimpleRNN: the two trained torch biases still read back as their sum
    assert set(weights) == set(spec.parameters()) and all(np.isfinite(array).all() for array in weights.values())


def test_a_model_not_built_by_nbunify_is_refused():
    spec, plan = dense_plan("cross_entropy", None)
    with pytest.raises(NotBuiltByNbunifyError, match="not built by nbunify"):
        Trainer(torch.nn.Sequential(torch.nn.Linear(8, 5)), plan)
