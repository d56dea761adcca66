"""The paddle backend against the real paddle: outputs match the NumPy oracle, weights move exactly, models are idiomatic."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import Layer
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, lenet5, random_inputs, random_weights, residual_cnn
from spec_reference import reference_forward

paddle = load("paddle")
nn = paddle.nn

from nbunify.backends import paddle as backend  # noqa: E402
from nbunify.backends.paddle import build, describe, layers, predict, weights  # noqa: E402

TOLERANCE = 1e-5  # float32, inference mode


def sequence_blocks() -> Sequential:
    """A float sequence input; softmax, concat, reshape, transpose, attention and pooling inside blocks."""
    return Sequential([
        L.Dense(8, activation="softmax"), L.Activation("softmax"),
        L.Concat([L.Transpose(), L.Conv1d(4, 3, padding="same"), L.Transpose()], [L.Reshape((6, 8))]),
        L.Residual([L.LayerNorm(), L.MultiHeadAttention(2, dropout=0.1)]),
        L.Residual([L.TransformerEncoder(3, dim_feedforward=16, dropout=0.0, epsilon=1e-3)]),
        L.Concat([L.GlobalAvgPool1d()], [L.Flatten(), L.Dense(4, activation="tanh")]),
        L.BatchNorm(), L.Dense(3, activation="softmax"),
    ], input_shape=(6, 8), name="sequence_blocks")


def recurrent_blocks() -> Sequential:
    """Every recurrent kind inside residual and concat blocks, as sequences and as last states."""
    return Sequential([
        L.Embedding(20, 6), L.Residual([L.LSTM(3, return_sequences=True, bidirectional=True)]),
        L.Concat([L.GRU(4, return_sequences=True)], [L.SimpleRNN(2, return_sequences=True, bidirectional=True)]),
        L.Concat([L.LSTM(5)], [L.GRU(3, bidirectional=True)], [L.SimpleRNN(2)], [L.Transpose(), L.GlobalAvgPool1d()]),
        L.Dense(2),
    ], input_shape=(7,), name="recurrent_blocks")


def maps_and_shapes() -> Sequential:
    """Uneven transposed convolutions, reshapes of maps, uneven 'same' padding in 1-D and 2-D, 1-D pools."""
    return Sequential([
        L.ConvTranspose2d(3, (3, 2), stride=(1, 2), padding=(1, 0), activation="softmax"),
        L.Residual([L.Reshape((3, 18, 9)), L.Reshape((3, 9, 18))]),
        L.Conv2d(4, 3, stride=2, padding="same"), L.Flatten(), L.Reshape((4, -1), layout="map"),
        L.Conv1d(3, 4, padding="same"), L.MaxPool1d(2), L.AvgPool1d(2, stride=1), L.GlobalAvgPool1d(),
        L.LayerNorm(), L.Dense(2),
    ], input_shape=(2, 9, 9), name="maps_and_shapes")


#: Edge cases the reference and coverage specs leave out (the codegen tests build them too).
EXTRA_SPECS = {"sequence_blocks": sequence_blocks, "recurrent_blocks": recurrent_blocks, "maps_and_shapes": maps_and_shapes}
ALL_SPECS = {**REFERENCE_SPECS, **COVERAGE_SPECS, **EXTRA_SPECS}
SPEC_NAMES = list(ALL_SPECS)


@pytest.fixture(scope="module", params=SPEC_NAMES)
def built(request):
    spec = ALL_SPECS[request.param]()
    canonical = random_weights(spec)
    return spec, canonical, build.build(spec, canonical)


def test_outputs_match_the_numpy_oracle(built):
    spec, canonical, model = built
    inputs = random_inputs(spec)
    expected = reference_forward(spec, canonical, inputs)
    got = predict.predict(model, inputs)
    assert got.dtype == np.float32 and got.shape == (4, *spec.output_shape)
    assert np.abs(got - expected).max() <= TOLERANCE


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_seeded_weights_match_the_oracle_within_1e_5_absolute(name):
    spec = ALL_SPECS[name]()
    canonical, inputs = spec.initial_weights(0), random_inputs(spec)
    got = predict.predict(build.build(spec, canonical), inputs)
    assert np.abs(got - reference_forward(spec, canonical, inputs)).max() <= TOLERANCE


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_models_built_with_a_seed_start_from_the_specs_initial_weights(name):
    spec = ALL_SPECS[name]()
    got, expected = nu.weights(nu.build(spec, "paddle", seed=3)), spec.initial_weights(3)
    assert list(got) == list(expected)
    assert all(np.array_equal(got[key], expected[key]) for key in expected)


def test_get_weights_after_build_is_bit_identical(built):
    spec, canonical, model = built
    got = weights.get_weights(model)
    assert list(got) == list(spec.parameters())
    for key, value in canonical.items():
        assert got[key].dtype == np.float32 and np.array_equal(got[key], value), key


def test_set_weights_round_trips_bit_identically(built):
    spec, canonical, model = built
    other = random_weights(spec, seed=5)
    weights.set_weights(model, other)
    try:
        got = weights.get_weights(model)
        assert all(np.array_equal(got[key], other[key]) for key in other)
        fresh = build.build(spec, other)
        inputs = random_inputs(spec)
        assert np.array_equal(predict.predict(model, inputs), predict.predict(fresh, inputs))
    finally:
        weights.set_weights(model, canonical)  # the module-scoped model is shared
    assert all(np.array_equal(weights.get_weights(model)[key], canonical[key]) for key in canonical)


def test_per_layer_counts_are_paddles_own_and_add_up(built):
    spec, _, model = built
    counts = describe.layer_parameters(model)
    assert list(counts) == [step.layer.name for step in spec.steps]
    for step in spec.steps:
        canonical = step.layer.parameters(step.input_shape)
        everything = sum(int(np.prod(p.shape)) for p in canonical.values())
        trainable = sum(int(np.prod(p.shape)) for p in canonical.values() if p.trainable)
        if isinstance(step.layer, (L.SimpleRNN, L.LSTM)):  # paddle keeps bias_hh beside bias_ih
            extra = sum(int(np.prod(p.shape)) for name, p in canonical.items() if name.startswith("bias"))
            everything, trainable = everything + extra, trainable + extra
        assert counts[step.layer.name] == (everything, trainable), step.layer.name
    totals = tuple(sum(count[index] for count in counts.values()) for index in (0, 1))
    assert totals == describe.count_parameters(model)


def test_every_layer_has_a_native_type(built):
    spec, _, model = built
    types = describe.layer_types(model)
    assert set(types) == {step.layer.name for step in spec.steps}
    helpers = {"Transpose", "Reshape", "Mean"}
    assert all(kind.startswith("nn.") or kind in helpers for kind in types.values()), types


def test_a_gradient_step_trains_every_parameter_and_changes_the_loss(built):
    spec, canonical, model = built
    inputs = paddle.to_tensor(random_inputs(spec, batch=8))
    try:
        before = float((predict.predict(model, inputs.numpy()) ** 2).mean())
        optimizer = paddle.optimizer.SGD(learning_rate=0.5, parameters=model.parameters())
        model.train()
        loss = (model(inputs) ** 2).mean()
        loss.backward()
        untouched = [p.name for p in model.parameters() if p.trainable and p.grad is None]
        assert not untouched
        optimizer.step()
        optimizer.clear_grad()
        after = float((predict.predict(model, inputs.numpy()) ** 2).mean())
        assert np.isfinite(after) and after != before
    finally:
        model.eval()
        weights.set_weights(model, canonical)


def test_recurrent_biases_fold_into_one_canonical_bias():
    spec = REFERENCE_SPECS["lstm_text_classifier"]()
    canonical = random_weights(spec)
    model = build.build(spec, canonical)
    lstm = model.lstm_1
    assert isinstance(lstm, nn.LSTM) and lstm.num_directions == 2 and not lstm.time_major
    assert np.array_equal(lstm.bias_ih_l0_reverse.numpy(), canonical["lstm_1.bias_reverse"])
    assert not lstm.bias_hh_l0_reverse.numpy().any()
    lstm.bias_hh_l0.set_value(np.full(lstm.bias_hh_l0.shape, 0.25, np.float32))  # as after training
    np.testing.assert_array_equal(weights.get_weights(model)["lstm_1.bias"], canonical["lstm_1.bias"] + np.float32(0.25))


def test_gru_keeps_both_biases_and_torchs_gate_order():
    spec = REFERENCE_SPECS["gru_text_classifier"]()
    canonical = random_weights(spec)
    model = build.build(spec, canonical)
    assert np.array_equal(model.gru_2.bias_hh_l0_reverse.numpy(), canonical["gru_2.bias_hh_reverse"])
    assert np.array_equal(model.gru_1.weight_ih_l0.numpy(), canonical["gru_1.weight_ih"])  # r, z, n rows as torch


def test_attention_in_proj_splits_into_paddles_q_k_v_projections():
    spec = REFERENCE_SPECS["transformer_classifier"]()
    canonical = random_weights(spec)
    model = build.build(spec, canonical)
    encoder = model.transformer_encoder_2
    assert isinstance(encoder, nn.TransformerEncoderLayer) and encoder.normalize_before
    weight, bias = canonical["transformer_encoder_2.self_attn.in_proj_weight"], canonical["transformer_encoder_2.self_attn.in_proj_bias"]
    for index, projection in enumerate((encoder.self_attn.q_proj, encoder.self_attn.k_proj, encoder.self_attn.v_proj)):
        assert np.array_equal(projection.weight.numpy(), weight[16 * index: 16 * (index + 1)].T)  # paddle Linear: [in, out]
        assert np.array_equal(projection.bias.numpy(), bias[16 * index: 16 * (index + 1)])
    assert np.array_equal(encoder.linear1.weight.numpy(), canonical["transformer_encoder_2.linear1.weight"].T)
    assert encoder.activation is nn.functional.gelu and encoder.norm1._epsilon == pytest.approx(1e-5)


def test_sequence_layers_are_paddles_own():
    spec = COVERAGE_SPECS["conv1d_text"]()
    model = build.build(spec, spec.initial_weights(0))
    assert isinstance(model.embedding_1, nn.Embedding) and isinstance(model.transpose_1, layers.Transpose)
    assert isinstance(model.conv1d_1, nn.Conv1D) and isinstance(model.batchnorm_1, nn.BatchNorm1D)
    assert isinstance(model.maxpool1d_1, nn.MaxPool1D) and isinstance(model.avgpool1d_1, nn.AvgPool1D)
    assert isinstance(model.simple_rnn_1, nn.SimpleRNN) and model.simple_rnn_1.return_sequences
    assert isinstance(model.multihead_attention_1, nn.MultiHeadAttention)
    assert isinstance(model.layernorm_2, nn.LayerNorm) and model.layernorm_2._epsilon == pytest.approx(1e-3)
    assert model.conv1d_2_softmax._axis == 1  # a map's channels
    assert model.concat_1.axis == -1 and model.concat_1.branches[0].dense_1_softmax._axis == -1  # a sequence's features
    assert isinstance(model.global_avgpool1d_1, layers.Mean) and model.global_avgpool1d_1.axis == 1
    series = build.build(COVERAGE_SPECS["time_series"](), COVERAGE_SPECS["time_series"]().initial_weights(0))
    assert series.concat_1.branches[1].conv1d_3._padding == [1, 2]  # TensorFlow's uneven "same": extra on the right
    decoder = build.build(COVERAGE_SPECS["decoder"](), COVERAGE_SPECS["decoder"]().initial_weights(0))
    assert isinstance(decoder.conv_transpose2d_1, nn.Conv2DTranspose)
    assert list(decoder.conv_transpose2d_1.weight.shape) == [2, 4, 3, 3]  # (in, out, kh, kw), as canonical
    assert isinstance(decoder.reshape_1, nn.Unflatten) and isinstance(decoder.gru_1, nn.GRU)


def test_token_ids_reach_the_embedding_as_int64():
    spec = REFERENCE_SPECS["lstm_text_classifier"]()
    model = nu.build(spec, "paddle", seed=0)
    seen = []
    model.embedding_1.register_forward_pre_hook(lambda layer, inputs: seen.append(inputs[0].dtype))
    nu.predict(model, random_inputs(spec))
    assert seen == [paddle.int64]


def test_lenet5_children_are_named_after_the_spec():
    model = build.build(lenet5(), lenet5().initial_weights(0))
    names = [name for name, _ in model.named_children()]
    assert names == ["conv2d_1", "conv2d_1_relu", "maxpool2d_1", "conv2d_2", "conv2d_2_relu", "maxpool2d_2",
                     "flatten_1", "dense_1", "dense_1_relu", "dense_2", "dense_2_relu", "dense_3"]
    assert isinstance(model, nn.Sequential)
    assert isinstance(model.conv2d_1, nn.Conv2D) and isinstance(model.conv2d_1_relu, nn.ReLU)
    assert isinstance(model.maxpool2d_1, nn.MaxPool2D) and isinstance(model.flatten_1, nn.Flatten)
    assert isinstance(model.dense_1, nn.Linear)
    assert list(model.dense_1.weight.shape) == [400, 120]  # paddle's Linear is [in, out]
    assert list(model.conv2d_1.weight.shape) == [6, 1, 5, 5]  # OIHW, as canonical
    assert model._nbunify_spec.name == "lenet5"


def test_blocks_become_residual_and_concat_layers():
    model = build.build(residual_cnn(), residual_cnn().initial_weights(0))
    first, second = model.residual_1, model.residual_2
    assert isinstance(first, layers.Residual) and isinstance(first.shortcut, nn.Identity)
    assert [name for name, _ in first.body.named_children()] == [
        "conv2d_2", "batchnorm_2", "activation_2", "conv2d_3", "batchnorm_3"]
    assert isinstance(first.body.activation_2, nn.ReLU) and isinstance(second.body.activation_4, nn.GELU)
    assert isinstance(second.shortcut.conv2d_5, nn.Conv2D) and isinstance(second.shortcut.batchnorm_5, nn.BatchNorm2D)
    assert isinstance(model.batchnorm_6, nn.BatchNorm1D)
    assert model.batchnorm_1._momentum == pytest.approx(0.9) and model.batchnorm_1._epsilon == pytest.approx(1e-5)
    assert second.body.conv2d_4._padding == [0, 1, 0, 1]  # TensorFlow's "same" for stride 2 on 8x8

    depthwise_spec = REFERENCE_SPECS["depthwise_separable_cnn"]()
    depthwise = build.build(depthwise_spec, depthwise_spec.initial_weights(0))
    assert isinstance(depthwise.concat_1, layers.Concat) and depthwise.concat_1.axis == 1
    branches = list(depthwise.concat_1.branches)
    assert isinstance(branches[2], nn.Identity) and isinstance(branches[1].conv2d_6_relu, nn.ReLU)
    assert depthwise.conv2d_2._groups == 8 and depthwise.conv2d_2.bias is None
    assert isinstance(depthwise.conv2d_3_leaky_relu, nn.LeakyReLU) and isinstance(depthwise.activation_1, nn.Silu)
    assert isinstance(depthwise.global_avgpool2d_1, nn.AdaptiveAvgPool2D)
    assert isinstance(depthwise.global_avgpool2d_1_flatten, nn.Flatten)


def test_recurrent_layers_inside_blocks_return_one_tensor():
    spec = recurrent_blocks()
    model = build.build(spec, spec.initial_weights(0))
    last, sequences = model.concat_2.branches, model.concat_1.branches
    assert isinstance(last[0].lstm_2, layers.LSTM) and not last[0].lstm_2.return_sequences
    assert isinstance(last[1].gru_2, layers.GRU) and last[1].gru_2.num_directions == 2
    assert isinstance(sequences[1].simple_rnn_1, layers.SimpleRNN) and sequences[1].simple_rnn_1.return_sequences
    assert model.concat_2.axis == 1 and model.concat_1.axis == -1  # vectors' features, a sequence's features
    assert isinstance(build.build(maps_and_shapes(), maps_and_shapes().initial_weights(0)).residual_1.body.reshape_1,
                      layers.Reshape)


def test_the_public_api_builds_seeded_paddle_models():
    spec = residual_cnn()
    model = nu.build(spec, "paddle", seed=0)
    assert backend.owns(model) and not backend.owns(np.zeros(3)) and not backend.owns(spec)
    got, expected = nu.weights(model), spec.initial_weights(0)
    assert got.keys() == expected.keys() and all(np.array_equal(got[key], expected[key]) for key in expected)
    nu.load_weights(model, random_weights(spec))
    assert np.array_equal(nu.weights(model)["conv2d_1.weight"], random_weights(spec)["conv2d_1.weight"])
    assert nu.predict(model, random_inputs(spec)).shape == (4, 10)


def test_a_training_step_changes_the_weights():
    spec = residual_cnn()
    model = build.build(spec, spec.initial_weights(0))
    before = weights.get_weights(model)
    optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters())
    model.train()
    inputs = paddle.to_tensor(random_inputs(spec, batch=8))
    labels = paddle.to_tensor(np.arange(8, dtype=np.int64) % 10)
    probabilities = model(inputs)
    loss = nn.functional.nll_loss(paddle.log(probabilities), labels)
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    after = weights.get_weights(model)
    assert np.isfinite(float(loss))
    for key in ("conv2d_1.weight", "conv2d_4.weight", "dense_1.bias", "batchnorm_2.weight"):
        assert not np.array_equal(before[key], after[key]), key
    # paddle's momentum 0.9 is the spec's (torch's) 0.1: running = 0.9 * old + 0.1 * batch mean
    assert not np.array_equal(before["batchnorm_1.running_mean"], after["batchnorm_1.running_mean"])


def test_batchnorm_momentum_weighs_the_new_batch_as_the_spec_says():
    spec = Sequential([L.BatchNorm(momentum=0.25)], input_shape=(3,))
    model = build.build(spec, spec.initial_weights(0))
    batch = random_inputs(spec, batch=16)
    model.train()
    model(paddle.to_tensor(batch))
    got = weights.get_weights(model)["batchnorm_1.running_mean"]
    np.testing.assert_allclose(got, 0.25 * batch.mean(axis=0), rtol=1e-5, atol=1e-7)


def test_predict_restores_the_training_flags():
    spec = REFERENCE_SPECS["mlp"]()
    model = build.build(spec, spec.initial_weights(0))
    inputs = random_inputs(spec)
    model.train()
    first = predict.predict(model, inputs)
    assert model.training and all(layer.training for layer in model.sublayers())
    assert np.array_equal(first, predict.predict(model, inputs))  # dropout off in inference
    model.eval()
    predict.predict(model, inputs)
    assert not model.training and not any(layer.training for layer in model.sublayers())


def test_bad_input_gets_clear_errors():
    spec = REFERENCE_SPECS["mlp"]()
    model = build.build(spec, spec.initial_weights(0))
    with pytest.raises(ValueError, match="not built by nbunify"):
        weights.set_weights(nn.Sequential(("dense_1", nn.Linear(8, 32))), spec.initial_weights(0))
    with pytest.raises(ValueError, match="not built by nbunify"):
        weights.get_weights(nn.Linear(2, 2))
    wrong = spec.initial_weights(0)
    wrong["dense_1.weight"] = wrong["dense_1.weight"].T
    with pytest.raises(SpecError, match="dense_1.weight"):
        weights.set_weights(model, wrong)
    partial = spec.initial_weights(0)
    del partial["dense_2.bias"]
    with pytest.raises(SpecError, match="dense_2.bias"):
        weights.set_weights(model, partial)
    with pytest.raises(ValueError, match="do not fit spec 'mlp'"):
        predict.predict(model, np.zeros((2, 7), np.float32))


def test_a_wrong_attention_or_recurrent_weight_is_refused_before_anything_is_written():
    spec = REFERENCE_SPECS["transformer_classifier"]()
    model = build.build(spec, spec.initial_weights(0))
    wrong = random_weights(spec)
    wrong["transformer_encoder_1.self_attn.in_proj_weight"] = wrong["transformer_encoder_1.self_attn.in_proj_weight"][:40]
    with pytest.raises(SpecError, match="in_proj_weight"):
        weights.set_weights(model, wrong)
    assert np.array_equal(weights.get_weights(model)["embedding_1.weight"], spec.initial_weights(0)["embedding_1.weight"])


@pytest.mark.parametrize("layer", [L.LayerNorm(epsilon=0.01), L.TransformerEncoder(2, dim_feedforward=8, epsilon=0.002)])
def test_a_layer_norm_epsilon_paddle_refuses_names_the_layer_and_the_fix(layer):
    spec = Sequential([L.Dense(4), layer], input_shape=(3, 5), name="wide_epsilon")
    with pytest.raises(SpecError, match=rf"paddle: layer '{layer.name}' \({layer.KIND}\) has epsilon=.*accepts "
                                        r"epsilon up to 0.001; give epsilon <= 0.001"):
        build.build(spec, spec.initial_weights(0))


def test_an_unsupported_layer_kind_names_the_framework_and_the_layer():
    class Upsample(Layer):
        KIND = "upsample"

        def __init__(self, name: str | None = None) -> None:
            self.name = name

    spec = Sequential([L.Dense(4), Upsample(name="grow")], input_shape=(3,))
    with pytest.raises(SpecError, match=r"paddle: layer 'grow' \(upsample\) is not supported"):
        build.build(spec, spec.initial_weights(0))


def test_an_activation_child_name_that_clashes_is_refused():
    spec = Sequential([L.Dense(4, activation="relu", name="head"), L.Activation("tanh", name="head_relu")], input_shape=(3,))
    with pytest.raises(SpecError, match="head_relu"):
        build.build(spec, spec.initial_weights(0))
