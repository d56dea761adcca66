"""The torch training step: a torch.optim optimizer and a torch loss on a model nu.build made (see nbunify/train/plan.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nbunify.backends import train_spec
from nbunify.train.options import OptimizerOptions
from nbunify.train.plan import TrainPlan

#: Probabilities are clipped to [CLIP, 1 - CLIP] before their log (Keras's ``from_logits=False``).
CLIP = 1e-7
MODEL_FILE, OPTIMIZER_FILE, RNG_FILE = "model.pt", "optimizer.pt", "rng.pt"

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Trainer:
    """One torch optimizer step per ``train_step`` on canonical numpy batches (torch's layouts are canonical).

    The optimizers are torch's own classes, and nbunify's hyper-parameters have torch's meaning, so the
    mapping is one to one and no formula differs (``wd`` is ``weight_decay``, on ``model.parameters()``)::

        sgd       SGD(lr, weight_decay=wd)
        momentum  SGD(lr, momentum, dampening=0, nesterov=False, weight_decay=wd)
        adam      Adam(lr, betas=(beta1, beta2), eps=epsilon, weight_decay=wd)        L2 added to the gradient
        adamw     AdamW(lr, betas=(beta1, beta2), eps=epsilon, weight_decay=wd)       decoupled decay
        rmsprop   RMSprop(lr, alpha=rho, eps=epsilon, weight_decay=wd, momentum=0, centered=False)
        adagrad   Adagrad(lr, lr_decay=0, weight_decay=wd, initial_accumulator_value=0, eps=epsilon)

    The one torch-specific trait: an LSTM or SimpleRNN keeps two biases (``bias_ih`` + ``bias_hh`` is the
    canonical bias); both are parameters with the same gradient, so the canonical bias (their sum) moves
    twice as far per step as a framework's single bias would (weight decay applies to each of the two).

    Losses: ``F.cross_entropy`` on logits, the mean ``-log(clip(p[target]))`` on softmax probabilities,
    ``F.binary_cross_entropy_with_logits`` on a logit, ``F.binary_cross_entropy`` of the clipped sigmoid,
    ``F.mse_loss``; all means over the batch. ``save`` writes ``model.pt`` (the model's state_dict),
    ``optimizer.pt`` (the optimizer's state_dict: moments, step counts, current lr) and ``rng.pt`` (torch's
    CPU random state, so dropout continues the same after a resume).
    """

    def __init__(self, model: nn.Module, plan: TrainPlan) -> None:
        self.spec = train_spec(model, "torch")
        self.model = model
        self.plan = plan
        torch.manual_seed(plan.seed)  # dropout masks: the same seed gives the same run
        self.optimizer = make_optimizer(model.parameters(), plan.optimizer)
        self._loss = make_loss(plan.loss, plan.probabilities)
        reference = next(model.parameters(), None)
        device = reference.device if reference is not None else torch.device("cpu")
        self._device = None if device.type == "cpu" else device  # inputs are moved only off the CPU
        self._modules = list(model.modules())
        model.train()

    def set_learning_rate(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        if self._device is not None:
            inputs, targets = inputs.to(self._device), targets.to(self._device)
        self.optimizer.zero_grad(set_to_none=True)
        outputs = self.model(inputs)
        loss = self._loss(outputs, targets)
        loss.backward()
        self.optimizer.step()
        outputs = outputs.detach()
        return loss.item(), (outputs if self._device is None else outputs.cpu()).numpy()

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        if self._device is not None:
            inputs, targets = inputs.to(self._device), targets.to(self._device)
        modes = [module.training for module in self._modules]
        self.model.eval()
        try:
            with torch.inference_mode():
                outputs = self.model(inputs)
                loss = self._loss(outputs, targets).item()
        finally:
            for module, training in zip(self._modules, modes):
                module.training = training
        return loss, (outputs if self._device is None else outputs.cpu()).numpy()

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.model.state_dict(), directory / MODEL_FILE)
        torch.save(self.optimizer.state_dict(), directory / OPTIMIZER_FILE)
        torch.save(torch.get_rng_state(), directory / RNG_FILE)

    def restore(self, directory: Path) -> None:
        directory = Path(directory)
        device = self._device or "cpu"
        self.model.load_state_dict(torch.load(directory / MODEL_FILE, map_location=device, weights_only=True))
        self.optimizer.load_state_dict(torch.load(directory / OPTIMIZER_FILE, map_location=device, weights_only=True))
        if (directory / RNG_FILE).exists():
            torch.set_rng_state(torch.load(directory / RNG_FILE, weights_only=True))


def make_optimizer(parameters, options: OptimizerOptions) -> torch.optim.Optimizer:
    """The torch.optim optimizer of ``options`` (torch's meaning of every hyper-parameter, so a 1:1 mapping)."""
    o = options
    if o.name == "sgd":
        return torch.optim.SGD(parameters, lr=o.lr, weight_decay=o.weight_decay)
    if o.name == "momentum":
        return torch.optim.SGD(parameters, lr=o.lr, momentum=o.momentum, dampening=0.0, nesterov=False,
                               weight_decay=o.weight_decay)
    if o.name in ("adam", "adamw"):
        kind = torch.optim.AdamW if o.name == "adamw" else torch.optim.Adam
        return kind(parameters, lr=o.lr, betas=(o.beta1, o.beta2), eps=o.epsilon, weight_decay=o.weight_decay)
    if o.name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=o.lr, alpha=o.rho, eps=o.epsilon, weight_decay=o.weight_decay,
                                   momentum=0.0, centered=False)
    if o.name == "adagrad":
        return torch.optim.Adagrad(parameters, lr=o.lr, lr_decay=0.0, weight_decay=o.weight_decay,
                                   initial_accumulator_value=0.0, eps=o.epsilon)
    raise ValueError(f"the torch backend has no optimizer {o.name!r}")


def make_loss(name: str, probabilities: bool) -> Loss:
    """``loss(outputs, targets)``: the batch mean of the plan's loss (see the Trainer docstring).

    The clip is float32's: ``1 - 1e-7`` rounds to ``1 - 1.19e-7``, so a saturated wrong sigmoid costs at most
    ``-log(1.19e-7) = 15.94`` per sample (Keras's float32 clip gives the same), not float64's 16.12.
    """
    if name == "cross_entropy":
        if probabilities:
            return lambda p, y: p.gather(1, y.unsqueeze(1)).clamp(CLIP, 1 - CLIP).log().mean().neg()
        return F.cross_entropy
    if name == "binary_cross_entropy":
        if probabilities:
            return lambda p, y: F.binary_cross_entropy(p.clamp(CLIP, 1 - CLIP), y)
        return F.binary_cross_entropy_with_logits
    if name == "mse":
        return F.mse_loss
    raise ValueError(f"the torch backend has no loss {name!r}")
