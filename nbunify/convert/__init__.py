"""The ONNX hub's framework-neutral core: loading and checking models, op registries, pre-flight, parity."""
