"""The paddle converters' registry and shared helpers: dtype widening around kernels paddle lacks, attribute parsing."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import paddle

from nbunify.convert.registry import Registry

REGISTRY = Registry("paddle")

#: numpy dtypes whose paddle kernels are missing for most math ops, and the dtype they are computed in.
_WIDER = {np.dtype(np.int8): "int32", np.dtype(np.uint8): "int32", np.dtype(np.int16): "int32",
          np.dtype(np.float16): "float32", np.dtype(np.bool_): "int32"}
_PADDLE_WIDER = {paddle.int8: "int32", paddle.uint8: "int32", paddle.int16: "int32", paddle.float16: "float32",
                 paddle.bfloat16: "float32"}
_PADDLE_WIDER_BOOL = {**_PADDLE_WIDER, paddle.bool: "int32"}


def paddle_dtype(dtype: Any) -> str:
    """The paddle dtype name of a numpy dtype (paddle has no uint16/32/64: they are computed as int32/int64)."""
    dtype = np.dtype(dtype)
    return {"uint16": "int32", "uint32": "int64", "uint64": "int64", "bool": "bool"}.get(dtype.name, dtype.name)


def widened(function: Callable, keep_bool: bool = False) -> Callable:
    """``function`` computed in int32/float32 for inputs of int8/uint8/int16/float16 (paddle lacks those kernels);
    the result is cast back to the first input's dtype."""
    wider_table = _PADDLE_WIDER if keep_bool else _PADDLE_WIDER_BOOL

    def call(first: Any, *rest: Any) -> Any:
        wider = wider_table.get(first.dtype)
        if wider is None:
            return function(first, *rest)
        rest = tuple(item.astype(wider) if isinstance(item, paddle.Tensor) and item.dtype == first.dtype else item
                     for item in rest)
        return function(first.astype(wider), *rest).astype(first.dtype)

    return call


def axis_list(value: Any) -> list[int]:
    """Axes from an attribute or a static tensor, as a list of Python ints."""
    return [int(item) for item in np.asarray(value).reshape(-1)]


def to_tensor(value: np.ndarray) -> Any:
    """A paddle tensor of a static numpy value, uint dtypes mapped to the signed type paddle computes them in."""
    array = np.asarray(value)
    target = paddle_dtype(array.dtype)
    if target != array.dtype.name:
        array = array.astype(target)
    return paddle.to_tensor(array)
