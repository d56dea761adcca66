"""Training options, schedules, metrics and plans: the framework-neutral rules nu.fit applies before any step."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.train.metrics import correct, metric_name
from nbunify.train.options import TrainOptions, make_options
from nbunify.train.plan import make_plan
from nbunify.train.schedules import learning_rate


def test_defaults_and_torch_meanings():
    options = make_options()
    assert (options.optimizer.name, options.optimizer.lr, options.optimizer.epsilon) == ("adam", 1e-3, 1e-8)
    assert make_options(optimizer="adamw").optimizer.weight_decay == 0.01
    assert make_options(optimizer="momentum").optimizer.momentum == 0.9
    assert make_options(optimizer="rmsprop").optimizer.rho == 0.9
    assert make_options(optimizer="ADAM", betas=(0.8, 0.99)).optimizer.beta2 == 0.99
    assert TrainOptions.from_json(make_options(early_stopping=2, metrics=["acc", "top3"]).to_json()) == \
        make_options(early_stopping=2, metrics=["acc", "top3"])


@pytest.mark.parametrize("arguments, message", [
    ({"optimizer": "adma"}, r"unknown optimizer 'adma'. Did you mean 'adam'\?"),
    ({"lr": 0}, "lr must be a positive number"),
    ({"optimizer": "sgd", "betas": (0.9, 0.99)}, "betas= applies to adam and adamw"),
    ({"optimizer": "sgd", "momentum": 0.9}, "momentum= does not apply to optimizer 'sgd'"),
    ({"optimizer": "momentum", "momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ({"weight_decay": -1}, "weight_decay must be >= 0"),
    ({"epochs": 0}, "epochs must be a whole number >= 1"),
    ({"batch_size": 2.5}, "batch_size must be a whole number >= 1"),
    ({"schedule": "linear"}, "unknown schedule 'linear'"),
    ({"schedule": "cosine", "min_lr": 1.0}, r"min_lr must be in \[0, lr="),
    ({"metrics": ["f1"]}, "unknown metric 'f1'"),
    ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ({"early_stopping": 1.5}, "early_stopping is a patience in epochs"),
    ({"checkpoint": "every"}, "unknown checkpoint 'every'"),
])
def test_bad_options_are_refused_with_what_to_do(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_options(**arguments)


def test_step_and_cosine_schedules():
    step = make_options(lr=0.1, schedule="step", step_size=2, gamma=0.5).schedule
    assert [learning_rate(0.1, step, epoch, 0, 100) for epoch in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    cosine = make_options(lr=0.1, schedule="cosine", min_lr=0.01).schedule
    assert learning_rate(0.1, cosine, 0, 0, 100) == pytest.approx(0.1)
    assert learning_rate(0.1, cosine, 0, 50, 100) == pytest.approx(0.055)
    assert learning_rate(0.1, cosine, 0, 100, 100) == pytest.approx(0.01)
    assert learning_rate(0.1, make_options().schedule, 7, 99, 100) == 0.1


def test_metrics_match_their_definitions():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((50, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 50)
    assert correct("accuracy", scores, labels, "cross_entropy", False) == np.sum(scores.argmax(1) == labels)
    ranks = (-scores).argsort(1)[:, :3]
    assert correct("top3", scores, labels, "cross_entropy", False) == sum(label in row for label, row in zip(labels, ranks))
    assert correct("top10", scores, labels, "cross_entropy", False) == 50
    logits = np.array([[2.0], [-1.0], [0.5]], np.float32)
    targets = np.array([[1.0], [1.0], [0.0]], np.float32)
    assert correct("accuracy", logits, targets, "binary_cross_entropy", False) == 1
    assert correct("accuracy", 1 / (1 + np.exp(-logits)), targets, "binary_cross_entropy", True) == 1
    probabilities = 1 / (1 + np.exp(-logits[:, 0]))
    assert correct("mae", logits, targets, "binary_cross_entropy", False) == pytest.approx(
        float(np.abs(probabilities - targets[:, 0]).sum()))
    predictions, truth = rng.standard_normal((8, 2)), rng.standard_normal((8, 2))
    assert correct("mae", predictions, truth, "mse", False) / 8 == pytest.approx(np.abs(predictions - truth).mean())
    assert [metric_name(name) for name in ("acc", "Top-5", "top_k", "mean_absolute_error")] == ["accuracy", "top5", "top5", "mae"]


def _classifier(outputs: int, final: str | None = None) -> nu.Sequential:
    return nu.Sequential([L.Dense(8, activation="relu"), L.Dense(outputs, activation=final)], input_shape=(4,))


@pytest.mark.parametrize("spec, task, classes, loss, message", [
    (_classifier(3), "classification", 5, "auto", r"labels go up to class 4 but spec 'model' has only 3 outputs: make its last layer Dense\(5\)"),
    (_classifier(3, "sigmoid"), "classification", 3, "auto", "ends in a sigmoid, which does not fit loss cross_entropy"),
    (_classifier(1, "softmax"), "classification", 2, "auto", "ends in softmax over 1 output"),
    (_classifier(3), "regression", None, "cross_entropy", "needs class labels; this dataset is a regression"),
    (_classifier(3), "classification", 3, "mse", "loss mse needs a regression dataset"),
    (_classifier(3), "classification", 3, "binary_cross_entropy", "needs a two-class dataset and a model with 1 output"),
])
def test_plans_refuse_a_loss_that_does_not_fit(spec, task, classes, loss, message):
    with pytest.raises(ValueError, match=message):
        make_plan(spec, make_options(loss=loss, metrics=()), task, classes, (1,) if task == "regression" else ())


def test_plans_choose_the_loss_and_whether_outputs_are_probabilities():
    options = make_options(metrics=())
    assert (make_plan(_classifier(3), options, "classification", 3, ()).loss, make_plan(_classifier(3), options, "classification", 3, ()).probabilities) == ("cross_entropy", False)
    assert make_plan(_classifier(3, "softmax"), options, "classification", 3, ()).probabilities
    binary = make_plan(_classifier(1, "sigmoid"), options, "classification", 2, ())
    assert (binary.loss, binary.probabilities) == ("binary_cross_entropy", True)
    assert binary.targets(np.array([0, 1, 1])).tolist() == [[0.0], [1.0], [1.0]]
    regression = make_plan(_classifier(2), options, "regression", None, (2,))
    assert regression.loss == "mse" and regression.targets(np.zeros((3, 2))).dtype == np.float32
    with pytest.raises(ValueError, match="metric 'top5' needs at least 5 classes"):
        make_plan(_classifier(3), make_options(metrics=["top5"]), "classification", 3, ())
    assert math.isclose(make_options(optimizer="sgd").optimizer.lr, 0.01)
