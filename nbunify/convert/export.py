"""nu.to_onnx: export a native model with its framework's own exporter, check it, stamp its metadata, prove parity."""

from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from nbunify import backends

#: Largest |source - onnxruntime| accepted by to_onnx (float32 exports measure 1e-7 to 1e-6).
PARITY_TOLERANCE = 1e-4
#: Batch sizes of the parity check when the batch is dynamic: two, so a batch baked into the graph shows up.
PARITY_BATCHES = (2, 3)
#: The names every export gives its one input and one output, so the exports of one spec are interchangeable.
INPUT_NAME, OUTPUT_NAME = "input", "output"


class OnnxExportError(RuntimeError):
    """A framework's exporter failed, or its ONNX model does not compute what the source model computes."""


class ExportParityError(OnnxExportError):
    """The exported model's outputs differ from the source model's; ``model`` holds the ONNX model anyway."""

    def __init__(self, message: str, model: Any, max_abs_error: float) -> None:
        super().__init__(message)
        self.model = model
        self.max_abs_error = max_abs_error


class ExporterNotInstalledError(ImportError):
    """The package a framework's ONNX exporter needs is missing; the message gives the pip command."""


def to_onnx(model: Any, path: str | os.PathLike | None = None, opset: int | None = None,
            dynamic_batch: bool = True, inputs: Any = None) -> Any:
    """An ``onnx.ModelProto`` of a torch, keras or paddle ``model``, made by that framework's own exporter.

    The model takes canonical (channels-first) inputs named ``input`` and gives its output as ``output``, in the
    same layouts as ``nu.predict``, whichever framework it comes from (a keras model is wrapped in NCHW <-> NHWC
    transposes). With ``dynamic_batch`` the batch dimension is symbolic; without it, it is 1 (or ``len(inputs)``).
    ``opset`` defaults to the newest the framework's exporter supports well (torch 20, keras 18, paddle 21).

    The result passes ``onnx.checker`` and carries ``metadata_props``: ``nbunify.source_framework``,
    ``nbunify.source_framework_version``, ``nbunify.exporter``, ``nbunify.version``, ``nbunify.spec`` (models
    from ``nu.build``) and ``nbunify.export_max_abs_error``: the largest |nu.predict - onnxruntime| over seeded
    inputs at batch 2 and 3 (batch 1 when the batch is fixed). Above PARITY_TOLERANCE this raises
    ExportParityError, whose ``model`` is the export. With ``path`` (its folders are created) the model is also
    saved there. A model not built by ``nu.build`` has no spec saying its input shape: pass ``inputs=``, an example
    batch in canonical layout (float32, or int64 token ids), which also serves for the parity check.
    """
    import onnx

    from nbunify.convert.loading import load

    framework = _owner(model)
    spec = getattr(model, "_nbunify_spec", None)
    example = _example_inputs(model, spec, inputs, framework)
    exporter = exporter_module(framework)
    opset = resolve_opset(exporter, opset, framework)
    target = _target_path(path)
    with tempfile.TemporaryDirectory(prefix="nbunify-onnx-") as folder:
        exported = Path(folder) / "model.onnx"
        exporter.export(model, exported, opset, dynamic_batch, example=example)
        if not exported.is_file():
            raise OnnxExportError(f"the {framework} exporter ({exporter.EXPORTER}) wrote no ONNX file")
        proto = load(exported)  # checked by onnx.checker, external data (> 2 GB models) read in
    _rename_single_input_and_output(proto)
    _stamp(proto, framework, exporter, spec)
    error = _parity(model, proto, spec, example, dynamic_batch)
    _set_metadata(proto, "nbunify.export_max_abs_error", f"{error:.3g}")
    onnx.checker.check_model(proto)
    if not error <= PARITY_TOLERANCE:  # also catches NaN
        raise ExportParityError(
            f"the ONNX export of this {framework} model gives outputs up to {error:.3g} away from the model's own "
            f"(allowed: {PARITY_TOLERANCE:g}); the exporter ({exporter.EXPORTER}) mistranslated an op. The export "
            "is in this error's .model attribute, unsaved", proto, error)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)  # a missing folder is made (only once the export is good)
        onnx.save(proto, str(target))
    return proto


def exporter_module(framework: str) -> Any:
    """``nbunify.backends.<framework>.onnx_export``, or ExporterNotInstalledError saying what to pip install."""
    backends.backend(framework)  # the framework first, loaded order-safely (a model of it exists, so it is loaded)
    module = importlib.import_module(f"nbunify.backends.{framework}.onnx_export")
    missing = [requirement for name, requirement in module.REQUIREMENTS.items()
               if importlib.util.find_spec(name) is None]
    if missing:
        raise ExporterNotInstalledError(
            f"exporting a {framework} model to ONNX needs {', '.join(missing)} (for {module.EXPORTER}), which is not "
            f"installed: pip install {' '.join(missing)}, then restart the kernel")
    return module


def resolve_opset(exporter: Any, opset: int | None, framework: str) -> int:
    """``opset``, or the exporter's default, checked against the opsets it supports and onnx knows."""
    from nbunify.convert.loading import MIN_OPSET, newest_opset

    lowest, highest = max(exporter.OPSETS[0], MIN_OPSET), min(exporter.OPSETS[-1], newest_opset())
    if opset is None:
        return min(exporter.DEFAULT_OPSET, highest)
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset is a whole number such as {exporter.DEFAULT_OPSET}, got {opset!r}")
    if not lowest <= opset <= highest:
        raise ValueError(f"opset {opset} is not one the {framework} exporter ({exporter.EXPORTER}) supports: choose "
                         f"{lowest} to {highest} (default {min(exporter.DEFAULT_OPSET, highest)}, or leave opset=None)")
    return int(opset)


def _owner(model: Any) -> str:
    try:
        return backends.owner(model)
    except TypeError:
        raise TypeError(f"nu.to_onnx exports a torch nn.Module, a keras.Model or a paddle nn.Layer, not "
                        f"{type(model).__module__}.{type(model).__name__}; build one with nu.build(spec, framework), "
                        "or load an ONNX file with onnx.load") from None


def _example_inputs(model: Any, spec: Any, inputs: Any, framework: str) -> np.ndarray:
    """A canonical batch that fixes the export's input shape and dtype: ``inputs``, or seeded from the spec."""
    from nbunify.native import prepare_inputs

    if inputs is not None:
        array = np.asarray(inputs)
        if array.ndim < 1 or len(array) < 1:
            raise ValueError(f"inputs= is an example batch (batch, ...) in channels-first layout, got shape "
                             f"{array.shape}")
        return prepare_inputs(spec, array, framework) if spec is not None else (
            array.astype(np.int64) if array.dtype.kind in "iu" else array.astype(np.float32))
    if spec is None:
        raise backends.NotBuiltByNbunifyError(
            f"this {framework} model ({type(model).__name__}) was not built by nu.build, so nbunify does not know its "
            "input shape: pass inputs=, an example batch in channels-first layout (e.g. "
            "np.zeros((1, 3, 224, 224), np.float32), or int64 token ids), to export it and check the export's parity")
    return seeded_inputs(spec, 1)


def seeded_inputs(spec: Any, batch: int, seed: int = 0) -> np.ndarray:
    """Canonical inputs of ``spec``: standard-normal float32, or int64 token ids below its embedding's vocabulary."""
    rng = np.random.default_rng(seed)
    if spec.input_layout == "tokens":
        vocabulary = next(step.layer.num_embeddings for step in spec.steps if step.input_layout == "tokens")
        return rng.integers(0, vocabulary, (batch, *spec.input_shape), dtype=np.int64)
    return rng.standard_normal((batch, *spec.input_shape)).astype(np.float32)


def _target_path(path: str | os.PathLike | None) -> Path | None:
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path is where to save the .onnx file (a str or Path), got {type(path).__name__}")
    target = Path(path).expanduser()
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder; give a file path such as {target / 'model.onnx'}")
    return target


def _rename_single_input_and_output(proto: Any) -> None:
    """Name a one-input, one-output graph's tensors ``input`` and ``output`` (exporters name them variously)."""
    graph = proto.graph
    initializers = {tensor.name for tensor in graph.initializer}
    graph_inputs = [value for value in graph.input if value.name not in initializers]
    if len(graph_inputs) != 1 or len(graph.output) != 1:
        return
    renames = {graph_inputs[0].name: INPUT_NAME, graph.output[0].name: OUTPUT_NAME}
    renames = {old: new for old, new in renames.items() if old != new}
    taken = {name for node in graph.node for name in (*node.input, *node.output)} | initializers
    if not renames or any(new in taken and new not in renames for new in renames.values()):
        return
    for value in (*graph.input, *graph.output, *graph.value_info):
        value.name = renames.get(value.name, value.name)
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    # A subgraph (If/Loop body) may read an outer tensor by name: those are renamed too.
    for node in graph.node:
        for attribute in node.attribute:
            for subgraph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                for inner in subgraph.node:
                    inner.input[:] = [renames.get(name, name) for name in inner.input]


def _stamp(proto: Any, framework: str, exporter: Any, spec: Any) -> None:
    from nbunify._version import __version__

    _set_metadata(proto, "nbunify.source_framework", framework)
    _set_metadata(proto, "nbunify.source_framework_version", exporter.framework_version())
    _set_metadata(proto, "nbunify.exporter", exporter.exporter_version())
    _set_metadata(proto, "nbunify.version", __version__)
    if spec is not None:
        _set_metadata(proto, "nbunify.spec", spec.name)
    if not proto.producer_name:  # keep the exporter's own name (pytorch, tf2onnx) when it gave one
        proto.producer_name, proto.producer_version = "nbunify", __version__


def _set_metadata(proto: Any, key: str, value: str) -> None:
    for entry in proto.metadata_props:
        if entry.key == key:
            entry.value = value
            return
    proto.metadata_props.add(key=key, value=value)


def _parity(model: Any, proto: Any, spec: Any, example: np.ndarray, dynamic_batch: bool) -> float:
    """The largest |nu.predict(model, x) - onnxruntime(x)| over the parity batches."""
    import onnxruntime

    from nbunify.native import predict

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # parity batches are tiny; do not take every core from the notebook
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    if len(session.get_inputs()) != 1 or len(session.get_outputs()) != 1:
        raise OnnxExportError(f"nu.to_onnx exports models with one input and one output; this export has "
                              f"{len(session.get_inputs())} input(s) and {len(session.get_outputs())} output(s)")
    batches = _parity_batches(spec, example, dynamic_batch)
    largest = 0.0
    for batch in batches:
        expected = np.asarray(predict(model, batch))
        (actual,) = session.run(None, {session.get_inputs()[0].name: batch})
        if actual.shape != expected.shape:
            raise OnnxExportError(f"the ONNX export gives outputs of shape {actual.shape} for inputs of shape "
                                  f"{batch.shape}, the model {expected.shape}" + (
                                      " (the exporter fixed the batch size)" if dynamic_batch else ""))
        error = float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)), initial=0.0))
        largest = max(largest, error) if not np.isnan(error) else float("nan")
    return largest


def _parity_batches(spec: Any, example: np.ndarray, dynamic_batch: bool) -> list[np.ndarray]:
    if not dynamic_batch:
        return [example]
    if spec is None:  # the user's inputs, and one more row so that a second batch size is seen
        return [example, np.concatenate([example, example[:1]])]
    return [seeded_inputs(spec, batch, seed=batch) for batch in PARITY_BATCHES]
