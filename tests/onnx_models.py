"""Small ONNX models built with onnx.helper, for tests that need a real model file without a framework."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_mlp(name: str = "tiny_mlp", hidden: int = 8, seed: int = 0) -> onnx.ModelProto:
    """x[N,4] -> Gemm -> Relu -> Gemm -> Softmax -> y[N,3]; passes onnx.checker."""
    rng = np.random.default_rng(seed)
    weights = {
        "w1": rng.standard_normal((4, hidden)).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": rng.standard_normal((hidden, 3)).astype(np.float32),
        "b2": np.zeros(3, np.float32),
    }
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="dense_1"),
        helper.make_node("Relu", ["h"], ["a"], name="relu_1"),
        helper.make_node("Gemm", ["a", "w2", "b2"], ["logits"], name="dense_2"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(value, key) for key, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="nbunify-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


#: DenseNet-121's dense layers per block (torchvision's densenet121).
DENSENET_121 = (6, 12, 24, 16)


def densenet(block_config: tuple[int, ...] = DENSENET_121, growth: int = 32, classes: int = 1000,
             image: int = 224, concat: str = "incremental", seed: int = 0) -> onnx.ModelProto:
    """A DenseNet-BC as the torch exporter names it (``/features/denseblock1/denselayer1/conv1/Conv`` ...),
    with random weights and inferred shapes.

    ``concat="incremental"`` joins each new layer's features to the running concatenation (two inputs
    per Concat, as Keras applications and caffe2's DenseNet do); ``"all"`` concatenates every earlier
    output at each layer, as torchvision's densenet does. Each dense layer is BN-Relu-Conv1x1-BN-Relu-Conv3x3
    plus its Concat (7 nodes): ``densenet()`` has 427 nodes, ``densenet((24, 48, 96, 72))`` 1,701.
    """
    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []

    def tensor(name: str, shape: tuple[int, ...]) -> str:
        initializers.append(numpy_helper.from_array((rng.standard_normal(shape) * 0.05).astype(np.float32), name))
        return name

    def node(op: str, scope: str, inputs: list[str], **attributes) -> str:
        output = f"{scope}/{op}_output_0"
        nodes.append(helper.make_node(op, inputs, [output], name=f"{scope}/{op}", **attributes))
        return output

    def conv(x: str, scope: str, channels_in: int, channels_out: int, kernel: int, stride: int = 1) -> str:
        weight = tensor(f"{scope.strip('/').replace('/', '.')}.weight", (channels_out, channels_in, kernel, kernel))
        return node("Conv", scope, [x, weight], kernel_shape=[kernel, kernel], strides=[stride, stride],
                    pads=[kernel // 2] * 4)

    def norm(x: str, scope: str, channels: int) -> str:
        prefix = scope.strip("/").replace("/", ".")
        names = [tensor(f"{prefix}.{part}", (channels,)) for part in ("weight", "bias", "running_mean")]
        initializers.append(numpy_helper.from_array(np.ones(channels, np.float32), f"{prefix}.running_var"))
        return node("BatchNormalization", scope, [x, *names, f"{prefix}.running_var"], epsilon=1e-5)

    x = conv("input", "/features/conv0", 3, 2 * growth, 7, 2)
    x = node("Relu", "/features/relu0", [norm(x, "/features/norm0", 2 * growth)])
    x = node("MaxPool", "/features/pool0", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    channels = 2 * growth
    for block_index, layers in enumerate(block_config, start=1):
        block = f"/features/denseblock{block_index}"
        features = [x]
        for layer_index in range(1, layers + 1):
            scope = f"{block}/denselayer{layer_index}"
            joined = features[0] if len(features) == 1 else node("Concat", scope, features, axis=1)
            width = channels + (layer_index - 1) * growth
            h = node("Relu", f"{scope}/relu1", [norm(joined, f"{scope}/norm1", width)])
            h = conv(h, f"{scope}/conv1", width, 4 * growth, 1)
            h = node("Relu", f"{scope}/relu2", [norm(h, f"{scope}/norm2", 4 * growth)])
            h = conv(h, f"{scope}/conv2", 4 * growth, growth, 3)
            features = [joined, h] if concat == "incremental" else [*features, h]
        x = node("Concat", block, features, axis=1)
        channels += layers * growth
        if block_index < len(block_config):
            transition = f"/features/transition{block_index}"
            x = node("Relu", f"{transition}/relu", [norm(x, f"{transition}/norm", channels)])
            x = conv(x, f"{transition}/conv", channels, channels // 2, 1)
            x = node("AveragePool", f"{transition}/pool", [x], kernel_shape=[2, 2], strides=[2, 2])
            channels //= 2
    x = node("Relu", "/features/relu5", [norm(x, "/features/norm5", channels)])
    x = node("GlobalAveragePool", "/pool", [x])
    x = node("Flatten", "/flatten", [x], axis=1)
    logits = node("Gemm", "/classifier", [x, tensor("classifier.weight", (classes, channels)),
                                          tensor("classifier.bias", (classes,))], transB=1)
    graph = helper.make_graph(nodes, "densenet",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, image, image])],
                              [helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["N", classes])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="nbunify-tests")
    model.ir_version = 8
    return onnx.shape_inference.infer_shapes(model)
