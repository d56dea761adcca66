"""Reference architectures built in every framework by the identity tests (one spec each, channels-first)."""

from __future__ import annotations

import numpy as np

import nbunify.layers as L
from nbunify.spec import Sequential


def mlp() -> Sequential:
    return Sequential([L.Dense(32, activation="relu"), L.Dropout(0.2), L.Dense(16, activation="tanh"),
                       L.Dense(3, activation="softmax")], input_shape=(8,), name="mlp")


def lenet5() -> Sequential:
    return Sequential([
        L.Conv2d(6, 5, padding=2, activation="relu"), L.MaxPool2d(2),
        L.Conv2d(16, 5, activation="relu"), L.MaxPool2d(2),
        L.Flatten(), L.Dense(120, activation="relu"), L.Dense(84, activation="relu"), L.Dense(10),
    ], input_shape=(1, 28, 28), name="lenet5")


def residual_cnn() -> Sequential:
    return Sequential([
        L.Conv2d(8, 3, padding=1), L.BatchNorm(), L.Activation("relu"),
        L.Residual([L.Conv2d(8, 3, padding=1), L.BatchNorm(), L.Activation("relu"), L.Conv2d(8, 3, padding=1), L.BatchNorm()]),
        L.Activation("relu"),
        L.Residual([L.Conv2d(16, 3, stride=2, padding="same"), L.BatchNorm(), L.Activation("gelu")],
                   shortcut=[L.Conv2d(16, 1, stride=2), L.BatchNorm()]),
        L.AvgPool2d(2), L.Flatten(), L.BatchNorm(), L.Dense(10, activation="softmax"),
    ], input_shape=(3, 16, 16), name="residual_cnn")


def depthwise_separable_cnn() -> Sequential:
    return Sequential([
        L.Conv2d(8, 3, stride=2, padding="same", activation="relu"),
        L.Conv2d(8, 3, padding="same", groups=8, use_bias=False), L.BatchNorm(), L.Activation("silu"),
        L.Conv2d(16, 1, activation="leaky_relu"),
        L.Conv2d(32, 3, padding=1, groups=16, dilation=1), L.Activation("sigmoid"),
        L.Concat([L.Conv2d(4, 1)], [L.Conv2d(4, 3, padding=2, dilation=2, activation="relu")], []),
        L.GlobalAvgPool2d(), L.Dense(10),
    ], input_shape=(3, 15, 15), name="depthwise_separable_cnn")


REFERENCE_SPECS = {"mlp": mlp, "lenet5": lenet5, "residual_cnn": residual_cnn,
                   "depthwise_separable_cnn": depthwise_separable_cnn}


def random_weights(spec: Sequential, seed: int = 1) -> dict[str, np.ndarray]:
    """Random weights at a realistic scale (std 1/sqrt(fan_in)), with random BatchNorm statistics too
    (the seeded ones are 0/1, which would hide layout bugs). Outputs stay of order 1, where float32
    resolves 1e-5."""
    rng = np.random.default_rng(seed)
    result = {}
    for key, parameter in spec.parameters().items():
        if key.endswith("running_var"):
            value = rng.uniform(0.5, 2.0, parameter.shape)
        elif key.endswith("running_mean") or parameter.init == "zeros":
            value = rng.normal(0.0, 0.3, parameter.shape)
        elif parameter.init == "ones":
            value = rng.uniform(0.5, 1.5, parameter.shape)
        else:
            value = rng.normal(0.0, 1.0 / np.sqrt(parameter.fan_in), parameter.shape)
        result[key] = value.astype(np.float32)
    return result


def random_inputs(spec: Sequential, batch: int = 4, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *spec.input_shape)).astype(np.float32)
