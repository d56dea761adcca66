"""`nu.summary`: the same rows for the same spec in all three frameworks, totals equal to each framework's own count."""

from __future__ import annotations

import pytest

import nbunify as nu
from reference_specs import REFERENCE_SPECS

NATIVE_TYPES = {"torch": "nn.Conv2d", "keras": "layers.Conv2D", "paddle": "nn.Conv2D"}


def summaries_of(key):
    """The spec and its summaries: of the spec itself and of its build in each framework."""
    spec = REFERENCE_SPECS[key]()
    models = nu.build(spec, ["torch", "keras", "paddle"], seed=0)
    return spec, {"spec": nu.summary(spec), **{name: nu.summary(model) for name, model in models.items()}}


@pytest.fixture(scope="module")
def summaries():
    return summaries_of("residual_cnn")


def test_same_rows_in_every_framework(summaries):
    spec, tables = summaries
    columns = ("name", "output shape", "parameters", "trainable")
    reference = [tuple(row[c] for c in columns) for row in tables["spec"].rows]
    assert len(reference) == len(spec.steps)
    for name in ("torch", "keras", "paddle"):
        assert [tuple(row[c] for c in columns) for row in tables[name].rows] == reference, name


def test_totals_equal_each_frameworks_own_count(summaries):
    spec, tables = summaries
    for name in ("torch", "keras", "paddle"):
        table = tables[name]
        assert (table.framework_total, table.framework_trainable) == (spec.parameter_count(), spec.parameter_count(trainable_only=True))
        assert "agrees" in str(table)


def test_rows_name_the_native_layer_types(summaries):
    _, tables = summaries
    for name, conv_type in NATIVE_TYPES.items():
        first = tables[name].rows[0]
        assert first["name"] == "conv2d_1" and first["type"] == conv_type


@pytest.fixture(scope="module")
def recurrent_summaries():
    return summaries_of("lstm_text_classifier")


def test_rows_count_each_frameworks_own_tensors(recurrent_summaries):
    """Keras's LSTM has one bias per direction, as the spec; torch's and paddle's have two (bias_ih, bias_hh)."""
    spec, tables = recurrent_summaries
    canonical = {row["name"]: row["parameters"] for row in tables["spec"].rows}
    extra_bias = {"lstm_1": 2 * 4 * 24, "lstm_2": 4 * 16}  # bidirectional 24 units; 16 units
    for name in ("torch", "keras", "paddle"):
        table = tables[name]
        rows = {row["name"]: row["parameters"] for row in table.rows}
        expected = {layer: count + (extra_bias.get(layer, 0) if name != "keras" else 0) for layer, count in canonical.items()}
        assert rows == expected, name
        assert [row["output shape"] for row in table.rows] == [row["output shape"] for row in tables["spec"].rows]
        assert (table.framework_total, table.framework_trainable) == (table.total, table.trainable), name
        assert "agrees" in str(table) and table.spec_total == spec.parameter_count()
    assert "this framework stores 256 values more" in str(tables["torch"])
    assert "values more" not in str(tables["keras"])


def test_html_in_notebooks_text_elsewhere(summaries):
    _, tables = summaries
    html = tables["torch"]._repr_html_()
    assert html.startswith("<table") and "nn.BatchNorm2d" in html and "total parameters: 6,522" in html
    assert str(tables["torch"]).splitlines()[0] == "residual_cnn (torch)"


def test_summary_refuses_a_model_nbunify_did_not_build():
    from nbunify.frameworks import load

    torch = load("torch")
    with pytest.raises(TypeError, match="knows the layers of models built by nu.build"):
        nu.summary(torch.nn.Linear(2, 3))
    with pytest.raises(TypeError, match="is not a torch, keras or paddle model"):
        nu.summary(object())
