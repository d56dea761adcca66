"""Op converter registries: one per framework, keyed by (domain, op_type, since_version) of the ONNX schema."""

from __future__ import annotations

from typing import Any, Callable, Iterable, NamedTuple


class OpKey(NamedTuple):
    """An ONNX op schema: ``since_version`` is the opset in which this version of the op was defined."""

    domain: str
    op_type: str
    since_version: int


def schema_version(op_type: str, opset: int, domain: str = "") -> int | None:
    """The since_version of the op's schema in force at ``opset`` (the newest one not after it), or None."""
    import onnx.defs

    try:
        return onnx.defs.get_schema(op_type, opset, domain).since_version
    except onnx.defs.SchemaError:
        return None


class Registry:
    """Converters of one framework's importer.

    ``@registry.register("Relu", 6, 13, 14)`` declares that a converter implements those schema versions of
    the op exactly; a model's node is converted only when the schema version in force at the model's opset is
    one of them, so a version whose semantics changed is never handled by an older converter by accident.
    Registering a (domain, op, version) twice is an error.
    """

    def __init__(self, framework: str) -> None:
        self.framework = framework
        self._converters: dict[OpKey, Callable[..., Any]] = {}

    def register(self, op_type: str, *since_versions: int, domain: str = "") -> Callable[[Callable], Callable]:
        if not since_versions:
            raise ValueError(f"register({op_type!r}) needs the schema versions the converter implements")

        def decorate(converter: Callable) -> Callable:
            for version in since_versions:
                key = OpKey(domain, op_type, version)
                if key in self._converters:
                    raise ValueError(f"{self.framework}: {key} is registered twice "
                                     f"({self._converters[key].__module__} and {converter.__module__})")
                self._converters[key] = converter
            return converter

        return decorate

    def lookup(self, op_type: str, opset: int, domain: str = "") -> Callable[..., Any] | None:
        """The converter for ``op_type`` in a model of ``opset`` (for its domain), or None."""
        version = schema_version(op_type, opset, domain)
        if version is None:
            return None
        return self._converters.get(OpKey(domain, op_type, version))

    def keys(self) -> list[OpKey]:
        return sorted(self._converters)

    def op_types(self, domain: str = "") -> list[str]:
        return sorted({key.op_type for key in self._converters if key.domain == domain})

    def missing(self, nodes: Iterable[tuple[str, str]], opsets: dict[str, int]) -> list[tuple[str, str, int]]:
        """(domain, op_type, opset) of every distinct node kind in ``nodes`` ((domain, op_type) pairs) without a
        converter, in first-seen order."""
        result: dict[tuple[str, str, int], None] = {}
        for domain, op_type in nodes:
            opset = opsets.get(domain if domain != "ai.onnx" else "", 0)
            if self.lookup(op_type, opset, "" if domain == "ai.onnx" else domain) is None:
                result[(domain, op_type, opset)] = None
        return list(result)
