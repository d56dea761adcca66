"""Spec -> an idiomatic functional Keras 3 model, channels-last, one native layer per spec layer with its name."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from nbunify.backends.keras.copying import keep_on_deepcopy
from nbunify.backends.keras.plan import Make, plan
from nbunify.backends.keras.weights import set_weights
from nbunify.frameworks import load
from nbunify.spec import Sequential, SpecError

CHANNELS_LAST = "channels_last"  # explicit, so a user's keras.json "channels_first" cannot change the build


def build(spec: Sequential, weights: dict[str, np.ndarray]) -> Any:
    """A keras.Model computing ``spec`` on keras-layout inputs, holding the canonical ``weights``.

    Maps are channels-last in keras (C x H x W as H x W x C, C x L as L x C); a Flatten of a map
    yields features in channels-last order, so the following Dense (and any BatchNorm/LayerNorm
    between) gets its rows permuted to compute exactly what the channels-first spec computes.
    The layer calls come from plan.py, which codegen.py writes out as source. ``model._nbunify_spec``
    and ``model._nbunify_layout`` let ``weights.py`` and ``predict.py`` map back to canonical layout.
    """
    keras = load("keras")
    program = plan(spec)
    inputs = keras.Input(shape=program.input_shape, dtype=program.input_dtype)
    tensors = {"inputs": inputs}
    kinds = {step.layer.name: step.layer.KIND for step in spec.steps}
    for statement in program.statements:
        values = [tensors[variable] for variable in statement.inputs]
        if statement.make is None:
            tensors[statement.target] = values[0]
            continue
        name = statement.make.name or ""
        kind = kinds.get(name) or next((k for n, k in kinds.items() if name.startswith(f"{n}_")), "block")
        try:
            layer = instantiate(keras, statement.make)
            tensors[statement.target] = layer(values) if statement.as_list else layer(*values)
        except ValueError as error:
            raise SpecError(f"keras cannot build layer {name!r} ({kind}) as "
                            f"{statement.make.cls}: {error}") from None
    model = keras.Model(inputs, tensors[program.output.variable], name=spec.name)
    model._nbunify_spec = spec
    model._nbunify_layout = program.layout
    keep_on_deepcopy(model)
    set_weights(model, weights)
    return model


def instantiate(keras: Any, make: Make) -> Any:
    """The keras layer ``make`` describes, every option passed (channels-last wherever a layer takes a data_format)."""
    if make.custom:
        from nbunify.backends.keras import layers as custom

        layer_class = getattr(custom, make.cls)
    else:
        layer_class = getattr(keras.layers, make.cls)
    arguments = [instantiate(keras, argument) if isinstance(argument, Make) else argument for argument in make.args]
    options = {key: value for key, value, _ in make.options}
    if "data_format" in inspect.signature(layer_class.__init__).parameters:
        options["data_format"] = CHANNELS_LAST
    if make.name is not None:
        options["name"] = make.name
    return layer_class(*arguments, **options)
