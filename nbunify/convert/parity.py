"""nu.parity: two models (native, imported or ONNX) on the same inputs, compared output by output."""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

#: Default tolerances per output dtype: (absolute, relative); integers and booleans must be equal.
TOLERANCES = {np.dtype(np.float16): (1e-2, 1e-2), np.dtype(np.float32): (1e-4, 1e-3),
              np.dtype(np.float64): (1e-7, 1e-6)}
#: The batch size of generated inputs (when the models' own input shapes leave it open).
BATCH = 2


@dataclass
class OutputParity:
    """One output of both models: error measures, class agreements where the output is a score per class."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    max_abs_error: float
    max_relative_error: float
    cosine_similarity: float
    top1_agreement: float | None
    top5_agreement: float | None
    tolerance: tuple[float, float]

    @property
    def ok(self) -> bool:
        absolute, relative = self.tolerance
        return self.max_abs_error <= absolute or self.max_relative_error <= relative


@dataclass
class NodeParity:
    """One node output of an imported model against onnxruntime on the same graph (nu.parity per_node=True)."""

    node: str
    op_type: str
    output: str
    shape: tuple[int, ...]
    max_abs_error: float
    #: max abs error over the reference's largest magnitude: drift relative to the value's scale
    relative_error: float
    tolerance: tuple[float, float]

    @property
    def ok(self) -> bool:
        absolute, relative = self.tolerance
        return self.max_abs_error <= absolute or self.relative_error <= relative


@dataclass
class ParityReport:
    """Per output of ``a`` against ``b`` (the reference): errors, cosine similarity, top-1/top-5 agreement."""

    a: str
    b: str
    outputs: list[OutputParity] = field(default_factory=list)
    batch: int = 0
    #: per_node=True: each node output the imported model exposes, in graph order, against onnxruntime
    nodes: list[NodeParity] = field(default_factory=list)
    #: per_node=True: node outputs onnxruntime computed that the imported model does not hold (folded, fused)
    unobserved: list[str] = field(default_factory=list)

    @property
    def first_drift(self) -> NodeParity | None:
        """The first node (graph order) whose output is beyond tolerance: where the difference starts."""
        return next((node for node in self.nodes if not node.ok), None)

    @property
    def ok(self) -> bool:
        return all(output.ok for output in self.outputs)

    @property
    def max_abs_error(self) -> float:
        return max((output.max_abs_error for output in self.outputs), default=0.0)

    def rows(self) -> list[dict[str, Any]]:
        return [{"output": o.name, "shape": "x".join(map(str, o.shape)), "dtype": o.dtype,
                 "max abs error": f"{o.max_abs_error:.3g}", "max rel error": f"{o.max_relative_error:.3g}",
                 "cosine": f"{o.cosine_similarity:.7f}",
                 "top-1 agreement": "" if o.top1_agreement is None else f"{o.top1_agreement:.1%}",
                 "top-5 agreement": "" if o.top5_agreement is None else f"{o.top5_agreement:.1%}",
                 "within tolerance": "yes" if o.ok else f"NO (abs {o.tolerance[0]:g} / rel {o.tolerance[1]:g})"}
                for o in self.outputs]

    def node_summary(self) -> str:
        """One line on the per-node comparison ("" without per_node=True)."""
        if not self.nodes and not self.unobserved:
            return ""
        worst = max(self.nodes, key=lambda node: node.relative_error, default=None)
        text = f"per node: {len(self.nodes)} node outputs compared with onnxruntime, {len(self.unobserved)} not held"
        drift = self.first_drift
        if drift is not None:
            text += (f"; first drift at {drift.op_type} node {drift.node!r} (output {drift.output!r}): max abs error "
                     f"{drift.max_abs_error:.3g}, {drift.relative_error:.3g} of its scale")
        elif worst is not None:
            text += f"; all within tolerance (largest: {worst.relative_error:.3g} of its scale, {worst.op_type} {worst.node!r})"
        return text

    def __str__(self) -> str:
        head = f"parity of {self.a} against {self.b} (batch {self.batch}): {'ok' if self.ok else 'DIFFERS'}"
        lines = [head]
        for row in self.rows():
            lines.append("  " + ", ".join(f"{key} {value}" for key, value in row.items() if value != ""))
        if self.node_summary():
            lines.append("  " + self.node_summary())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ParityReport {'ok' if self.ok else 'DIFFERS'}: max abs error {self.max_abs_error:.3g}>"

    def _repr_html_(self) -> str:
        rows = self.rows()
        if not rows:
            return f"<p>{html.escape(str(self))}</p>"
        head = "".join(f"<th>{html.escape(key)}</th>" for key in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row.values()) + "</tr>"
                       for row in rows)
        title = html.escape(str(self).splitlines()[0])
        nodes = f"<p>{html.escape(self.node_summary())}</p>" if self.node_summary() else ""
        return f"<div><b>{title}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{nodes}</div>"


def parity(a: Any, b: Any, inputs: Any = None, seed: int = 0, per_node: bool = False) -> ParityReport:
    """Run ``a`` and ``b`` on the same inputs and compare their outputs, ``b`` being the reference.

    Each of ``a`` and ``b`` is a native model built by nu.build, a model imported by nu.from_onnx, or an ONNX
    model (ModelProto, bytes or path, run by onnxruntime). ``inputs``: an array or a list of arrays in graph-input
    order (channels first); by default seeded normal inputs (token ids for an embedding) of batch 2 made from the
    models' input shapes. Per output: max abs error, max relative error (against |b|), cosine similarity, and for
    scores per class (last axis >= 2) the share of rows whose top-1 class agrees and whose top-5 sets agree,
    computed per row from the outputs as they are (never sorted or reordered). Tolerances depend on the dtype.

    ``per_node=True`` also compares every node's output of the imported model (``a``, or else ``b``: one of them
    must come from nu.from_onnx or nu.convert) with onnxruntime running the same graph on the same inputs:
    ``report.nodes`` in graph order, ``report.first_drift`` names the first node beyond tolerance (max abs error,
    or that error over the value's largest magnitude), ``report.unobserved`` the values the native model does not
    hold (folded at import or fused into a neighbour).
    """
    runner_a, runner_b = _runner(a), _runner(b)
    signature = runner_a.signature or runner_b.signature
    arrays = _inputs(inputs, signature, seed)
    for runner in (runner_a, runner_b):
        _check_inputs(arrays, runner)
    if signature:  # float64 data for a float32 model (numpy's default): the model's own float type
        arrays = [array.astype(dtype) if array.dtype.kind == "f" and np.dtype(dtype).kind == "f" else array
                  for array, (_, dtype, _) in zip(arrays, signature)]
    outputs_a, outputs_b = runner_a.run(arrays), runner_b.run(arrays)
    if len(outputs_a) != len(outputs_b):
        raise ValueError(f"{runner_a.label} returns {len(outputs_a)} output(s) but {runner_b.label} returns "
                         f"{len(outputs_b)}: they are not the same model")
    report = ParityReport(runner_a.label, runner_b.label, batch=int(arrays[0].shape[0]) if arrays and arrays[0].ndim else 0)
    names = runner_b.output_names or runner_a.output_names or [f"output {i}" for i in range(len(outputs_b))]
    for index, (first, second) in enumerate(zip(outputs_a, outputs_b)):
        name = names[index] if index < len(names) else f"output {index}"
        report.outputs.append(compare(name, np.asarray(first), np.asarray(second)))
    if per_node:
        _compare_nodes(report, _imported(a, b), arrays)
    return report


def _imported(a: Any, b: Any) -> Any:
    import onnx

    for model in (a, b):
        if not isinstance(model, (onnx.ModelProto, bytes, bytearray, str, os.PathLike)) \
                and getattr(model, "_nbunify_onnx", None) is not None:
            return model
    raise ValueError("per_node=True compares the nodes of a model imported by nu.from_onnx (or made by nu.convert) "
                     "with onnxruntime on the same graph; neither model is one. Convert one first, e.g. "
                     "nu.parity(nu.convert(model, 'torch'), model, per_node=True)")


def _compare_nodes(report: ParityReport, model: Any, arrays: list[np.ndarray]) -> None:
    from nbunify import backends
    from nbunify.convert.intermediates import node_outputs, onnxruntime_values

    importer = backends.part(backends.owner(model), "onnx_import")
    if not hasattr(importer, "intermediates"):
        raise NotImplementedError(f"the {backends.owner(model)} importer cannot give intermediate values yet")
    proto = model._nbunify_onnx
    reference = onnxruntime_values(proto, arrays)
    listed = node_outputs(proto)
    held = importer.intermediates(model, arrays, [name for _, _, name in listed if name in reference])
    for node, op_type, name in listed:
        if name not in reference:
            continue
        if name not in held:
            report.unobserved.append(name)
            continue
        expected, got = np.asarray(reference[name]), np.asarray(held[name])
        if got.shape != expected.shape:
            error = relative = math.inf
        else:
            difference = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            error = float(difference.max()) if difference.size else 0.0
            scale = float(np.abs(expected.astype(np.float64)).max()) if expected.size else 0.0
            relative = error / max(scale, float(np.finfo(np.float32).tiny))
            if math.isnan(error):
                error = relative = math.inf
        report.nodes.append(NodeParity(node, op_type, name, tuple(expected.shape), error, relative,
                                       TOLERANCES.get(expected.dtype, (0.0, 0.0))))


def compare(name: str, value: np.ndarray, reference: np.ndarray) -> OutputParity:
    """The measures of one output against its reference (shapes must match)."""
    if value.shape != reference.shape:
        raise ValueError(f"{name}: shapes differ, {value.shape} against {reference.shape}")
    tolerance = TOLERANCES.get(reference.dtype, (0.0, 0.0))
    first, second = value.astype(np.float64).ravel(), reference.astype(np.float64).ravel()
    difference = np.abs(first - second)
    max_abs = float(difference.max()) if difference.size else 0.0
    scale = np.maximum(np.abs(second), np.finfo(np.float32).tiny)
    max_relative = float((difference / scale).max()) if difference.size else 0.0
    norms = float(np.linalg.norm(first) * np.linalg.norm(second))
    cosine = float(first @ second / norms) if norms > 0 else (1.0 if max_abs == 0 else 0.0)
    top1 = top5 = None
    if reference.ndim >= 2 and reference.shape[-1] >= 2 and reference.dtype.kind == "f":
        rows_a, rows_b = value.reshape(-1, value.shape[-1]), reference.reshape(-1, reference.shape[-1])
        top1 = float(np.mean(rows_a.argmax(-1) == rows_b.argmax(-1)))
        if reference.shape[-1] >= 5:
            best_a = np.argpartition(-rows_a, 4, axis=-1)[:, :5]
            best_b = np.argpartition(-rows_b, 4, axis=-1)[:, :5]
            top5 = float(np.mean([set(x) == set(y) for x, y in zip(best_a.tolist(), best_b.tolist())]))
    if math.isnan(max_abs):
        max_abs = max_relative = math.inf
    return OutputParity(name, tuple(reference.shape), str(reference.dtype), max_abs, max_relative, cosine, top1, top5,
                        tolerance)


@dataclass
class _Runner:
    label: str
    run: Any
    signature: list[tuple[str, Any, tuple]] | None  # (name, dtype, shape with None) per input
    output_names: list[str] | None


def _runner(model: Any) -> _Runner:
    import onnx

    if isinstance(model, (onnx.ModelProto, bytes, bytearray, str, os.PathLike)):
        return _onnx_runner(model)
    from nbunify import backends

    framework = backends.owner(model)
    proto = getattr(model, "_nbunify_onnx", None)
    if proto is not None:  # imported by nu.from_onnx: the graph says what it takes and returns
        from nbunify.convert.hub import run

        onnx_side = _onnx_runner(proto)
        return _Runner(f"{framework} (imported)", lambda arrays: run(model, arrays), onnx_side.signature,
                       onnx_side.output_names)
    spec = getattr(model, "_nbunify_spec", None)
    if spec is None:
        raise TypeError(f"nu.parity compares models built by nu.build, imported by nu.from_onnx or ONNX models; this "
                        f"{framework} model is neither (export it with nu.to_onnx and compare the ONNX file)")
    from nbunify.native import predict

    dtype = np.int64 if spec.input_layout == "tokens" else np.float32
    return _Runner(framework, lambda arrays: [predict(model, arrays[0])], [("input", dtype, (None, *spec.input_shape))],
                   None)


def _onnx_runner(model: Any) -> _Runner:
    import onnx
    import onnxruntime

    from nbunify.convert.loading import load

    proto = load(model)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    signature = []
    for value in session.get_inputs():
        element = proto.graph.input[[i.name for i in proto.graph.input].index(value.name)].type.tensor_type.elem_type
        signature.append((value.name, onnx.helper.tensor_dtype_to_np_dtype(element),
                          tuple(dim if isinstance(dim, int) else None for dim in value.shape)))
    names = [value.name for value in session.get_outputs()]
    return _Runner("onnx (onnxruntime)",
                   lambda arrays: session.run(None, {name: array for (name, _, _), array in zip(signature, arrays)}),
                   signature, names)


def _inputs(inputs: Any, signature: list | None, seed: int) -> list[np.ndarray]:
    if inputs is not None:
        arrays = [np.asarray(inputs)] if not isinstance(inputs, (list, tuple)) else [np.asarray(x) for x in inputs]
        return arrays
    if not signature:
        raise ValueError("pass inputs=: neither model says what it takes")
    rng = np.random.default_rng(seed)
    arrays = []
    for name, dtype, shape in signature:
        concrete = [BATCH if dim is None else dim for dim in shape]
        if np.dtype(dtype).kind in "iu":
            arrays.append(rng.integers(0, 8, concrete).astype(dtype))  # small ids: valid for any embedding
        elif np.dtype(dtype).kind == "b":
            arrays.append(rng.random(concrete) > 0.5)
        else:
            arrays.append(rng.standard_normal(concrete).astype(dtype))
    return arrays


def _check_inputs(arrays: Sequence[np.ndarray], runner: _Runner) -> None:
    if runner.signature is not None:
        check_inputs(arrays, runner.signature, runner.label)


def check_inputs(arrays: Sequence[np.ndarray], signature: Sequence[tuple[str, Any, tuple]], label: str) -> None:
    """Wrong count, rank, fixed dimension or dtype kind against ``signature`` ((name, dtype, shape with None for
    any size, or None for any shape) per input): a clear error before anything runs."""
    if len(arrays) != len(signature):
        raise ValueError(f"{label} takes {len(signature)} input(s) "
                         f"({', '.join(name for name, _, _ in signature)}), got {len(arrays)}")
    for array, (name, dtype, shape) in zip(arrays, signature):
        expected = "x".join("?" if dim is None else str(dim) for dim in shape or ())
        if shape is not None and array.ndim != len(shape) or any(dim is not None and dim != got for dim, got in zip(shape, array.shape)):
            raise ValueError(f"input {name!r} of {label} has shape {expected} (? = any), got "
                             f"{'x'.join(map(str, array.shape))}")
        if np.dtype(dtype).kind != array.dtype.kind and not (np.dtype(dtype).kind == "f" and array.dtype.kind == "f"):
            raise ValueError(f"input {name!r} of {label} takes {np.dtype(dtype).name}, got {array.dtype.name}")


def graph_signature(proto: Any) -> list[tuple[str, Any, tuple]]:
    """(name, numpy dtype, shape with None for symbolic sizes) of each true input of an ONNX graph."""
    import onnx

    initializers = {tensor.name for tensor in proto.graph.initializer}
    signature = []
    for value in proto.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        shape = (tuple(dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None
                       for dim in tensor.shape.dim) if tensor.HasField("shape") else None)  # None: any shape
        signature.append((value.name, onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type), shape))
    return signature
