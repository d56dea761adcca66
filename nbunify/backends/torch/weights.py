"""Canonical weights in and out of a torch model built by nbunify (the canonical layout is torch's own)."""

from __future__ import annotations

import functools
from typing import Iterator, Mapping

import numpy as np
import torch
from torch import nn

from nbunify.backends import spec_of
from nbunify.backends.torch import layers as blocks
from nbunify.spec import Sequential, SpecError, Step
from nbunify.spec import layers as L

_RECURRENT = (L.SimpleRNN, L.LSTM, L.GRU)


def get_weights(model: nn.Module) -> dict[str, np.ndarray]:
    """``{"<layer>.<param>": float32 array}`` in the spec's order: copies, BatchNorm running statistics included."""
    result = {}
    for key, tensors in _tensors(model):
        value = tensors[0].detach()
        if len(tensors) == 2 and tensors[1].detach().any():  # x + 0 is x, but -0.0 + 0 is +0.0: skip a zero bias_hh
            value = value + tensors[1].detach()
        result[key] = value.cpu().numpy().astype(np.float32, copy=True)
    return result


def set_weights(model: nn.Module, weights: Mapping[str, np.ndarray]) -> None:
    """Copy canonical ``weights`` into ``model`` in place; every key of the spec must be given, with its shape."""
    tensors = dict(_tensors(model))
    missing = [key for key in tensors if key not in weights]
    unexpected = [key for key in weights if key not in tensors]
    if missing or unexpected:
        raise SpecError(f"weights do not fit the torch model of spec {_spec(model).name!r}: "
                        f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    with torch.no_grad():
        for key, (tensor, *folded) in tensors.items():
            value = np.asarray(weights[key])
            if tuple(value.shape) != tuple(tensor.shape):
                raise SpecError(f"weight {key!r} has shape {tuple(value.shape)}, "
                                f"the torch model needs {tuple(tensor.shape)}")
            # float32 -> float32 is a bit-exact copy; other dtypes are cast as the model stores them
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(tensor.dtype))
            for rest in folded:  # bias_hh of a folded recurrent bias
                rest.zero_()


def native_name(layer: L.Layer, name: str) -> tuple[str, ...]:
    """The attribute path(s) of the module's tensor(s) that make up canonical parameter ``name``.

    Most canonical names are the module's own (``weight``, ``self_attn.in_proj_weight``). Recurrent layers add
    torch's layer index (``weight_ih`` -> ``weight_ih_l0``, ``weight_hh_reverse`` -> ``weight_hh_l0_reverse``),
    and the one canonical ``bias`` of an LSTM or SimpleRNN is torch's ``bias_ih_l0 + bias_hh_l0``: written as
    ``bias_ih_l0 = bias, bias_hh_l0 = 0``, read back as their sum.
    """
    if not isinstance(layer, _RECURRENT):
        return (name,)
    base, suffix = (name[:-len("_reverse")], "_reverse") if name.endswith("_reverse") else (name, "")
    if base == "bias":  # SimpleRNN / LSTM: one canonical bias, two torch biases
        return (f"bias_ih_l0{suffix}", f"bias_hh_l0{suffix}")
    return (f"{base}_l0{suffix}",)


def _spec(model: nn.Module) -> Sequential:
    return spec_of(model, "torch", ", or use the model's own state_dict() / load_state_dict() for a plain torch module")


def _tensors(model: nn.Module) -> Iterator[tuple[str, list[torch.Tensor]]]:
    """(canonical key, the model's own parameters or buffers whose sum it is) for every tensor of the spec, in order."""
    for step in _spec(model).steps:
        names = step.layer.parameters(step.input_shape)
        if not names:
            continue
        module = _module(model, step)
        for name in names:
            tensors = []
            for path in native_name(step.layer, name):
                tensor = functools.reduce(lambda scope, part: getattr(scope, part, None), path.split("."), module)
                if not isinstance(tensor, torch.Tensor):
                    raise SpecError(f"the torch module for layer {step.layer.name!r} has no tensor {path!r}: "
                                    "was the model changed after nu.build?")
                tensors.append(tensor)
            yield f"{step.layer.name}.{name}", tensors


def _module(model: nn.Module, step: Step) -> nn.Module:
    """The module of ``step``'s layer: follow its enclosing blocks, then look in each branch of the innermost one."""
    scope = model
    for name in (*step.path, step.layer.name):
        found = next((branch._modules[name] for branch in _branches(scope) if name in branch._modules), None)
        if found is None:
            raise SpecError(f"the torch model has no module {name!r} for layer {step.layer.name!r} "
                            f"(blocks {' > '.join(step.path) or 'none'}): was the model changed after nu.build?")
        scope = found
    return scope


def _branches(module: nn.Module) -> list[nn.Module]:
    """The sub-sequences whose children carry spec names: a block's branches, or the module itself."""
    if isinstance(module, blocks.Residual):
        return [module.body, module.shortcut]
    if isinstance(module, blocks.Concat):
        return list(module.branches)
    return [module]
