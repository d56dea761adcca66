"""The paddle backend against the real paddle: outputs match the NumPy oracle, weights move exactly, models are idiomatic."""

from __future__ import annotations

import numpy as np
import pytest

import nbunify as nu
import nbunify.layers as L
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import Layer
from reference_specs import REFERENCE_SPECS, lenet5, random_inputs, random_weights, residual_cnn
from spec_reference import reference_forward

paddle = load("paddle")
nn = paddle.nn

from nbunify.backends import paddle as backend  # noqa: E402
from nbunify.backends.paddle import build, predict, weights  # noqa: E402

TOLERANCE = 1e-5  # float32, inference mode
SPEC_NAMES = sorted(REFERENCE_SPECS)


@pytest.fixture(scope="module", params=SPEC_NAMES)
def built(request):
    spec = REFERENCE_SPECS[request.param]()
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
    spec = REFERENCE_SPECS[name]()
    canonical, inputs = spec.initial_weights(0), random_inputs(spec)
    got = predict.predict(build.build(spec, canonical), inputs)
    assert np.abs(got - reference_forward(spec, canonical, inputs)).max() <= TOLERANCE


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


def test_trainable_parameter_counts_match_the_spec(built):
    spec, _, model = built
    trainable = sum(int(np.prod(p.shape)) for p in model.parameters() if p.trainable)
    everything = sum(int(np.prod(p.shape)) for p in model.parameters())
    assert trainable == spec.parameter_count(trainable_only=True)
    assert everything == spec.parameter_count()


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
    from nbunify.backends.paddle.layers import Concat, Residual

    model = build.build(residual_cnn(), residual_cnn().initial_weights(0))
    first, second = model.residual_1, model.residual_2
    assert isinstance(first, Residual) and isinstance(first.shortcut, nn.Identity)
    assert [name for name, _ in first.body.named_children()] == [
        "conv2d_2", "batchnorm_2", "activation_2", "conv2d_3", "batchnorm_3"]
    assert isinstance(first.body.activation_2, nn.ReLU) and isinstance(second.body.activation_4, nn.GELU)
    assert isinstance(second.shortcut.conv2d_5, nn.Conv2D) and isinstance(second.shortcut.batchnorm_5, nn.BatchNorm2D)
    assert isinstance(model.batchnorm_6, nn.BatchNorm1D)
    assert model.batchnorm_1._momentum == pytest.approx(0.9) and model.batchnorm_1._epsilon == pytest.approx(1e-5)
    assert second.body.conv2d_4._padding == [0, 1, 0, 1]  # TensorFlow's "same" for stride 2 on 8x8

    depthwise_spec = REFERENCE_SPECS["depthwise_separable_cnn"]()
    depthwise = build.build(depthwise_spec, depthwise_spec.initial_weights(0))
    assert isinstance(depthwise.concat_1, Concat)
    branches = list(depthwise.concat_1.branches)
    assert isinstance(branches[2], nn.Identity) and isinstance(branches[1].conv2d_6_relu, nn.ReLU)
    assert depthwise.conv2d_2._groups == 8 and depthwise.conv2d_2.bias is None
    assert isinstance(depthwise.conv2d_3_leaky_relu, nn.LeakyReLU) and isinstance(depthwise.activation_1, nn.Silu)
    assert isinstance(depthwise.global_avgpool2d_1, nn.AdaptiveAvgPool2D)
    assert isinstance(depthwise.global_avgpool2d_1_flatten, nn.Flatten)


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
