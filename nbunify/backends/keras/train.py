"""The keras training step: a keras optimizer and loss in one compiled tf.function (see nbunify/train/plan.py).

Where keras's formula is not torch's (nbunify's meaning). Deviations are max |loss| and max |weight| against the
float64 oracle over the 20 steps of tests/test_train_keras.py (lr 0.01-0.1, step and cosine rates, wd 0 and 0.01);
float32 rounding alone is ~1e-7 (sgd), and against an oracle using keras's epsilon placement every optimizer
stays within 6.1e-7 / 6.9e-7, so the table's excess is the formula difference:

    optimizer  keras's formula                          mapping                            vs torch's formula
    sgd        torch's                                  -                                  1.3e-7 / 1.0e-7
    momentum   m = mu*m - lr*g (-lr * torch's buffer)   momentums *= new/old rate when     1.1e-7 / 1.1e-7 (exact;
                                                        set_learning_rate changes it       unscaled: 4e-2 / 5e-2)
    adam       eps added to sqrt(v), not sqrt(v_hat):   epsilon = eps * sqrt(1 - beta2**t) exact (a constant eps:
               keras's eps is torch's eps *             at step t, in the compiled step    1.4e-5 / 3.2e-4 with L2
               sqrt(1 - beta2**t)                                                          wd, 7.2e-7 / 1.6e-5 without)
    adamw      as adam; its weight_decay is decoupled   as adam; weight_decay = wd         exact (constant: 1.6e-5)
    rmsprop    sqrt(v + eps), not sqrt(v) + eps         epsilon = eps**2 (equal at v = 0   4.7e-6 / 1.1e-4
                                                        and for v >> eps**2)
    adagrad    sqrt(s + eps), s starts at 0.1           epsilon = eps**2,                  2.0e-7 / 9.9e-7
                                                        initial_accumulator_value = 0

The epsilon differences matter only where sqrt(v) is near epsilon (gradients ~1e-8): there a parameter moves
by up to ~lr per step more or less than in torch. L2 weight decay (every optimizer but adamw) is added to the
gradients inside the compiled step (keras's own ``weight_decay=`` is decoupled, right for adamw only).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nbunify.backends import train_spec
from nbunify.backends.keras.layout import keras_shape, to_canonical_outputs, to_keras_inputs
from nbunify.frameworks import load
from nbunify.train.options import OptimizerOptions
from nbunify.train.plan import TrainPlan

WEIGHTS_FILE, RNG_FILE = "model.weights.h5", "rng.npy"
SEED_STATE = "seed_generator_state"  # the variable of each keras.random.SeedGenerator (Dropout masks)


class Trainer:
    """One keras optimizer step per ``train_step``: the Keras guide's training loop from scratch.

    ``tf.GradientTape`` around ``model(x, training=True)`` and a keras loss, ``tape.gradient``, then
    ``optimizer.apply_gradients``, all in one ``tf.function`` traced once (its batch axis is None, so a
    smaller last batch does not retrace). Optimizers, keras's own classes (``wd`` = weight_decay)::

        sgd       SGD(lr)                                            + wd * p added to the gradients
        momentum  SGD(lr, momentum)                                  + wd * p; momentums rescaled on a rate change
        adam      Adam(lr, beta_1, beta_2, epsilon)                  + wd * p; epsilon * sqrt(1 - beta_2**t) at step t
        adamw     AdamW(lr, weight_decay=wd, beta_1, beta_2, epsilon)           epsilon * sqrt(1 - beta_2**t) at step t
        rmsprop   RMSprop(lr, rho, momentum=0, epsilon=eps**2, centered=False)   + wd * p
        adagrad   Adagrad(lr, initial_accumulator_value=0, epsilon=eps**2)       + wd * p

    The learning rate lives in the optimizer's variable, so ``set_learning_rate`` changes it without a
    retrace. Losses: SparseCategoricalCrossentropy, BinaryCrossentropy (``from_logits`` when the spec
    ends in plain scores), MeanSquaredError; all means over the batch. Keras's TensorFlow backend, in a
    graph, replaces a softmax/sigmoid output by its logits (no clip); nbunify's meaning clips the
    probabilities, so they reach the loss through ``tf.identity``, which keeps keras's from_logits=False
    formula. Sparse (embedding) gradients are made dense, as torch's are. Keras has no training mode to
    switch: ``training=True`` / ``False`` is passed per call, so ``evaluate`` leaves nothing to restore.

    The model is compiled with this optimizer and loss (``model.compile``), so ``save`` writes keras's
    own ``model.weights.h5`` holding the weights, BatchNorm statistics and the optimizer's variables
    (iteration count, learning rate, moments), plus ``rng.npy``, the dropout seed generators' states.
    """

    def __init__(self, model: Any, plan: TrainPlan) -> None:
        keras, tf = load("keras"), load("tensorflow")
        self._tf = tf
        self.spec = spec = train_spec(model, "keras")
        self.model = model
        self.plan = plan
        self._seeds = [variable for variable in model.variables if variable.name == SEED_STATE]
        tf.random.set_seed(plan.seed)
        for index, variable in enumerate(self._seeds):  # dropout masks: the same seed gives the same run
            state = np.random.SeedSequence([plan.seed, index]).generate_state(1, np.uint32)[0] >> 1
            variable.assign(np.array([state, 0], np.int64))
        self.optimizer = make_optimizer(keras, plan.optimizer)
        self._variables = list(model.trainable_variables)
        self.optimizer.build(self._variables)
        self._loss = make_loss(keras, plan.loss, plan.probabilities)
        model.compile(optimizer=self.optimizer, loss=self._loss)
        self._lr = float(np.float32(plan.optimizer.lr))  # the rate as the optimizer's float32 variable holds it
        self._momentums = list(self.optimizer.momentums) if plan.optimizer.name == "momentum" else []
        self._rescale = None  # traced on the first rate change of a momentum optimizer
        self._input_layout = spec.input_layout
        self._output_layout = spec.output_layout
        self._permutation = getattr(getattr(model, "_nbunify_layout", None), "output_permutation", None)
        self._keras_targets = plan.loss == "mse" and (spec.output_layout == "map" or self._permutation is not None)

        decay = 0.0 if plan.optimizer.decoupled_weight_decay else plan.optimizer.weight_decay
        probabilities = plan.probabilities
        epsilon_follows_step = plan.optimizer.name in ("adam", "adamw")
        epsilon, beta2 = plan.optimizer.epsilon, plan.optimizer.beta2
        variables, optimizer, loss_function = self._variables, self.optimizer, self._loss
        x_spec = tf.TensorSpec((None, *keras_shape(spec.input_shape, spec.input_layout)),
                               tf.int64 if spec.input_layout == "tokens" else tf.float32)
        y_spec = (tf.TensorSpec((None,), tf.int64) if plan.loss == "cross_entropy" else
                  tf.TensorSpec((None, 1), tf.float32) if plan.loss == "binary_cross_entropy" else
                  tf.TensorSpec((None, *keras_shape(spec.output_shape, spec.output_layout)), tf.float32))

        def train(x: Any, y: Any) -> tuple[Any, Any]:
            with tf.GradientTape() as tape:
                outputs = model(x, training=True)
                loss = loss_function(y, tf.identity(outputs) if probabilities else outputs)
            gradients = tape.gradient(loss, variables)
            gradients = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]
            if decay:  # torch's L2 weight decay (keras's weight_decay= is decoupled)
                gradients = [g if g is None else g + decay * v for g, v in zip(gradients, variables)]
            if epsilon_follows_step:
                # keras adds epsilon to sqrt(v) where torch adds it to sqrt(v / (1 - beta2**t)): torch's epsilon
                # times sqrt(1 - beta2**t) is keras's at step t, computed in the graph (the float is put back)
                step = tf.cast(optimizer.iterations + 1, tf.float32)
                optimizer.epsilon = epsilon * tf.sqrt(1.0 - tf.pow(tf.constant(beta2, tf.float32), step))
                try:
                    optimizer.apply_gradients(zip(gradients, variables))
                finally:
                    optimizer.epsilon = epsilon
            else:
                optimizer.apply_gradients(zip(gradients, variables))
            return loss, outputs

        def evaluate(x: Any, y: Any) -> tuple[Any, Any]:
            outputs = model(x, training=False)
            return loss_function(y, tf.identity(outputs) if probabilities else outputs), outputs

        self._train = tf.function(train, input_signature=(x_spec, y_spec))
        self._evaluate = tf.function(evaluate, input_signature=(x_spec, y_spec))

    def set_learning_rate(self, lr: float) -> None:
        lr = float(np.float32(lr))
        if self._momentums and self._lr > 0 and lr != self._lr:
            # keras keeps m = mu*m - lr*g, i.e. -lr times torch's buffer: carry it over to the new rate
            if self._rescale is None:
                self._rescale = self._tf.function(self._scale_momentums)
            self._rescale(self._tf.constant(lr / self._lr, self._tf.float32))
        self.optimizer.learning_rate.assign(lr)
        self._lr = lr

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss, outputs = self._train(to_keras_inputs(x, self._input_layout), self._targets(y))
        return float(loss), to_canonical_outputs(outputs.numpy(), self._output_layout, self._permutation)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss, outputs = self._evaluate(to_keras_inputs(x, self._input_layout), self._targets(y))
        return float(loss), to_canonical_outputs(outputs.numpy(), self._output_layout, self._permutation)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_weights(directory / WEIGHTS_FILE)  # a compiled model's file holds its optimizer too
        np.save(directory / RNG_FILE, np.array([variable.numpy() for variable in self._seeds], np.int64).reshape(-1, 2))

    def restore(self, directory: Path) -> None:
        directory = Path(directory)
        with warnings.catch_warnings():  # keras only warns when the optimizer's variables do not fit: a failed resume
            warnings.filterwarnings("error", message="Skipping variable loading for optimizer")
            self.model.load_weights(directory / WEIGHTS_FILE)
        for variable, state in zip(self._seeds, np.load(directory / RNG_FILE)):
            variable.assign(state)
        self._lr = float(self.optimizer.learning_rate.numpy())

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """mse targets of a map or flattened-map output, laid out as keras's outputs; other targets as they are."""
        if not self._keras_targets:
            return y
        if self._permutation is not None:
            return y[:, self._permutation]
        return np.ascontiguousarray(np.moveaxis(y, 1, -1))

    def _scale_momentums(self, ratio: Any) -> None:
        for momentum in self._momentums:
            momentum.assign(momentum * ratio)


def make_optimizer(keras: Any, options: OptimizerOptions) -> Any:
    """The keras optimizer closest to torch's formula for ``options`` (L2 weight decay is added by the step)."""
    name, lr = options.name, options.lr
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate=lr, momentum=options.momentum, nesterov=False)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr, beta_1=options.beta1, beta_2=options.beta2,
                                     epsilon=options.epsilon, amsgrad=False)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=lr, weight_decay=options.weight_decay, beta_1=options.beta1,
                                      beta_2=options.beta2, epsilon=options.epsilon, amsgrad=False)
    if name == "rmsprop":  # keras: sqrt(v + epsilon); torch: sqrt(v) + epsilon
        return keras.optimizers.RMSprop(learning_rate=lr, rho=options.rho, momentum=0.0,
                                        epsilon=options.epsilon ** 2, centered=False)
    if name == "adagrad":  # keras: sqrt(s + epsilon), s from 0.1 by default; torch: sqrt(s) + epsilon, s from 0
        return keras.optimizers.Adagrad(learning_rate=lr, initial_accumulator_value=0.0,
                                        epsilon=options.epsilon ** 2)
    raise ValueError(f"unknown optimizer {name!r}")


def make_loss(keras: Any, loss: str, probabilities: bool) -> Any:
    """The keras loss of a plan (mean over the batch); probabilities are clipped to [1e-7, 1 - 1e-7]."""
    if loss == "cross_entropy":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=not probabilities)
    if loss == "binary_cross_entropy":
        return keras.losses.BinaryCrossentropy(from_logits=not probabilities)
    return keras.losses.MeanSquaredError()
