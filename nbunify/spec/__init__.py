"""The neutral model spec: layers, blocks and shapes, channels-first, with no framework import."""

from nbunify.spec.errors import SpecError
from nbunify.spec.layers import LAYERS, Parameter
from nbunify.spec.dsl import parse, parse_shape, to_text
from nbunify.spec.model import Block, Concat, Residual, Sequential, Step

__all__ = ["LAYERS", "Block", "Concat", "Parameter", "Residual", "Sequential", "SpecError", "Step", "parse", "parse_shape", "to_text"]
