"""A float64 numpy oracle of nbunify's training semantics: a Dense chain trained by each optimizer, step by step.

The formulas are torch's (the meaning nbunify gives every hyper-parameter): L2 weight decay added to
the gradient, except adamw's decoupled decay; momentum buffers of gradients; epsilon outside the
square root. Tests hold each framework's native loop against it.
"""

from __future__ import annotations

import numpy as np

import nbunify.layers as L
from nbunify.spec import Sequential
from nbunify.train.options import ScheduleOptions, TrainOptions, make_options
from nbunify.train.plan import TrainPlan, make_plan
from nbunify.train.schedules import learning_rate

CLIP = 1e-7
#: The backend tests' oracle runs: 20 steps of 16 samples.
STEPS, BATCH = 20, 16
#: A rate per optimizer that moves the weights far beyond the tests' tolerances within 20 steps.
RATES = {"sgd": 0.1, "momentum": 0.05, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01, "adagrad": 0.1}


def dense_chain(inputs: int = 8, hidden: int = 16, outputs: int = 5, final: str | None = None) -> Sequential:
    """Dense(hidden, relu) -> Dense(outputs, final): small enough for an exact oracle."""
    return Sequential([L.Dense(hidden, activation="relu"), L.Dense(outputs, activation=final)],
                      input_shape=(inputs,), name="dense_chain")


def dense_plan(loss: str, final: str | None, **options) -> tuple[Sequential, TrainPlan]:
    """dense_chain (1 output for binary cross-entropy, else 5) and its plan for ``loss`` and the options."""
    outputs = 1 if loss == "binary_cross_entropy" else 5
    spec = dense_chain(outputs=outputs, final=final)
    regression = loss == "mse"
    train_options = make_options(loss=loss, metrics=("mae",) if regression else ("accuracy",), **options)
    plan = make_plan(spec, train_options, "regression" if regression else "classification",
                     None if regression else max(outputs, 2), (outputs,))
    return spec, plan


def batches(plan: TrainPlan, seed: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """STEPS seeded batches of (x, plan.targets(y)) for dense_chain."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(STEPS):
        x = rng.standard_normal((BATCH, 8)).astype(np.float32)
        if plan.loss == "mse":
            y = rng.standard_normal((BATCH, plan.outputs)).astype(np.float32)
        else:
            y = rng.integers(0, max(plan.outputs, 2), BATCH)
        result.append((x, plan.targets(y)))
    return result


def rates(base: float, schedule: str) -> list[float]:
    """Per-step rates: a step change at step 10 (two "epochs" of 10 steps), or per-step cosine."""
    if schedule == "step":
        return [learning_rate(base, ScheduleOptions("step", step_size=1, gamma=0.3), step // 10, step, STEPS)
                for step in range(STEPS)]
    return [learning_rate(base, ScheduleOptions("cosine", min_lr=base / 10), 0, step, STEPS) for step in range(STEPS)]


def _forward(weights: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pre = x @ weights["dense_1.weight"].T + weights["dense_1.bias"]
    hidden = np.maximum(pre, 0)
    return pre, hidden, hidden @ weights["dense_2.weight"].T + weights["dense_2.bias"]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_and_gradient(weights: dict, x: np.ndarray, y: np.ndarray, loss: str, final: str | None) -> tuple[float, dict]:
    """Mean loss of the batch and d loss / d weights (canonical names and layouts)."""
    pre, hidden, z = _forward(weights, x)
    n = len(x)
    if loss == "cross_entropy":
        p = _softmax(z)
        onehot = np.eye(z.shape[1])[y]
        if final == "softmax":  # log of clipped probabilities: no gradient where the clip is active
            clipped = np.clip(p, CLIP, 1 - CLIP)
            value = -np.log(clipped[np.arange(n), y]).mean()
            active = (p[np.arange(n), y] > CLIP) & (p[np.arange(n), y] < 1 - CLIP)
            dz = (p - onehot) * active[:, None] / n
        else:
            value = -np.log(p[np.arange(n), y]).mean()
            dz = (p - onehot) / n
    elif loss == "binary_cross_entropy":
        t = y.reshape(-1, 1).astype(np.float64)
        s = 1 / (1 + np.exp(-z))
        dz = (s - t) / n
        if final == "sigmoid":  # log of clipped probabilities: no gradient where the clip is active
            clipped = np.clip(s, CLIP, 1 - CLIP)
            value = -(t * np.log(clipped) + (1 - t) * np.log(1 - clipped)).mean()
            dz = dz * ((s > CLIP) & (s < 1 - CLIP))
        else:
            value = (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean()
    else:
        target = y.reshape(z.shape)
        value = ((z - target) ** 2).mean()
        dz = 2 * (z - target) / z.size
    grads = {"dense_2.weight": dz.T @ hidden, "dense_2.bias": dz.sum(axis=0)}
    dpre = (dz @ weights["dense_2.weight"]) * (pre > 0)
    grads["dense_1.weight"] = dpre.T @ x
    grads["dense_1.bias"] = dpre.sum(axis=0)
    return float(value), grads


class Optimizer:
    """torch.optim semantics for sgd, momentum, adam, adamw, rmsprop and adagrad (no amsgrad, nesterov or centering)."""

    def __init__(self, options: TrainOptions) -> None:
        self.o = options.optimizer
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.t = 0

    def step(self, weights: dict, grads: dict, lr: float) -> None:
        o = self.o
        self.t += 1
        for key, p in weights.items():
            g = grads[key].copy()
            s = self.state.setdefault(key, {})
            if o.name == "adamw":
                p *= 1 - lr * o.weight_decay
            elif o.weight_decay:
                g += o.weight_decay * p
            if o.name == "sgd":
                p -= lr * g
            elif o.name == "momentum":
                s["b"] = o.momentum * s["b"] + g if "b" in s else g.copy()
                p -= lr * s["b"]
            elif o.name in ("adam", "adamw"):
                s["m"] = o.beta1 * s.get("m", 0) + (1 - o.beta1) * g
                s["v"] = o.beta2 * s.get("v", 0) + (1 - o.beta2) * g * g
                m_hat = s["m"] / (1 - o.beta1 ** self.t)
                v_hat = s["v"] / (1 - o.beta2 ** self.t)
                p -= lr * m_hat / (np.sqrt(v_hat) + o.epsilon)
            elif o.name == "rmsprop":
                s["v"] = o.rho * s.get("v", 0) + (1 - o.rho) * g * g
                p -= lr * g / (np.sqrt(s["v"]) + o.epsilon)
            elif o.name == "adagrad":
                s["sum"] = s.get("sum", 0) + g * g
                p -= lr * g / (np.sqrt(s["sum"]) + o.epsilon)
            else:
                raise ValueError(o.name)


def train(weights: dict, batches: list, options: TrainOptions, loss: str, final: str | None,
          learning_rates: list[float], optimizer_class: type = Optimizer) -> tuple[list[float], dict]:
    """Per-step losses and the final weights (float64) of training on ``batches`` with the given per-step rates
    (``optimizer_class``: Optimizer, or a subclass computing a framework's own variant of a formula)."""
    weights = {key: np.asarray(value, np.float64).copy() for key, value in weights.items()}
    optimizer = optimizer_class(options)
    losses = []
    for (x, y), lr in zip(batches, learning_rates):
        value, grads = loss_and_gradient(weights, np.asarray(x, np.float64), y, loss, final)
        losses.append(value)
        optimizer.step(weights, grads, lr)
    return losses, weights
