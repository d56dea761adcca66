"""`nu.summary`: a per-layer table for a spec or a native model of any framework (same rows in all three)."""

from __future__ import annotations

import html
import math
from typing import Any

from nbunify.spec import Sequential
from nbunify.spec.errors import shape_text
from nbunify.table import Table

COLUMNS = ["name", "type", "output shape", "parameters", "trainable"]


class Summary(Table):
    """The rows of a model plus its totals.

    For a native model each row counts that framework's own tensors of the layer (a torch or paddle
    LSTM keeps two biases where Keras and the canonical spec keep one), ``total`` sums the rows and
    ``framework_total`` is the framework's own count of the whole model (None for a spec): the two
    agree when every tensor of the model belongs to a spec layer. ``spec_total`` is the canonical count.
    """

    def __init__(self, rows: list[dict[str, Any]], title: str, total: int, trainable: int,
                 framework_total: int | None, framework_trainable: int | None, spec_total: int | None = None) -> None:
        super().__init__(rows, COLUMNS, title=title)
        self.total, self.trainable = total, trainable
        self.framework_total, self.framework_trainable = framework_total, framework_trainable
        self.spec_total = total if spec_total is None else spec_total

    def footer(self) -> str:
        text = f"total parameters: {self.total:,} (trainable {self.trainable:,})"
        if self.framework_total is not None:
            agree = "agrees" if (self.framework_total, self.framework_trainable) == (self.total, self.trainable) else "DIFFERS"
            text += f"; the framework counts {self.framework_total:,} ({self.framework_trainable:,} trainable): {agree}"
        if self.spec_total != self.total:
            text += (f"; the spec's canonical count is {self.spec_total:,}: this framework stores "
                     f"{self.total - self.spec_total:,} values more (its RNN layers keep two biases where the spec keeps their sum)")
        return text

    def __str__(self) -> str:
        return super().__str__() + "\n" + self.footer()

    def _repr_html_(self) -> str:
        return super()._repr_html_() + f"<p class='nbunify-summary-footer'>{html.escape(self.footer())}</p>"


def summary(model: Any) -> Summary:
    """The per-layer table of ``model`` (a spec, or a model built by ``nu.build``)."""
    if isinstance(model, Sequential):
        return _summary(model, framework=None, types=None, counts=None, total=None)
    from nbunify import backends

    framework = backends.owner(model)
    spec = getattr(model, "_nbunify_spec", None)
    if spec is None:
        raise TypeError(f"nu.summary knows the layers of models built by nu.build; this {framework} model was not "
                        "(use the framework's own summary, e.g. torchinfo, keras model.summary(), paddle.summary)")
    describe = backends.part(framework, "describe")
    return _summary(spec, framework, describe.layer_types(model), describe.layer_parameters(model),
                    describe.count_parameters(model))


def _summary(spec: Sequential, framework: str | None, types: dict[str, str] | None,
             counts: dict[str, tuple[int, int]] | None, total: tuple[int, int] | None) -> Summary:
    rows = []
    for step in spec.steps:
        if counts is not None:
            parameters, trainable = counts.get(step.layer.name, (0, 0))
        else:
            canonical = step.layer.parameters(step.input_shape)
            parameters = sum(math.prod(p.shape) for p in canonical.values())
            trainable = sum(math.prod(p.shape) for p in canonical.values() if p.trainable)
        rows.append({
            "name": "  " * len(step.path) + step.layer.name,
            "type": types.get(step.layer.name, "?") if types is not None else step.layer.KIND,
            "output shape": shape_text(step.output_shape),
            "parameters": parameters,
            "trainable": trainable,
        })
    title = f"{spec.name} ({framework})" if framework else f"{spec.name} (spec)"
    framework_total, framework_trainable = total if total is not None else (None, None)
    return Summary(rows, title, sum(row["parameters"] for row in rows), sum(row["trainable"] for row in rows),
                   framework_total, framework_trainable, spec.parameter_count())
