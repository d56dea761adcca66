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


def lstm_text_classifier() -> Sequential:
    return Sequential([
        L.Embedding(40, 16), L.LSTM(24, return_sequences=True, bidirectional=True), L.Dropout(0.2),
        L.LSTM(16), L.Dense(4, activation="softmax"),
    ], input_shape=(12,), name="lstm_text_classifier")


def gru_text_classifier() -> Sequential:
    return Sequential([
        L.Embedding(40, 16), L.GRU(20, return_sequences=True), L.GRU(12, bidirectional=True),
        L.Dense(4, activation="softmax"),
    ], input_shape=(12,), name="gru_text_classifier")


def transformer_classifier() -> Sequential:
    return Sequential([
        L.Embedding(30, 16), L.TransformerEncoder(4, dim_feedforward=32),
        L.TransformerEncoder(2, dim_feedforward=24, activation="gelu", norm_first=True),
        L.GlobalAvgPool1d(), L.Dense(3, activation="softmax"),
    ], input_shape=(10,), name="transformer_classifier")


#: The architectures of the identity proof (issue: build once).
REFERENCE_SPECS = {"mlp": mlp, "lenet5": lenet5, "residual_cnn": residual_cnn,
                   "depthwise_separable_cnn": depthwise_separable_cnn, "lstm_text_classifier": lstm_text_classifier,
                   "gru_text_classifier": gru_text_classifier, "transformer_classifier": transformer_classifier}


def conv1d_text() -> Sequential:
    """Every 1-D layer and the sequence <-> map transposes."""
    return Sequential([
        L.Embedding(25, 8), L.Transpose(), L.Conv1d(12, 4, stride=2, padding="same", activation="relu"),
        L.BatchNorm(), L.MaxPool1d(2), L.Conv1d(12, 3, padding=2, dilation=2, groups=4, activation="softmax"),
        L.AvgPool1d(3, stride=1), L.Transpose(), L.SimpleRNN(6, return_sequences=True, bidirectional=True),
        L.LayerNorm(), L.MultiHeadAttention(3), L.Concat([L.Dense(4, activation="softmax")], []),
        L.Residual([L.Dense(16, activation="gelu")]), L.GlobalAvgPool1d(), L.LayerNorm(epsilon=1e-3), L.Dense(2),
    ], input_shape=(30,), name="conv1d_text")


def decoder() -> Sequential:
    """Reshape and transposed convolutions, then back to a sequence for a recurrent head."""
    return Sequential([
        L.Dense(32, activation="tanh"), L.Reshape((2, 4, 4)),
        L.ConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1, activation="relu"), L.BatchNorm(),
        L.ConvTranspose2d(3, (2, 3), stride=(2, 1), use_bias=False), L.Flatten(), L.Reshape((-1, 16)),
        L.GRU(5, return_sequences=True), L.Flatten(), L.Dense(3),
    ], input_shape=(6,), name="decoder")


def time_series() -> Sequential:
    """A channels x length input through 1-D convolutions into an LSTM, then the sequence flattened."""
    return Sequential([
        L.Conv1d(6, 5, padding="same", use_bias=False), L.BatchNorm(), L.Activation("silu"),
        L.Concat([L.Conv1d(2, 1)], [L.Conv1d(3, 4, padding="same", activation="tanh")]), L.Flatten(), L.Reshape((6, -1)),
        L.LSTM(7, bidirectional=True), L.Dense(2, activation="sigmoid"),
    ], input_shape=(3, 18), name="time_series")


#: Specs that reach every layer, layout and argument the reference architectures leave out.
COVERAGE_SPECS = {"conv1d_text": conv1d_text, "decoder": decoder, "time_series": time_series}


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
    """Standard-normal float32 inputs, or int64 token ids below the first embedding's vocabulary."""
    rng = np.random.default_rng(seed)
    if spec.input_layout == "tokens":
        vocabulary = spec.steps[0].layer.num_embeddings
        return rng.integers(0, vocabulary, (batch, *spec.input_shape), dtype=np.int64)
    return rng.standard_normal((batch, *spec.input_shape)).astype(np.float32)
