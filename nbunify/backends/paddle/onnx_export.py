"""paddle -> ONNX as paddle.onnx.export does it (jit.save, then paddle2onnx 2.1 in a child process), around paddle 3.3 bugs."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nbunify.frameworks import load

paddle = load("paddle")  # nbunify.convert.export loads it order-safely before importing this module

EXPORTER = "paddle.jit.save + paddle2onnx"
REQUIREMENTS = {"paddle2onnx": "paddle2onnx>=2.0"}  # import name -> pip requirement
#: Opsets paddle2onnx 2.1 writes (7 to 21); nbunify's importers start at 11.
OPSETS = range(7, 22)
DEFAULT_OPSET = 21  # every reference architecture exports and matches at 11, 19 and 21


def export(model: Any, path: str | Path, opset: int | None = None, dynamic_batch: bool = True,
           example: np.ndarray | None = None) -> None:
    """Write ``model`` (a paddle nn.Layer) as ONNX to ``path``, taking and giving what ``nu.predict`` does.

    ``example`` (a canonical batch) fixes the input's shape and dtype; without it, the model's spec does. The
    layer is saved as a static program in eval mode (flags restored after), then converted by paddle2onnx, in a
    child process kept for every export (see converter.py), at exactly ``opset`` (its automatic opset upgrade is off, so the opset asked
    for is the one written). During the export
    nbunify's recurrent layers and nn.LeakyReLU are swapped for equivalents paddle2onnx converts correctly.
    """
    if example is None:
        from nbunify.backends import spec_of

        spec = spec_of(model, "paddle", hint=", or pass an example batch")
        shape, dtype = list(spec.input_shape), spec.input_dtype
    else:
        shape, dtype = list(np.shape(example)[1:]), "int64" if np.asarray(example).dtype.kind in "iu" else "float32"
    batch = None if dynamic_batch else (1 if example is None else len(example))
    input_spec = [paddle.static.InputSpec([batch, *shape], dtype, "input")]
    messages = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="nbunify-paddle-export-") as folder:
        prefix = os.path.join(folder, "model")
        with _eval_mode(model), _export_safe_layers(model):
            try:
                with contextlib.redirect_stdout(messages), contextlib.redirect_stderr(messages):
                    paddle.jit.save(model, prefix, input_spec=input_spec)
            except Exception as error:  # noqa: BLE001 - dy2static's errors, reported with the exporter's name
                raise _failure(messages.getvalue(), error) from None
        _convert_saved_program(prefix, Path(path), opset or DEFAULT_OPSET)


def _convert_saved_program(prefix: str, target: Path, opset: int) -> None:
    """paddle2onnx, in nbunify's converter process (see converter.py), from the program ``paddle.jit.save`` wrote
    at ``prefix`` to ``target``."""
    from nbunify.backends.paddle.converter import CONVERTER

    program = prefix + (".json" if Path(prefix + ".json").is_file() else ".pdmodel")
    target = target.resolve()
    target.unlink(missing_ok=True)
    outcome = CONVERTER.convert(program, prefix + ".pdiparams", str(target), opset, os.path.dirname(prefix))
    if outcome.error or not target.is_file():
        # paddle2onnx logs its errors and calls sys.exit(-1); a crash leaves only the signal.
        reason = RuntimeError(f"the converter died of signal {outcome.signal}") if outcome.signal else None
        raise _failure(outcome.log + "\n" + outcome.error, reason)


def framework_version() -> str:
    return paddle.__version__


def exporter_version() -> str:
    import paddle2onnx

    return f"paddle2onnx {paddle2onnx.__version__}"


def _failure(messages: str, error: BaseException | None) -> Exception:
    from nbunify.convert.export import OnnxExportError

    # paddle2onnx's log lines look like "\x1b[0;31m2026-01-01 12:00:00 [ERROR]\tFailed to ...\x1b[0m": keep the words.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", messages)
    plain = re.sub(r"^\S+ \S+ \[(ERROR|WARNING|INFO)\]\s*", "", plain, flags=re.MULTILINE)
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    headline = next((line for line in lines if line.startswith("Failed to")), "").rstrip(":")
    detail = next((line for line in reversed(lines) if re.match(r"[\w.]*(Error|Exception)\b", line)), "")
    reason = "; ".join(dict.fromkeys(part for part in (headline, detail) if part))
    if not reason:
        reason = f"{type(error).__name__}: {error}" if error is not None else "no ONNX file was written"
    return OnnxExportError(f"paddle's ONNX exporter ({EXPORTER}) failed on this model: {reason[:500]}")


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """Eval mode for the export (dropout off, BatchNorm on its statistics); every flag restored after."""
    flags = [(layer, layer.training) for layer in (model, *model.sublayers())]
    tracer = paddle.base.framework._dygraph_tracer()  # eval() also flips this process-wide dygraph flag
    tracer_training = getattr(tracer, "_train_mode", None)
    model.eval()
    try:
        yield
    finally:
        for layer, training in flags:
            layer.training = training
        if tracer_training is not None:
            tracer._train_mode = tracer_training


@contextlib.contextmanager
def _export_safe_layers(model: Any) -> Iterator[None]:
    """Swap, for the export only, the sublayers paddle2onnx 2.1 / paddle 3.3 get wrong, sharing their parameters:

    - nbunify's RNN layers call ``super().forward`` from a mixin, which dy2static rewrites into endless recursion;
    - paddle2onnx reads LeakyReLU's slope from an attribute PIR renamed, writing LeakyRelu(alpha=0): a plain ReLU.
    """
    swapped = []
    for parent in (model, *model.sublayers()):
        for name, child in list(parent._sub_layers.items()):
            replacement = _replacement(child)
            if replacement is not None:
                parent._sub_layers[name] = replacement
                swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in reversed(swapped):
            parent._sub_layers[name] = child


def _replacement(layer: Any) -> Any:
    from nbunify.backends.paddle import layers as blocks

    if isinstance(layer, blocks._OneOutput):
        base = next(kind for kind in type(layer).__mro__ if kind.__module__.startswith("paddle.nn"))
        return _RecurrentForExport(layer, base)
    if type(layer) is paddle.nn.LeakyReLU:
        return _LeakyReluForExport(layer._negative_slope)
    return None


class _RecurrentForExport(paddle.nn.Layer):
    """An nbunify RNN layer's forward (nbunify.backends.paddle.layers._OneOutput) calling paddle's RNN forward
    by its class, not through ``super()``; the same parameters, the same single output."""

    def __init__(self, layer: Any, base: type) -> None:
        super().__init__()
        self.layer = layer
        self.base = base

    def forward(self, x):
        outputs, states = self.base.forward(self.layer, x)
        if self.layer.return_sequences:
            return outputs
        hidden = states[0] if isinstance(states, (tuple, list)) else states  # an LSTM's state is (h, c)
        return paddle.concat([hidden[-2], hidden[-1]], axis=-1) if self.layer.num_directions == 2 else hidden[-1]


class _LeakyReluForExport(paddle.nn.Layer):
    """leaky_relu(x) as max(x, slope * x) (min for a slope above 1): the same values, in ops paddle2onnx keeps."""

    def __init__(self, slope: float) -> None:
        super().__init__()
        self.slope = float(slope)

    def forward(self, x):
        scaled = x * self.slope
        return paddle.maximum(x, scaled) if self.slope <= 1 else paddle.minimum(x, scaled)
