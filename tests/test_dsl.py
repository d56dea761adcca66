"""The cell DSL: text <-> spec round trips, the `%%unify model` magic, and errors that name the line."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import nbunify as nu
from nbunify.spec import SpecError
from nbunify.spec.model import describe
from reference_specs import REFERENCE_SPECS

RESIDUAL_TEXT = """
input 3x16x16
conv2d 8 kernel=3 padding=1   # stem
batchnorm
residual name=block1
    conv2d 8 3 padding=1 activation=relu
    conv2d 8 3x3 padding=1
shortcut
    conv2d 8 1
concat
    branch
        conv2d 4 1
    branch
global_avgpool2d
dense 10 activation=softmax
"""


@pytest.mark.parametrize("key", sorted(REFERENCE_SPECS))
def test_reference_specs_round_trip_through_text(key):
    spec = REFERENCE_SPECS[key]()
    text = spec.to_text()
    again = nu.spec.parse(text, name=spec.name)
    assert describe(again.layers) == describe(spec.layers)
    assert again.spec_hash() == spec.spec_hash() and again.to_text() == text


def test_blocks_comments_aliases_and_sizes():
    spec = nu.spec.parse(RESIDUAL_TEXT, name="net")
    assert spec.input_shape == (3, 16, 16) and spec.output_shape == (10,)
    block = spec.layers[2]
    assert block.name == "block1" and len(block.layers) == 2 and len(block.shortcut) == 1
    assert block.layers[1].kernel_size == (3, 3) and spec.layers[0].kernel_size == 3
    assert spec.steps[-2].input_shape == (12, 16, 16)  # concat of 4 channels and the 8 passed through


@pytest.mark.parametrize("text, message", [
    ("input 1x8x8\nconv2 6", r"line 2: unknown layer 'conv2'\. Did you mean 'conv2d'\?"),
    ("input 8\ndense 4 activaton=relu", r"line 2: dense: unknown argument 'activaton'\. Did you mean 'activation'\?"),
    ("input 1x8x8\nconv2d 6 5\nconv2d 4 9", r"line 3: layer 'conv2d_2' \(conv2d\): kernel 9x9 does not fit.*input shape 6x4x4"),
    ("input 1x8x8\nconv2d 6\n  dense 3", r"line 3: unexpected indentation"),
    ("input 8\nshortcut\n  dense 3", r"line 2: shortcut must follow a residual"),
    ("input 8\nconcat\n    branch\n        dense 3", r"line 2: concat needs at least two `branch` entries"),
    ("dense 3", r"no input shape"),
    ("input 8\n", r"the model cell is empty"),
    ("input 8\ndense units=3 3", r"positional value '3' after key=value"),
])
def test_errors_name_the_line(text, message):
    with pytest.raises(SpecError, match=message):
        nu.spec.parse(text)



def test_model_cell_magic_defines_the_spec_in_the_namespace(ip):
    ip.run_cell_magic("unify", "model lenet --input 1x28x28",
                      "conv2d 6 kernel=5 padding=2 activation=relu\nmaxpool2d 2\nflatten\ndense 10")
    spec = ip.user_ns["lenet"]
    assert spec.name == "lenet" and spec.output_shape == (10,) and spec.parameter_count() == 156 + 11_770


def test_model_cell_magic_errors_are_usage_errors(ip):
    with pytest.raises(UsageError, match=r"%%unify model bad: line 1: unknown layer 'dens'"):
        ip.run_cell_magic("unify", "model bad --input 8", "dens 3")
    with pytest.raises(UsageError, match="needs a cell body"):
        ip.run_line_magic("unify", "model bad --input 8")
    with pytest.raises(UsageError, match="not a valid Python variable name"):
        ip.run_cell_magic("unify", "model 2bad --input 8", "dense 3")
    result = ip.run_cell("%%unify model broken --input 8\ndense 0")
    assert isinstance(result.error_in_exec, UsageError) and "units must be a positive integer" in str(result.error_in_exec)
    assert ip.run_cell("40 + 2").result == 42
