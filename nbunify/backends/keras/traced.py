"""A keras model's inference call traced once by tf.function, from its second call on (eager before, and always if tracing fails)."""

from __future__ import annotations

from typing import Any

from nbunify.frameworks import load

tf = load("tensorflow")


class TracedCall:
    """The model's inference call traced once by tf.function (one TensorFlow graph, not one Python dispatch per op:
    an imported graph has many small ops, e.g. a transformer's shape arithmetic). Used from a model's second run on,
    so a model run once (a parity check, a conformance test) pays no tracing; if tracing fails, calls stay eager.
    Weights are read from the model's variables, so training and ``set_weights`` show in later calls."""

    __slots__ = ("calls", "function")

    def __init__(self, model: Any) -> None:
        self.calls = 0
        self.function: Any = tf.function(lambda tensors: model(tensors, training=False), reduce_retracing=True)

    def __call__(self, model: Any, tensors: Any) -> Any:
        self.calls += 1
        if self.calls > 1 and self.function is not None:
            try:
                return self.function(tensors)
            except Exception:  # noqa: BLE001 - an op TensorFlow cannot trace: eager is always right
                self.function = None
        return model(tensors, training=False)


def infer(model: Any, tensors: Any) -> Any:
    """``model(tensors, training=False)``, traced from the model's second call on (the tracer is kept on the model)."""
    traced = getattr(model, "_nbunify_traced_call", None)
    if traced is None:
        traced = TracedCall(model)
        try:
            model._nbunify_traced_call = traced
        except AttributeError:  # a model that takes no new attributes: eager every time
            return model(tensors, training=False)
    return traced(model, tensors)
