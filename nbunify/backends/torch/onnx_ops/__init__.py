"""The torch importer's op converters, one module per op family; importing this package registers them all."""

from nbunify.backends.torch.onnx_ops import (  # noqa: F401 - imported for their @REGISTRY.register side effects
    activation,
    control,
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
    spatial,
    spectral,
    symbolic,
)
