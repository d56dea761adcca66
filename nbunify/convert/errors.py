"""Errors of the ONNX hub: each says what is wrong with the model and what to do about it."""

from __future__ import annotations

from typing import Sequence


class OnnxModelError(ValueError):
    """A file or object that is not a usable ONNX model (corrupt, truncated, unsafe, too new)."""


class UnsupportedModelError(OnnxModelError):
    """A model with ops (or hazards) the target framework's importer cannot convert; ``problems`` lists all of them."""

    def __init__(self, framework: str, problems: Sequence[str]) -> None:
        self.framework = framework
        self.problems = list(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"this ONNX model cannot be imported into {framework} ({len(self.problems)} problem(s), "
                         f"all listed; nu.preflight(model, {framework!r}) shows the same report):\n{listing}")


class ParityError(ValueError):
    """A conversion whose result does not compute what the source computes; ``model`` and ``report`` are kept."""

    def __init__(self, report: object, model: object) -> None:
        self.report = report
        self.model = model
        super().__init__(f"the converted model differs from the source beyond tolerance (the converted model is kept "
                         f"as error.model, the report as error.report):\n{report}")
