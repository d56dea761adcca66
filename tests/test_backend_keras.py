"""The keras backend against real Keras 3: outputs equal the NumPy oracle, weights map exactly, models are native and trainable."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import LEAKY_RELU_SLOPE
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights
from spec_reference import reference_forward

TOLERANCE = 1e-5  # max abs error of float32 inference against the float64 oracle (outputs are of order 1)


def extra_specs() -> dict[str, Sequential]:
    """Layouts the reference and coverage specs do not reach: flatten permutations, odd convs, reshapes, transposes."""
    return {
        "ends_with_flatten": Sequential([L.Conv2d(3, 3, padding=1), L.Flatten()], input_shape=(2, 4, 5)),
        "flatten_batchnorm_dense": Sequential([
            L.Conv2d(4, 3), L.Flatten(), L.BatchNorm(), L.Dropout(0.3), L.Activation("softmax"),
            L.Residual([L.BatchNorm()]), L.Dense(3),
        ], input_shape=(2, 6, 5)),
        "concat_of_flat_features": Sequential([
            L.Conv2d(3, 1), L.Concat([L.Flatten()], [L.GlobalAvgPool2d()]), L.BatchNorm(), L.Dense(4, activation="gelu"),
        ], input_shape=(2, 3, 4)),
        "convolution_variety": Sequential([
            L.Conv2d(4, (2, 3), stride=2, padding="same", activation="leaky_relu"),
            L.Conv2d(6, 3, padding=(1, 2), groups=2, activation="silu"),
            L.Conv2d(12, 3, padding="same", groups=6, dilation=2, activation="softmax"),
            L.Conv2d(5, (3, 2), dilation=(2, 1), use_bias=False), L.Conv2d(5, 2, stride=(1, 2)),
            L.MaxPool2d(3, stride=1), L.AvgPool2d((1, 2)), L.Flatten(), L.Dense(3, activation="leaky_relu"),
        ], input_shape=(3, 21, 16)),
        # A rank-2 input is a sequence now: its softmax (and concat) work on the last axis, keras's own.
        "sequence": Sequential([
            L.Dense(5, activation="softmax"), L.Activation("leaky_relu"), L.Concat([L.Dense(5)], []),
            L.Activation("softmax"), L.Flatten(), L.Dense(2),
        ], input_shape=(4, 6)),
        # A channels x length map: channels-last in keras, flattened in (length, channels) order.
        "map_1d_flatten": Sequential([
            L.Conv1d(4, 3, padding=1, groups=2), L.Activation("softmax"), L.Conv1d(8, 2, groups=4, activation="leaky_relu"),
            L.Flatten(), L.BatchNorm(), L.LayerNorm(), L.Dense(3),
        ], input_shape=(2, 9)),
        # Reshapes between maps (channels moved around keras's Reshape), of a single-channel map (no move), to a vector.
        "reshapes": Sequential([
            L.Conv2d(3, 3, padding=1), L.Reshape((6, 12), layout="map"), L.Conv1d(4, 3, stride=2, padding="same"),
            L.Reshape((1, 24), layout="map"), L.MaxPool1d(2), L.Reshape((12,)), L.Dense(3),
        ], input_shape=(2, 4, 6)),
        # A flattened map reshaped to a map: Flatten's channels-last order is undone first.
        "flatten_to_map": Sequential([
            L.Conv2d(4, 1), L.Flatten(), L.Dropout(0.1), L.Reshape((4, 15), layout="map"), L.GlobalAvgPool1d(),
            L.Dense(2),
        ], input_shape=(2, 3, 5)),
        # Transposes move no data in keras: first in a concat branch, and last (a channels x length map output).
        "transposes": Sequential([
            L.Transpose(), L.Conv1d(8, 2, stride=2, groups=4, activation="softmax"),
            L.Concat([L.Transpose(), L.Dense(3)], [L.Transpose(), L.LayerNorm()]), L.Transpose(),
        ], input_shape=(6, 4)),
        "conv_transpose_variety": Sequential([
            L.ConvTranspose2d(4, 2, stride=3),  # kernel < stride: keras's default output size is not torch's
            L.ConvTranspose2d(2, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 1), activation="leaky_relu"),
            L.ConvTranspose2d(3, 3, padding=1, activation="softmax"), L.Flatten(), L.Dense(2),
        ], input_shape=(3, 2, 3)),
        "recurrent_variety": Sequential([
            L.SimpleRNN(4, return_sequences=True, bidirectional=True), L.GRU(3, return_sequences=True, bidirectional=True),
            L.MultiHeadAttention(2, dropout=0.1), L.TransformerEncoder(3, dim_feedforward=8, dropout=0.0, epsilon=1e-3),
            L.LSTM(4, return_sequences=True), L.Activation("softmax"), L.SimpleRNN(2),
        ], input_shape=(7, 5)),
    }


ALL_SPECS = {**{name: make() for name, make in {**REFERENCE_SPECS, **COVERAGE_SPECS}.items()}, **extra_specs()}


@pytest.fixture(scope="module")
def keras():
    return load("keras")


@pytest.fixture(scope="module", params=sorted(ALL_SPECS))
def built(request, keras):
    from nbunify.backends.keras.build import build

    spec = ALL_SPECS[request.param]
    weights = random_weights(spec)
    return spec, weights, build(spec, weights)


def test_outputs_equal_the_numpy_oracle(built):
    from nbunify.backends.keras.predict import predict

    spec, weights, model = built
    inputs = random_inputs(spec)
    expected = reference_forward(spec, weights, inputs)
    outputs = predict(model, inputs)
    assert outputs.dtype == np.float32 and outputs.shape == (4, *spec.output_shape)
    assert np.abs(outputs - expected).max() <= TOLERANCE


def test_weights_after_build_are_the_given_ones_bit_for_bit(built):
    from nbunify.backends.keras.weights import get_weights

    spec, weights, model = built
    got = get_weights(model)
    assert list(got) == list(spec.parameters())
    for key, value in weights.items():
        assert got[key].dtype == np.float32 and got[key].shape == value.shape and np.array_equal(got[key], value), key


def test_set_then_get_weights_round_trips_bit_identically(built):
    from nbunify.backends.keras.weights import get_weights, set_weights

    spec, weights, model = built
    other = random_weights(spec, seed=11)
    try:
        set_weights(model, other)
        got = get_weights(model)
        assert all(np.array_equal(got[key], other[key]) for key in other)
    finally:
        set_weights(model, weights)


def test_keras_counts_the_same_parameters_as_the_spec(built):
    spec, _, model = built
    assert model.count_params() == spec.parameter_count()
    trainable = sum(int(np.prod(variable.shape)) for variable in model.trainable_weights)
    assert trainable == spec.parameter_count(trainable_only=True)


def test_every_spec_layer_is_a_keras_layer_of_its_name(built, keras):
    from nbunify.backends.keras.layers import TransformerEncoder

    spec, _, model = built
    recurrent = (keras.layers.SimpleRNN, keras.layers.LSTM, keras.layers.GRU, keras.layers.Bidirectional)
    kinds = {"dense": keras.layers.Dense, "maxpool2d": keras.layers.MaxPooling2D, "avgpool2d": keras.layers.AveragePooling2D,
             "maxpool1d": keras.layers.MaxPooling1D, "avgpool1d": keras.layers.AveragePooling1D,
             "global_avgpool2d": keras.layers.GlobalAveragePooling2D, "global_avgpool1d": keras.layers.GlobalAveragePooling1D,
             "batchnorm": keras.layers.BatchNormalization, "layernorm": keras.layers.LayerNormalization,
             "flatten": keras.layers.Flatten, "dropout": keras.layers.Dropout, "reshape": keras.layers.Reshape,
             "transpose": keras.layers.Identity, "embedding": keras.layers.Embedding,
             "conv2d": (keras.layers.Conv2D, keras.layers.DepthwiseConv2D),
             "conv1d": (keras.layers.Conv1D, keras.layers.DepthwiseConv1D), "conv_transpose2d": keras.layers.Conv2DTranspose,
             "simple_rnn": recurrent, "lstm": recurrent, "gru": recurrent,
             "multihead_attention": keras.layers.MultiHeadAttention, "transformer_encoder": TransformerEncoder,
             "activation": (keras.layers.Activation, keras.layers.LeakyReLU)}
    stored = (*spec.input_shape[1:], spec.input_shape[0]) if spec.input_layout == "map" else spec.input_shape
    assert model.name == spec.name and tuple(model.input_shape[1:]) == stored
    assert model.inputs[0].dtype == ("int64" if spec.input_layout == "tokens" else "float32")
    for step in spec.steps:
        assert isinstance(model.get_layer(step.layer.name), kinds[step.layer.KIND]), step.layer.name


def test_describe_counts_each_layers_own_keras_weights(built):
    from nbunify.backends.keras.describe import count_parameters, layer_parameters, layer_types

    spec, _, model = built
    counts, types = layer_parameters(model), layer_types(model)
    assert list(counts) == list(types) == [step.layer.name for step in spec.steps]
    for step in spec.steps:  # keras keeps one bias where the spec does (SimpleRNN, LSTM): the spec's own counts
        parameters = step.layer.parameters(step.input_shape).values()
        expected = (sum(int(np.prod(p.shape)) for p in parameters), sum(int(np.prod(p.shape)) for p in parameters if p.trainable))
        assert counts[step.layer.name] == expected, step.layer.name
    assert count_parameters(model) == (spec.parameter_count(), spec.parameter_count(trainable_only=True))
    assert all(kind.startswith("layers.") or kind == "TransformerEncoder" for kind in types.values())


def test_reference_layers_map_to_idiomatic_keras_layers(keras):
    from nbunify.backends.keras.build import build

    def made(name):
        spec = ALL_SPECS[name]
        return build(spec, spec.initial_weights(0))

    lenet = made("lenet5")
    conv = lenet.get_layer("conv2d_1")
    assert type(conv) is keras.layers.Conv2D and conv.padding == "same" and conv.activation is keras.activations.relu
    assert lenet.get_layer("dense_1").kernel.shape == (400, 120)

    model = made("depthwise_separable_cnn")
    assert type(model.get_layer("conv2d_2")) is keras.layers.DepthwiseConv2D
    assert model.get_layer("conv2d_2").depth_multiplier == 1 and model.get_layer("conv2d_2").padding == "same"
    assert type(model.get_layer("conv2d_4")) is keras.layers.DepthwiseConv2D and model.get_layer("conv2d_4").depth_multiplier == 2
    assert isinstance(model.get_layer("concat_1"), keras.layers.Concatenate)
    assert model.get_layer("conv2d_3_activation").negative_slope == pytest.approx(LEAKY_RELU_SLOPE)
    assert model.get_layer("activation_2").activation is keras.activations.sigmoid

    model = made("residual_cnn")
    assert isinstance(model.get_layer("residual_1"), keras.layers.Add)
    norm = model.get_layer("batchnorm_1")
    assert norm.axis == -1 and norm.epsilon == pytest.approx(1e-5) and norm.momentum == pytest.approx(0.9)

    grouped = made("convolution_variety")
    assert type(grouped.get_layer("conv2d_2")) is keras.layers.Conv2D and grouped.get_layer("conv2d_2").groups == 2
    assert grouped.get_layer("conv2d_2_pad").padding == ((1, 1), (2, 2))

    lstm = made("lstm_text_classifier")
    both = lstm.get_layer("lstm_1")
    assert type(both) is keras.layers.Bidirectional and both.merge_mode == "concat" and both.forward_layer.return_sequences
    assert type(both.forward_layer) is keras.layers.LSTM and type(lstm.get_layer("lstm_2")) is keras.layers.LSTM
    assert lstm.get_layer("embedding_1").embeddings.shape == (40, 16)
    gru = made("gru_text_classifier").get_layer("gru_1")
    assert type(gru) is keras.layers.GRU and gru.cell.reset_after and gru.cell.bias.shape == (2, 60)

    text = made("conv1d_text")
    assert type(text.get_layer("conv1d_1")) is keras.layers.Conv1D and text.get_layer("conv1d_1").padding == "same"
    assert text.get_layer("conv1d_2").groups == 4 and type(text.get_layer("transpose_1")) is keras.layers.Identity
    attention = text.get_layer("multihead_attention_1")
    assert type(attention) is keras.layers.MultiHeadAttention and attention.num_heads == 3 and attention.key_dim == 4
    assert text.get_layer("layernorm_2").epsilon == pytest.approx(1e-3)

    decoder = made("decoder")
    up = decoder.get_layer("conv_transpose2d_1")
    assert type(up) is keras.layers.Conv2DTranspose and up.padding == "valid" and up.kernel.shape == (3, 3, 4, 2)
    assert decoder.get_layer("conv_transpose2d_1_crop").cropping == ((1, 1), (1, 1))
    assert type(made("transposes").get_layer("conv1d_1")) is keras.layers.DepthwiseConv1D
    sequence = made("sequence")  # softmax on a sequence's features: keras's own last-axis softmax, no Softmax(axis=1)
    assert sequence.get_layer("dense_1").activation is keras.activations.softmax
    assert type(sequence.get_layer("activation_2")) is keras.layers.Activation


def test_transformer_encoder_is_a_serializable_keras_layer(keras, tmp_path):
    from nbunify.backends.keras.build import build
    from nbunify.backends.keras.layers import TransformerEncoder

    spec = ALL_SPECS["transformer_classifier"]
    model = build(spec, random_weights(spec))
    encoder = model.get_layer("transformer_encoder_2")
    assert isinstance(encoder, TransformerEncoder) and isinstance(encoder.attention, keras.layers.MultiHeadAttention)
    assert encoder.get_config()["norm_first"] and encoder.get_config()["activation"] == "gelu"
    path = tmp_path / "transformer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # found through keras's registry (generated code registers the same name)
    assert keras.saving.get_registered_name(type(loaded.get_layer("transformer_encoder_1"))) == "nbunify>TransformerEncoder"
    inputs = random_inputs(spec)
    assert np.array_equal(keras.ops.convert_to_numpy(loaded(inputs)), keras.ops.convert_to_numpy(model(inputs)))


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_public_api_builds_seeded_keras_models(name, keras):
    spec = ALL_SPECS[name]
    model = nu.build(spec, "keras", seed=3)
    assert isinstance(model, keras.Model)
    expected, got = spec.initial_weights(3), nu.weights(model)
    assert list(got) == list(expected) and all(np.array_equal(got[key], expected[key]) for key in expected)
    inputs = random_inputs(spec)
    assert np.abs(nu.predict(model, inputs) - reference_forward(spec, expected, inputs)).max() <= TOLERANCE


def test_public_api_loads_weights_and_keeps_token_ids_integer(keras):
    spec = ALL_SPECS["residual_cnn"]
    model = nu.build(spec, "keras", seed=0)
    nu.load_weights(model, random_weights(spec))
    assert np.array_equal(nu.weights(model)["conv2d_1.weight"], random_weights(spec)["conv2d_1.weight"])
    from nbunify.backends.keras.predict import predict

    spec = ALL_SPECS["lstm_text_classifier"]
    model, seen = nu.build(spec, "keras", seed=0), []
    original = model.call
    model.call = lambda inputs, *args, **kwargs: (seen.append(inputs.dtype), original(inputs, *args, **kwargs))[1]
    predict(model, random_inputs(spec))
    assert seen == ["int64"]


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_a_gradient_step_trains_the_native_model(name, keras):
    from nbunify.backends.keras.layout import to_keras_inputs

    spec = ALL_SPECS[name]
    model = nu.build(spec, "keras", seed=0)
    before = nu.weights(model)
    inputs = to_keras_inputs(random_inputs(spec, batch=8), spec.input_layout)
    targets = np.random.default_rng(0).standard_normal((8, *model.output_shape[1:])).astype(np.float32)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mean_squared_error")
    loss = model.evaluate(inputs, targets, verbose=0)
    model.train_on_batch(inputs, targets)
    assert model.evaluate(inputs, targets, verbose=0) != loss
    after = nu.weights(model)
    trainable = [key for key, parameter in spec.parameters().items() if parameter.trainable]
    assert any(not np.array_equal(before[key], after[key]) for key in trainable)


def test_a_fit_step_trains_the_native_model(keras):
    from nbunify.backends.keras.layout import to_keras_inputs

    spec = REFERENCE_SPECS["residual_cnn"]()
    model = nu.build(spec, "keras", seed=0)
    before = nu.weights(model)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    inputs, labels = to_keras_inputs(random_inputs(spec, batch=8), spec.input_layout), np.arange(8) % 10
    history = model.fit(inputs, labels, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = nu.weights(model)
    for key in ("conv2d_1.weight", "dense_1.bias", "batchnorm_1.weight", "batchnorm_1.running_mean"):
        assert not np.array_equal(before[key], after[key]), key


def test_unbuildable_specs_and_foreign_models_get_clear_errors(keras):
    from nbunify.backends.keras.build import build
    from nbunify.backends.keras.predict import predict
    from nbunify.backends.keras.weights import get_weights

    strided = Sequential([L.Conv2d(2, 3, stride=2, dilation=2)], input_shape=(1, 9, 9))
    with pytest.raises(SpecError, match=r"keras cannot build layer 'conv2d_1' \(conv2d\).*stride > 1"):
        build(strided, strided.initial_weights(0))
    strided_1d = Sequential([L.Conv1d(2, 3, stride=2, dilation=2)], input_shape=(1, 9))
    with pytest.raises(SpecError, match=r"keras cannot build layer 'conv1d_1' \(conv1d\).*use stride 1"):
        build(strided_1d, strided_1d.initial_weights(0))
    for shape in ((2, 4, 4), (2, 4)):
        on_map = Sequential([L.Dense(3)], input_shape=shape, input_layout="map")
        with pytest.raises(SpecError, match=r"layer 'dense_1' \(dense\).*channels-last.*add Flatten or a global pooling"):
            build(on_map, on_map.initial_weights(0))
    reshaped = Sequential([L.Conv2d(2, 1), L.Concat([L.Flatten()], [L.Flatten()]), L.Reshape((4, 9))], input_shape=(1, 3, 3))
    with pytest.raises(SpecError, match=r"keras cannot build layer 'reshape_1' \(reshape\).*concatenates flattened"):
        build(reshaped, reshaped.initial_weights(0))
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(TypeError, match="not built by nbunify"):
        get_weights(plain)
    spec = REFERENCE_SPECS["mlp"]()
    with pytest.raises(ValueError, match=r"shape \(batch, 8\), got \(2, 7\)"):
        predict(build(spec, spec.initial_weights(0)), np.zeros((2, 7), np.float32))


def test_paddle_still_loads_after_keras_built_a_model(keras):
    nu.build(REFERENCE_SPECS["mlp"](), "keras", seed=0)
    paddle = load("paddle")
    assert float(paddle.to_tensor([1.0, 2.0]).sum()) == 3.0
