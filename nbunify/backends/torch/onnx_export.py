"""torch -> ONNX with torch.onnx's TorchScript-based exporter (dynamic batch through dynamic_axes)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

#: The TorchScript-based exporter: built into torch, so it needs nothing more. The dynamo exporter needs
#: onnxscript (not installed here) and, for these Sequential models, gives the same graphs.
EXPORTER = "torch.onnx.export(dynamo=False)"
REQUIREMENTS: dict[str, str] = {}  # import name -> pip requirement
#: Opsets the TorchScript exporter writes (torch.onnx._constants: 7 to 20); nbunify's importers start at 11.
OPSETS = range(7, 21)
DEFAULT_OPSET = 20


def export(model: Any, path: str | Path, opset: int | None = None, dynamic_batch: bool = True,
           example: np.ndarray | None = None) -> None:
    """Write ``model`` (a torch nn.Module) as ONNX to ``path``: input ``input``, output ``output``.

    Torch's layout is the canonical one, so the graph takes and gives what ``nu.predict`` does. ``example`` is a
    canonical batch (float32, or int64 token ids) fixing the input's shape and dtype; without it, one sample drawn
    from the model's spec. The model is traced in eval mode; every submodule's train flag is restored afterwards.
    """
    import torch

    if example is None:
        from nbunify.backends import spec_of
        from nbunify.convert.export import seeded_inputs

        example = seeded_inputs(spec_of(model, "torch", hint=", or pass an example batch"), 1)
    reference = next(model.parameters(), None)
    batch = torch.from_numpy(np.ascontiguousarray(example))
    if batch.is_floating_point() and reference is not None and reference.is_floating_point():
        batch = batch.to(dtype=reference.dtype)
    if reference is not None:
        batch = batch.to(reference.device)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    modes = [(module, module.training) for module in model.modules()]
    fastpath = torch.backends.mha.get_fastpath_enabled()
    # nn.TransformerEncoderLayer's inference fast path is one fused op (aten::_transformer_encoder_layer_fwd)
    # that the exporter cannot translate; the regular path exports as MatMul, Softmax, LayerNormalization ...
    torch.backends.mha.set_fastpath_enabled(False)
    model.eval()
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter warns that it is deprecated and about traced Python branches on shapes
            # (nbunify's blocks branch on the spec, never on a tensor's values).
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (batch,), str(path), dynamo=False, opset_version=opset or DEFAULT_OPSET,
                              input_names=["input"], output_names=["output"], dynamic_axes=axes,
                              do_constant_folding=True)
    except Exception as error:  # noqa: BLE001 - torch raises many kinds; say which exporter failed and why
        from nbunify.convert.export import OnnxExportError

        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OnnxExportError(f"torch's ONNX exporter ({EXPORTER}) failed on this model: {first}") from error
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for module, training in modes:
            module.training = training


def framework_version() -> str:
    import torch

    return torch.__version__


def exporter_version() -> str:
    import torch

    return f"torch.onnx TorchScript exporter {torch.__version__}"
