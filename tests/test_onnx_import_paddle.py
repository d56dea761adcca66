"""The paddle ONNX importer: each op family against onnxruntime, dynamic batch, fine-tuning, real models, pre-flight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnx.defs
import pytest
from onnx import TensorProto, helper, numpy_helper

from nbunify.frameworks import load

paddle = load("paddle")

from nbunify.backends.paddle import onnx_import  # noqa: E402 - after paddle is loaded the safe way
from nbunify.convert.errors import UnsupportedModelError  # noqa: E402
from nbunify.convert.hub import from_onnx, run  # noqa: E402

onnxruntime = pytest.importorskip("onnxruntime")

LIGHT = sorted((Path(onnx.__file__).parent / "backend" / "test" / "data" / "light").glob("*.onnx"))


# -- helpers -------------------------------------------------------------------------------------
def model_of(nodes, inputs, outputs, initializers=(), opset=17):
    """A checked model: ``inputs``/``outputs`` are (name, numpy dtype, shape) triples (None dims are symbolic)."""
    def info(name, dtype, shape):
        dims = None if shape is None else [f"d{index}" if size is None else size for index, size in enumerate(shape)]
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims)

    graph = helper.make_graph(nodes, "test", [info(*item) for item in inputs], [info(*item) for item in outputs],
                              [numpy_helper.from_array(np.asarray(value), name) for name, value in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    inferred_graph = onnx.shape_inference.infer_shapes(model).graph
    inferred = {info.name: info for info in (*inferred_graph.value_info, *inferred_graph.output)}
    for output in model.graph.output:  # outputs given without a shape take the inferred one (the checker wants one)
        if not output.type.tensor_type.HasField("shape") and output.name in inferred:
            output.type.tensor_type.shape.CopyFrom(inferred[output.name].type.tensor_type.shape)
    onnx.checker.check_model(model)
    return model


def onnxruntime_outputs(model, arrays):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {value.name: array for value, array in zip(session.get_inputs(), arrays)})


def reference_outputs(model, arrays):
    """onnx's own reference evaluator, for what onnxruntime refuses (batch-first recurrent layers)."""
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model).run(None, {value.name: array for value, array in zip(model.graph.input, arrays)})


def assert_matches(model, arrays, atol=1e-5, reference=onnxruntime_outputs):
    """The imported model's outputs equal onnxruntime's: same count, dtype, shape, values within ``atol``."""
    expected = reference(model, arrays)
    outputs = run(from_onnx(model, "paddle"), arrays)
    assert len(outputs) == len(expected)
    for output, reference in zip(outputs, expected):
        assert output.dtype == reference.dtype, (output.dtype, reference.dtype)
        assert output.shape == reference.shape, (output.shape, reference.shape)
        if reference.size:
            difference = np.abs(output.astype(np.float64) - reference.astype(np.float64))
            assert np.nanmax(difference) <= atol, f"max abs error {np.nanmax(difference)}"
            assert (np.isnan(output.astype(np.float64)) == np.isnan(reference.astype(np.float64))).all()


def single(op, arrays, attrs=None, initializers=(), opset=17, outputs=1, output_dtypes=None):
    """A one-node model over runtime inputs ``arrays`` (named x0, x1 ...) and static ``initializers``."""
    names = [f"x{index}" for index in range(len(arrays))] + [name for name, _ in initializers]
    output_names = [f"y{index}" for index in range(outputs)]
    node = helper.make_node(op, names, output_names, **(attrs or {}))
    dtypes = output_dtypes or [arrays[0].dtype] * outputs
    return model_of([node], [(name, array.dtype, array.shape) for name, array in zip(names, arrays)],
                    [(name, dtype, None) for name, dtype in zip(output_names, dtypes)], initializers, opset)


RNG = np.random.default_rng(0)


def normal(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def integers(*shape, low=-20, high=20, dtype=np.int32):
    return RNG.integers(low, high, shape).astype(dtype)


# -- elementwise ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op, arrays, attrs, output_dtype", [
    ("Add", [integers(3, 4, dtype=np.int8), integers(4, dtype=np.int8)], {}, None),  # int8 kernels are missing
    ("Div", [integers(3, 4), np.array([3, -3, 7, -7], np.int32)], {}, None),  # integer Div truncates toward zero
    ("Mod", [integers(3, 4), np.array([3, -3, 7, -7], np.int32)], {"fmod": 0}, None),
    ("Mod", [normal(3, 4), np.full(4, 0.7, np.float32)], {"fmod": 1}, None),
    ("Pow", [integers(3, 4, low=0, high=5, dtype=np.int64), np.array(2, np.int64)], {}, None),
    ("Max", [normal(3, 4), normal(4), normal(1, 4)], {}, None),
    ("Mean", [normal(3, 4), normal(3, 4)], {}, None),
    ("Round", [np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6], np.float32)], {}, None),
    ("Sign", [integers(5, dtype=np.int16)], {}, None),
    ("Less", [integers(3, 4, dtype=np.uint8, low=0), integers(3, 4, dtype=np.uint8, low=0)], {}, np.bool_),
    ("Equal", [np.array([True, False, True]), np.array([True, True, False])], {}, np.bool_),
    ("Xor", [np.array([True, False, True]), np.array([True, True, False])], {}, np.bool_),
    ("Where", [np.array([[True], [False]]), integers(2, 3, dtype=np.int8), integers(3, dtype=np.int8)], {}, np.int8),
    ("IsInf", [np.array([np.inf, -np.inf, 1.0, np.nan], np.float32)], {"detect_negative": 0}, np.bool_),
    ("IsNaN", [np.array([np.inf, 1.0, np.nan], np.float32)], {}, np.bool_),
    ("Not", [np.array([True, False])], {}, np.bool_),
])
def test_elementwise_ops_match_onnxruntime(op, arrays, attrs, output_dtype):
    model = single(op, arrays, attrs, output_dtypes=[output_dtype or arrays[0].dtype] if op != "Where" else
                   [arrays[1].dtype])
    assert_matches(model, arrays)


def test_clip_with_static_and_runtime_bounds():
    x = normal(4, 5)
    assert_matches(single("Clip", [x], initializers=[("low", np.array(-0.5, np.float32)),
                                                     ("high", np.array(0.7, np.float32))]), [x])
    assert_matches(single("Clip", [x, np.array(-0.2, np.float32)]), [x, np.array(-0.2, np.float32)])
    ints = integers(4, 5, dtype=np.int8)
    assert_matches(single("Clip", [ints], initializers=[("low", np.array(-3, np.int8))]), [ints])


# -- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op, attrs, opset", [
    ("Relu", {}, 17), ("LeakyRelu", {"alpha": 0.2}, 17), ("Elu", {"alpha": 0.5}, 17), ("Selu", {}, 17),
    ("Celu", {"alpha": 2.0}, 17), ("Sigmoid", {}, 17), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 17),
    ("HardSwish", {}, 17), ("Softplus", {}, 17), ("Softsign", {}, 17), ("Tanh", {}, 17), ("Mish", {}, 18),
    ("ThresholdedRelu", {"alpha": 0.5}, 17), ("Erf", {}, 17), ("Gelu", {"approximate": "tanh"}, 20),
    ("Softmax", {"axis": 1}, 11), ("Softmax", {"axis": 1}, 13), ("LogSoftmax", {}, 13), ("Hardmax", {"axis": 2}, 13),
    ("Shrink", {"lambd": 0.6, "bias": 0.1}, 17),
])
def test_activations_match_onnxruntime(op, attrs, opset):
    x = normal(2, 3, 4) * 3
    x[0, 0, 0] = 30.0  # softplus past paddle's threshold shortcut
    assert_matches(single(op, [x], attrs, opset=opset), [x])


def test_prelu_slope_broadcasts_like_onnx():
    x = normal(2, 3, 4, 4)
    assert_matches(single("PRelu", [x], initializers=[("slope", normal(3, 1, 1))]), [x])


# -- convolution and pooling ---------------------------------------------------------------------
@pytest.mark.parametrize("shape, weight, attrs", [
    ((2, 4, 9, 8), (6, 2, 3, 3), {"group": 2, "dilations": [2, 1], "pads": [1, 0, 2, 1], "strides": [1, 2]}),
    ((1, 3, 9, 8), (4, 3, 3, 2), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
    ((1, 3, 9, 8), (4, 3, 3, 2), {"auto_pad": "SAME_LOWER", "strides": [2, 3]}),
    ((2, 3, 10), (5, 3, 3), {"pads": [1, 1]}),
    ((1, 2, 5, 6, 4), (3, 2, 3, 3, 2), {"strides": [1, 2, 1]}),
])
def test_conv_matches_onnxruntime(shape, weight, attrs):
    x = normal(*shape)
    model = single("Conv", [x], attrs, initializers=[("w", normal(*weight)), ("b", normal(weight[0]))])
    assert_matches(model, [x], atol=1e-4)


@pytest.mark.parametrize("attrs", [
    {"strides": [2, 2], "pads": [1, 0, 0, 1], "output_padding": [1, 1]},
    {"strides": [2, 1], "dilations": [1, 2], "group": 2},
    {"strides": [2, 2], "output_shape": [10, 9]},
    {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
])
def test_conv_transpose_matches_onnxruntime(attrs):
    x = normal(2, 4, 4, 4)
    model = single("ConvTranspose", [x], {"kernel_shape": [3, 3], **attrs},
                   initializers=[("w", normal(4, 3, 3, 3)), ("b", normal(3 * attrs.get("group", 1)))])
    assert_matches(model, [x], atol=1e-4)


@pytest.mark.parametrize("op, attrs, opset", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, 17),
    ("MaxPool", {"kernel_shape": [3, 2], "strides": [2, 2], "ceil_mode": 1}, 17),
    ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [0, 1, 1, 0]}, 17),
    ("MaxPool", {"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER", "strides": [2, 2]}, 17),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 0}, 17),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 0, 1, 2], "count_include_pad": 1}, 17),
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 17),
    ("LpPool", {"kernel_shape": [2, 2], "p": 3}, 17),
    ("GlobalAveragePool", {}, 17), ("GlobalMaxPool", {}, 17),
])
def test_pools_match_onnxruntime(op, attrs, opset):
    x = normal(2, 3, 7, 8)
    assert_matches(single(op, [x], attrs, opset=opset), [x])


def test_max_pool_indices_follow_onnx_numbering():
    x = normal(2, 3, 6, 6)
    model = single("MaxPool", [x], {"kernel_shape": [2, 2], "strides": [2, 2]}, outputs=2,
                   output_dtypes=[np.float32, np.int64])
    assert_matches(model, [x])


# -- normalization -------------------------------------------------------------------------------
def test_normalizations_match_onnxruntime():
    x = normal(2, 4, 5, 6)
    channels = [("scale", normal(4)), ("bias", normal(4))]
    statistics = [("mean", normal(4)), ("variance", np.abs(normal(4)) + 0.5)]
    assert_matches(single("BatchNormalization", [x], {"epsilon": 1e-3}, initializers=channels + statistics), [x])
    assert_matches(single("InstanceNormalization", [x], initializers=channels), [x], atol=1e-4)
    assert_matches(single("LayerNormalization", [x], {"axis": -2},
                          initializers=[("scale", normal(5, 6)), ("bias", normal(5, 6))]), [x], atol=1e-4)
    assert_matches(single("LayerNormalization", [x], {"axis": 1}, initializers=[("scale", normal(6))]), [x], atol=1e-4)
    assert_matches(single("GroupNormalization", [x], {"num_groups": 2}, initializers=channels, opset=21), [x], 1e-4)
    assert_matches(single("LRN", [x], {"size": 3, "alpha": 0.01, "beta": 0.7, "bias": 1.5}), [x])
    assert_matches(single("LpNormalization", [x], {"axis": 1, "p": 1}), [x])
    assert_matches(single("MeanVarianceNormalization", [x]), [x], atol=1e-4)


# -- linear --------------------------------------------------------------------------------------
def test_linear_ops_match_onnxruntime():
    a, b = normal(5, 3), normal(4, 5)
    assert_matches(single("Gemm", [a, b], {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0},
                          initializers=[("c", normal(1, 4))]), [a, b])
    left, right = normal(2, 1, 3, 4), normal(5, 4, 6)
    assert_matches(single("MatMul", [left, right]), [left, right])
    vector = normal(4)
    assert_matches(single("MatMul", [normal(3, 4), vector]), [normal(3, 4), vector])
    x, y = normal(2, 3, 4), normal(2, 4, 5)
    assert_matches(single("Einsum", [x, y], {"equation": "bij,bjk->bik"}), [x, y])


# -- shape ---------------------------------------------------------------------------------------
def test_reshape_flatten_transpose_and_squeezes():
    x = normal(2, 3, 4)
    assert_matches(single("Reshape", [x], initializers=[("shape", np.array([0, -1, 2], np.int64))]), [x])
    assert_matches(single("Reshape", [x, np.array([4, 6], np.int64)]), [x, np.array([4, 6], np.int64)])
    assert_matches(single("Flatten", [x], {"axis": 2}), [x])
    assert_matches(single("Transpose", [x], {"perm": [2, 0, 1]}), [x])
    assert_matches(single("Transpose", [x]), [x])
    y = normal(2, 1, 4, 1)
    assert_matches(single("Squeeze", [y], initializers=[("axes", np.array([-1], np.int64))]), [y])
    assert_matches(single("Squeeze", [y]), [y])
    assert_matches(single("Squeeze", [y], {"axes": [1]}, opset=11), [y])
    assert_matches(single("Unsqueeze", [x], initializers=[("axes", np.array([4, 0], np.int64))]), [x])


def test_concat_split_slice_and_pad():
    x = normal(4, 6, 5)
    assert_matches(single("Concat", [x, x], {"axis": -1}), [x, x])
    assert_matches(single("Split", [x], {"axis": 1}, initializers=[("split", np.array([1, 2, 3], np.int64))],
                          outputs=3), [x])
    assert_matches(single("Split", [x], {"axis": 2, "num_outputs": 2}, opset=18, outputs=2), [x])
    slices = [("starts", np.array([-1, 1], np.int64)), ("ends", np.array([-100, 1000], np.int64)),
              ("axes", np.array([0, 2], np.int64)), ("steps", np.array([-2, 2], np.int64))]
    assert_matches(single("Slice", [x], initializers=slices), [x])
    for mode in ("constant", "reflect", "edge", "wrap"):
        pads = np.array([1, 2, 0, 2, 1, 1], np.int64)
        initializers = [("pads", pads), ("value", np.array(1.5, np.float32))]
        assert_matches(single("Pad", [x], {"mode": mode}, initializers=initializers, opset=19), [x])
    assert_matches(single("Pad", [x], initializers=[("pads", np.array([0, -1, 1, 0, 2, -2], np.int64))]), [x])


def test_gathers_and_scatters():
    x = normal(5, 4, 3)
    indices = np.array([[0, -1], [2, 4]], np.int64)
    assert_matches(single("Gather", [x, indices], {"axis": 0}), [x, indices])
    assert_matches(single("Gather", [x], {"axis": 1}, initializers=[("i", np.array(-2, np.int64))]), [x])
    elements = RNG.integers(-4, 4, (5, 2, 3)).astype(np.int64)
    assert_matches(single("GatherElements", [x, elements], {"axis": 1}), [x, elements])
    nd = np.array([[[1], [0]], [[3], [2]]], np.int64)
    batched = normal(2, 4, 3)
    assert_matches(single("GatherND", [batched, nd], {"batch_dims": 1}), [batched, nd])
    updates = normal(2, 3)
    targets = np.array([[1, 2], [3, 0]], np.int64)
    assert_matches(single("ScatterND", [x, targets, updates], {"reduction": "add"}, opset=18),
                   [x, targets, updates])
    spots = np.array([[1, 0, 2]], np.int64)
    assert_matches(single("ScatterElements", [x[:, :, 0], spots, normal(1, 3)], {"axis": 0, "reduction": "max"},
                          opset=18), [x[:, :, 0], spots, normal(1, 3)])


def test_expand_tile_cast_and_constants():
    x = normal(3, 1)
    assert_matches(single("Expand", [x], initializers=[("shape", np.array([2, 1, 4], np.int64))]), [x])
    assert_matches(single("Tile", [x], initializers=[("repeats", np.array([2, 3], np.int64))]), [x])
    model = single("Cast", [x * 10], {"to": TensorProto.INT32}, output_dtypes=[np.int32])
    assert_matches(model, [x * 10])
    model = single("CastLike", [x, np.zeros(1, np.float64)], output_dtypes=[np.float64])
    assert_matches(model, [x, np.zeros(1, np.float64)])
    shape = np.array([2, 3], np.int64)
    model = single("ConstantOfShape", [shape], {"value": numpy_helper.from_array(np.array([7], np.int32))},
                   output_dtypes=[np.int32])
    assert_matches(model, [shape])
    model = single("Shape", [normal(2, 3, 4)], {"start": 1}, output_dtypes=[np.int64])
    assert_matches(model, [normal(2, 3, 4)])


def test_index_ops_match_onnxruntime():
    x = normal(2, 8, 3, 4)
    assert_matches(single("DepthToSpace", [x], {"blocksize": 2, "mode": "CRD"}), [x])
    assert_matches(single("DepthToSpace", [x], {"blocksize": 2}), [x])
    assert_matches(single("SpaceToDepth", [normal(2, 3, 4, 6)], {"blocksize": 2}), [normal(2, 3, 4, 6)])
    indices = np.array([[1, -1], [0, 3]], np.int64)
    assert_matches(single("OneHot", [indices], {"axis": 1},
                          initializers=[("depth", np.array(4, np.int64)), ("values", np.array([0.5, 2], np.float32))],
                          output_dtypes=[np.float32]), [indices])
    mask = np.array([[1, 0, 2], [0, 0, 3]], np.int32)
    assert_matches(single("NonZero", [mask], output_dtypes=[np.int64]), [mask])
    square = normal(2, 4, 5)
    assert_matches(single("Trilu", [square], {"upper": 0}, initializers=[("k", np.array(1, np.int64))]), [square])
    counts = integers(3, 4)
    assert_matches(single("CumSum", [counts], {"exclusive": 1, "reverse": 1},
                          initializers=[("axis", np.array(1, np.int32))]), [counts])
    ties = np.array([[1, 3, 3, 2], [5, 5, 5, 0]], np.float32)
    assert_matches(single("TopK", [ties], {"largest": 1}, initializers=[("k", np.array([2], np.int64))], outputs=2,
                          output_dtypes=[np.float32, np.int64]), [ties])
    assert_matches(single("TopK", [ties], {"largest": 0}, initializers=[("k", np.array([3], np.int64))], outputs=2,
                          output_dtypes=[np.float32, np.int64]), [ties])


# -- reductions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("op, attrs, axes, opset", [
    ("ReduceMean", {"axes": [1, -1]}, None, 11),
    ("ReduceSum", {"keepdims": 0}, np.array([0, 2], np.int64), 13),
    ("ReduceSum", {"noop_with_empty_axes": 1}, np.array([], np.int64), 13),
    ("ReduceMax", {}, np.array([1], np.int64), 18),
    ("ReduceMin", {"keepdims": 0}, None, 18),
    ("ReduceProd", {}, np.array([2], np.int64), 18),
    ("ReduceL1", {}, np.array([1], np.int64), 18),
    ("ReduceL2", {}, np.array([1], np.int64), 18),
    ("ReduceLogSumExp", {}, np.array([1], np.int64), 18),
    ("ReduceSumSquare", {"keepdims": 0}, np.array([0, 1], np.int64), 18),
])
def test_reductions_match_onnxruntime(op, attrs, axes, opset):
    x = normal(3, 4, 5)
    initializers = [] if axes is None else [("axes", axes)]
    assert_matches(single(op, [x], attrs, initializers=initializers, opset=opset), [x], atol=1e-4)


def test_integer_reduction_keeps_its_dtype_and_arg_extremes_pick_the_last():
    counts = integers(3, 4)
    assert_matches(single("ReduceSum", [counts], initializers=[("axes", np.array([1], np.int64))]), [counts])
    ties = np.array([[1, 3, 3], [2, 2, 0]], np.float32)
    for op in ("ArgMax", "ArgMin"):
        for last in (0, 1):
            model = single(op, [ties], {"axis": 1, "select_last_index": last}, output_dtypes=[np.int64])
            assert_matches(model, [ties])


# -- recurrent -----------------------------------------------------------------------------------
def recurrent_model(op, gates, attrs, peephole=False, seed=0):
    rng = np.random.default_rng(seed)
    hidden, size, directions = 5, 3, 2 if attrs.get("direction") == "bidirectional" else 1
    names = ["x", "w", "r", "b"]
    initializers = [(name, rng.standard_normal(shape).astype(np.float32)) for name, shape in
                    (("w", (directions, gates * hidden, size)), ("r", (directions, gates * hidden, hidden)),
                     ("b", (directions, 2 * gates * hidden)))]
    if peephole:
        names += ["", "", "", "p"]
        initializers.append(("p", rng.standard_normal((directions, 3 * hidden)).astype(np.float32)))
    outputs = ["y", "y_h"] + (["y_c"] if op == "LSTM" else [])
    node = helper.make_node(op, names, outputs, hidden_size=hidden, **attrs)
    shape = (None, 4, size) if attrs.get("layout") == 1 else (4, None, size)  # 4 steps, any batch
    return model_of([node], [("x", np.float32, shape)], [(name, np.float32, None) for name in outputs],
                    initializers, opset=14)


@pytest.mark.parametrize("op, gates, attrs, peephole", [
    ("LSTM", 4, {"direction": "bidirectional"}, False),  # paddle's fused kernel
    ("LSTM", 4, {"clip": 0.8}, True),  # the step-by-step path: peepholes and clip
    ("LSTM", 4, {"direction": "reverse", "activations": ["HardSigmoid", "Tanh", "Relu"]}, False),
    ("GRU", 3, {"linear_before_reset": 1, "direction": "bidirectional"}, False),
    ("GRU", 3, {"linear_before_reset": 0}, False),
    ("RNN", 1, {"activations": ["Relu"]}, False),
    ("RNN", 1, {}, False),
])
def test_recurrent_layers_match_onnxruntime(op, gates, attrs, peephole):
    assert_matches(recurrent_model(op, gates, attrs, peephole), [normal(4, 3, 3)], atol=1e-5)


@pytest.mark.parametrize("op, gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_batch_first_layout_transposes_the_time_major_result(op, gates):
    # onnxruntime refuses layout=1: the same weights time-major, on the transposed input, are the reference
    x = normal(3, 4, 3)
    batch_first = run(from_onnx(recurrent_model(op, gates, {"layout": 1, "direction": "bidirectional"}), "paddle"),
                      [x])
    time_major = onnxruntime_outputs(recurrent_model(op, gates, {"direction": "bidirectional"}),
                                     [x.transpose(1, 0, 2)])
    np.testing.assert_allclose(batch_first[0], time_major[0].transpose(2, 0, 1, 3), atol=1e-5)
    for state, reference in zip(batch_first[1:], time_major[1:]):
        np.testing.assert_allclose(state, reference.transpose(1, 0, 2), atol=1e-5)


def test_sequence_lengths_stop_each_row():
    node = helper.make_node("GRU", ["x", "w", "r", "", "lengths"], ["y", "y_h"], hidden_size=4)
    model = model_of([node], [("x", np.float32, (5, 3, 2)), ("lengths", np.int32, (3,))],
                     [("y", np.float32, None), ("y_h", np.float32, None)],
                     [("w", normal(1, 12, 2)), ("r", normal(1, 12, 4))], opset=14)
    assert_matches(model, [normal(5, 3, 2), np.array([5, 2, 3], np.int32)])


# -- resize --------------------------------------------------------------------------------------
@pytest.mark.parametrize("attrs, scales, sizes", [
    ({"mode": "linear"}, [1, 1, 2, 1.5], None),
    ({"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, [1, 1, 2, 3], None),
    ({"mode": "cubic", "coordinate_transformation_mode": "align_corners"}, None, [2, 3, 9, 5]),
    ({"mode": "linear", "antialias": 1}, [1, 1, 0.5, 0.6], None),
])
def test_resize_matches_onnxruntime(attrs, scales, sizes):
    x = normal(2, 3, 6, 7)
    initializers = [("roi", np.array([], np.float32)),
                    ("scales", np.array(scales or [], np.float32))] + (
        [("sizes", np.array(sizes, np.int64))] if sizes else [])
    assert_matches(single("Resize", [x], attrs, initializers=initializers, opset=18), [x], atol=1e-4)


# -- losses, quantization and the rest ----------------------------------------------------------
def test_losses_match_onnxruntime():
    scores, labels = normal(3, 5, 2), np.array([[1, 4], [0, -1], [2, 2]], np.int64)
    weight = [("weight", np.abs(normal(5)))]
    for reduction in ("none", "sum", "mean"):
        model = single("SoftmaxCrossEntropyLoss", [scores, labels], {"reduction": reduction, "ignore_index": -1},
                       initializers=weight, outputs=2, output_dtypes=[np.float32, np.float32])
        assert_matches(model, [scores, labels])
    model = single("NegativeLogLikelihoodLoss", [scores, np.abs(labels)], {"reduction": "mean"}, initializers=weight)
    assert_matches(model, [scores, np.abs(labels)])


def test_quantization_matches_onnxruntime():
    x = normal(2, 3, 4) * 4
    per_channel = [("scale", np.array([0.05, 0.1, 0.02], np.float32)), ("zero", np.array([3, 128, 0], np.uint8))]
    assert_matches(single("QuantizeLinear", [x], {"axis": 1}, initializers=per_channel, output_dtypes=[np.uint8]), [x])
    signed = [("scale", np.array(0.03, np.float32)), ("zero", np.array(-5, np.int8))]
    assert_matches(single("QuantizeLinear", [x], initializers=signed, output_dtypes=[np.int8]), [x])
    q = integers(2, 3, 4, low=0, high=255, dtype=np.uint8)
    assert_matches(single("DequantizeLinear", [q], {"axis": 1}, initializers=per_channel,
                          output_dtypes=[np.float32]), [q])
    model = single("DynamicQuantizeLinear", [x], outputs=3, output_dtypes=[np.uint8, np.float32, np.uint8])
    assert_matches(model, [x])
    a, b = integers(3, 4, low=0, high=255, dtype=np.uint8), integers(4, 2, low=0, high=255, dtype=np.uint8)
    zeros = [("a_zero", np.array(12, np.uint8)), ("b_zero", np.array(130, np.uint8))]
    assert_matches(single("MatMulInteger", [a, b], initializers=zeros, output_dtypes=[np.int32]), [a, b])


def test_unique_reverse_sequence_center_crop_pad_and_det():
    values = np.array([2, 1, 1, 3, 4, 3], np.float32)
    for in_order in (0, 1):
        model = single("Unique", [values], {"sorted": in_order}, outputs=4,
                       output_dtypes=[np.float32, np.int64, np.int64, np.int64])
        assert_matches(model, [values], reference=reference_outputs)
    sequences, lengths = normal(4, 3, 2), np.array([4, 1, 3], np.int64)
    model = single("ReverseSequence", [sequences, lengths], {"batch_axis": 1, "time_axis": 0})
    assert_matches(model, [sequences, lengths])
    image = normal(3, 5, 4)
    assert_matches(single("CenterCropPad", [image], initializers=[("shape", np.array([2, 7], np.int64))],
                          attrs={"axes": [1, 2]}, opset=18), [image], reference=reference_outputs)
    assert_matches(single("Det", [normal(2, 3, 3)]), [normal(2, 3, 3)], atol=1e-4)


@pytest.mark.parametrize("mode, padding", [("linear", "zeros"), ("nearest", "border"), ("linear", "reflection")])
def test_grid_sample_matches_onnxruntime(mode, padding):
    x, grid = normal(2, 3, 5, 6), np.clip(normal(2, 4, 3, 2), -1.2, 1.2)
    model = single("GridSample", [x, grid], {"mode": mode, "padding_mode": padding, "align_corners": 0}, opset=20)
    assert_matches(model, [x, grid], atol=1e-5)


def test_windows_unpooling_and_affine_grids():
    for op in ("HannWindow", "HammingWindow", "BlackmanWindow"):
        for periodic in (0, 1):
            size = np.array(10, np.int64)
            assert_matches(single(op, [size], {"periodic": periodic}, output_dtypes=[np.float32]), [size])
    x = normal(2, 3, 6, 6)
    pooled = onnxruntime_outputs(single("MaxPool", [x], {"kernel_shape": [2, 2], "strides": [2, 2]}, outputs=2,
                                        output_dtypes=[np.float32, np.int64]), [x])
    assert_matches(single("MaxUnpool", pooled, {"kernel_shape": [2, 2], "strides": [2, 2]}), pooled)
    # with a larger output_shape, onnxruntime and onnx's own tests disagree; the importer follows onnx's
    unpool = single("MaxUnpool", pooled, {"kernel_shape": [2, 2], "strides": [2, 2]},
                    initializers=[("shape", np.array([2, 3, 7, 6], np.int64))])
    assert_matches(unpool, pooled, reference=reference_outputs)
    signal = normal(2, 8, 1)
    assert_matches(single("DFT", [signal], {"onesided": 1}, opset=17), [signal], atol=1e-5)
    assert_matches(single("DFT", [normal(2, 8, 2)], {"inverse": 1, "axis": 1}, opset=17), [normal(2, 8, 2)], 1e-5)
    theta, size = normal(2, 2, 3), np.array([2, 3, 4, 5], np.int64)
    for align_corners in (0, 1):
        model = single("AffineGrid", [theta, size], {"align_corners": align_corners}, opset=20)
        assert_matches(model, [theta, size], reference=reference_outputs)


@pytest.mark.parametrize("center_point_box", [0, 1])
def test_non_max_suppression_matches_onnxruntime(center_point_box):
    rng = np.random.default_rng(5)
    corners = rng.uniform(0, 10, (2, 12, 4)).astype(np.float32)
    if center_point_box:
        corners[..., 2:] = rng.uniform(1, 4, (2, 12, 2))
    scores = rng.uniform(0, 1, (2, 3, 12)).astype(np.float32)
    scores[0, 0, 3] = scores[0, 0, 5]  # a tie: the lower index goes first
    limits = [("most", np.array([4], np.int64)), ("iou", np.array([0.3], np.float32)),
              ("floor", np.array([0.2], np.float32))]
    model = single("NonMaxSuppression", [corners, scores], {"center_point_box": center_point_box},
                   initializers=limits, output_dtypes=[np.int64])
    assert_matches(model, [corners, scores])


def test_dropout_is_the_identity_at_inference_and_scaled_masking_in_training_mode():
    x = np.abs(normal(4, 50)) + 1
    ratio, on = np.array(0.5, np.float32), np.array(True)
    model = single("Dropout", [x, ratio, on], outputs=2, output_dtypes=[np.float32, np.bool_])
    output, mask = run(from_onnx(model, "paddle"), [x, ratio, on])
    np.testing.assert_allclose(output, np.where(mask, x * 2, 0), rtol=1e-6)
    assert 0.2 < mask.mean() < 0.8
    for arrays in ([x, ratio, np.array(False)], [x, np.array(0.0, np.float32), on]):
        assert_matches(single("Dropout", arrays, outputs=2, output_dtypes=[np.float32, np.bool_]), arrays)


def test_what_paddle_lacks_is_a_preflight_hazard():
    x, grid = normal(1, 1, 3, 3), normal(1, 2, 2, 2)
    model = single("GridSample", [x, grid], {"mode": "cubic"}, opset=20)
    with pytest.raises(UnsupportedModelError, match="bicubic"):
        from_onnx(model, "paddle")


# -- the model as a whole ------------------------------------------------------------------------
def small_cnn():
    weights = [("w1", normal(4, 3, 3, 3) * 0.3), ("b1", normal(4)), ("w2", normal(2, 16) * 0.3), ("b2", normal(2))]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    return model_of(nodes, [("x", np.float32, (None, 3, 4, 4))],
                    [("logits", np.float32, (None, 2)), ("probabilities", np.float32, (None, 2))], weights)


def test_one_import_serves_any_batch_and_returns_outputs_in_graph_order():
    model = small_cnn()
    native = from_onnx(model, "paddle")
    assert isinstance(native, paddle.nn.Layer)
    for batch in (1, 5):
        x = normal(batch, 3, 4, 4)
        logits, probabilities = native(x)  # numpy in, a tuple of tensors out, in graph-output order
        expected = onnxruntime_outputs(model, [x])
        assert tuple(logits.shape) == (batch, 2) and tuple(probabilities.shape) == (batch, 2)
        np.testing.assert_allclose(logits.numpy(), expected[0], atol=1e-5)
        np.testing.assert_allclose(probabilities.numpy(), expected[1], atol=1e-6)


def runtime_flatten() -> list:
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape of "x" into "flat" (via "batch", "target"), as exporters
    write a flatten: the target shape is computed on the host at run time."""
    return [helper.make_node("Shape", ["x"], ["shape"]),
            helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
            helper.make_node("Unsqueeze", ["batch", "axes"], ["batch_1d"]),
            helper.make_node("Concat", ["batch_1d", "minus_one"], ["target"], axis=0),
            helper.make_node("Reshape", ["x", "target"], ["flat"])]


#: The initializers runtime_flatten's nodes read.
FLATTEN_CONSTANTS = [("zero", np.array(0, np.int64)), ("axes", np.array([0], np.int64)),
                     ("minus_one", np.array([-1], np.int64))]


def test_shapes_computed_at_run_time_follow_the_batch():
    nodes = [*runtime_flatten(),
             helper.make_node("Cast", ["batch"], ["batch_float"], to=TensorProto.FLOAT),
             helper.make_node("Sqrt", ["batch_float"], ["root"]),
             helper.make_node("Div", ["flat", "root"], ["scaled"]),
             helper.make_node("MatMul", ["scaled", "w"], ["y"])]
    model = model_of(nodes, [("x", np.float32, (None, 2, 3))], [("y", np.float32, None), ("target", np.int64, None)],
                     [*FLATTEN_CONSTANTS, ("w", normal(6, 2))])
    native = from_onnx(model, "paddle")
    for batch in (1, 5):
        x = normal(batch, 2, 3)
        expected = onnxruntime_outputs(model, [x])
        outputs = run(native, [x])
        np.testing.assert_allclose(outputs[0], expected[0], atol=1e-5)
        assert outputs[1].dtype == np.int64 and outputs[1].tolist() == [batch, -1]
    y, _ = native(paddle.to_tensor(normal(4, 2, 3)))
    y.sum().backward()
    assert native.parameters()[0].grad is not None


def test_initializers_become_parameters_that_fine_tuning_trains():
    native = from_onnx(small_cnn(), "paddle")
    parameters = native.parameters()
    assert sorted(tuple(parameter.shape) for parameter in parameters) == [(2,), (2, 16), (4,), (4, 3, 3, 3)]
    assert all(not parameter.stop_gradient for parameter in parameters)
    rng = np.random.default_rng(3)
    x = paddle.to_tensor(rng.standard_normal((16, 3, 4, 4)).astype(np.float32))
    target = paddle.to_tensor(rng.integers(0, 2, 16).astype(np.int64))
    optimizer = paddle.optimizer.SGD(learning_rate=0.5, parameters=parameters)
    native.train()
    losses = []
    for _ in range(8):
        logits, _ = native(x)
        loss = paddle.nn.functional.cross_entropy(logits, target)
        loss.backward()
        assert all(parameter.grad is not None and float(parameter.grad.abs().sum()) > 0 for parameter in parameters)
        optimizer.step()
        optimizer.clear_grad()
        losses.append(float(loss))
    assert losses[-1] < losses[0] * 0.9, losses


def test_batch_norm_statistics_are_buffers_and_weights_are_parameters():
    x = normal(2, 4, 3, 3)
    model = single("BatchNormalization", [x], initializers=[("scale", normal(4)), ("bias", normal(4)),
                                                            ("mean", normal(4)), ("variance", np.ones(4, np.float32))])
    native = from_onnx(model, "paddle")
    assert len(native.parameters()) == 2 and len(native.buffers()) == 2


def test_a_conv_bias_add_is_folded_and_identities_vanish_without_changing_results():
    x = normal(2, 3, 5, 5)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["bias", "c"], ["a"]),
             helper.make_node("Identity", ["a"], ["y"]),
             helper.make_node("Conv", ["x", "w"], ["shared"]),  # used twice: its Add must stay an Add
             helper.make_node("Add", ["shared", "bias"], ["z"]),
             helper.make_node("Mul", ["shared", "shared"], ["m"])]
    model = model_of(nodes, [("x", np.float32, (None, 3, 5, 5))],
                     [("y", np.float32, None), ("z", np.float32, None), ("m", np.float32, None)],
                     [("w", normal(4, 3, 3, 3) * 0.2), ("bias", normal(1, 4, 1, 1))])
    assert_matches(model, [x])
    native = from_onnx(model, "paddle")
    assert [step[3] for step in native._steps] == ["a", "shared", "z", "m"]  # Add folded in, Identity gone
    assert len(native.parameters()) == 2


def test_unsigned_types_paddle_lacks_come_back_in_their_own_dtype():
    values = np.array([1, 2, 4_000_000_000], np.uint32)
    model = single("Add", [values, values.copy()])
    outputs = run(from_onnx(model, "paddle"), [values, np.array([1, 1, 1], np.uint32)])
    assert outputs[0].dtype == np.uint32 and outputs[0].tolist() == [2, 3, 4_000_000_001]


def test_every_registered_version_is_a_real_schema_version():
    for key in onnx_import.REGISTRY.keys():
        assert onnx.defs.get_schema(key.op_type, key.since_version, key.domain).since_version == key.since_version, key
    for op in ("Conv", "LSTM", "Resize", "ScatterND", "ReduceLogSumExp", "Gemm", "Einsum", "TopK"):
        assert op in onnx_import.REGISTRY.op_types()


def test_unsupported_ops_are_all_listed_before_converting():
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Frobnicate", ["a"], ["b"], domain="com.example"),
             helper.make_node("Twiddle", ["b"], ["c"], domain="com.example"),
             helper.make_node("Frobnicate", ["c"], ["y"], domain="com.example")]
    graph = helper.make_graph(nodes, "custom", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    with pytest.raises(UnsupportedModelError) as caught:
        from_onnx(model, "paddle")
    problems = caught.value.problems
    assert len(problems) == 2
    assert "Frobnicate" in problems[0] and "2 node(s)" in problems[0] and "Twiddle" in problems[1]


#: The light models with seeded random weights; vgg19, alexnet and zfnet512 (100M+ weights in their dense layers,
#: tens of seconds each here) are left to `python -m nbunify.convert.conformance --framework paddle --kind light`.
LIGHT_TESTED = [path for path in LIGHT if path.stem.removeprefix("light_") in
                ("squeezenet", "shufflenet", "inception_v1", "inception_v2", "resnet50", "densenet121")]


@pytest.mark.parametrize("path", LIGHT_TESTED, ids=[path.stem for path in LIGHT_TESTED])
def test_light_models_match_onnxruntime(path):
    from nbunify.convert.conformance import LIGHT_TOLERANCE, _light_case, light_model

    model = light_model(path)  # seeded random weights instead of the file's constant 0.02
    native = from_onnx(model, "paddle")
    inputs, expected = _light_case(model)
    outputs = run(native, inputs)
    for output, reference in zip(outputs, expected):
        assert output.shape == reference.shape
        assert float(np.abs(output.astype(np.float64) - reference).max()) <= LIGHT_TOLERANCE


def test_backend_node_suite_pass_rate():
    from nbunify.convert.conformance import run_suites, summary

    result = summary(run_suites("paddle", ("node",), progress=False))
    assert result["node_pass_rate"] >= 0.85, result["totals"]


# -- fused recurrent kernels read weights laid out at import ------------------------------------
def test_recurrent_weights_are_laid_out_for_the_kernel_at_import_and_train():
    model = recurrent_model("LSTM", 4, {"direction": "bidirectional"})
    native = from_onnx(model, "paddle")
    parameters = dict(native.named_parameters())
    # paddle.nn.LSTM's own parameters (named after the node's first output), gates in its i, f, c, o order: no
    # ONNX-layout W, R, B left to reorder on every call
    assert sorted(parameters) == sorted(f"y_{kind}_{part}{suffix}" for kind in ("weight", "bias")
                                        for part in ("ih", "hh") for suffix in ("", "_reverse"))
    assert tuple(parameters["y_weight_ih"].shape) == (20, 3) and tuple(parameters["y_bias_hh"].shape) == (20,)
    w = numpy_helper.to_array(next(tensor for tensor in model.graph.initializer if tensor.name == "w"))
    np.testing.assert_array_equal(parameters["y_weight_ih_reverse"].numpy(), w[1][np.r_[0:5, 10:15, 15:20, 5:10]])
    y, _, _ = native(normal(4, 2, 3))
    y.sum().backward()
    assert all(parameter.grad is not None and float(parameter.grad.abs().sum()) > 0
               for parameter in native.parameters())


@pytest.mark.parametrize("op, gates, attrs", [("LSTM", 4, {"direction": "bidirectional"}),
                                              ("GRU", 3, {"linear_before_reset": 1})])
def test_weights_laid_out_for_the_kernel_serve_uneven_sequence_lengths_too(op, gates, attrs):
    # uneven lengths take the step-by-step path: the prepared weights go back to ONNX's layout for it
    base = recurrent_model(op, gates, attrs)
    node = base.graph.node[0]
    node.input[:] = ["x", "w", "r", "b", "lengths"]
    outputs = [(name, np.float32, None) for name in node.output]
    model = model_of([node], [("x", np.float32, (4, 3, 3)), ("lengths", np.int32, (3,))], outputs,
                     [(tensor.name, numpy_helper.to_array(tensor)) for tensor in base.graph.initializer], opset=14)
    assert_matches(model, [normal(4, 3, 3), np.array([4, 2, 3], np.int32)])
    assert_matches(model, [normal(4, 3, 3), np.array([4, 4, 4], np.int32)])


def test_an_unnamed_optional_output_does_not_fill_an_absent_input():
    # LSTM's Y unnamed, then a Clip without min: the Clip must see no min, not the LSTM's Y
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("LSTM", ["x", "w", "r"], ["", "h"], hidden_size=3),
             helper.make_node("Clip", ["h", "", "high"], ["y"])]
    model = model_of(nodes, [("x", np.float32, (4, 2, 2)), ("high", np.float32, ())], [("y", np.float32, (1, 2, 3))],
                     [("w", rng.standard_normal((1, 12, 2)).astype(np.float32)),
                      ("r", rng.standard_normal((1, 12, 3)).astype(np.float32))])
    assert_matches(model, [normal(4, 2, 2), np.array(0.1, np.float32)])


# -- intermediates: every node's value, as the ONNX graph has it ----------------------------------
#: Ops whose output every imported reference model must expose (none of them is folded or fused away there:
#: torch writes a Conv's bias inside the Conv, so the importer's Conv + Add fusion does not apply).
TRACKED_OPS = ("Conv", "Relu", "Add", "Gemm", "MatMul", "LSTM", "GRU")


def torch_export(make):
    import nbunify as nu
    from reference_specs import random_weights

    spec = make()
    return spec, nu.to_onnx(nu.build(spec, "torch", weights=random_weights(spec)))


def every_value(proto, x):
    """Every node output by onnx's reference evaluator; its LSTM and GRU take one direction only (onnx 1.17), so
    graphs with bidirectional ones are evaluated by onnxruntime with optimizations off (nu.parity's oracle)."""
    from onnx.reference import ReferenceEvaluator

    from nbunify.convert.intermediates import onnxruntime_values

    if any(attribute.name == "direction" and attribute.s == b"bidirectional" for node in proto.graph.node
           if node.op_type in ("LSTM", "GRU") for attribute in node.attribute):
        return onnxruntime_values(proto, [x])
    return ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: x}, intermediate=True)


@pytest.mark.parametrize("name", ["residual_cnn", "lstm_text_classifier", "gru_text_classifier"])
def test_intermediates_are_every_node_value_in_the_graph_layout_and_dtype(name):
    from reference_specs import REFERENCE_SPECS, random_inputs

    spec, proto = torch_export(REFERENCE_SPECS[name])
    native = from_onnx(proto, "paddle")
    x = random_inputs(spec, batch=3)
    names = [output for node in proto.graph.node for output in node.output if output]
    values = onnx_import.intermediates(native, [x], names)
    expected = every_value(proto, x)
    assert values, "no intermediate value came back"
    for key, value in values.items():
        reference = np.asarray(expected[key])
        assert value.dtype == reference.dtype and value.shape == reference.shape, (key, value.dtype, value.shape)
        if reference.size and reference.dtype.kind == "f":
            scale = max(1.0, float(np.abs(reference).max()))
            assert float(np.abs(value.astype(np.float64) - reference).max()) <= 1e-4 * scale, key
        else:
            np.testing.assert_array_equal(value, reference, err_msg=key)
    tracked = [output for node in proto.graph.node if node.op_type in TRACKED_OPS for output in node.output if output]
    assert tracked and all(output in values for output in tracked), sorted(set(tracked) - set(values))


def test_intermediates_leave_out_unknown_and_folded_names_and_keep_host_values_and_dtypes():
    nodes = [*runtime_flatten(),
             helper.make_node("Add", ["zero", "zero"], ["folded"]),
             helper.make_node("Identity", ["flat"], ["same"]),
             helper.make_node("Cast", ["same"], ["y"], to=TensorProto.UINT32)]
    model = model_of(nodes, [("x", np.float32, (None, 2, 3))], [("y", np.uint32, None), ("folded", np.int64, None)],
                     [*FLATTEN_CONSTANTS])
    x = np.abs(normal(4, 2, 3)) * 10
    values = onnx_import.intermediates(from_onnx(model, "paddle"), [x], ["target", "same", "y", "folded", "nope"])
    assert sorted(values) == ["same", "target", "y"]  # "folded" is a constant at import; "nope" is no value
    assert values["target"].dtype == np.int64 and values["target"].tolist() == [4, -1]  # computed on the host
    np.testing.assert_array_equal(values["same"], x.reshape(4, -1))  # an Identity's output is its input's value
    assert values["y"].dtype == np.uint32  # paddle computes it in int64: it comes back in the graph's dtype


def test_intermediates_change_neither_outputs_nor_training_flags():
    model = small_cnn()
    native = from_onnx(model, "paddle")
    x = normal(2, 3, 4, 4)
    before = run(native, [x])
    native.train()
    tracer = paddle.base.framework._dygraph_tracer()
    values = onnx_import.intermediates(native, [x], ["c", "r", "logits"])
    assert native.training and all(layer.training for layer in native.sublayers())
    assert tracer._train_mode
    np.testing.assert_array_equal(values["logits"], before[0])
    for output, reference in zip(run(native, [x]), before):
        np.testing.assert_array_equal(output, reference)
    native.eval()
    onnx_import.intermediates(native, [x], ["c"])
    assert not native.training


# -- shape arithmetic kept per input shapes -------------------------------------------------------
def flatten_by_shape(before=(), dimension=0):
    """x -> ``before`` nodes -> h -> Shape -> Gather -> Unsqueeze -> Concat -> Reshape: h reshaped to
    (its size ``dimension``, -1), as exporters write a flatten."""
    nodes = [*before,
             helper.make_node("Shape", ["h"], ["shape"]),
             helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
             helper.make_node("Unsqueeze", ["batch", "axes"], ["batch_1d"]),
             helper.make_node("Concat", ["batch_1d", "minus_one"], ["target"], axis=0),
             helper.make_node("Reshape", ["h", "target"], ["y"])]
    statics = [("zero", np.array(dimension, np.int64)), ("axes", np.array([0], np.int64)),
               ("minus_one", np.array([-1], np.int64))]
    return nodes, statics


def test_shape_arithmetic_runs_once_per_input_shape():
    nodes, statics = flatten_by_shape([helper.make_node("Relu", ["x"], ["h"])])
    model = model_of(nodes, [("x", np.float32, (None, 2, 3))], [("y", np.float32, None)], statics)
    native = from_onnx(model, "paddle")
    for batch in (1, 5, 1, 5):  # new shapes compute it, repeated shapes reuse it: results right either way
        x = normal(batch, 2, 3)
        np.testing.assert_allclose(run(native, [x])[0], np.maximum(x, 0).reshape(batch, -1), atol=1e-6)

    def refuse(*arrays):
        raise AssertionError("shape arithmetic ran again for an input shape seen before")

    native._steps = [(refuse, *step[1:]) if step[2][0] in ("shape", "batch", "target") else step
                     for step in native._steps]
    native._tensor_steps = [(refuse, *step[1:]) if step[2][0] in ("shape", "batch", "target") else step
                            for step in native._tensor_steps]
    np.testing.assert_allclose(run(native, [x])[0], np.maximum(x, 0).reshape(5, -1), atol=1e-6)
    with pytest.raises(RuntimeError, match="ran again"):
        run(native, [normal(2, 2, 3)])  # a new shape: computed


def test_shapes_that_follow_tensor_values_are_computed_every_call():
    # NonZero's output shape depends on the values: the same input shape gives other shapes after it
    nodes, statics = flatten_by_shape([helper.make_node("NonZero", ["x"], ["h"])], dimension=1)
    model = model_of(nodes, [("x", np.float32, (2, 3))], [("y", np.int64, None)], statics)
    native = from_onnx(model, "paddle")
    for x in (np.array([[1, 0, 2], [0, 0, 3]], np.float32), np.array([[1, 1, 2], [0, 4, 3]], np.float32)):
        indices = np.stack(np.nonzero(x))  # (2, count): reshaped to (count, -1) by the count read from its shape
        np.testing.assert_array_equal(run(native, [x])[0], indices.reshape(indices.shape[1], -1))
