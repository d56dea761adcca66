"""The paddle training step: paddle.optimizer's own classes and paddle's losses on a model nu.build made (dygraph).

Optimizers (torch meaning of every option, nbunify/train/options.py), all over every trainable parameter:
sgd -> SGD, momentum -> Momentum(use_nesterov=False), adam -> Adam, adamw -> AdamW (its own decoupled
``p *= 1 - lr * weight_decay``), rmsprop -> RMSProp(rho, momentum=0, centered=False), adagrad ->
Adagrad(initial_accumulator_value=0). ``weight_decay`` is paddle's L2Decay (added to the gradient) for all
but adamw; 0 gives no regularizer. Where paddle computes a formula differently (20 oracle steps of
tests/test_train_paddle.py, float32 against float64; every other optimizer is within 2.3e-7):

    optimizer  paddle's formula                 mapping                  max |weight - oracle|
    rmsprop    g / sqrt(v + eps'), not          eps' = epsilon ** 2      4.2e-6 (1.8e-7 on the loss);
               g / (sqrt(v) + eps)              (equal where v ~ 0)      1e-7 against the eps-inside oracle

BatchNorm (paddle, not this file) updates its running variance with the biased batch variance (torch: unbiased).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from nbunify.backends import train_spec
from nbunify.frameworks import load
from nbunify.train.options import OptimizerOptions
from nbunify.train.plan import TrainPlan

paddle = load("paddle")
F = paddle.nn.functional

#: probabilities are clipped to [CLIP, 1 - CLIP] before their log (Keras's from_logits=False)
CLIP = 1e-7
MODEL_FILE = "model.pdparams"
OPTIMIZER_FILE = "optimizer.pdopt"
RNG_FILE = "rng.pdstate"


def make_optimizer(options: OptimizerOptions, parameters: list) -> Any:
    """The paddle.optimizer for ``options`` (torch meaning, see the module docstring) over ``parameters``."""
    o = options
    decay = o.weight_decay or None  # a float is paddle's L2Decay: weight_decay * p added to the gradient
    if o.name == "sgd":
        return paddle.optimizer.SGD(learning_rate=o.lr, parameters=parameters, weight_decay=decay)
    if o.name == "momentum":
        return paddle.optimizer.Momentum(learning_rate=o.lr, momentum=o.momentum, parameters=parameters,
                                         use_nesterov=False, weight_decay=decay)
    if o.name == "adam":
        return paddle.optimizer.Adam(learning_rate=o.lr, beta1=o.beta1, beta2=o.beta2, epsilon=o.epsilon,
                                     parameters=parameters, weight_decay=decay)
    if o.name == "adamw":  # decoupled: p *= 1 - lr * weight_decay, on every parameter (no apply_decay_param_fun)
        return paddle.optimizer.AdamW(learning_rate=o.lr, beta1=o.beta1, beta2=o.beta2, epsilon=o.epsilon,
                                      parameters=parameters, weight_decay=o.weight_decay)
    if o.name == "rmsprop":  # paddle divides by sqrt(v + eps): eps**2 there is torch's sqrt(v) + eps where v ~ 0
        return paddle.optimizer.RMSProp(learning_rate=o.lr, rho=o.rho, epsilon=o.epsilon ** 2, momentum=0.0,
                                        centered=False, parameters=parameters, weight_decay=decay)
    if o.name == "adagrad":
        return paddle.optimizer.Adagrad(learning_rate=o.lr, epsilon=o.epsilon, parameters=parameters,
                                        weight_decay=decay, initial_accumulator_value=0.0)
    raise ValueError(f"paddle: unknown optimizer {o.name!r}")


def make_loss(plan: TrainPlan) -> Callable[[Any, Any], Any]:
    """``loss(outputs, targets)``, the batch mean, as plan.loss and plan.probabilities say."""
    if plan.loss == "cross_entropy":
        if plan.probabilities:
            return lambda outputs, y: F.nll_loss(paddle.log(paddle.clip(outputs, CLIP, 1 - CLIP)), y)
        return F.cross_entropy  # log-softmax over the last axis, int64 (N,) labels, mean
    if plan.loss == "binary_cross_entropy":
        if plan.probabilities:
            return lambda outputs, y: F.binary_cross_entropy(paddle.clip(outputs, CLIP, 1 - CLIP), y)
        return F.binary_cross_entropy_with_logits
    return F.mse_loss


class Trainer:
    """One native paddle optimizer step per batch of canonical numpy arrays (see nbunify/train/plan.py)."""

    def __init__(self, model: Any, plan: TrainPlan) -> None:
        train_spec(model, "paddle")
        self.model = model
        self.plan = plan
        paddle.seed(plan.seed)  # dropout masks come from paddle's global generator
        # BatchNorm's _mean/_variance are parameters with stop_gradient: the optimizer leaves them out
        named = [(name, p) for name, p in model.named_parameters() if not p.stop_gradient]
        self._parameters = [p for _, p in named]
        self._names = {p.name: name for name, p in named}  # paddle's global unique name -> the model's key
        self.optimizer = make_optimizer(plan.optimizer, self._parameters)
        self._loss = make_loss(plan)
        model.train()

    def set_learning_rate(self, lr: float) -> None:
        self.optimizer.set_lr(float(lr))

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        outputs = self.model(paddle.to_tensor(x))
        loss = self._loss(outputs, paddle.to_tensor(y))
        loss.backward()
        self.optimizer.step()
        self.optimizer.clear_grad()
        return float(loss), outputs.numpy()

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        self.model.eval()  # BatchNorm uses (and keeps) its running statistics, dropout is off
        try:
            with paddle.no_grad():
                outputs = self.model(paddle.to_tensor(x))
                loss = self._loss(outputs, paddle.to_tensor(y))
            return float(loss), outputs.numpy()
        finally:
            self.model.train()

    def save(self, directory: Path) -> None:
        """``model.pdparams`` (model.state_dict), ``optimizer.pdopt`` (accumulators and the rate) and ``rng.pdstate``.

        The optimizer's tensors are keyed ``<parameter key>/<accumulator>`` (``dense_1.weight/moment1``), not by
        paddle's own names, which follow the process-wide unique parameter names (``linear_7.w_0_moment1_0``)
        and so would not match a fresh build of the same spec.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        accumulators = {f"{self._names[name]}/{kind}": tensor
                        for kind, tensors in self.optimizer._accumulators.items() for name, tensor in tensors.items()}
        paddle.save(self.model.state_dict(), str(directory / MODEL_FILE))
        paddle.save({"learning_rate": float(self.optimizer.get_lr()), "accumulators": accumulators},
                    str(directory / OPTIMIZER_FILE))
        paddle.save(paddle.get_rng_state(), str(directory / RNG_FILE))

    def restore(self, directory: Path) -> None:
        """The inverse of ``save``: the next steps continue exactly as an uninterrupted trainer's would."""
        directory = Path(directory)
        weights = paddle.load(str(directory / MODEL_FILE))
        state = paddle.load(str(directory / OPTIMIZER_FILE))
        missing = set(self.model.state_dict()) - set(weights)
        if missing:
            raise ValueError(f"paddle: {directory / MODEL_FILE} holds no {', '.join(sorted(missing)[:5])}: it was "
                             f"saved from another model")
        self.model.set_state_dict(weights)
        saved = state["accumulators"]
        optimizer = self.optimizer
        if saved:
            # paddle creates an optimizer's accumulators at its first step; create them now to load into them
            if optimizer.helper is None:
                optimizer.helper = paddle.base.layer_helper.LayerHelper(type(optimizer).__name__)
            optimizer._create_accumulators(paddle.base.framework.default_main_program().global_block(),
                                           self._parameters)
        for kind, tensors in optimizer._accumulators.items():
            for name, tensor in tensors.items():
                key = f"{self._names[name]}/{kind}"
                if key not in saved:
                    raise ValueError(f"paddle: {directory / OPTIMIZER_FILE} holds no optimizer state {key!r}: it was "
                                     f"saved by another optimizer or model")
                tensor.set_value(saved[key])
        self.set_learning_rate(state["learning_rate"])
        paddle.set_rng_state(paddle.load(str(directory / RNG_FILE)))
