"""Generated torch source against real torch: golden text, runnable as is, and the built model's exact function.

Regenerate the golden files after an intentional change with
``NBUNIFY_UPDATE_GOLDEN=1 pytest tests/test_codegen_torch.py``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import nbunify as nu
import nbunify.layers as L
from nbunify.codegen import class_name
from nbunify.spec import Sequential, SpecError
from golden_files import check_golden
from reference_specs import COVERAGE_SPECS, REFERENCE_SPECS, random_inputs, random_weights
from test_backend_torch import EDGE_SPECS

SPEC_NAMES = sorted(REFERENCE_SPECS)
#: every spec whose generated code must compute the built model's function
EXECUTED = {**REFERENCE_SPECS, **COVERAGE_SPECS, **EDGE_SPECS}


def generated_model(spec: Sequential, text: str) -> torch.nn.Module:
    """Run the generated source as a module of its own (not as __main__) and instantiate its class."""
    namespace = {"__name__": f"generated_{spec.name}"}
    exec(compile(text, f"<torch code of {spec.name}>", "exec"), namespace)
    return namespace[class_name(spec)]()


def assert_same_function(spec: Sequential) -> None:
    """The generated class holds the built model's state dict (strict) and computes the same outputs."""
    built = nu.build(spec, "torch", weights=random_weights(spec))
    model = generated_model(spec, nu.code(spec, "torch").text)
    assert list(model.state_dict()) == list(built.state_dict())
    model.load_state_dict(built.state_dict(), strict=True)
    model.eval()
    inputs = random_inputs(spec)
    with torch.no_grad():
        got = model(torch.from_numpy(inputs)).numpy()
    expected = nu.predict(built, inputs)
    assert got.shape == expected.shape == (len(inputs), *spec.output_shape)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def unusual_specs() -> list[Sequential]:
    """Corners the reference specs miss: nested blocks, names that clash with the file's own names, odd args."""
    nested = L.Residual([L.Conv2d(4, 3, padding="same"), L.Concat(
        [L.Conv2d(2, 1)], [L.Conv2d(2, (2, 1), padding="same", activation="leaky_relu")]), L.BatchNorm()])
    return [
        Sequential([L.Conv2d(4, 2, padding="same", activation="softmax"), nested, L.Residual([]),
                    L.MaxPool2d(3, stride=1), L.GlobalAvgPool2d(), L.Dropout(), L.Dense(3, use_bias=False)],
                   input_shape=(3, 7, 7), name="residual"),
        Sequential([L.Concat([L.Dense(4, activation="gelu")], [L.BatchNorm(epsilon=1e-3, momentum=0.3)]),
                    L.Activation("softmax")], input_shape=(6,), name="f"),
        Sequential([L.Conv2d(2, (3, 1), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), L.AvgPool2d((2, 1)),
                    L.Residual([L.Flatten(), L.Dense(10)], shortcut=[L.Flatten()])], input_shape=(1, 6, 5),
                   name="OrderedDict"),
        # helper classes named like the model class; a recurrent layer last, so forward ends in ``return x``
        Sequential([L.Residual([L.LSTM(3, return_sequences=True)], shortcut=[L.Dense(3)]), L.LSTM(2, return_sequences=True)],
                   input_shape=(5, 4), name="LSTM"),
        Sequential([L.Concat([L.Transpose(), L.Transpose()], [L.Reshape((5, 4))]), L.Transpose(),
                    L.Conv1d(3, 2, stride=2, padding="same")], input_shape=(5, 4), name="transpose"),
        Sequential([L.Embedding(9, 4), L.Residual([L.MultiHeadAttention(2, dropout=0.1)]), L.MultiHeadAttention(4),
                    L.Concat([L.GlobalAvgPool1d()], [L.Flatten(), L.Dense(4)]), L.Reshape((2, 4)),
                    L.GRU(2, bidirectional=True)],
                   input_shape=(6,), name="SelfAttention"),
    ]


def all_specs() -> list[Sequential]:
    return [make() for make in EXECUTED.values()] + unusual_specs()


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_generated_code_matches_the_golden_file(name):
    check_golden(f"code/torch/{name}.py", nu.code(REFERENCE_SPECS[name](), "torch").text)


@pytest.mark.parametrize("name", list(EXECUTED))
def test_generated_model_loads_the_built_state_dict_and_computes_the_same_outputs(name):
    assert_same_function(EXECUTED[name]())


@pytest.mark.parametrize("spec", all_specs(), ids=lambda spec: spec.name)
def test_generated_code_is_formatted_and_imports_only_what_it_uses(spec):
    text = nu.code(spec, "torch").text
    lines = text.splitlines()
    assert text.endswith(")\n") and not text.endswith("\n\n")
    assert all(len(line) <= 100 and line == line.rstrip() and "\t" not in line for line in lines)
    assert all((len(line) - len(line.lstrip())) % 4 == 0 for line in lines)
    tree = ast.parse(text)
    for node in tree.body[1:]:  # two blank lines before every top-level definition and the main block
        if isinstance(node, (ast.ClassDef, ast.If)):
            assert lines[node.lineno - 3: node.lineno - 1] == ["", ""], lines[node.lineno - 1]
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert imported <= used and imported <= {"torch", "nn", "F", "OrderedDict", "collections"}


def test_the_generated_file_runs_as_a_script(tmp_path):
    spec = REFERENCE_SPECS["residual_cnn"]()
    path = nu.code(spec, "torch").save(tmp_path / "residual_cnn.py")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "torch.Size([2, 10])"


def test_a_token_model_runs_as_a_script_on_random_ids(tmp_path):
    path = nu.code(REFERENCE_SPECS["lstm_text_classifier"](), "torch").save(tmp_path / "lstm.py")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "torch.Size([2, 4])"
    assert "x = torch.randint(0, 40, (2, 12))" in path.read_text()


def test_sequence_steps_are_inline_at_the_top_level_and_helper_modules_inside_blocks():
    top = nu.code(EXECUTED["conv1d_text"](), "torch").text
    assert "x = x.transpose(1, 2)" in top and "x = x.mean(dim=1)" in top and "x, _ = self.simple_rnn_1(x)" in top
    assert "x = self.multihead_attention_1(x, x, x, need_weights=False)[0]" in top
    assert "x = F.softmax(self.conv1d_2(x), dim=1)" in top and 'nn.Softmax(dim=-1)' in top
    assert "class Transpose" not in top and "dim=-1,\n        )" in top
    inside = nu.code(EXECUTED["sequence_blocks"](), "torch").text
    classes = [line.split("(")[0].removeprefix("class ") for line in inside.splitlines() if line.startswith("class ")]
    assert classes == ["Residual", "Concat", "Transpose", "Mean", "LSTM", "GRU", "RNN", "SelfAttention", "SequenceBlocks"]
    assert '("lstm_1", LSTM(8, 4, batch_first=True, bidirectional=True, return_sequences=True))' in inside
    assert '("lstm_2", LSTM(21, 5, batch_first=True))' in inside
    assert '("conv1d_1_pad", nn.ZeroPad1d((1, 2)))' in inside
    blocks = nu.code(EXECUTED["map_blocks"](), "torch").text
    assert '("reshape_2", nn.Unflatten(1, (4, 4)))' in blocks and '("reshape_3", Reshape(4, 4))' in blocks
    assert "x = F.pad(x, (1, 2))  # (N, 2, 15)" in blocks


def test_helper_classes_are_renamed_when_the_model_class_takes_their_name():
    for spec, helper in zip(unusual_specs()[3:], ["LSTMLayer", "TransposeLayer", "SelfAttentionLayer"]):
        text = nu.code(spec, "torch").text
        assert f"class {helper}(" in text and f"class {class_name(spec)}(nn.Module)" in text


def test_lenet5_takes_fewer_than_60_lines_of_code():
    generated = nu.code(REFERENCE_SPECS["lenet5"](), "torch")
    counted = [line for line in generated.text.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert generated.lines == len(counted) < 60


def test_generating_code_imports_no_torch():
    tests = Path(__file__).resolve().parent
    script = ("import sys; import nbunify as nu; from reference_specs import REFERENCE_SPECS\n"
              "texts = [nu.code(make(), 'torch').text for make in REFERENCE_SPECS.values()]\n"
              "print(len(texts), 'torch' in sys.modules)")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                            cwd=tests, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(REFERENCE_SPECS)), "False"]


@pytest.mark.parametrize("spec", unusual_specs(), ids=lambda spec: spec.name)
def test_unusual_specs_also_give_the_built_models_function(spec):
    assert_same_function(spec)


def test_a_layer_name_that_is_no_identifier_is_refused_with_the_reason():
    spec = Sequential([L.Dense(2, name="dense-1")], input_shape=(3,))
    with pytest.raises(SpecError, match="'dense-1' is not a Python identifier"):
        nu.code(spec, "torch")
