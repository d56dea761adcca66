"""The cell DSL: text <-> spec round trips, the `%%unify model` magic, and errors that name the line."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import nbunify as nu
from nbunify.spec import SpecError
from nbunify.spec.model import describe
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS

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


@pytest.mark.parametrize("key", sorted({**REFERENCE_SPECS, **COVERAGE_SPECS}))
def test_reference_specs_round_trip_through_text(key):
    spec = {**REFERENCE_SPECS, **COVERAGE_SPECS}[key]()
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
    ("input 12\nembedding 50 8\nconv1d 4", r"line 3: layer 'conv1d_1' \(conv1d\): expects a channels x length map but gets "
     r"a 12x8 sequence \(length x features\): add `transpose` before it"),
    ("input 3x20 map\nlstm 4", r"line 2: layer 'lstm_1' \(lstm\): expects a length x features sequence but gets a 3x20 map "
     r"\(channels x length\): add `transpose`"),
    ("input 12 tokens\ndense 4", r"line 2: layer 'dense_1' \(dense\): gets a 12 token-id sequence: token ids go into an "
     r"`embedding` layer first"),
    ("input 12x4\nembedding 5 4", r"line 2: layer 'embedding_1' \(embedding\): takes integer token ids but gets a 12x4 "
     r"sequence.*`input 20 tokens`"),
    ("input 1x8x8 sequence\ndense 3", r"input: a 1x8x8 sample cannot be laid out as 'sequence'"),
    ("input 8 tokens words\nembedding 3 2", r"line 1: write the input as `input 1x28x28`, optionally followed by a layout"),
    ("input 6x8\nmultihead_attention 3", r"line 2: layer 'multihead_attention_1' \(multihead_attention\): the features \(8\) "
     r"must be divisible by num_heads \(3\)"),
    ("input 10\nreshape 3x3", r"line 2: layer 'reshape_1' \(reshape\): cannot reshape 10 values into 3x3"),
])
def test_errors_name_the_line(text, message):
    with pytest.raises(SpecError, match=message):
        nu.spec.parse(text)



SEQUENCE_TEXT = """
input 20 tokens
embedding 100 16
transpose                      # to channels x length, as torch's Conv1d wants
conv1d 32 5 padding=same activation=relu
maxpool1d 2
transpose
lstm 24 sequences=true bidirectional=true
transformer_encoder heads=4 ff=64
global_avgpool1d
reshape 4x-1
gru 8
dense 2 activation=softmax
"""


def test_sequence_layers_layouts_and_aliases():
    spec = nu.spec.parse(SEQUENCE_TEXT, name="text")
    assert spec.input_layout == "tokens" and spec.input_dtype == "int64"
    layouts = [(step.layer.KIND, step.output_shape, step.output_layout) for step in spec.steps]
    assert layouts == [
        ("embedding", (20, 16), "sequence"), ("transpose", (16, 20), "map"), ("conv1d", (32, 20), "map"),
        ("maxpool1d", (32, 10), "map"), ("transpose", (10, 32), "sequence"), ("lstm", (10, 48), "sequence"),
        ("transformer_encoder", (10, 48), "sequence"), ("global_avgpool1d", (48,), "vector"),
        ("reshape", (4, 12), "sequence"), ("gru", (8,), "vector"), ("dense", (2,), "vector"),
    ]
    lstm = spec.steps[5].layer
    assert lstm.return_sequences is True and lstm.bidirectional is True
    assert spec.steps[6].layer.num_heads == 4 and spec.steps[6].layer.dim_feedforward == 64
    again = nu.spec.parse(spec.to_text())
    assert describe(again.layers) == describe(spec.layers) and again.input_layout == "tokens"


@pytest.mark.parametrize("header, layout", [("input 3x20", "map"), ("input 3x20 sequence", "sequence")])
def test_a_rank_two_input_takes_the_layout_its_first_layer_wants_unless_declared(header, layout):
    spec = nu.spec.parse(f"{header}\nconv1d 4 3" if layout == "map" else f"{header}\nlstm 4")
    assert spec.input_layout == layout
    declared = nu.spec.parse("input 3x20 sequence\ndense 4")
    assert declared.input_layout == "sequence" and "sequence" not in declared.to_text()  # the default is not written
    assert nu.spec.parse("input 3x20 map\ndense 4").to_text().startswith("input 3x20 map\n")


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
