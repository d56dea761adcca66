"""The torch backend against real torch: outputs equal the NumPy oracle, weights move bit-exactly, models train."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

import nbunify as nu
import nbunify.layers as L
from nbunify.backends import owner
from nbunify.backends.torch import build, describe, layers, owns, predict, weights
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import LEAKY_RELU_SLOPE, Layer
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights
from spec_reference import reference_forward

TOLERANCE = 1e-5  # float32, inference mode, for outputs of order 1


def sequence_blocks() -> Sequential:
    """Every sequence step inside blocks (torch needs them as modules there): helpers, padding, concat dims."""
    return Sequential([
        L.Embedding(20, 8),
        L.Residual([L.Transpose(), L.Conv1d(8, 4, padding="same"), L.Transpose(),
                    L.LSTM(4, return_sequences=True, bidirectional=True)]),
        L.Concat([L.MultiHeadAttention(2)], [L.GRU(3, return_sequences=True), L.Activation("softmax")],
                 [L.SimpleRNN(2, return_sequences=True)], []),
        L.Residual([L.TransformerEncoder(3, dim_feedforward=12, dropout=0.0, activation="gelu", norm_first=True,
                                         epsilon=1e-3)]),
        L.Concat([L.GlobalAvgPool1d()], [L.LSTM(5)], [L.GRU(2, bidirectional=True)], [L.SimpleRNN(3)]),
        L.Dense(6, activation="softmax"),
    ], input_shape=(7,), name="sequence_blocks")


def map_blocks() -> Sequential:
    """Reshapes, 1-D pools and transposed convolutions inside blocks; odd "same" padding at the top level."""
    return Sequential([
        L.Conv1d(4, 4, padding="same", activation="softmax"), L.MaxPool1d(3, stride=2), L.AvgPool1d(2, stride=1),
        L.Residual([L.Reshape((16,)), L.Dense(16, activation="tanh"), L.Reshape((4, 4), layout="map")]),
        L.Residual([L.Reshape((4, 4), layout="sequence"), L.LayerNorm(), L.Transpose()]),
        L.Concat([L.GlobalAvgPool1d()], [L.Flatten(), L.Dense(3)], [L.Reshape((2, 2, 4)),
                  L.ConvTranspose2d(2, 2, stride=2, padding=1, output_padding=1, activation="relu"),
                  L.GlobalAvgPool2d()]),
        L.Reshape((3, 3)), L.Transpose(), L.GlobalAvgPool1d(), L.Dense(2),
    ], input_shape=(2, 12), name="map_blocks")


def sequence_softmax() -> Sequential:
    """A sequence input (rank 2, no hint), a concat on a sequence's features, softmax over the last axis."""
    return Sequential([L.Concat([L.Activation("tanh")], []), L.Activation("softmax"), L.Dense(5, activation="softmax"),
                       L.SimpleRNN(3)], input_shape=(4, 6), name="sequence_softmax")


#: Edge cases beyond the reference and coverage specs (also written as code by test_codegen_torch).
EDGE_SPECS = {"sequence_blocks": sequence_blocks, "map_blocks": map_blocks, "sequence_softmax": sequence_softmax}
ALL_SPECS = {**REFERENCE_SPECS, **COVERAGE_SPECS, **EDGE_SPECS}
SPEC_NAMES = list(ALL_SPECS)


def built(name: str) -> tuple[Sequential, dict[str, np.ndarray], nn.Module]:
    spec = ALL_SPECS[name]()
    canonical = random_weights(spec)
    return spec, canonical, build.build(spec, canonical)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_outputs_match_the_numpy_reference(name):
    spec, canonical, model = built(name)
    inputs = random_inputs(spec)
    expected = reference_forward(spec, canonical, inputs)
    got = predict.predict(model, inputs)
    assert got.dtype == np.float32 and got.shape == (4, *spec.output_shape)
    # random_weights are not fan-in scaled: lenet5's logits reach ~200, where one float32 step is 1.5e-5,
    # so the bound is absolute for outputs of order 1 and relative above.
    assert np.abs(got - expected).max() <= TOLERANCE * max(1.0, np.abs(expected).max())


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_the_same_model_in_float64_matches_the_reference_to_rounding(name):
    """With float32 rounding out of the way, any translation mistake (padding, layout, eps) would show."""
    spec, canonical, model = built(name)
    inputs = random_inputs(spec)
    got = predict.predict(model.double(), inputs)
    assert got.dtype == np.float64
    assert np.abs(got - reference_forward(spec, canonical, inputs)).max() <= 1e-10


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_get_weights_returns_the_given_weights_bit_for_bit(name):
    spec, canonical, model = built(name)
    got = weights.get_weights(model)
    assert list(got) == list(spec.parameters())
    for key, value in canonical.items():
        assert got[key].dtype == np.float32 and np.array_equal(got[key], value), key


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_set_weights_then_get_weights_round_trips(name):
    spec = ALL_SPECS[name]()
    model = build.build(spec, spec.initial_weights(5))
    canonical = random_weights(spec, seed=9)
    weights.set_weights(model, canonical)
    got = weights.get_weights(model)
    assert all(got[key].tobytes() == canonical[key].tobytes() for key in canonical)
    got[next(iter(got))][...] = 0  # copies, not views of the parameters
    assert np.array_equal(weights.get_weights(model)[next(iter(got))], canonical[next(iter(got))])


def torch_extra(layer: Layer, shape: tuple[int, ...]) -> int:
    """What torch counts beyond the spec: the second bias (bias_hh) of each direction of an LSTM / SimpleRNN."""
    if not isinstance(layer, (L.LSTM, L.SimpleRNN)):
        return 0
    return sum(p.shape[0] for key, p in layer.parameters(shape).items() if key.startswith("bias"))


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_parameter_counts_are_the_spec_plus_torchs_second_recurrent_bias(name):
    spec, _, model = built(name)
    counts = describe.layer_parameters(model)
    assert list(counts) == [step.layer.name for step in spec.steps]
    extra = 0
    for step in spec.steps:
        parameters = step.layer.parameters(step.input_shape).values()
        more = torch_extra(step.layer, step.input_shape)
        extra += more
        assert counts[step.layer.name] == (sum(int(np.prod(p.shape)) for p in parameters) + more,
                                           sum(int(np.prod(p.shape)) for p in parameters if p.trainable) + more)
    assert describe.count_parameters(model) == (spec.parameter_count() + extra, spec.parameter_count(True) + extra)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == spec.parameter_count(trainable_only=True) + extra


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_layer_types_name_a_native_module_for_every_layer(name):
    spec, _, model = built(name)
    types = describe.layer_types(model)
    assert list(types) == [step.layer.name for step in spec.steps]
    assert all(kind.startswith("nn.") or kind in ("Transpose", "Reshape", "Mean") for kind in types.values()), types


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_seeded_builds_start_from_the_specs_initial_weights(name):
    spec = ALL_SPECS[name]()
    got = nu.weights(nu.build(spec, "torch", seed=7))
    expected = spec.initial_weights(7)
    assert list(got) == list(expected) and all(got[key].tobytes() == expected[key].tobytes() for key in expected)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_parameter_trains(name):
    """One SGD step in train mode: every parameter gets a gradient and the (eval-mode) loss moves."""
    spec = ALL_SPECS[name]()
    model = nu.build(spec, "torch", seed=0)
    inputs = torch.from_numpy(random_inputs(spec, batch=8))
    target = torch.from_numpy(np.random.default_rng(0).standard_normal((8, *spec.output_shape)).astype(np.float32))

    def loss() -> torch.Tensor:
        return nn.functional.mse_loss(model(inputs), target)

    model.eval()
    with torch.no_grad():
        before = loss().item()
    model.train()
    step = loss()
    step.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    model.eval()
    with torch.no_grad():
        assert loss().item() != before


def test_flat_lenet5_state_dict_keys_are_the_canonical_keys():
    spec, _, model = built("lenet5")
    assert list(model.state_dict()) == list(spec.parameters())


def test_lenet5_is_a_plain_sequential_named_after_the_spec():
    _, _, model = built("lenet5")
    assert type(model) is nn.Sequential
    assert list(dict(model.named_children())) == [
        "conv2d_1", "conv2d_1_relu", "maxpool2d_1", "conv2d_2", "conv2d_2_relu", "maxpool2d_2",
        "flatten_1", "dense_1", "dense_1_relu", "dense_2", "dense_2_relu", "dense_3"]
    assert isinstance(model.conv2d_1, nn.Conv2d) and model.conv2d_1.padding == (2, 2)
    assert isinstance(model.conv2d_1_relu, nn.ReLU) and isinstance(model.flatten_1, nn.Flatten)
    assert isinstance(model.maxpool2d_1, nn.MaxPool2d) and model.maxpool2d_1.stride == (2, 2)
    assert isinstance(model.dense_1, nn.Linear) and model.dense_1.in_features == 400
    assert model._nbunify_spec.name == "lenet5"


def test_residual_blocks_batchnorm_and_asymmetric_same_padding():
    spec, _, model = built("residual_cnn")
    first, second = model.residual_1, model.residual_2
    assert isinstance(first, layers.Residual) and isinstance(first.shortcut, nn.Identity)
    assert list(dict(first.body.named_children())) == ["conv2d_2", "batchnorm_2", "activation_2", "conv2d_3", "batchnorm_3"]
    # "same" with stride 2 on 8x8 pads one row/column at the end only, as TensorFlow does
    assert isinstance(second.body.conv2d_4_pad, nn.ZeroPad2d) and second.body.conv2d_4_pad.padding == (0, 1, 0, 1)
    assert second.body.conv2d_4.padding == (0, 0) and second.body.conv2d_4.stride == (2, 2)
    assert isinstance(second.body.activation_4, nn.GELU) and second.body.activation_4.approximate == "none"
    assert isinstance(second.shortcut.conv2d_5, nn.Conv2d)
    assert isinstance(model.batchnorm_1, nn.BatchNorm2d) and isinstance(model.batchnorm_6, nn.BatchNorm1d)
    assert model.batchnorm_1.eps == 1e-5 and model.batchnorm_1.momentum == 0.1
    assert isinstance(model.dense_1_softmax, nn.Softmax) and model.dense_1_softmax.dim == 1
    assert "residual_2.body.conv2d_4.weight" in model.state_dict()


def test_concat_branches_depthwise_convs_and_global_pooling():
    _, _, model = built("depthwise_separable_cnn")
    assert model.conv2d_1.padding == (1, 1) and not hasattr(model, "conv2d_1_pad")  # "same" on 15x15 is symmetric
    assert model.conv2d_2.groups == 8 and model.conv2d_2.bias is None
    assert isinstance(model.conv2d_3_leaky_relu, nn.LeakyReLU) and model.conv2d_3_leaky_relu.negative_slope == LEAKY_RELU_SLOPE
    branches = model.concat_1.branches
    assert isinstance(model.concat_1, layers.Concat) and isinstance(branches[2], nn.Identity)
    assert branches[1].conv2d_6.dilation == (2, 2) and isinstance(branches[1].conv2d_6_relu, nn.ReLU)
    assert isinstance(model.global_avgpool2d_1, nn.AdaptiveAvgPool2d)
    assert isinstance(model.global_avgpool2d_1_flatten, nn.Flatten)


def test_public_api_builds_seeded_torch_models():
    spec = REFERENCE_SPECS["residual_cnn"]()
    model = nu.build(spec, "torch", seed=0)
    assert owns(model) and owner(model) == "torch"
    expected = spec.initial_weights(0)
    got = nu.weights(model)
    assert got.keys() == expected.keys() and all(np.array_equal(got[key], expected[key]) for key in expected)
    nu.load_weights(model, random_weights(spec))
    inputs = random_inputs(spec)
    assert np.allclose(nu.predict(model, inputs), reference_forward(spec, random_weights(spec), inputs), atol=TOLERANCE)


def test_a_training_step_changes_the_weights_and_the_batch_statistics():
    spec = REFERENCE_SPECS["residual_cnn"]()
    model = nu.build(spec, "torch", seed=0)
    before = weights.get_weights(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs = torch.from_numpy(random_inputs(spec, batch=8))
    labels = torch.arange(8) % 10
    model.train()
    loss = nn.functional.nll_loss(torch.log(model(inputs)), labels)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    optimizer.step()
    after = weights.get_weights(model)
    assert all(not np.array_equal(before[key], after[key]) for key in before)  # weights and running statistics


def test_predict_restores_each_module_mode_and_records_no_graph():
    _, _, model = built("residual_cnn")
    model.train()
    model.batchnorm_1.eval()  # e.g. a frozen layer while fine-tuning
    outputs = predict.predict(model, random_inputs(model._nbunify_spec))
    assert isinstance(outputs, np.ndarray)
    assert model.training and model.residual_1.body.batchnorm_2.training and not model.batchnorm_1.training


def test_build_does_not_move_the_global_torch_random_state():
    torch.manual_seed(3)
    state = torch.get_rng_state()
    build.build(REFERENCE_SPECS["lenet5"](), random_weights(REFERENCE_SPECS["lenet5"]()))
    assert torch.equal(torch.get_rng_state(), state)


def test_set_weights_refuses_a_torch_model_nbunify_did_not_build():
    with pytest.raises(TypeError, match="not built by nbunify.*nu.build"):
        weights.set_weights(nn.Linear(2, 3), {"dense_1.weight": np.zeros((3, 2), np.float32)})
    with pytest.raises(TypeError, match="not built by nbunify"):
        weights.get_weights(nn.Sequential(nn.Linear(2, 3)))


def test_set_weights_names_missing_keys_and_wrong_shapes():
    spec, canonical, model = built("mlp")
    with pytest.raises(SpecError, match=r"missing \['dense_3.bias'\]"):
        weights.set_weights(model, {key: value for key, value in canonical.items() if key != "dense_3.bias"})
    with pytest.raises(SpecError, match=r"'dense_1.weight' has shape \(8, 32\)"):
        weights.set_weights(model, {**canonical, "dense_1.weight": canonical["dense_1.weight"].T})


def test_a_layer_kind_the_backend_does_not_know_is_a_spec_error():
    @dataclass(eq=False)
    class Mystery(Layer):  # not registered: the spec's layer table stays as it is
        name: str | None = None
        KIND = "mystery"

    spec = Sequential([L.Dense(4), Mystery()], input_shape=(3,))
    with pytest.raises(SpecError, match="'mystery_1' \\(mystery\\): the torch backend cannot build"):
        build.build(spec, spec.initial_weights(0))


def test_a_layer_name_clashing_with_a_generated_module_name_is_a_spec_error():
    spec = Sequential([L.Dense(4, activation="relu"), L.Activation("tanh", name="dense_1_relu")], input_shape=(3,))
    with pytest.raises(SpecError, match="two modules 'dense_1_relu'"):
        build.build(spec, spec.initial_weights(0))


def test_the_backend_package_imports_without_torch():
    code = ("import sys, nbunify.backends.torch as backend; "
            "assert 'torch' not in sys.modules; print(backend.NAME, backend.FRAMEWORK, backend.owns(object()))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["torch", "torch", "False"]
    assert not owns(np.zeros(3)) and owns(nn.Linear(1, 1))


def test_recurrent_layers_are_torch_lstm_and_gru_with_their_own_state_dict():
    spec, canonical, model = built("lstm_text_classifier")
    assert isinstance(model.lstm_1, nn.LSTM) and model.lstm_1.batch_first and model.lstm_1.bidirectional
    assert model.lstm_1.return_sequences and not model.lstm_2.return_sequences and not model.lstm_2.bidirectional
    assert [key for key in model.state_dict() if key.startswith("lstm_1.")] == [
        f"lstm_1.{name}_l0{suffix}" for suffix in ("", "_reverse")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    # the one canonical bias is torch's bias_ih + bias_hh: written as (bias, 0)
    assert np.array_equal(model.lstm_1.bias_ih_l0_reverse.detach().numpy(), canonical["lstm_1.bias_reverse"])
    assert not model.lstm_1.bias_hh_l0.any() and not model.lstm_1.bias_hh_l0_reverse.any()
    assert np.array_equal(model.lstm_2.weight_hh_l0.detach().numpy(), canonical["lstm_2.weight_hh"])
    _, _, gru = built("gru_text_classifier")
    assert type(gru.gru_2).__mro__[1:3] == (layers._Recurrent, nn.GRU)
    assert set(dict(gru.gru_2.named_parameters())) == {
        f"{name}_l0{suffix}" for suffix in ("", "_reverse") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def test_a_trained_bias_hh_is_read_back_as_part_of_the_canonical_bias():
    spec, canonical, model = built("conv1d_text")
    with torch.no_grad():
        model.simple_rnn_1.bias_hh_l0_reverse.fill_(0.25)
    got = weights.get_weights(model)["simple_rnn_1.bias_reverse"]
    assert np.array_equal(got, (torch.from_numpy(canonical["simple_rnn_1.bias_reverse"]) + 0.25).numpy())
    inputs = random_inputs(spec)
    rebuilt = build.build(spec, weights.get_weights(model))  # the folded bias computes the same function
    assert np.abs(predict.predict(rebuilt, inputs) - predict.predict(model, inputs)).max() <= 1e-6


def test_a_negative_zero_bias_round_trips_bit_for_bit():
    spec = Sequential([L.LSTM(2)], input_shape=(3, 4), name="zeros")
    values = spec.initial_weights(0)
    values["lstm_1.bias"][:] = -0.0
    got = weights.get_weights(build.build(spec, values))["lstm_1.bias"]
    assert got.tobytes() == values["lstm_1.bias"].tobytes()


def test_attention_and_transformer_are_torchs_modules_with_the_canonical_names():
    spec, _, model = built("transformer_classifier")
    assert type(model.transformer_encoder_1) is nn.TransformerEncoderLayer
    assert list(model.state_dict()) == list(spec.parameters())  # torch's names are the canonical ones
    second = model.transformer_encoder_2
    assert second.norm_first and second.self_attn.batch_first and second.self_attn.num_heads == 2
    assert second.activation is nn.functional.gelu and second.linear1.out_features == 24
    _, _, text = built("conv1d_text")
    attention = text.multihead_attention_1
    assert isinstance(attention, nn.MultiheadAttention) and attention.batch_first and attention.num_heads == 3
    assert isinstance(text.global_avgpool1d_1, layers.Mean) and isinstance(text.transpose_1, layers.Transpose)


def test_one_dimensional_layers_and_layout_dependent_dims():
    _, _, model = built("conv1d_text")
    assert isinstance(model.conv1d_1, nn.Conv1d) and model.conv1d_1.padding == (1,) and model.conv1d_1.stride == (2,)
    assert model.conv1d_2.dilation == (2,) and model.conv1d_2.groups == 4 and model.conv1d_2.padding == (2,)
    assert isinstance(model.batchnorm_1, nn.BatchNorm1d) and isinstance(model.maxpool1d_1, nn.MaxPool1d)
    assert model.avgpool1d_1.kernel_size == (3,) and model.avgpool1d_1.stride == (1,)
    assert model.conv1d_2_softmax.dim == 1  # over a map's channels
    assert model.concat_1.dim == -1 and model.concat_1.branches[0].dense_1_softmax.dim == -1  # a sequence's features
    assert isinstance(model.simple_rnn_1, nn.RNN) and model.simple_rnn_1.nonlinearity == "tanh"
    assert model.layernorm_2.eps == 1e-3
    _, _, series = built("time_series")
    assert series.concat_1.dim == 1 and series.concat_1.branches[1].conv1d_3_pad.padding == (1, 2)
    assert isinstance(series.batchnorm_1, nn.BatchNorm1d) and isinstance(series.reshape_1, nn.Unflatten)
    _, _, softmax = built("sequence_softmax")
    assert softmax.concat_1.dim == -1 and softmax.activation_2.dim == -1 and softmax.dense_1_softmax.dim == -1


def test_transposed_convolutions_and_reshapes():
    _, _, model = built("decoder")
    first = model.conv_transpose2d_1
    assert isinstance(first, nn.ConvTranspose2d) and first.padding == (1, 1) and first.output_padding == (1, 1)
    assert model.conv_transpose2d_2.bias is None and model.conv_transpose2d_2.kernel_size == (2, 3)
    assert isinstance(model.reshape_1, nn.Unflatten) and model.reshape_1.unflattened_size == (2, 4, 4)
    _, _, blocks = built("map_blocks")
    assert isinstance(blocks.residual_1.body.reshape_1, nn.Flatten)
    assert isinstance(blocks.residual_2.body.reshape_3, layers.Reshape) and blocks.residual_2.body.reshape_3.shape == (4, 4)
    assert isinstance(blocks.conv1d_1_pad, nn.ZeroPad1d) and blocks.conv1d_1_pad.padding == (1, 2)


def test_token_ids_stay_int64_and_float_specs_get_floats():
    spec, canonical, model = built("gru_text_classifier")
    seen = []
    model.embedding_1.register_forward_pre_hook(lambda module, args: seen.append(args[0].dtype))
    ids = random_inputs(spec)
    assert ids.dtype == np.int64
    predict.predict(model, ids.astype(np.int32))
    assert seen == [torch.int64]
    nu.predict(model, ids)
    assert seen[-1] == torch.int64
    spec, _, model = built("mlp")
    whole = np.arange(16).reshape(2, 8)  # integers for a float spec are values, not ids
    assert np.allclose(predict.predict(model, whole), reference_forward(spec, random_weights(spec), whole), atol=TOLERANCE)


def test_a_concat_of_empty_branches_joins_a_sequence_on_its_features():
    """The block's layout comes from its input here (the NumPy oracle takes any 3-d array for a map, so it is not used)."""
    spec = Sequential([L.Concat([], [], [])], input_shape=(4, 6), name="copies")
    model = build.build(spec, {})
    inputs = random_inputs(spec)
    assert spec.output_shape == (4, 18) and model.concat_1.dim == -1
    assert np.array_equal(predict.predict(model, inputs), np.concatenate([inputs] * 3, axis=-1))


@pytest.mark.parametrize("layers_, clash", [
    ([L.Conv1d(2, 4, padding="same"), L.Activation("relu", name="conv1d_1_pad")], "conv1d_1_pad"),
    ([L.GlobalAvgPool1d(), L.Activation("relu", name="global_avgpool1d_1_flatten")], "global_avgpool1d_1_flatten"),
])
def test_names_clashing_with_torch_module_names_are_spec_errors(layers_, clash):
    spec = Sequential(layers_, input_shape=(3, 9), input_layout="map")
    with pytest.raises(SpecError, match=f"the torch backend names two modules '{clash}': rename"):
        build.build(spec, spec.initial_weights(0))
