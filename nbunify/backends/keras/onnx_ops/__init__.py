"""The keras importer's op converters, one module per ONNX op family; importing this package registers them all."""

from nbunify.backends.keras.onnx_ops import (  # noqa: F401 - imported for their registrations
    activation,
    conv,
    elementwise,
    generate,
    indexing,
    linear,
    loss,
    normalization,
    pool,
    quantize,
    rearrange,
    recurrent,
    reduce,
    resize,
    sample,
    shape,
    shape_values,
)
