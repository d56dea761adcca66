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
from nbunify.backends.torch import build, layers, owns, predict, weights
from nbunify.spec import Sequential, SpecError
from nbunify.spec.layers import LEAKY_RELU_SLOPE, Layer
from reference_specs import REFERENCE_SPECS, random_inputs, random_weights
from spec_reference import reference_forward

TOLERANCE = 1e-5  # float32, inference mode, for outputs of order 1
SPEC_NAMES = sorted(REFERENCE_SPECS)


def built(name: str) -> tuple[Sequential, dict[str, np.ndarray], nn.Module]:
    spec = REFERENCE_SPECS[name]()
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
    spec = REFERENCE_SPECS[name]()
    model = build.build(spec, spec.initial_weights(5))
    canonical = random_weights(spec, seed=9)
    weights.set_weights(model, canonical)
    got = weights.get_weights(model)
    assert all(got[key].tobytes() == canonical[key].tobytes() for key in canonical)
    got[next(iter(got))][...] = 0  # copies, not views of the parameters
    assert np.array_equal(weights.get_weights(model)[next(iter(got))], canonical[next(iter(got))])


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_parameter_counts_equal_the_spec(name):
    spec, _, model = built(name)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    statistics = sum(b.numel() for key, b in model.named_buffers() if key.endswith(("running_mean", "running_var")))
    assert trainable == spec.parameter_count(trainable_only=True)
    assert trainable + statistics == spec.parameter_count()


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
