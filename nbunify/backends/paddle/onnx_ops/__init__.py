"""The paddle importer's op converters, one module per op family; importing this package registers them all."""

from __future__ import annotations

from nbunify.backends.paddle.onnx_ops import (  # noqa: F401 - imported for their registrations
    activation,
    conv,
    detection,
    elementwise,
    indexing,
    linear,
    loss,
    normalization,
    pool,
    quantize,
    recurrent,
    reduce,
    resize,
    shape,
    signal,
)
from nbunify.backends.paddle.onnx_ops.common import REGISTRY

__all__ = ["REGISTRY"]
