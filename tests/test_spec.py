"""The neutral spec: inferred shapes, parameter counts, seeded weights, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.backends import resolve
from nbunify.spec import Sequential, SpecError
from reference_specs import REFERENCE_SPECS, lenet5


def test_lenet5_shapes_and_the_classic_parameter_count():
    spec = lenet5()
    shapes = [(step.layer.name, step.output_shape) for step in spec.steps]
    assert shapes == [
        ("conv2d_1", (6, 28, 28)), ("maxpool2d_1", (6, 14, 14)), ("conv2d_2", (16, 10, 10)),
        ("maxpool2d_2", (16, 5, 5)), ("flatten_1", (400,)), ("dense_1", (120,)), ("dense_2", (84,)),
        ("dense_3", (10,)),
    ]
    assert spec.parameter_count() == 61_706
    assert spec.parameters()["dense_1.weight"].shape == (120, 400)  # canonical Linear layout [out, in]
    assert spec.parameters()["conv2d_2.weight"].shape == (16, 6, 5, 5)  # OIHW


@pytest.mark.parametrize("padding, stride, expected", [("same", 1, (4, 7, 7)), ("same", 2, (4, 4, 4)),
                                                       ("valid", 2, (4, 3, 3)), (1, 2, (4, 4, 4))])
def test_conv_padding_modes(padding, stride, expected):
    spec = Sequential([L.Conv2d(4, 3, stride=stride, padding=padding)], input_shape=(2, 7, 7))
    assert spec.output_shape == expected


def test_depthwise_weight_shape_and_block_shapes():
    spec = REFERENCE_SPECS["depthwise_separable_cnn"]()
    assert spec.parameters()["conv2d_2.weight"].shape == (8, 1, 3, 3)
    concat = next(step for step in spec.steps if step.layer.name == "global_avgpool2d_1")
    assert concat.input_shape == (40, 8, 8)  # 4 + 4 + 32 channels from the three branches


def test_initial_weights_are_seeded_and_float32():
    spec = lenet5()
    first, again, other = spec.initial_weights(0), spec.initial_weights(0), spec.initial_weights(1)
    assert all(np.array_equal(first[key], again[key]) for key in first)
    assert not np.array_equal(first["conv2d_1.weight"], other["conv2d_1.weight"])
    assert all(value.dtype == np.float32 for value in first.values())
    bound = 1 / np.sqrt(25)  # fan_in of conv2d_1 = 1 * 5 * 5
    assert np.abs(first["conv2d_1.weight"]).max() <= bound


def test_names_are_unique_and_kept_when_given():
    spec = Sequential([L.Dense(4, name="encoder"), L.Dense(4), L.Dense(2)], input_shape=(3,))
    assert [step.layer.name for step in spec.steps] == ["encoder", "dense_1", "dense_2"]
    with pytest.raises(SpecError, match="two layers are named 'x'"):
        Sequential([L.Dense(4, name="x"), L.Dense(4, name="x")], input_shape=(3,))


def test_spec_hash_follows_the_architecture():
    assert lenet5().spec_hash() == lenet5().spec_hash()
    assert lenet5().spec_hash() != REFERENCE_SPECS["mlp"]().spec_hash()


# -- bad input: each a clear message ------------------------------------------------------------
def test_unknown_argument_suggests_the_right_one():
    with pytest.raises(SpecError, match=r"conv2d: unknown argument 'kernel'\. Did you mean 'kernel_size'\?"):
        L.Conv2d(6, kernel=5)


def test_wrong_argument_type_names_the_argument():
    with pytest.raises(SpecError, match=r"units must be a positive integer, got '10'"):
        L.Dense("10")
    with pytest.raises(SpecError, match=r"unknown activation 'rlu'\. Did you mean 'relu'\?"):
        L.Dense(10, activation="rlu")


def test_shape_that_does_not_fit_names_the_layer_and_shapes():
    with pytest.raises(SpecError, match=r"layer 'conv2d_1' \(conv2d\): expects a channels x height x width map but gets a 10 vector"):
        Sequential([L.Conv2d(3)], input_shape=(10,))
    with pytest.raises(SpecError, match=r"kernel 5x5 does not fit; the output would be -1x-1 \(input shape 1x3x3\)"):
        Sequential([L.Conv2d(3, 5)], input_shape=(1, 3, 3))
    with pytest.raises(SpecError, match=r"turn 6x4x4 into 7x4x4, which cannot be added to the shortcut's 6x4x4"):
        Sequential([L.Conv2d(6, 5), L.Residual([L.Conv2d(7, 3, padding=1)])], input_shape=(1, 8, 8))


def test_empty_spec_and_bad_input_shape():
    with pytest.raises(SpecError, match="the spec has no layers"):
        Sequential([], input_shape=(3,))
    with pytest.raises(SpecError, match="input_shape must be positive integers"):
        Sequential([L.Dense(2)], input_shape=(0, 3))
    with pytest.raises(SpecError, match="is not a layer"):
        Sequential(["dense"], input_shape=(3,))


def test_unknown_framework_suggests_the_right_one():
    with pytest.raises(ValueError, match=r"unknown framework 'pytorh'\. Did you mean 'pytorch'\?"):
        resolve("pytorh")
    assert resolve("TensorFlow") == "keras" and resolve("pytorch") == "torch"


def test_build_refuses_weights_that_do_not_fit():
    spec = lenet5()
    weights = spec.initial_weights(0)
    weights["dense_1.weight"] = weights["dense_1.weight"].T
    with pytest.raises(SpecError, match=r"weight 'dense_1.weight' has shape \(400, 120\), the spec needs \(120, 400\)"):
        nu.build(spec, "torch", weights=weights)
    del weights["dense_1.weight"]
    with pytest.raises(SpecError, match=r"missing \['dense_1.weight'\]"):
        nu.build(spec, "torch", weights=weights)


def test_sequence_layers_have_torchs_parameter_layouts():
    spec = Sequential([
        L.Embedding(50, 8), L.LSTM(6, return_sequences=True, bidirectional=True), L.GRU(5, return_sequences=True),
        L.SimpleRNN(4, return_sequences=True), L.LayerNorm(), L.Dense(8), L.MultiHeadAttention(2),
        L.TransformerEncoder(4, dim_feedforward=16),
    ], input_shape=(7,))
    shapes = {key: parameter.shape for key, parameter in spec.parameters().items()}
    assert shapes["embedding_1.weight"] == (50, 8)
    assert shapes["lstm_1.weight_ih"] == (24, 8) and shapes["lstm_1.weight_hh_reverse"] == (24, 6)
    assert shapes["lstm_1.bias"] == (24,) and "lstm_1.bias_ih" not in shapes  # one bias: Keras has one
    assert shapes["gru_1.weight_ih"] == (15, 12) and shapes["gru_1.bias_ih"] == shapes["gru_1.bias_hh"] == (15,)
    assert shapes["simple_rnn_1.weight_hh"] == (4, 4) and shapes["layernorm_1.weight"] == (4,)
    assert shapes["multihead_attention_1.in_proj_weight"] == (24, 8) and shapes["multihead_attention_1.out_proj.weight"] == (8, 8)
    assert shapes["transformer_encoder_1.linear1.weight"] == (16, 8) and shapes["transformer_encoder_1.norm2.bias"] == (8,)
    assert spec.output_shape == (7, 8) and spec.output_layout == "sequence"
    embedding = spec.initial_weights(0)["embedding_1.weight"]
    assert 0.8 < embedding.std() < 1.2  # torch's N(0, 1), not a fan-in bound


@pytest.mark.parametrize("layer, shape, expected", [
    (L.ConvTranspose2d(4, 3, stride=2, padding=1, output_padding=1), (2, 5, 5), (4, 10, 10)),
    (L.ConvTranspose2d(4, (2, 3), stride=(2, 1)), (2, 5, 5), (4, 10, 7)),
    (L.Conv1d(4, 4, padding="same"), (2, 9), (4, 9)),
    (L.Conv1d(4, 3, stride=2, dilation=2), (2, 9), (4, 3)),
    (L.MaxPool1d(3), (2, 10), (2, 3)),
    (L.AvgPool1d(2, stride=1), (2, 10), (2, 9)),
    (L.Reshape((-1, 4)), (2, 3, 4), (6, 4)),
])
def test_new_layers_infer_torchs_output_shapes(layer, shape, expected):
    assert Sequential([layer], input_shape=shape, input_layout="map" if len(shape) > 1 else None).output_shape == expected


def test_global_average_pool_1d_averages_the_length_of_a_map_or_a_sequence():
    as_map = Sequential([L.GlobalAvgPool1d()], input_shape=(3, 10), input_layout="map")
    as_sequence = Sequential([L.GlobalAvgPool1d()], input_shape=(10, 3), input_layout="sequence")
    assert as_map.output_shape == as_sequence.output_shape == (3,)


def test_concat_joins_the_feature_axis_of_a_sequence_and_the_channels_of_a_map():
    sequence = Sequential([L.Concat([L.Dense(4)], [L.Dense(2)])], input_shape=(5, 3), input_layout="sequence")
    assert sequence.output_shape == (5, 6)
    feature_map = Sequential([L.Concat([L.Conv1d(4, 1)], [])], input_shape=(3, 5))
    assert feature_map.output_shape == (7, 5)
    with pytest.raises(SpecError, match=r"block 'concat_1' \(concat\): its branches end in different layouts"):
        Sequential([L.Concat([L.Transpose()], [L.Conv1d(5, 3, padding=1)])], input_shape=(5, 5), input_layout="map")


def test_layer_arguments_are_checked_when_the_layer_is_made():
    with pytest.raises(SpecError, match=r"lstm: return_sequences must be true or false, got 'yes'"):
        L.LSTM(4, return_sequences="yes")
    with pytest.raises(SpecError, match=r"conv_transpose2d: output_padding \(2, 2\) must be smaller than stride \(2, 2\)"):
        L.ConvTranspose2d(3, 3, stride=2, output_padding=2)
    with pytest.raises(SpecError, match=r"transformer_encoder: unknown activation 'tanh'.*Choose one of relu, gelu"):
        L.TransformerEncoder(2, activation="tanh")
    with pytest.raises(SpecError, match=r"reshape: target_shape must be 1 to 3 positive sizes"):
        L.Reshape((-1, -1))
    with pytest.raises(SpecError, match=r"multihead_attention: dropout must be in \[0, 1\)"):
        L.MultiHeadAttention(2, dropout=1.5)


def test_token_inputs_are_checked_before_any_framework_sees_them():
    from nbunify.native import prepare_inputs

    spec = Sequential([L.Embedding(10, 4), L.GRU(3)], input_shape=(6,))
    ids = prepare_inputs(spec, np.arange(12).reshape(2, 6) % 10)
    assert ids.dtype == np.int64 and ids.shape == (2, 6)
    assert prepare_inputs(spec, np.ones((1, 6), np.float32)).dtype == np.int64  # whole-number floats are ids
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 10\).*got ids from 5 to 10"):
        prepare_inputs(spec, np.arange(11)[None, 5:])
    with pytest.raises(ValueError, match="takes integer token ids, got float64 values that are not whole numbers"):
        prepare_inputs(spec, np.full((1, 6), 0.5))
    with pytest.raises(ValueError, match=r"takes inputs of shape \(batch, 6\)"):
        prepare_inputs(spec, np.zeros((2, 5), np.int64))
