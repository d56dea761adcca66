"""The keras layer(s) for each spec layer: idiomatic keras.layers named after the spec layer, helpers suffixed."""

from __future__ import annotations

from typing import Any

from nbunify.backends.keras.layout import channels_first, channels_last, is_map, keras_shape, moves_channels
from nbunify.backends.keras.mapping import is_depthwise
from nbunify.backends.keras.plan import Flow, Make, flattened
from nbunify.spec import SpecError
from nbunify.spec import layers as L
from nbunify.spec.errors import shape_text
from nbunify.spec.layers.base import pair, same_padding

_RECURRENT = {L.SimpleRNN: "SimpleRNN", L.LSTM: "LSTM", L.GRU: "GRU"}
_POOLS = {L.MaxPool1d: "MaxPooling1D", L.AvgPool1d: "AveragePooling1D", L.MaxPool2d: "MaxPooling2D",
          L.AvgPool2d: "AveragePooling2D"}


def size(value: Any) -> Any:
    """A keras size argument: one int when every axis agrees, as the Keras docs write them."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return values[0] if len(set(values)) == 1 else values


def fail(layer: L.Layer, problem: str) -> SpecError:
    return SpecError(f"keras cannot build layer {layer.name!r} ({layer.KIND}): {problem}")


def plan_layer(planner: Any, layer: L.Layer, flow: Flow, step: Any, target: str) -> Flow:
    """Emit the keras call(s) for ``layer`` on ``flow`` into ``target``; the resulting Flow."""
    shape, layout, name, source = step.output_shape, step.output_layout, layer.name, flow.variable
    out = Flow(target, shape, layout)
    keep = Flow(target, shape, layout, flow.permutation, flow.unflattened)  # per-feature layers keep the order
    if isinstance(layer, L.Dense):
        if is_map(flow.layout):
            raise fail(layer, f"keras holds the {shape_text(flow.shape)} map channels-last, so Dense would mix channels "
                              "instead of the last canonical axis; add Flatten or a global pooling before it")
        planner.permute_rows(layer, flow)
        activation, separate = _activation_argument(layer.activation)
        options = (("activation", activation, None), ("use_bias", layer.use_bias, True))
        planner.emit(Make("Dense", (layer.units,), options, name), source, target)
        _separate_activation(planner, separate, name, target)
        return out
    if isinstance(layer, (L.Conv1d, L.Conv2d)):
        return _convolution(planner, layer, flow, out)
    if isinstance(layer, L.ConvTranspose2d):
        return _transposed_convolution(planner, layer, flow, out)
    if isinstance(layer, tuple(_POOLS)):
        pool_size = size(layer.kernel())  # always written: the size a reader looks for
        options = (("strides", size(layer.strides()), pool_size), ("padding", "valid", "valid"))
        planner.emit(Make(_POOLS[type(layer)], (pool_size,), options, name), source, target)
        return out
    if isinstance(layer, (L.GlobalAvgPool1d, L.GlobalAvgPool2d)):
        pooling = "GlobalAveragePooling1D" if isinstance(layer, L.GlobalAvgPool1d) else "GlobalAveragePooling2D"
        planner.emit(Make(pooling, name=name), source, target)  # (length, features) -> features for maps and sequences
        return out
    if isinstance(layer, L.BatchNorm):  # torch's momentum weighs the new batch, keras's the running value
        planner.permute_rows(layer, flow)
        options = (("axis", -1, -1), ("momentum", 1 - layer.momentum, 0.99), ("epsilon", layer.epsilon, 1e-3))
        planner.emit(Make("BatchNormalization", (), options, name), source, target)
        return keep
    if isinstance(layer, L.LayerNorm):
        planner.permute_rows(layer, flow)
        options = (("axis", -1, -1), ("epsilon", layer.epsilon, 1e-3))
        planner.emit(Make("LayerNormalization", (), options, name), source, target)
        return keep
    if isinstance(layer, L.Flatten):
        permutation, unflattened = flattened(flow, shape)
        note = None
        if is_map(flow.layout) and permutation is not None:
            axes = ("(length, channels)", "(channels, length)") if len(flow.shape) == 2 else \
                ("(height, width, channels)", "(channels, height, width)")
            note = f"Flattens in {axes[0]} order, unlike torch's {axes[1]}."
        planner.emit(Make("Flatten", name=name), source, target, note=note)
        return Flow(target, shape, layout, permutation, unflattened)
    if isinstance(layer, L.Reshape):
        return _reshape(planner, layer, flow, out)
    if isinstance(layer, L.Transpose):
        stored = "(length, channels)" if layout == "map" else "(length, features)"
        note = f"{name}: torch's x.transpose(1, 2); keras already holds this as {stored}."
        planner.emit(Make("Identity", name=name), source, target, note=note, in_code=False)
        return out
    if isinstance(layer, L.Dropout):
        planner.emit(Make("Dropout", (layer.rate,), name=name), source, target)
        return keep
    if isinstance(layer, L.Activation):
        _activation_layer(planner, layer.function, name, source, target)
        return keep
    if isinstance(layer, L.Embedding):
        planner.emit(Make("Embedding", (layer.num_embeddings, layer.embedding_dim), name=name), source, target)
        return out
    if isinstance(layer, tuple(_RECURRENT)):
        planner.emit(_recurrent(layer), source, target)
        return out
    if isinstance(layer, L.MultiHeadAttention):
        features = flow.shape[-1]
        options = (("key_dim", features // layer.num_heads, None), ("dropout", layer.dropout, 0.0))
        planner.emit(Make("MultiHeadAttention", (layer.num_heads,), options, name), (source, source), target)
        return out
    if isinstance(layer, L.TransformerEncoder):
        options = (("dropout", layer.dropout, 0.1), ("activation", layer.activation, "relu"),
                   ("norm_first", layer.norm_first, False), ("epsilon", layer.epsilon, 1e-5))
        arguments = (flow.shape[-1], layer.num_heads, layer.dim_feedforward)
        planner.emit(Make("TransformerEncoder", arguments, options, name, custom=True), source, target)
        return out
    raise SpecError(f"the keras backend cannot build layer {name!r}: it has no mapping for {layer.KIND!r} layers")


def _recurrent(layer: L.Layer) -> Make:
    options: tuple = (("return_sequences", layer.return_sequences, False),)
    if isinstance(layer, L.GRU):  # torch's GRU formulation; keras's default
        options += (("reset_after", True, True),)
    if not layer.bidirectional:
        return Make(_RECURRENT[type(layer)], (layer.units,), options, layer.name)
    inner = Make(_RECURRENT[type(layer)], (layer.units,), options)
    return Make("Bidirectional", (inner,), (("merge_mode", "concat", "concat"),), layer.name)


def _convolution(planner: Any, layer: L.Conv1d | L.Conv2d, flow: Flow, out: Flow) -> Flow:
    strides, dilations = layer.strides(), layer.dilations()
    if max(strides) > 1 and max(dilations) > 1:
        raise fail(layer, f"Keras convolutions refuse stride > 1 together with dilation > 1 (stride {size(strides)}, "
                          f"dilation {size(dilations)}); use stride 1 and a pooling layer after it, or dilation 1")
    dims, source, target = len(strides), flow.variable, out.variable
    pads = layer.pads(flow.shape)
    same = tuple(same_padding(n, k, s, d) for n, k, s, d in zip(flow.shape[1:], layer.kernel(), strides, dilations))
    padded = any(before or after for before, after in pads)
    padding = "same" if layer.padding == "same" or (padded and pads == same) else "valid"  # TF's "same" pads so
    if padding == "valid" and padded:
        per_axis = tuple(size(pads_of_axis) for pads_of_axis in pads)  # an int: the same before and after
        amount = per_axis[0] if dims == 1 else size(per_axis) if all(isinstance(p, int) for p in per_axis) else pads
        source = planner.emit(Make(f"ZeroPadding{dims}D", (amount,), name=f"{layer.name}_pad"), source, target)
    activation, separate = _activation_argument(layer.activation)
    common = (("strides", size(strides), 1), ("padding", padding, "valid"))
    tail = (("dilation_rate", size(dilations), 1),)
    last = (("activation", activation, None), ("use_bias", layer.use_bias, True))
    channels = flow.shape[0]
    if is_depthwise(layer, flow.shape):  # one filter group per channel: Keras's depthwise layer
        options = (*common, ("depth_multiplier", layer.filters // channels, 1), *tail, *last)
        make = Make(f"DepthwiseConv{dims}D", (size(layer.kernel()),), options, layer.name)
    else:
        options = (*common, *tail, ("groups", layer.groups, 1), *last)
        make = Make(f"Conv{dims}D", (layer.filters, size(layer.kernel())), options, layer.name)
    planner.emit(make, source, target)
    _separate_activation(planner, separate, layer.name, target)
    return out


def _transposed_convolution(planner: Any, layer: L.ConvTranspose2d, flow: Flow, out: Flow) -> Flow:
    """Conv2DTranspose with "valid" padding (the full output), then Cropping2D for torch's ``padding``."""
    kernel, strides = pair(layer, "kernel_size", layer.kernel_size), pair(layer, "stride", layer.stride)
    crop, extra = pair(layer, "padding", layer.padding, 0), pair(layer, "output_padding", layer.output_padding, 0)
    # keras's output_padding=None means in * stride + max(kernel - stride, 0): not torch's size when kernel < stride
    explicit = any(extra) or any(k < s for k, s in zip(kernel, strides))
    activation, separate = _activation_argument(layer.activation)
    options = (("strides", size(strides), 1), ("padding", "valid", "valid"),
               ("output_padding", size(extra) if explicit else None, None),
               ("activation", activation, None), ("use_bias", layer.use_bias, True))
    note = "output_padding=0 keeps torch's size: keras's default makes it input * stride." if explicit and not any(extra) \
        else None
    target = planner.emit(Make("Conv2DTranspose", (layer.filters, size(kernel)), options, layer.name), flow.variable,
                          out.variable, note=note)
    if any(crop):
        planner.emit(Make("Cropping2D", (size(crop),), name=f"{layer.name}_crop"), target, target,
                     note=f"torch's padding={size(crop)} crops the full transposed convolution.")
    _separate_activation(planner, separate, layer.name, target)
    return out


def _reshape(planner: Any, layer: L.Reshape, flow: Flow, out: Flow) -> Flow:
    """A row-major reshape of the canonical tensor: channels-last maps go channels-first around keras's Reshape."""
    name, source, target = layer.name, flow.variable, out.variable
    if flow.layout == "vector" and flow.permutation is not None:
        if flow.unflattened is None:
            raise fail(layer, "its input concatenates flattened channels-last maps, whose canonical order keras cannot "
                              "restore with a reshape; reshape each map before flattening, or put a Dense before it")
        stored = keras_shape(flow.unflattened, "map")
        note = f"{name}: torch reshapes in channels-first order: undo Flatten's channels-last order first."
        source = planner.emit(Make("Reshape", (stored,), name=f"{name}_unflatten"), source, target, note=note)
        source = planner.emit(Make("Permute", (channels_first(len(stored)),), name=f"{name}_channels_first"), source, target)
    elif moves_channels(flow.shape, flow.layout):
        note = f"{name}: torch reshapes in channels-first order: move the channels first."
        source = planner.emit(Make("Permute", (channels_first(len(flow.shape)),), name=f"{name}_channels_first"),
                              source, target, note=note)
    if moves_channels(out.shape, out.layout):
        note = f"{name}: torch's channels-first {shape_text(out.shape)}, then channels-last for keras."
        planner.emit(Make("Reshape", (out.shape,), name=name), source, target, note=note)
        planner.emit(Make("Permute", (channels_last(len(out.shape)),), name=f"{name}_channels_last"), target, target)
    else:
        planner.emit(Make("Reshape", (keras_shape(out.shape, out.layout),), name=name), source, target)
    return out


def _activation_argument(function: str | None) -> tuple[str | None, str | None]:
    """(keras ``activation=`` string, activation needing a layer of its own).

    Softmax's feature axis is always keras's last one (maps are channels-last), so only leaky_relu,
    whose keras string has slope 0.2, needs a layer ``<name>_activation``.
    """
    return (None, function) if function == "leaky_relu" else (function, None)


def _separate_activation(planner: Any, function: str | None, name: str, target: str) -> None:
    if function is not None:
        _activation_layer(planner, function, f"{name}_activation", target, target)


def _activation_layer(planner: Any, function: str, name: str, source: str, target: str) -> None:
    if function == "leaky_relu":  # keras's own default slope is 0.3
        planner.emit(Make("LeakyReLU", (), (("negative_slope", L.LEAKY_RELU_SLOPE, None),), name), source, target)
    else:  # "gelu" is exact (approximate=False); "softmax" reduces the last axis, the feature axis here
        planner.emit(Make("Activation", (function,), name=name), source, target)
