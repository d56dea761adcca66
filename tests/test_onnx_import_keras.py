"""The keras ONNX importer: op families against onnxruntime, dynamic batch, fine-tuning, light models, conformance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nbunify.frameworks import load  # noqa: E402

keras = load("keras")
tf = load("tensorflow")

from nbunify.convert.errors import UnsupportedModelError  # noqa: E402
from nbunify.convert.hub import from_onnx, run  # noqa: E402

FLOAT, INT64 = TensorProto.FLOAT, TensorProto.INT64
LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def make_model(nodes, inputs, outputs, initializers=(), opset=18):
    graph = helper.make_graph(nodes, "test", inputs, outputs,
                              [numpy_helper.from_array(np.asarray(value), name) for name, value in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)  # types of the outputs left open
    onnx.checker.check_model(model)
    return model


def reference(model, feeds):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def check(model, feeds, tolerance=1e-5):
    """Import ``model`` into keras, run it on ``feeds`` and compare every output with onnxruntime: dtype, shape,
    max abs error."""
    native = from_onnx(model, "keras")
    assert isinstance(native, keras.Model)
    outputs = run(native, list(feeds.values()))
    expected = reference(model, feeds)
    assert len(outputs) == len(expected)
    for output, wanted in zip(outputs, expected):
        assert output.dtype == wanted.dtype, (output.dtype, wanted.dtype)
        assert output.shape == wanted.shape, (output.shape, wanted.shape)
        if wanted.dtype.kind in "fiub":
            error = np.abs(output.astype(np.float64) - wanted.astype(np.float64)).max() if wanted.size else 0.0
            assert error <= tolerance, f"max abs error {error}"
    return native


def value(name, elem_type, shape):
    """A graph input or output; outputs without a shape are left to shape inference (as exporters often do)."""
    if shape is None:
        return helper.make_empty_tensor_value_info(name)
    return helper.make_tensor_value_info(name, elem_type, shape)


RNG = np.random.default_rng(0)


def normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_elementwise_family():
    nodes = [helper.make_node("Add", ["x", "bias"], ["sum"]), helper.make_node("Mul", ["sum", "x"], ["product"]),
             helper.make_node("Greater", ["product", "zero"], ["mask"]),
             helper.make_node("Where", ["mask", "product", "x"], ["y"]),
             helper.make_node("Div", ["a", "b"], ["quotient"]), helper.make_node("Mod", ["a", "b"], ["remainder"]),
             helper.make_node("Clip", ["x", "low", "high"], ["clipped"])]
    model = make_model(nodes, [value("x", FLOAT, [2, 3, 4]), value("a", INT64, [5]), value("b", INT64, [5])],
                       [value("y", FLOAT, None), value("quotient", INT64, None), value("remainder", INT64, None),
                        value("clipped", FLOAT, None)],
                       [("bias", normal(3, 1)), ("zero", np.float32(0)), ("low", np.float32(-0.5)),
                        ("high", np.float32(0.5))])
    check(model, {"x": normal(2, 3, 4), "a": np.array([7, -7, 7, -7, 0]), "b": np.array([2, 2, -2, -2, 3])})


def test_activation_family():
    nodes = [helper.make_node("LeakyRelu", ["x"], ["leaky"], alpha=0.2), helper.make_node("Softmax", ["leaky"], ["y"],
                                                                                      axis=1),
             helper.make_node("HardSwish", ["x"], ["swish"]), helper.make_node("Elu", ["x"], ["elu"]),
             helper.make_node("LogSoftmax", ["x"], ["log_probabilities"], axis=-1)]
    model = make_model(nodes, [value("x", FLOAT, [2, 3, 4])],
                       [value(name, FLOAT, None) for name in ("y", "swish", "elu", "log_probabilities")])
    check(model, {"x": normal(2, 3, 4)})


def test_conv_and_pool_families():
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["conv"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node("Conv", ["relu", "depthwise"], ["grouped"], group=4, pads=[1, 0, 1, 0]),
             helper.make_node("MaxPool", ["grouped"], ["max"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
             helper.make_node("AveragePool", ["grouped"], ["average"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                              count_include_pad=0),
             helper.make_node("ConvTranspose", ["max", "transposed"], ["up"], strides=[2, 2], pads=[1, 1, 0, 0],
                              output_padding=[1, 1]),
             helper.make_node("GlobalAveragePool", ["up"], ["pooled"]),
             helper.make_node("Conv", ["x", "w"], ["dilated"], strides=[2, 2], dilations=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["x"], ["dilated_max"], kernel_shape=[2, 2], dilations=[2, 2])]
    model = make_model(nodes, [value("x", FLOAT, [1, 3, 15, 15])],
                       [value(name, FLOAT, None) for name in ("average", "up", "pooled", "dilated", "dilated_max")],
                       [("w", normal(4, 3, 3, 3)), ("b", normal(4)), ("depthwise", normal(4, 1, 3, 3)),
                        ("transposed", normal(4, 2, 3, 3))])
    check(model, {"x": normal(1, 3, 15, 15)}, tolerance=1e-4)


def test_normalization_family():
    nodes = [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "variance"], ["normalized"]),
             helper.make_node("InstanceNormalization", ["x", "scale", "bias"], ["instance"]),
             helper.make_node("LayerNormalization", ["x", "last_scale", "last_bias"], ["layer"], axis=-1),
             helper.make_node("LRN", ["x"], ["lrn"], size=3)]
    model = make_model(nodes, [value("x", FLOAT, [2, 3, 4, 5])],
                       [value(name, FLOAT, None) for name in ("normalized", "instance", "layer", "lrn")],
                       [("scale", normal(3)), ("bias", normal(3)), ("mean", normal(3)),
                        ("variance", np.abs(normal(3)) + 0.5), ("last_scale", normal(5)), ("last_bias", normal(5))])
    check(model, {"x": normal(2, 3, 4, 5)}, tolerance=1e-4)


def test_linear_family():
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["dense"], transB=1, alpha=0.5),
             helper.make_node("MatMul", ["dense", "v"], ["y"]),
             helper.make_node("Einsum", ["x", "x"], ["gram"], equation="bi,ci->bc")]
    model = make_model(nodes, [value("x", FLOAT, [3, 4])], [value("y", FLOAT, None), value("gram", FLOAT, None)],
                       [("w", normal(6, 4)), ("b", normal(6)), ("v", normal(6, 2))])
    check(model, {"x": normal(3, 4)})


def test_shape_family():
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["reshaped"]),
             helper.make_node("Transpose", ["reshaped"], ["transposed"], perm=[0, 2, 1]),
             helper.make_node("Slice", ["transposed", "starts", "ends", "axes", "steps"], ["sliced"]),
             helper.make_node("Concat", ["sliced", "sliced"], ["joined"], axis=1),
             helper.make_node("Gather", ["joined", "indices"], ["gathered"], axis=2),
             helper.make_node("Unsqueeze", ["gathered", "axis"], ["y"]),
             helper.make_node("Shape", ["y"], ["shape_of"]),
             helper.make_node("TopK", ["x", "k"], ["top_values", "top_indices"], axis=-1),
             helper.make_node("Pad", ["x", "pads"], ["padded"], mode="reflect")]
    model = make_model(nodes, [value("x", FLOAT, [2, 3, 4])],
                       [value("y", FLOAT, None), value("shape_of", INT64, None), value("top_values", FLOAT, None),
                        value("top_indices", INT64, None), value("padded", FLOAT, None)],
                       [("shape", np.array([0, 4, 3])), ("starts", np.array([3])), ("ends", np.array([-100])),
                        ("axes", np.array([1])), ("steps", np.array([-2])), ("indices", np.array([[0, -1], [1, 2]])),
                        ("axis", np.array([1])), ("k", np.array([2])), ("pads", np.array([0, 1, 2, 0, 1, 1]))])
    check(model, {"x": normal(2, 3, 4)})


def test_reduce_family():
    nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["mean"], keepdims=0),
             helper.make_node("ReduceMax", ["x", "last_axis"], ["max"]),
             helper.make_node("ArgMax", ["ties"], ["last"], axis=1, select_last_index=1)]
    model = make_model(nodes, [value("x", FLOAT, [2, 3, 4]), value("ties", FLOAT, [2, 4])],
                       [value("mean", FLOAT, None), value("max", FLOAT, None), value("last", INT64, None)],
                       [("axes", np.array([0, 2])), ("last_axis", np.array([-1]))], opset=18)
    check(model, {"x": normal(2, 3, 4), "ties": np.array([[1, 3, 3, 0], [2, 2, 1, 2]], np.float32)})
    attribute_axes = make_model([helper.make_node("ReduceSum", ["x"], ["total"], axes=[1], keepdims=1)],
                                [value("x", FLOAT, [2, 3, 4])], [value("total", FLOAT, None)], opset=11)
    check(attribute_axes, {"x": normal(2, 3, 4)})


def test_recurrent_family():
    hidden, features = 3, 4
    nodes = [helper.make_node("LSTM", ["x", "w", "r", "b"], ["y", "y_h", "y_c"], hidden_size=hidden,
                              direction="bidirectional"),
             helper.make_node("GRU", ["x", "gru_w", "gru_r"], ["gru_y", "gru_h"], hidden_size=hidden,
                              linear_before_reset=1)]
    model = make_model(nodes, [value("x", FLOAT, [5, 2, features])],
                       [value(name, FLOAT, None) for name in ("y", "y_h", "y_c", "gru_y", "gru_h")],
                       [("w", normal(2, 4 * hidden, features)), ("r", normal(2, 4 * hidden, hidden)),
                        ("b", normal(2, 8 * hidden)), ("gru_w", normal(1, 3 * hidden, features)),
                        ("gru_r", normal(1, 3 * hidden, hidden))])
    check(model, {"x": normal(5, 2, features)})


def test_resize_family():
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["linear"], mode="linear"),
             helper.make_node("Resize", ["x", "", "", "sizes"], ["nearest"], mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor")]
    model = make_model(nodes, [value("x", FLOAT, [1, 2, 4, 5])],
                       [value("linear", FLOAT, None), value("nearest", FLOAT, None)],
                       [("scales", np.array([1, 1, 2, 1.5], np.float32)), ("sizes", np.array([1, 2, 7, 3]))])
    check(model, {"x": normal(1, 2, 4, 5)})


def test_sampling_family():
    nodes = [helper.make_node("GridSample", ["x", "grid"], ["linear"], mode="linear", padding_mode="reflection"),
             helper.make_node("GridSample", ["x", "grid"], ["nearest"], mode="nearest", align_corners=1)]
    model = make_model(nodes, [value("x", FLOAT, [2, 3, 5, 6]), value("grid", FLOAT, [2, 4, 7, 2])],
                       [value("linear", FLOAT, None), value("nearest", FLOAT, None)], opset=20)
    check(model, {"x": normal(2, 3, 5, 6), "grid": normal(2, 4, 7, 2)})


def small_network():
    """Conv, batch norm, relu, global pool, flatten, gemm: the shape of a classifier, batch dimension free."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["conv"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["conv", "scale", "shift", "mean", "variance"], ["norm"]),
             helper.make_node("Relu", ["norm"], ["relu"]), helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
             helper.make_node("Flatten", ["pool"], ["flat"]),
             helper.make_node("Gemm", ["flat", "dense", "dense_bias"], ["y"], transB=1)]
    return make_model(nodes, [helper.make_tensor_value_info("x", FLOAT, ["batch", 3, 8, 8])],
                      [value("y", FLOAT, ["batch", 5])],
                      [("w", normal(4, 3, 3, 3)), ("b", normal(4)), ("scale", normal(4)), ("shift", normal(4)),
                       ("mean", normal(4)), ("variance", np.abs(normal(4)) + 0.5), ("dense", normal(5, 4)),
                       ("dense_bias", normal(5))])


def test_dynamic_batch_one_import_two_batch_sizes():
    model = small_network()
    native = from_onnx(model, "keras")
    for batch in (1, 5):
        inputs = normal(batch, 3, 8, 8)
        output = run(native, [inputs])[0]
        expected = reference(model, {"x": inputs})[0]
        assert output.shape == (batch, 5)
        assert np.abs(output - expected).max() <= 1e-4


def test_fine_tuning_gives_gradients_and_lowers_the_loss():
    native = from_onnx(small_network(), "keras")
    assert len(native.trainable_weights) >= 6  # conv kernel/bias, batch norm scale/shift, dense kernel/bias
    inputs, targets = normal(8, 3, 8, 8), normal(8, 5)
    optimizer = keras.optimizers.SGD(learning_rate=0.05)
    losses = []
    for _ in range(5):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(native(inputs, training=False) - targets))
        gradients = tape.gradient(loss, native.trainable_weights)
        assert all(gradient is not None for gradient in gradients)
        optimizer.apply_gradients(zip(gradients, native.trainable_weights))
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_float_initializers_outside_layers_are_trainable_weights():
    nodes = [helper.make_node("Add", ["x", "offset"], ["sum"]), helper.make_node("Mul", ["sum", "x"], ["y"])]
    model = make_model(nodes, [value("x", FLOAT, [2, 3])], [value("y", FLOAT, None)], [("offset", normal(3))])
    native = check(model, {"x": normal(2, 3)})
    assert [tuple(weight.shape) for weight in native.trainable_weights] == [(3,)]


#: The light models with seeded random weights (conformance.light_model); vgg19, alexnet and zfnet512 (100M+ weights
#: in their dense layers) are left to `python -m nbunify.convert.conformance --framework keras --kind light`.
LIGHT_TESTED = [path for path in sorted(LIGHT.glob("*.onnx")) if path.stem.removeprefix("light_") in
                ("squeezenet", "shufflenet", "inception_v1", "inception_v2", "resnet50", "densenet121")]


@pytest.mark.parametrize("path", LIGHT_TESTED, ids=lambda path: path.stem)
def test_light_models_match_onnxruntime(path):
    """The onnx package's "light" ResNet-50, DenseNet-121 ... with random weights, on a seeded input:
    max abs error <= 1e-4 against onnxruntime."""
    from nbunify.convert.conformance import _light_case, light_model

    model = light_model(path)
    inputs, expected = _light_case(model)
    outputs = run(from_onnx(model, "keras"), inputs)
    for output, wanted in zip(outputs, expected):
        assert output.shape == wanted.shape
        assert np.abs(output.astype(np.float64) - wanted).max() <= 1e-4


def test_preflight_lists_every_unsupported_op_at_once():
    nodes = [helper.make_node("Unique", ["x"], ["unique"]), helper.make_node("Relu", ["x"], ["relu"]),
             helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["selected"])]
    inputs = [value("x", FLOAT, [4]), value("boxes", FLOAT, [1, 5, 4]), value("scores", FLOAT, [1, 1, 5])]
    model = make_model(nodes, inputs,
                       [value("unique", FLOAT, None), value("relu", FLOAT, None), value("selected", INT64, None)])
    with pytest.raises(UnsupportedModelError) as raised:
        from_onnx(model, "keras")
    problems = raised.value.problems
    assert len(problems) == 2
    assert any(problem.startswith("Unique") for problem in problems)
    assert any(problem.startswith("NonMaxSuppression") for problem in problems)


def test_conformance_node_suite_pass_rate():
    """The whole node suite of the onnx package (about a minute): at least 85% of the tests not excluded pass."""
    from nbunify.convert.conformance import run_suites, summary

    result = summary(run_suites("keras", ("node",), progress=False))
    assert result["node_pass_rate"] >= 0.85, result["totals"]


# -- intermediate values (nu.parity per_node) -------------------------------------------------------------------------

#: Node kinds whose outputs intermediates must give (the ones a per-node drift report names first).
REQUIRED_KINDS = {"Conv", "Relu", "Add", "Gemm", "MatMul", "LSTM", "GRU"}


def _torch_export(factory):
    """The ONNX export of a reference spec built in torch with random weights, and a seeded input batch of 3."""
    import nbunify as nu
    from reference_specs import random_inputs, random_weights

    spec = factory()
    proto = nu.to_onnx(nu.build(spec, "torch", weights=random_weights(spec)))
    return proto, random_inputs(spec, batch=3)


def _check_intermediates(proto, inputs, expected):
    """intermediates for every node output against ``expected`` (name -> value): same shape and dtype, within 1e-4
    (absolute, or relative to the value's largest magnitude); every output of a REQUIRED_KINDS node present."""
    from nbunify.backends.keras.onnx_import import intermediates

    native = from_onnx(proto, "keras")
    listed = [(node.op_type, name) for node in proto.graph.node for name in node.output if name]
    held = intermediates(native, inputs, [name for _, name in listed])
    assert {name for op_type, name in listed if op_type in REQUIRED_KINDS} <= set(held)
    compared = 0
    for _, name in listed:
        if name not in held or name not in expected:
            continue
        got, wanted = np.asarray(held[name]), np.asarray(expected[name])
        assert got.shape == wanted.shape and got.dtype == wanted.dtype, (name, got.shape, wanted.shape, got.dtype)
        if wanted.size and wanted.dtype.kind in "fiub":
            error = np.abs(got.astype(np.float64) - wanted.astype(np.float64)).max()
            assert error <= 1e-4 * max(1.0, float(np.abs(wanted.astype(np.float64)).max())), (name, error)
        compared += 1
    return native, held, compared


def test_intermediates_of_a_residual_cnn_match_the_reference_evaluator():
    from onnx.reference import ReferenceEvaluator

    from reference_specs import residual_cnn

    proto, inputs = _torch_export(residual_cnn)
    expected = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: inputs}, intermediate=True)
    _, held, compared = _check_intermediates(proto, [inputs], expected)
    # the conv chain is held channels-last inside the keras model: given back (N, C, H, W) as ONNX has it
    convs = [node.output[0] for node in proto.graph.node if node.op_type == "Conv"]
    assert held[convs[0]].shape == (3, 8, 16, 16)
    # only what the importer folded into constants (the padding arithmetic of the "same" stride-2 conv) is absent
    assert compared >= 17


@pytest.mark.parametrize("name", ["lstm_text_classifier", "gru_text_classifier"])
def test_intermediates_of_recurrent_classifiers_match_onnxruntime(name):
    from nbunify.convert.intermediates import onnxruntime_values
    from reference_specs import REFERENCE_SPECS

    proto, inputs = _torch_export(REFERENCE_SPECS[name])
    # onnx.reference's LSTM and GRU take one direction only (NotImplementedError for these bidirectional layers):
    # the oracle here is onnxruntime with every node output exposed and graph optimizations off
    expected = onnxruntime_values(proto, [inputs])
    _, held, compared = _check_intermediates(proto, [inputs], expected)
    assert any(node.op_type in ("LSTM", "GRU") for node in proto.graph.node) and compared >= 20


def test_intermediates_leave_out_unknown_names_and_change_nothing():
    from nbunify.backends.keras.onnx_import import intermediates

    native = from_onnx(small_network(), "keras")
    inputs = normal(4, 3, 8, 8)
    before = run(native, [inputs])[0]
    weights_before = [np.array(weight) for weight in native.weights]
    layers_before, trainable_before = len(native.layers), [layer.trainable for layer in native.layers]
    held = intermediates(native, [inputs], ["no_such_value", "conv", "relu", "y", "w"])
    assert set(held) == {"conv", "relu", "y"}  # an unknown name and an initializer (not a node output) are absent
    assert held["conv"].shape == (4, 4, 8, 8) and held["y"].dtype == np.float32
    np.testing.assert_array_equal(held["y"], before)
    assert intermediates(native, [inputs], ["no_such_value"]) == {}
    np.testing.assert_array_equal(run(native, [inputs])[0], before)
    # inference mode: batch-norm statistics untouched, no layer added to the model, train flags as they were
    assert all(np.array_equal(np.array(weight), old) for weight, old in zip(native.weights, weights_before))
    assert len(native.layers) == layers_before and [layer.trainable for layer in native.layers] == trainable_before


# -- speed-related behaviour --------------------------------------------------------------------------------------------

def test_a_transformer_with_computed_reshapes_imports_and_matches_onnxruntime():
    """torch's attention reshapes to sizes computed from the batch: each becomes a static reshape with -1 for the
    batch-dependent size (the shape arithmetic drops out of the model), and the projection after it a Dense."""
    from reference_specs import transformer_classifier

    proto, inputs = _torch_export(transformer_classifier)
    native = check(proto, {proto.graph.input[0].name: inputs}, tolerance=1e-5)
    assert any(isinstance(layer, keras.layers.Dense) for layer in native.layers)
    kinds = [type(operation).__name__ for operation in native.operations]
    assert "DynamicReshape" not in kinds and kinds.count("ShapeOf") <= 2
    batch = np.concatenate([inputs, inputs[:2]])  # another batch size: the -1 takes it
    np.testing.assert_allclose(run(native, [batch])[0], reference(proto, {proto.graph.input[0].name: batch})[0],
                               atol=1e-5)


def test_repeated_runs_are_traced_and_read_the_current_weights():
    native = from_onnx(small_network(), "keras")
    inputs = normal(2, 3, 8, 8)
    first, second = run(native, [inputs])[0], run(native, [inputs])[0]  # eager, then traced
    np.testing.assert_allclose(second, first, atol=1e-6)
    assert native._nbunify_traced_call.function is not None
    dense = [layer for layer in native.layers if isinstance(layer, keras.layers.Dense)][0]
    dense.bias.assign(dense.bias + 1.0)  # a changed weight shows in the next traced call
    np.testing.assert_allclose(run(native, [normal(5, 3, 8, 8)])[0].shape, (5, 5))
    np.testing.assert_allclose(run(native, [inputs])[0], first + 1.0, atol=1e-5)


def test_weights_are_created_holding_the_onnx_values():
    model = small_network()
    native = from_onnx(model, "keras")
    convolution = [layer for layer in native.layers if isinstance(layer, keras.layers.Conv2D)][0]
    initializers = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    np.testing.assert_array_equal(np.array(convolution.kernel), initializers["w"].transpose(2, 3, 1, 0))
    # the one-shot initializers let go of the values, so the model does not keep a second copy
    assert convolution.kernel_initializer.value is None
