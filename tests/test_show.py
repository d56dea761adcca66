"""nu.show and `%unify show` in a real IPython shell: the graph bundle with its static fallbacks, and clear errors."""

from __future__ import annotations

import base64

import onnx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import nbunify as nu
from onnx_models import tiny_mlp

GRAPH_MIME = "application/vnd.nbunify.graph+json"


def _bundles(captured):
    return [output.data for output in captured.outputs if GRAPH_MIME in output.data]


def test_show_displays_the_message_with_text_html_and_png_fallbacks(ip):
    spec = nu.Sequential([nu.layers.Dense(4, activation="relu"), nu.layers.Dense(2)], input_shape=(3,), name="mlp")
    with capture_output() as captured:
        assert nu.show(spec) is None
    (bundle,) = _bundles(captured)
    message = bundle[GRAPH_MIME]
    assert [node["op"] for node in message["nodes"]] == ["dense", "dense"]
    assert "mlp (spec)" in bundle["text/plain"] and "2 nodes" in bundle["text/plain"]
    assert "<svg" in bundle["text/html"] and "mlp (spec)" in bundle["text/html"]
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_show_of_a_dict_of_models_shows_one_graph_each(ip):
    models = {"first": tiny_mlp("first"), "second": tiny_mlp("second", hidden=3)}
    with capture_output() as captured:
        nu.show(models)
    titles = [bundle[GRAPH_MIME]["title"] for bundle in _bundles(captured)]
    assert titles == ["first", "second"]


def test_unify_show_takes_a_variable_or_a_file(ip, tmp_path):
    ip.user_ns["classifier"] = tiny_mlp("classifier")
    with capture_output() as captured:
        ip.run_line_magic("unify", "show classifier")
    assert _bundles(captured)[0][GRAPH_MIME]["title"] == "classifier"
    path = tmp_path / "saved model.onnx"
    onnx.save(tiny_mlp("saved"), path)
    with capture_output() as captured:
        ip.run_line_magic("unify", f'show "{path}" --title "from a file"')
    assert _bundles(captured)[0][GRAPH_MIME]["title"] == "from a file"


def test_unify_show_names_the_problem(ip):
    with pytest.raises(UsageError, match="neither a variable in this notebook nor a file"):
        ip.run_line_magic("unify", "show nowhere_to_be_found")
    ip.user_ns["number"] = 42
    with pytest.raises(UsageError, match="nu.show draws a spec"):
        ip.run_line_magic("unify", "show number")
    ip.user_ns["model"] = tiny_mlp()
    with pytest.raises(UsageError, match="no variable 'missing_report'"):
        ip.run_line_magic("unify", "show model --parity missing_report")


def test_nu_show_stays_the_function_once_every_graph_module_is_imported():
    import importlib

    for name in ("nbunify.graph", "nbunify.graph_spec", "nbunify.graph_display", "nbunify.graph_picture"):
        importlib.import_module(name)
    from nbunify.graph_display import show

    assert nu.show is show
