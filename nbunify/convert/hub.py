"""nu.from_onnx and nu.preflight: load, check and hand an ONNX graph to a framework's importer."""

from __future__ import annotations

from typing import Any

from nbunify import backends
from nbunify.convert.errors import ParityError, UnsupportedModelError
from nbunify.convert.loading import load
from nbunify.convert.onnx_graph import OnnxGraph
from nbunify.convert.preflight import Preflight, check_graph


def preflight(model: Any, framework: str) -> Preflight:
    """Every unsupported (op, opset) and known hazard of importing ``model`` into ``framework``, before converting."""
    name = backends.resolve(framework)
    return check_graph(OnnxGraph(load(model)), name, backends.part(name, "onnx_import"))


def from_onnx(model: Any, framework: str) -> Any:
    """A native, trainable model of ``framework`` computing the ONNX graph ``model`` (a ModelProto, bytes or path).

    Called with the graph's inputs (positional, in graph-input order, numpy arrays or native tensors), it returns
    the graph's outputs in order, with the graph's layouts and dtypes: a single output as is, several as a tuple.
    Raises UnsupportedModelError listing every problem the pre-flight finds.
    """
    name = backends.resolve(framework)
    importer = backends.part(name, "onnx_import")
    graph = OnnxGraph(load(model))
    report = check_graph(graph, name, importer)
    if not report.ok:
        raise UnsupportedModelError(name, report.problems)
    native = importer.import_graph(graph)
    native._nbunify_onnx = graph.proto  # what nu.parity and nu.show read back: the graph it computes
    return native


def run(native: Any, inputs: list[Any]) -> list[Any]:
    """Outputs (numpy, graph order) of a model ``from_onnx`` made, called on numpy ``inputs`` in graph order."""
    return backends.part(backends.owner(native), "onnx_import").run(native, inputs)


def convert(model: Any, to: str, inputs: Any = None, opset: int | None = None) -> Any:
    """``model`` (a native model, or an ONNX model) as a native, trainable ``to`` model, with its parity proven.

    Exports with the source framework's own exporter (nu.to_onnx), imports with nu.from_onnx, then runs the source
    and the result on the same inputs (``inputs`` or seeded ones): the report is attached as ``_nbunify_parity``
    (and printed by ``nu.parity``'s formats). Raises ParityError, keeping the model, when they differ beyond the
    dtype's tolerance.
    """
    import onnx

    from nbunify.convert.parity import parity

    target = backends.resolve(to)
    if isinstance(model, (onnx.ModelProto, bytes, bytearray, str)) or hasattr(model, "__fspath__"):
        source = proto = load(model)
    else:
        from nbunify.convert.export import to_onnx

        source, proto = model, to_onnx(model, opset=opset)
    native = from_onnx(proto, target)
    report = parity(native, source, inputs)
    native._nbunify_parity = report
    if not report.ok:
        raise ParityError(report, native)
    return native
