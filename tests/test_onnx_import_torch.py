"""The torch ONNX importer against onnxruntime: every op family, dtypes, dynamic batch, fine-tuning, real models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

torch = pytest.importorskip("torch")
onnxruntime = pytest.importorskip("onnxruntime")

from nbunify.convert.errors import UnsupportedModelError  # noqa: E402
from nbunify.convert.hub import from_onnx, run  # noqa: E402

LIGHT = sorted((Path(onnx.__file__).parent / "backend" / "test" / "data" / "light").glob("*.onnx"))
FLOAT, INT64, INT32, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL


def model_of(nodes, inputs, outputs, initializers=(), opset=17):
    """A checked model from nodes, (name, type, shape) inputs/outputs and {name: array} initializers."""
    graph = helper.make_graph(
        nodes, "test", [helper.make_tensor_value_info(name, kind, shape) for name, kind, shape in inputs],
        [helper.make_tensor_value_info(name, kind, shape) for name, kind, shape in outputs],
        [numpy_helper.from_array(np.asarray(array), name) for name, array in dict(initializers).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    # Outputs declared without a shape take the one shape inference finds (the loader's full check wants one).
    inferred = {info.name: info for info in onnx.shape_inference.infer_shapes(model).graph.output}
    for info in model.graph.output:
        if not info.type.tensor_type.HasField("shape") and inferred[info.name].type.tensor_type.HasField("shape"):
            info.CopyFrom(inferred[info.name])
    onnx.checker.check_model(model)
    return model


def reference(model, feeds):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {value.name: array for value, array in zip(session.get_inputs(), feeds)})


def assert_matches_onnxruntime(model, feeds, tolerance=1e-5):
    """Imports ``model``, runs it on ``feeds`` and compares dtype, shape and values with onnxruntime."""
    native = from_onnx(model, "torch")
    assert isinstance(native, torch.fx.GraphModule)
    outputs, expected = run(native, feeds), reference(model, feeds)
    assert len(outputs) == len(expected)
    for index, (output, wanted) in enumerate(zip(outputs, expected)):
        assert output.dtype == wanted.dtype, f"output {index}: {output.dtype} != {wanted.dtype}"
        assert output.shape == wanted.shape, f"output {index}: {output.shape} != {wanted.shape}"
        if wanted.dtype.kind in "fc":
            error = float(np.abs(output.astype(np.float64) - wanted).max()) if wanted.size else 0.0
            assert error <= tolerance, f"output {index}: max abs error {error:.3g}"
        else:
            np.testing.assert_array_equal(output, wanted)
    return native


RNG = np.random.default_rng(0)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def single(op, shapes, out_type=FLOAT, attrs=None, initializers=(), opset=17, kinds=None, extra_inputs=(),
           out_shape=None):
    """A one-node model over float inputs x0, x1 ... (plus initializer inputs) with output y."""
    names = [f"x{index}" for index in range(len(shapes))]
    kinds = kinds or [FLOAT] * len(shapes)
    node = helper.make_node(op, names + list(extra_inputs), ["y"], **(attrs or {}))
    return model_of([node], [(name, kind, shape) for name, kind, shape in zip(names, kinds, shapes)],
                    [("y", out_type, out_shape)], initializers, opset)


# -- op families -------------------------------------------------------------------------------------------
def test_elementwise_arithmetic_keeps_onnx_dtypes():
    ints = np.array([[7, -7, 9], [-9, 5, 1]], np.int32)
    divisors = np.array([2, 3, -4], np.int32)
    assert_matches_onnxruntime(single("Div", [(2, 3), (3,)], INT32, kinds=[INT32, INT32]), [ints, divisors])
    assert_matches_onnxruntime(single("Mod", [(2, 3), (3,)], INT32, kinds=[INT32, INT32]), [ints, divisors])
    assert_matches_onnxruntime(single("Add", [(2, 3, 4), (4,)]), [floats(2, 3, 4), floats(4)])
    assert_matches_onnxruntime(single("Pow", [(2, 3), (3,)], INT32, kinds=[INT32, FLOAT]),
                               [ints, np.array([2, 1, 0], np.float32)])
    assert_matches_onnxruntime(single("Less", [(2, 3), (2, 3)], BOOL), [floats(2, 3), floats(2, 3)])
    assert_matches_onnxruntime(single("Clip", [(4, 5)], initializers={"low": np.float32(-0.5)},
                                      extra_inputs=["low"]), [floats(4, 5)])
    assert_matches_onnxruntime(single("Max", [(3, 1), (1, 4), (3, 4)]), [floats(3, 1), floats(1, 4), floats(3, 4)])
    where = model_of([helper.make_node("Where", ["c", "a", "b"], ["y"])],
                     [("c", BOOL, [3, 4]), ("a", FLOAT, [3, 4]), ("b", FLOAT, [4])], [("y", FLOAT, None)])
    assert_matches_onnxruntime(where, [RNG.random((3, 4)) > 0.5, floats(3, 4), floats(4)])


@pytest.mark.parametrize("op, attrs, opset", [
    ("Softmax", {"axis": 1}, 11),  # before opset 13: the input flattened to 2-D at the axis
    ("LogSoftmax", {"axis": 1}, 13),
    ("Hardmax", {"axis": -1}, 13),
    ("LeakyRelu", {"alpha": 0.2}, 17),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 17),
    ("Selu", {}, 17),
    ("Gelu", {"approximate": "tanh"}, 20),
    ("Softplus", {}, 17),
    ("Elu", {"alpha": 0.5}, 17),
])
def test_activations(op, attrs, opset):
    assert_matches_onnxruntime(single(op, [(2, 3, 4)], attrs=attrs, opset=opset), [floats(2, 3, 4) * 3])


def test_prelu_broadcasts_its_slope():
    model = single("PRelu", [(2, 3, 4, 4)], initializers={"slope": floats(3, 1, 1)}, extra_inputs=["slope"])
    assert_matches_onnxruntime(model, [floats(2, 3, 4, 4)])


@pytest.mark.parametrize("attrs, weight_shape, x_shape", [
    ({"pads": [1, 0, 2, 1], "group": 2, "strides": [2, 1]}, (4, 2, 3, 3), (2, 4, 9, 8)),
    ({"auto_pad": "SAME_UPPER", "strides": [2]}, (3, 2, 3), (2, 2, 11)),
    ({"pads": [2, 2], "dilations": [2], "group": 2}, (4, 1, 3), (2, 2, 11)),
    ({"pads": [1, 1, 1, 1, 1, 1]}, (2, 2, 3, 3, 3), (1, 2, 5, 5, 5)),
])
def test_conv(attrs, weight_shape, x_shape):
    model = single("Conv", [x_shape], attrs=attrs, initializers={"w": floats(*weight_shape),
                                                                  "b": floats(weight_shape[0])},
                   extra_inputs=["w", "b"])
    assert_matches_onnxruntime(model, [floats(*x_shape)], 1e-4)


@pytest.mark.parametrize("attrs", [
    {"strides": [2, 2], "output_padding": [1, 0], "pads": [1, 0, 0, 1]},
    {"strides": [2, 2], "pads": [1, 1, 1, 1], "group": 2},
    {"strides": [3, 2], "output_shape": [10, 8]},
])
def test_conv_transpose(attrs):
    model = single("ConvTranspose", [(1, 4, 4, 4)], attrs=attrs, initializers={"w": floats(4, 2, 3, 3),
                                                                                "b": floats(2 * attrs.get("group", 1))},
                   extra_inputs=["w", "b"])
    assert_matches_onnxruntime(model, [floats(1, 4, 4, 4)], 1e-4)


@pytest.mark.parametrize("op, attrs", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ("MaxPool", {"kernel_shape": [2, 2], "pads": [1, 0, 0, 1], "dilations": [2, 1]}),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 0}),
    ("AveragePool", {"kernel_shape": [3, 2], "pads": [0, 1, 2, 0], "count_include_pad": 1, "strides": [2, 2]}),
    ("LpPool", {"kernel_shape": [2, 2], "p": 3}),
    ("GlobalAveragePool", {}),
    ("GlobalMaxPool", {}),
])
def test_pooling(op, attrs):
    assert_matches_onnxruntime(single(op, [(2, 3, 7, 6)], attrs=attrs), [floats(2, 3, 7, 6)])


def test_max_pool_indices_number_the_whole_tensor():
    node = helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[2, 2], strides=[2, 2])
    model = model_of([node], [("x", FLOAT, [2, 3, 4, 4])], [("y", FLOAT, None), ("i", INT64, None)])
    assert_matches_onnxruntime(model, [floats(2, 3, 4, 4)])


def test_normalizations():
    x = floats(2, 3, 4, 5)
    stats = {"scale": floats(3), "bias": floats(3), "mean": floats(3), "var": np.abs(floats(3)) + 0.5}
    batch = single("BatchNormalization", [(2, 3, 4, 5)], initializers=stats,
                   extra_inputs=["scale", "bias", "mean", "var"], attrs={"epsilon": 1e-3})
    assert_matches_onnxruntime(batch, [x])
    instance = single("InstanceNormalization", [(2, 3, 4, 5)], initializers={"s": floats(3), "b": floats(3)},
                      extra_inputs=["s", "b"])
    assert_matches_onnxruntime(instance, [x], 1e-4)
    layer = single("LayerNormalization", [(2, 3, 4, 5)], initializers={"s": floats(4, 5), "b": floats(4, 5)},
                   extra_inputs=["s", "b"], attrs={"axis": 2})
    assert_matches_onnxruntime(layer, [x], 1e-4)
    group = single("GroupNormalization", [(2, 4, 3, 3)], initializers={"s": floats(4), "b": floats(4)},
                   extra_inputs=["s", "b"], attrs={"num_groups": 2}, opset=21, out_shape=[2, 4, 3, 3])
    assert_matches_onnxruntime(group, [floats(2, 4, 3, 3)], 1e-4)
    lrn = single("LRN", [(2, 6, 3, 3)], attrs={"size": 3, "bias": 2.0})
    assert_matches_onnxruntime(lrn, [floats(2, 6, 3, 3)], 1e-5)


def test_linear_algebra():
    gemm = single("Gemm", [(3, 4)], attrs={"transA": 1, "alpha": 0.5, "beta": 2.0},
                  initializers={"b": floats(3, 5), "c": floats(1, 5)}, extra_inputs=["b", "c"])
    assert_matches_onnxruntime(gemm, [floats(3, 4)])
    assert_matches_onnxruntime(single("MatMul", [(2, 3, 4), (4, 5)]), [floats(2, 3, 4), floats(4, 5)])
    einsum = single("Einsum", [(2, 3, 4), (2, 4, 5)], attrs={"equation": "bij, bjk -> bik"}, opset=12)
    assert_matches_onnxruntime(einsum, [floats(2, 3, 4), floats(2, 4, 5)])


@pytest.mark.parametrize("op, shapes, attrs, constants, out_type", [
    ("Reshape", [(2, 3, 4)], {}, {"shape": np.array([0, -1], np.int64)}, FLOAT),
    ("Slice", [(5, 6)], {}, {"starts": np.array([4, 1], np.int64), "ends": np.array([-10, 100], np.int64),
                             "axes": np.array([0, 1], np.int64), "steps": np.array([-2, 2], np.int64)}, FLOAT),
    ("Gather", [(5, 4)], {"axis": 1}, {"indices": np.array([[0, -1], [2, 3]], np.int64)}, FLOAT),
    ("Pad", [(2, 3, 4)], {"mode": "reflect"}, {"pads": np.array([0, 1, 2, 0, 1, 1], np.int64)}, FLOAT),
    ("Pad", [(2, 3)], {"mode": "edge"}, {"pads": np.array([1, 2, 0, 3], np.int64)}, FLOAT),
    ("Expand", [(3, 1)], {}, {"shape": np.array([2, 1, 4], np.int64)}, FLOAT),
    ("Tile", [(2, 3)], {}, {"repeats": np.array([2, 1], np.int64)}, FLOAT),
    ("Squeeze", [(1, 3, 1)], {}, {"axes": np.array([-1], np.int64)}, FLOAT),
    ("Unsqueeze", [(3, 4)], {}, {"axes": np.array([0, -1], np.int64)}, FLOAT),
    ("Transpose", [(2, 3, 4)], {"perm": [2, 0, 1]}, {}, FLOAT),
    ("Flatten", [(2, 3, 4)], {"axis": 2}, {}, FLOAT),
    ("Cast", [(2, 3)], {"to": INT64}, {}, INT64),
    ("DepthToSpace", [(1, 8, 2, 3)], {"blocksize": 2, "mode": "DCR"}, {}, FLOAT),
    ("SpaceToDepth", [(1, 2, 4, 6)], {"blocksize": 2}, {}, FLOAT),
    ("Trilu", [(3, 4)], {"upper": 0}, {"k": np.array(1, np.int64)}, FLOAT),
    ("CumSum", [(3, 4)], {"exclusive": 1, "reverse": 1}, {"axis": np.array(1, np.int64)}, FLOAT),
])
def test_shape_ops(op, shapes, attrs, constants, out_type):
    model = single(op, shapes, out_type, attrs=attrs, initializers=constants, extra_inputs=list(constants))
    assert_matches_onnxruntime(model, [floats(*shape) for shape in shapes])


def test_split_concat_topk_and_runtime_shapes():
    nodes = [helper.make_node("Split", ["x"], ["a", "b"], axis=0, num_outputs=2),
             helper.make_node("Concat", ["b", "a"], ["c"], axis=0),
             helper.make_node("TopK", ["c", "k"], ["values", "indices"], axis=1),
             helper.make_node("Shape", ["x"], ["shape"], start=1),
             helper.make_node("ConstantOfShape", ["shape"], ["zeros"],
                              value=numpy_helper.from_array(np.array([3], np.int32)))]
    model = model_of(nodes, [("x", FLOAT, [4, 5])], [("values", FLOAT, [4, 2]), ("indices", INT64, [4, 2]),
                                                      ("zeros", INT32, [5])], {"k": np.array([2], np.int64)}, 18)
    assert_matches_onnxruntime(model, [floats(4, 5)])


def test_scatter_gather_elements_and_one_hot():
    data, updates = floats(4, 3), floats(2, 3)
    scatter = model_of([helper.make_node("ScatterND", ["x", "i", "u"], ["y"], reduction="add")],
                       [("x", FLOAT, [4, 3]), ("u", FLOAT, [2, 3])], [("y", FLOAT, None)],
                       {"i": np.array([[1], [1]], np.int64)}, 18)
    assert_matches_onnxruntime(scatter, [data, updates])
    gather = single("GatherElements", [(4, 3)], attrs={"axis": 0},
                    initializers={"i": np.array([[0, -1, 2], [3, 3, 0]], np.int64)}, extra_inputs=["i"])
    assert_matches_onnxruntime(gather, [data])
    one_hot = model_of([helper.make_node("OneHot", ["i", "depth", "values"], ["y"], axis=0)],
                       [("i", INT64, [2, 3])], [("y", FLOAT, None)],
                       {"depth": np.array(4, np.int64), "values": np.array([-1, 5], np.float32)}, 11)
    assert_matches_onnxruntime(one_hot, [np.array([[0, 3, -1], [7, 2, 1]], np.int64)])


@pytest.mark.parametrize("op, attrs, opset", [
    ("ReduceSum", {"keepdims": 0}, 13),
    ("ReduceMean", {}, 18),
    ("ReduceMax", {}, 18),
    ("ReduceL2", {"keepdims": 0}, 18),
    ("ReduceLogSumExp", {}, 18),
    ("ReduceProd", {}, 18),
])
def test_reductions_with_axes_as_input(op, attrs, opset):
    model = single(op, [(2, 3, 4)], attrs=attrs, initializers={"axes": np.array([0, -1], np.int64)},
                   extra_inputs=["axes"], opset=opset)
    assert_matches_onnxruntime(model, [floats(2, 3, 4)])


def test_reductions_with_axes_as_attribute_and_arg_extremes():
    assert_matches_onnxruntime(single("ReduceMean", [(2, 3, 4)], attrs={"axes": [1]}, opset=11), [floats(2, 3, 4)])
    ties = np.array([[1, 3, 3], [2, 2, 0]], np.float32)
    model = single("ArgMax", [(2, 3)], INT64, attrs={"axis": 1, "select_last_index": 1, "keepdims": 0})
    assert_matches_onnxruntime(model, [ties])


@pytest.mark.parametrize("op, gates, attrs", [
    ("LSTM", 4, {"direction": "bidirectional"}),
    ("GRU", 3, {"linear_before_reset": 1}),
    ("GRU", 3, {"direction": "reverse"}),
    ("RNN", 1, {"activations": ["Relu"]}),  # (onnxruntime takes no layout=1; the conformance suite checks it)
])
def test_recurrent(op, gates, attrs):
    hidden, directions = 5, 2 if attrs.get("direction") == "bidirectional" else 1
    weights = {"w": floats(directions, gates * hidden, 3), "r": floats(directions, gates * hidden, hidden),
               "b": floats(directions, 2 * gates * hidden)}
    node = helper.make_node(op, ["x", "w", "r", "b"], ["y", "y_h"], hidden_size=hidden, **attrs)
    shape = [4, 2, 3]
    model = model_of([node], [("x", FLOAT, shape)], [("y", FLOAT, None), ("y_h", FLOAT, None)], weights)
    assert_matches_onnxruntime(model, [floats(*shape)], 1e-5)


@pytest.mark.parametrize("attrs, scales, sizes", [
    ({"mode": "linear"}, np.array([1, 1, 2, 1.5], np.float32), None),
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, None,
     np.array([1, 2, 7, 3], np.int64)),
    ({"mode": "cubic", "coordinate_transformation_mode": "align_corners"}, np.array([1, 1, 0.6, 1.7], np.float32),
     None),
])
def test_resize(attrs, scales, sizes):
    constants = {"roi": np.array([], np.float32)}
    constants.update({"scales": scales} if scales is not None else {"scales": np.array([], np.float32), "sizes": sizes})
    model = single("Resize", [(1, 2, 5, 4)], attrs=attrs, initializers=constants, extra_inputs=list(constants))
    assert_matches_onnxruntime(model, [floats(1, 2, 5, 4)], 1e-5)


# -- whole models ------------------------------------------------------------------------------------------
def small_classifier():
    """Conv -> BatchNorm -> Relu -> Flatten (via Shape/Gather/Concat/Reshape, as torch exports it) -> Gemm."""
    nodes = [helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "bn_s", "bn_b", "bn_m", "bn_v"], ["n"]),
             helper.make_node("Relu", ["n"], ["r"]),
             helper.make_node("Shape", ["r"], ["shape"]),
             helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
             helper.make_node("Unsqueeze", ["batch", "zero_axes"], ["batch_1d"]),
             helper.make_node("Concat", ["batch_1d", "minus_one"], ["flat_shape"], axis=0),
             helper.make_node("Reshape", ["r", "flat_shape"], ["f"]),
             helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)]
    weights = {"conv_w": floats(4, 2, 3, 3), "conv_b": floats(4), "bn_s": floats(4), "bn_b": floats(4),
               "bn_m": floats(4), "bn_v": np.abs(floats(4)) + 0.5, "fc_w": floats(3, 4 * 5 * 5), "fc_b": floats(3),
               "zero": np.array(0, np.int64), "zero_axes": np.array([0], np.int64),
               "minus_one": np.array([-1], np.int64)}
    return model_of(nodes, [("x", FLOAT, ["batch", 2, 5, 5])],
                    [("logits", FLOAT, ["batch", 3]), ("probabilities", FLOAT, ["batch", 3])], weights)


def test_dynamic_batch_one_import_many_batch_sizes():
    model = small_classifier()
    native = from_onnx(model, "torch")
    for batch in (1, 5):
        x = floats(batch, 2, 5, 5)
        outputs, expected = run(native, [x]), reference(model, [x])
        assert [output.shape for output in outputs] == [(batch, 3), (batch, 3)]
        for output, wanted in zip(outputs, expected):
            np.testing.assert_allclose(output, wanted, rtol=1e-4, atol=1e-5)


def test_outputs_are_a_tuple_in_graph_order_and_tensors_are_accepted():
    native = from_onnx(small_classifier(), "torch")
    x = floats(2, 2, 5, 5)
    logits, probabilities = native(torch.from_numpy(x))
    torch.testing.assert_close(torch.softmax(logits, -1), probabilities)
    single_output = from_onnx(single("Relu", [(2, 3)]), "torch")
    assert isinstance(single_output(x[0, 0, :2, :3]), torch.Tensor)


def test_float_initializers_are_trainable_and_fine_tuning_lowers_the_loss():
    native = from_onnx(small_classifier(), "torch")
    parameters = dict(native.named_parameters())
    assert {"conv_w", "conv_b", "bn_s", "bn_b", "fc_w", "fc_b"} <= set(parameters)
    buffers = dict(native.named_buffers())
    assert {"bn_m", "bn_v"} <= set(buffers)  # statistics stay buffers, as in nn.BatchNorm
    assert not any(name in parameters for name in ("zero", "minus_one"))
    x = torch.from_numpy(floats(16, 2, 5, 5))
    target = torch.from_numpy(RNG.integers(0, 3, 16))
    optimizer = torch.optim.SGD(native.parameters(), lr=0.05)
    losses = []
    native.train()
    for _ in range(20):
        optimizer.zero_grad()
        logits, _ = native(x)
        loss = torch.nn.functional.cross_entropy(logits, target)
        loss.backward()
        assert all(parameter.grad is not None for parameter in native.parameters())
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] * 0.8


def test_unsupported_ops_are_all_listed_before_converting():
    nodes = [helper.make_node("Bernoulli", ["x"], ["b"]), helper.make_node("Relu", ["b"], ["r"]),
             helper.make_node("RandomNormalLike", ["r"], ["y"])]
    model = model_of(nodes, [("x", FLOAT, [2, 3])], [("y", FLOAT, None)], opset=17)
    with pytest.raises(UnsupportedModelError) as caught:
        from_onnx(model, "torch")
    message = str(caught.value)
    assert "Bernoulli" in message and "RandomNormalLike" in message and "Relu" not in message
    assert len(caught.value.problems) == 2


def test_registered_versions_are_real_schema_versions():
    import onnx.defs

    from nbunify.backends.torch.onnx_import import REGISTRY

    for key in REGISTRY.keys():
        assert onnx.defs.get_schema(key.op_type, key.since_version, key.domain).since_version == key.since_version, key


def seeded_inputs(model: onnx.ModelProto) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Seeded normal inputs for every graph input, and onnxruntime's outputs on them."""
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inputs = [RNG.standard_normal([size if isinstance(size, int) else 1 for size in value.shape]).astype(np.float32)
              for value in session.get_inputs()]
    return inputs, session.run(None, {value.name: array for value, array in zip(session.get_inputs(), inputs)})


@pytest.mark.parametrize("path", LIGHT, ids=[path.stem for path in LIGHT])
def test_light_models_match_onnxruntime(path):
    model = onnx.load(str(path))
    native = from_onnx(model, "torch")
    inputs, expected = seeded_inputs(model)
    outputs = run(native, inputs)
    assert [output.shape for output in outputs] == [wanted.shape for wanted in expected]
    errors = [float(np.abs(output.astype(np.float64) - wanted).max()) for output, wanted in zip(outputs, expected)]
    assert max(errors) <= 1e-4


def test_the_node_conformance_suite_passes_at_least_85_percent():
    from nbunify.convert.conformance import run_suites, summary

    result = summary(run_suites("torch", ("node",), progress=False))
    assert result["totals"]["node"]["pass"] > 900
    assert result["node_pass_rate"] >= 0.85, result["node_pass_rate"]


class _Exported(torch.nn.Module):
    """Embedding -> transformer encoder layer -> bidirectional LSTM -> linear: torch's exporter writes its dynamic
    batch as Shape/Gather/Concat chains and equal fresh parameters (LayerNorm biases) as Identity copies."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(30, 16)
        self.encoder = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
        self.lstm = torch.nn.LSTM(16, 8, batch_first=True, bidirectional=True)
        self.head = torch.nn.Linear(16, 3)

    def forward(self, tokens):
        return self.head(self.lstm(self.encoder(self.embedding(tokens)))[0][:, -1])


def test_a_torch_export_round_trips_with_every_parameter_and_a_dynamic_batch(tmp_path):
    import warnings

    torch.manual_seed(0)
    source = _Exported().eval()
    tokens = torch.randint(0, 30, (4, 7))
    path = tmp_path / "exported.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(source, (tokens,), str(path), dynamo=False, opset_version=17, input_names=["tokens"],
                          dynamic_axes={"tokens": {0: "batch"}})
    native = from_onnx(path, "torch")
    assert sum(parameter.numel() for parameter in native.parameters()) == sum(
        parameter.numel() for parameter in source.parameters())
    with torch.inference_mode():
        for batch in (1, 4, 6):
            sample = torch.randint(0, 30, (batch, 7))
            torch.testing.assert_close(native(sample), source(sample), atol=1e-5, rtol=1e-4)
    assert "Shape" not in native.code and "_shape_tensor" not in native.code  # shape chains folded at import


def test_weights_the_graph_folds_stay_trainable_through_their_initializer():
    # Transpose(w) * 2 is all static, so the graph view folds it; training must still reach w itself.
    weight = floats(3, 4)
    nodes = [helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]), helper.make_node("Mul", ["wt", "two"], ["w2"]),
             helper.make_node("MatMul", ["x", "w2"], ["y"])]
    model = model_of(nodes, [("x", FLOAT, ["n", 4])], [("y", FLOAT, ["n", 3])],
                     {"w": weight, "two": np.array(2, np.float32)})
    native = assert_matches_onnxruntime(model, [floats(5, 4)])
    native(floats(5, 4)).sum().backward()
    assert native.get_parameter("w").grad is not None
    assert native.get_parameter("w").shape == (3, 4)


def test_if_with_a_runtime_condition_runs_only_the_branch_it_picks():
    def branch(name, op):
        return helper.make_graph([helper.make_node(op, ["x"], [f"{name}_out"])], name, [],
                                 [helper.make_tensor_value_info(f"{name}_out", FLOAT, [2, 3])])

    node = helper.make_node("If", ["condition"], ["y"], then_branch=branch("then", "Relu"),
                            else_branch=branch("else", "Neg"))
    model = model_of([node], [("condition", BOOL, []), ("x", FLOAT, [2, 3])], [("y", FLOAT, [2, 3])])
    native = from_onnx(model, "torch")
    x = floats(2, 3)
    for condition in (True, False):
        flag = np.array(condition)
        np.testing.assert_allclose(run(native, [flag, x])[0], reference(model, [flag, x])[0])


def test_value_names_that_are_not_python_identifiers_or_shadow_torch_work():
    nodes = [helper.make_node("Add", ["torch", "1x.y"], ["class"]), helper.make_node("Relu", ["class"], ["forward"])]
    model = model_of(nodes, [("torch", FLOAT, [2, 3]), ("1x.y", FLOAT, [2, 3])],
                     [("forward", FLOAT, [2, 3]), ("class", FLOAT, [2, 3])])
    assert_matches_onnxruntime(model, [floats(2, 3), floats(2, 3)])


def test_quantize_dequantize_per_axis_and_losses():
    nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["y"], axis=1)]
    model = model_of(nodes, [("x", FLOAT, [2, 3, 4])], [("q", TensorProto.INT8, [2, 3, 4]), ("y", FLOAT, [2, 3, 4])],
                     {"scale": np.array([0.05, 0.1, 0.2], np.float32), "zero": np.array([0, 3, -2], np.int8)}, 13)
    assert_matches_onnxruntime(model, [floats(2, 3, 4) * 4])
    loss = model_of([helper.make_node("SoftmaxCrossEntropyLoss", ["scores", "labels"], ["loss", "log_prob"],
                                      reduction="mean", ignore_index=1)],
                    [("scores", FLOAT, [4, 3, 2]), ("labels", INT64, [4, 2])],
                    [("loss", FLOAT, []), ("log_prob", FLOAT, [4, 3, 2])], opset=13)
    assert_matches_onnxruntime(loss, [floats(4, 3, 2), RNG.integers(0, 3, (4, 2))])


@pytest.mark.parametrize("name", ["squeezenet", "shufflenet", "inception_v1"])
def test_light_models_with_random_weights_match_onnxruntime(name):
    from nbunify.convert.conformance import light_model

    model = light_model(next(path for path in LIGHT if path.stem == f"light_{name}"))  # seeded random weights
    inputs, expected = seeded_inputs(model)
    outputs = run(from_onnx(model, "torch"), inputs)
    assert expected[0].std() > 0  # the random weights make the outputs vary
    for output, wanted in zip(outputs, expected):
        assert float(np.abs(output - wanted).max()) <= 1e-4 * max(1.0, float(np.abs(wanted).max()))


# -- intermediate values (nu.parity per_node) --------------------------------------------------------------
def exported(spec_factory):
    """A reference spec built in torch with random weights, its ONNX export, the import of that, and inputs."""
    import nbunify as nu
    from reference_specs import random_inputs, random_weights

    spec = spec_factory()
    proto = nu.to_onnx(nu.build(spec, "torch", weights=random_weights(spec)))
    return proto, from_onnx(proto, "torch"), [random_inputs(spec, batch=3)]


def assert_intermediates_match(held, expected, required_ops, proto):
    """Every held value equals the oracle's (dtype, shape, 1e-4 abs or relative to its largest magnitude), and
    every output of the nodes of ``required_ops`` is held."""
    from nbunify.convert.intermediates import node_outputs

    for name, value in held.items():
        wanted = np.asarray(expected[name])
        assert (value.dtype, value.shape) == (wanted.dtype, wanted.shape), name
        if wanted.size:
            error = float(np.abs(value.astype(np.float64) - wanted).max())
            assert error <= 1e-4 * max(1.0, float(np.abs(wanted).max())), f"{name}: max abs error {error:.3g}"
    required = [name for _, op, name in node_outputs(proto) if op in required_ops]
    assert required and not [name for name in required if name not in held]


def test_intermediates_of_a_residual_cnn_match_the_reference_evaluator():
    from onnx.reference import ReferenceEvaluator

    from nbunify.backends.torch.onnx_import import intermediates
    from nbunify.convert.intermediates import node_outputs
    from reference_specs import residual_cnn

    proto, native, inputs = exported(residual_cnn)
    expected = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: inputs[0]}, intermediate=True)
    held = intermediates(native, inputs, [name for _, _, name in node_outputs(proto)])
    assert_intermediates_match(held, expected, {"Conv", "Relu", "Add", "Gemm"}, proto)
    assert len(held) >= 15  # the pad arithmetic torch exports for padding="same" is folded at import: not held


@pytest.mark.parametrize("name", ["lstm_text_classifier", "gru_text_classifier"])
def test_intermediates_of_recurrent_classifiers_match_onnxruntime(name):
    # onnx.reference implements one-direction LSTM/GRU only and these specs are bidirectional: the oracle is
    # onnxruntime with every node output exposed and graph optimizations off (what nu.parity compares with).
    from nbunify.backends.torch.onnx_import import intermediates
    from nbunify.convert.intermediates import node_outputs, onnxruntime_values
    from reference_specs import REFERENCE_SPECS

    proto, native, inputs = exported(REFERENCE_SPECS[name])
    expected = onnxruntime_values(proto, inputs)
    held = intermediates(native, inputs, [name for _, _, name in node_outputs(proto)])
    # Every output of every LSTM/GRU node, even the Y_h or Y the model never reads (the fused kernel computes it);
    # the zero initial states (ConstantOfShape, and the batch-size Gather feeding only them) are the fused kernel's
    # default and are not held.
    assert_intermediates_match(held, expected, {"LSTM", "GRU", "Gemm"}, proto)
    assert "/embedding_1/Gather_output_0" in held


def test_intermediates_leave_unknown_names_out_and_the_model_as_it_was():
    from nbunify.backends.torch.onnx_import import intermediates

    native = from_onnx(small_classifier(), "torch")
    x = floats(2, 2, 5, 5)
    before, code = run(native, [x]), native.code
    native.train()
    native.get_submodule("").training = True
    held = intermediates(native, [x], ["c", "r", "no such value", "probabilities", "flat_shape"])
    assert set(held) == {"c", "r", "probabilities", "flat_shape"}
    assert held["flat_shape"].dtype == np.int64 and held["flat_shape"].tolist() == [2, -1]
    np.testing.assert_array_equal(held["probabilities"], before[1])
    assert all(module.training for module in native.modules())  # train flags restored
    assert native.code == code
    for output, earlier in zip(run(native, [x]), before):
        np.testing.assert_array_equal(output, earlier)
    assert intermediates(native, [x], ["no such value"]) == {}


def test_intermediates_survive_a_deep_copy_and_follow_its_weights():
    import copy

    from nbunify.backends.torch.onnx_import import intermediates
    from nbunify.graph_display import graph_message

    native = from_onnx(small_classifier(), "torch")
    duplicate = copy.deepcopy(native)  # as training loops and nu.quantize copy models
    with torch.no_grad():
        duplicate.get_parameter("conv_b").add_(1.0)
    x = floats(2, 2, 5, 5)
    original, copied = intermediates(native, [x], ["c"])["c"], intermediates(duplicate, [x], ["c"])["c"]
    np.testing.assert_allclose(copied - original, np.ones_like(original), atol=1e-5)
    # the copy is still a model nu.from_onnx made: its graph goes with it (nu.predict, nu.fit, nu.show, nu.parity)
    assert duplicate._nbunify_onnx is not native._nbunify_onnx
    assert duplicate._nbunify_onnx == native._nbunify_onnx
    message, copied_message = graph_message(native), graph_message(duplicate)
    assert copied_message["framework"] == "torch (imported)"
    assert [node["name"] for node in copied_message["nodes"]] == [node["name"] for node in message["nodes"]]
