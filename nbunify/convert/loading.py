"""Load an ONNX model from a ModelProto, bytes or a path: checked, with its external data kept inside its folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbunify.convert.errors import OnnxModelError
from nbunify.convert.skeleton import join, payload_problem, split

#: The oldest default-domain opset the importers take (older models are refused with advice to upgrade them).
MIN_OPSET = 11


def newest_opset() -> int:
    """The newest default-domain opset the installed onnx package knows (22 for onnx 1.17)."""
    import onnx.defs

    return onnx.defs.onnx_opset_version()


def load(model: Any, check: bool = True) -> Any:
    """An ``onnx.ModelProto`` from ``model`` (a ModelProto, the bytes of one, or a path to a .onnx file).

    External data must sit in the model's folder or below it (a location that leaves it, or an absolute one, is
    refused) and must exist. The model must parse, pass ``onnx.checker`` and use a default-domain opset between
    MIN_OPSET and newest_opset(). Every failure is an OnnxModelError that names the file and the fix.
    """
    import onnx

    if isinstance(model, onnx.ModelProto):
        proto, where, folder = model, "the ONNX model", None
    elif isinstance(model, (bytes, bytearray, memoryview)):
        proto, where, folder = _parse(bytes(model), "the ONNX bytes"), "the ONNX bytes", None
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model).expanduser()
        where = str(path)
        if not path.is_file():
            raise OnnxModelError(f"no ONNX file at {path}" + (" (it is a folder)" if path.is_dir() else ""))
        proto, folder = _parse(path.read_bytes(), where), path.resolve().parent
    else:
        raise TypeError(f"an ONNX model is an onnx.ModelProto, bytes or a path to a .onnx file, not "
                        f"{type(model).__name__}; export a native model first with nu.to_onnx(model)")
    _load_external_data(proto, folder, where)
    if check:
        # checked and upgraded as a weightless skeleton: the checker and the converter serialize what they get
        skeleton, large, added = split(proto)
        problem = next((found for tensor in large.values() if (found := payload_problem(tensor))), None)
        if problem:
            raise OnnxModelError(f"{where} fails onnx.checker: {problem}")
        _check(skeleton, where)
        proto = _upgraded(proto, skeleton, large, added, where)
    return proto


def _upgraded(proto: Any, skeleton: Any, large: dict[str, Any], added: set[str], where: str) -> Any:
    """A model older than MIN_OPSET, converted by onnx's version converter (its nodes' meaning is kept)."""
    import onnx.version_converter

    opset = opset_of(proto)
    if opset is None or opset >= MIN_OPSET:
        return proto
    try:
        converted = _with_ir_version(onnx.version_converter.convert_version(skeleton, MIN_OPSET))
        onnx.checker.check_model(converted)
        upgraded = join(converted, large, added, [tensor.name for tensor in proto.graph.initializer])
    except Exception:  # noqa: BLE001 - an adapter that needs a weight's value: convert the whole model
        try:
            upgraded = _with_ir_version(onnx.version_converter.convert_version(proto, MIN_OPSET))
            onnx.checker.check_model(upgraded)
        except Exception as error:  # noqa: BLE001 - the converter raises many kinds of errors
            raise OnnxModelError(f"{where} uses opset {opset}; the importers take opsets {MIN_OPSET}-"
                                 f"{newest_opset()} and onnx's version converter could not upgrade it "
                                 f"({str(error).splitlines()[0]}); export it again with opset >= {MIN_OPSET}") from None
    upgraded.metadata_props.add(key="nbunify.upgraded_from_opset", value=str(opset))
    return upgraded


def _with_ir_version(model: Any) -> Any:
    """``model`` with at least the IR version its new opsets need: the converter keeps an old one (e.g. IR 3,
    where every initializer must also be a graph input), and its Pad 2 -> 11 adapter adds initializers that are
    not inputs."""
    import onnx.helper

    model.ir_version = max(model.ir_version, onnx.helper.find_min_ir_version_for(list(model.opset_import)))
    return model


def _parse(data: bytes, where: str) -> Any:
    import onnx
    from google.protobuf.message import DecodeError

    if not data:
        raise OnnxModelError(f"{where} is empty: the file was not written completely, or it is not a model")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as error:
        raise OnnxModelError(f"{where} is not an ONNX model, or it is truncated or corrupt ({error}); export it "
                             "again, or check the download") from None
    if not proto.opset_import or not proto.HasField("graph") or proto.ir_version <= 0:
        raise OnnxModelError(f"{where} is not an ONNX model (no graph, IR version or opset in it); a protobuf file "
                             "of another kind, or a truncated model")
    return proto


def external_locations(proto: Any) -> list[tuple[Any, str]]:
    """(tensor, location) for every initializer (graph and subgraphs) whose data lives in an external file."""
    import onnx

    found = []
    for tensor in _all_tensors(proto.graph):
        if tensor.HasField("data_location") and tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "")
            found.append((tensor, location))
    return found


def _all_tensors(graph: Any) -> list[Any]:
    """Initializers and tensor attributes of ``graph`` and of every subgraph (If/Loop/Scan bodies)."""
    import onnx

    tensors = list(graph.initializer)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                tensors.append(attribute.t)
            tensors.extend(attribute.tensors)
            subgraphs = [attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else list(attribute.graphs)
            for subgraph in subgraphs:
                tensors.extend(_all_tensors(subgraph))
    return tensors


def _load_external_data(proto: Any, folder: Path | None, where: str) -> None:
    import onnx

    entries = external_locations(proto)
    if not entries:
        return
    if folder is None:
        raise OnnxModelError(f"{where} keeps {len(entries)} tensor(s) in external files "
                             f"({', '.join(sorted({location for _, location in entries})[:3])}): load it from its path "
                             "so that the files beside it can be found")
    for tensor, location in entries:
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(folder):
            raise OnnxModelError(f"{where}: tensor {tensor.name!r} points to external data at {location!r}, outside "
                                 f"the model's folder {folder}; refused (a model may only read files beside it)")
        if not target.is_file():
            raise OnnxModelError(f"{where}: the external data file {location!r} of tensor {tensor.name!r} is missing "
                                 f"(looked for {target}); copy it next to the model")
    try:
        onnx.load_external_data_for_model(proto, str(folder))
    except (OSError, ValueError) as error:
        raise OnnxModelError(f"{where}: cannot read its external data ({error})") from None


def opset_of(proto: Any, domain: str = "") -> int | None:
    """The model's opset for ``domain`` ("" and "ai.onnx" are the default domain), or None."""
    for entry in proto.opset_import:
        if entry.domain == domain or (domain in ("", "ai.onnx") and entry.domain in ("", "ai.onnx")):
            return entry.version
    return None


def _check(proto: Any, where: str) -> None:
    import onnx

    opset = opset_of(proto)
    if opset is None:
        raise OnnxModelError(f"{where} imports no default-domain opset; it is not a standard ONNX model")
    if opset > newest_opset():
        raise OnnxModelError(f"{where} uses opset {opset}, newer than the newest this onnx {onnx.__version__} knows "
                             f"({newest_opset()}); export it with opset={newest_opset()} or older")
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OnnxModelError(f"{where} fails onnx.checker: {first}") from None
