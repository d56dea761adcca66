"""The keras backend against real Keras 3: outputs equal the NumPy oracle, weights map exactly, models are native and trainable."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import LEAKY_RELU_SLOPE
from reference_specs import REFERENCE_SPECS, random_inputs, random_weights
from spec_reference import reference_forward

TOLERANCE = 1e-5  # max abs error of float32 inference against the float64 oracle (outputs are of order 1)


def extra_specs() -> dict[str, Sequential]:
    """Layouts the reference architectures do not reach: flatten permutations, odd convs, sequences."""
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
        "sequence": Sequential([
            L.Dense(5, activation="softmax"), L.Activation("leaky_relu"), L.Concat([L.Dense(5)], []),
            L.Activation("softmax"), L.Flatten(), L.Dense(2),
        ], input_shape=(4, 6)),
    }


ALL_SPECS = {**{name: make() for name, make in REFERENCE_SPECS.items()}, **extra_specs()}


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
    spec, _, model = built
    kinds = {"dense": keras.layers.Dense, "maxpool2d": keras.layers.MaxPooling2D, "avgpool2d": keras.layers.AveragePooling2D,
             "global_avgpool2d": keras.layers.GlobalAveragePooling2D, "batchnorm": keras.layers.BatchNormalization,
             "flatten": keras.layers.Flatten, "dropout": keras.layers.Dropout,
             "conv2d": (keras.layers.Conv2D, keras.layers.DepthwiseConv2D),
             "activation": (keras.layers.Activation, keras.layers.LeakyReLU, keras.layers.Softmax)}
    channels_last = (*spec.input_shape[1:], spec.input_shape[0]) if len(spec.input_shape) == 3 else spec.input_shape
    assert model.name == spec.name and tuple(model.input_shape[1:]) == channels_last
    for step in spec.steps:
        assert isinstance(model.get_layer(step.layer.name), kinds[step.layer.KIND]), step.layer.name


def test_reference_layers_map_to_idiomatic_keras_layers(keras):
    from nbunify.backends.keras.build import build

    lenet = build(REFERENCE_SPECS["lenet5"](), REFERENCE_SPECS["lenet5"]().initial_weights(0))
    conv = lenet.get_layer("conv2d_1")
    assert type(conv) is keras.layers.Conv2D and conv.padding == "valid" and conv.activation is keras.activations.relu
    assert lenet.get_layer("conv2d_1_pad").padding == ((2, 2), (2, 2))
    assert lenet.get_layer("dense_1").kernel.shape == (400, 120)

    spec = REFERENCE_SPECS["depthwise_separable_cnn"]()
    model = build(spec, spec.initial_weights(0))
    assert type(model.get_layer("conv2d_2")) is keras.layers.DepthwiseConv2D
    assert model.get_layer("conv2d_2").depth_multiplier == 1 and model.get_layer("conv2d_2").padding == "same"
    assert type(model.get_layer("conv2d_4")) is keras.layers.DepthwiseConv2D and model.get_layer("conv2d_4").depth_multiplier == 2
    assert isinstance(model.get_layer("concat_1"), keras.layers.Concatenate)
    assert model.get_layer("conv2d_3_activation").negative_slope == pytest.approx(LEAKY_RELU_SLOPE)
    assert model.get_layer("activation_2").activation is keras.activations.sigmoid

    spec = REFERENCE_SPECS["residual_cnn"]()
    model = build(spec, spec.initial_weights(0))
    assert isinstance(model.get_layer("residual_1"), keras.layers.Add)
    norm = model.get_layer("batchnorm_1")
    assert norm.axis == -1 and norm.epsilon == pytest.approx(1e-5) and norm.momentum == pytest.approx(0.9)

    grouped = build(ALL_SPECS["convolution_variety"], ALL_SPECS["convolution_variety"].initial_weights(0))
    assert type(grouped.get_layer("conv2d_2")) is keras.layers.Conv2D and grouped.get_layer("conv2d_2").groups == 2


def test_public_api_builds_seeded_keras_models(keras):
    spec = REFERENCE_SPECS["residual_cnn"]()
    model = nu.build(spec, "keras", seed=0)
    assert isinstance(model, keras.Model)
    expected, got = spec.initial_weights(0), nu.weights(model)
    assert got.keys() == expected.keys() and all(np.array_equal(got[key], expected[key]) for key in expected)
    inputs = random_inputs(spec)
    assert np.abs(nu.predict(model, inputs) - reference_forward(spec, expected, inputs)).max() <= TOLERANCE
    nu.load_weights(model, random_weights(spec))
    assert np.array_equal(nu.weights(model)["conv2d_1.weight"], random_weights(spec)["conv2d_1.weight"])


def test_a_fit_step_trains_the_native_model(keras):
    from nbunify.backends.keras.layout import to_keras_inputs

    spec = REFERENCE_SPECS["residual_cnn"]()
    model = nu.build(spec, "keras", seed=0)
    before = nu.weights(model)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    inputs, labels = to_keras_inputs(random_inputs(spec, batch=8)), np.arange(8) % 10
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
    on_map = Sequential([L.Dense(3)], input_shape=(2, 4, 4))
    with pytest.raises(SpecError, match=r"layer 'dense_1' \(dense\).*add Flatten or GlobalAvgPool2d"):
        build(on_map, on_map.initial_weights(0))
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
