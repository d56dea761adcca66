"""keras -> ONNX with Keras 3's own exporter (model.export(format="onnx"), tf2onnx underneath), channels-first."""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nbunify.backends.keras.layout import channels_first, channels_last, is_map
from nbunify.frameworks import load

keras = load("keras")  # nbunify.convert.export loads it order-safely before importing this module

EXPORTER = 'keras.Model.export(format="onnx") (tf2onnx)'
#: keras's exporter converts the model's tf.function with tf2onnx (tf2onnx.convert.from_keras fails on Keras 3).
REQUIREMENTS = {"tf2onnx": "tf2onnx==1.17.0"}  # import name -> pip requirement
#: Opsets tf2onnx 1.17 writes (its OPSET_TO_IR_VERSION ends at 18); nbunify's importers start at 11.
OPSETS = range(7, 19)
DEFAULT_OPSET = 18


def export(model: Any, path: str | Path, opset: int | None = None, dynamic_batch: bool = True,
           example: np.ndarray | None = None) -> None:
    """Write ``model`` (a keras.Model) as ONNX to ``path``, taking and giving canonical (channels-first) tensors.

    An nbunify keras model works channels-last inside; the export wraps it so that its ONNX graph is
    interchangeable with the torch and paddle exports of the same spec: a map input (N, C, *spatial) is transposed
    to channels-last first, a map output back to channels-first, and a flattened map output (whose features keras
    orders channels-last) is gathered back into canonical order. A keras model nbunify did not build is treated as
    ``nu.predict`` treats it: a rank-4 input or output is NCHW outside, NHWC inside. ``example`` fixes the input's
    shape and dtype (default: the spec's). Inference mode: dropout off, BatchNorm on its statistics. GRU and
    SimpleRNN layers are unrolled over the (fixed) sequence for the export, see _unrolled_recurrences.
    """
    spec = getattr(model, "_nbunify_spec", None)
    if example is not None:
        shape, dtype = tuple(np.shape(example)[1:]), "int64" if np.asarray(example).dtype.kind in "iu" else "float32"
    elif spec is not None:
        shape, dtype = tuple(spec.input_shape), spec.input_dtype
    else:
        from nbunify.backends import spec_of

        spec_of(model, "keras", hint=", or pass an example batch")  # raises NotBuiltByNbunifyError
    batch = None if dynamic_batch else (1 if example is None else len(example))
    wrapper = _channels_first_model(model, spec, shape, dtype)
    signature = [keras.InputSpec(shape=(batch, *shape), dtype=dtype, name="input")]
    _register_missing_tf2onnx_ops()
    try:
        with _quiet_tf2onnx(), _unrolled_recurrences(model):
            wrapper.export(str(path), format="onnx", opset_version=opset or DEFAULT_OPSET, verbose=False,
                           input_signature=signature)
    except Exception as error:  # noqa: BLE001 - keras and tf2onnx raise many kinds; say which exporter failed
        from nbunify.convert.export import OnnxExportError

        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OnnxExportError(f"keras's ONNX exporter ({EXPORTER}) failed on this model: {first}") from error


def framework_version() -> str:
    return keras.__version__


def exporter_version() -> str:
    import tensorflow
    import tf2onnx

    return f"keras {keras.__version__} export with tf2onnx {tf2onnx.__version__} (tensorflow {tensorflow.__version__})"


def _channels_first_model(model: Any, spec: Any, shape: tuple, dtype: str) -> Any:
    """A functional model around ``model`` taking canonical inputs and giving canonical outputs."""
    input_layout = spec.input_layout if spec is not None else "map" if len(shape) == 3 else "vector"
    inputs = keras.Input(shape=shape, dtype=dtype, name="input")
    x = keras.layers.Permute(channels_last(len(shape)))(inputs) if is_map(input_layout) else inputs
    outputs = model(x, training=False)
    rank = len(outputs.shape) - 1
    output_layout = spec.output_layout if spec is not None else "map" if rank == 3 else "vector"
    permutation = getattr(getattr(model, "_nbunify_layout", None), "output_permutation", None)
    if is_map(output_layout):
        outputs = keras.layers.Permute(channels_first(rank))(outputs)
    elif permutation is not None:
        # keras feature k holds canonical feature permutation[k]: canonical feature j is keras feature argsort[j].
        outputs = keras.ops.take(outputs, np.argsort(permutation).astype(np.int32), axis=1)
    return keras.Model(inputs, outputs, name=f"{model.name}_channels_first")


@contextlib.contextmanager
def _unrolled_recurrences(model: Any) -> Iterator[None]:
    """GRU and SimpleRNN layers traced unrolled over time (their flag restored after), for the export only.

    tf2onnx 1.17 rewrites Keras 3's LSTM loop into an ONNX LSTM node, but leaves a GRU's or SimpleRNN's
    tf.while_loop as an ONNX Loop with a subgraph, which the importers (and most runtimes' fast paths) do not
    take. Unrolled, the same weights give plain MatMul/Sigmoid/Tanh nodes, one set per time step; the sequence
    length is fixed by the export's input shape, so unrolling is always possible.
    """
    recurrent = [layer for layer in model._flatten_layers(include_self=False)
                 if isinstance(layer, (keras.layers.GRU, keras.layers.SimpleRNN)) and not layer.unroll]
    for layer in recurrent:
        layer.unroll = True
    try:
        yield
    finally:
        for layer in recurrent:
            layer.unroll = False


@contextlib.contextmanager
def _quiet_tf2onnx() -> Iterator[None]:
    """tf2onnx logs every rewrite at INFO, and keras's numpy-2 patch of it warns about np.object; keep errors only."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"keras\.src\.export|tf2onnx")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"tf2onnx")
            yield
    finally:
        logger.setLevel(level)


def _register_missing_tf2onnx_ops() -> None:
    """Teach tf2onnx TensorFlow's Erfc (exact GELU computes 0.5 * x * erfc(-x / sqrt(2))): tf2onnx 1.17 has no
    handler and copies it into the graph as an op ONNX does not have. Registered once, only if still missing."""
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    if any("Erfc" in handlers for opsets in tf_op.get_opsets().values() for handlers in opsets):
        return

    @tf_op("Erfc")
    class Erfc:
        @classmethod
        def version_9(cls, ctx: Any, node: Any, **kwargs: Any) -> None:  # ONNX Erf exists from opset 9
            node.type = "Erf"  # erfc(x) = 1 - erf(x)
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype))
            difference = ctx.insert_new_node_on_output("Sub", node.output[0], name=utils.make_name(node.name))
            ctx.replace_inputs(difference, [one.output[0], node.output[0]])
            ctx.copy_shape(node.output[0], difference.output[0])
