"""`%unify` through a real IPython shell: dispatch, per-subcommand parsers, clear errors, netron messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from onnx_models import tiny_mlp

NETRON_MIME = "application/vnd.nbunify.netron+json"



@pytest.fixture(autouse=True)
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("NBUNIFY_MODELS_DIR", str(folder))
    return folder


def unify(ip, line, cell=None):
    with capture_output() as captured:
        if cell is None:
            ip.run_line_magic("unify", line)
        else:
            ip.run_cell_magic("unify", line, cell)
    return captured


def test_help_lists_every_subcommand(ip):
    text = unify(ip, "help").stdout
    for name in ("help", "env", "netron"):
        assert f"  {name}" in text
    assert unify(ip, "").stdout == text  # bare `%unify` shows the same list


def test_help_for_one_subcommand_shows_its_options(ip):
    assert "--no-open" in unify(ip, "help netron").stdout


@pytest.mark.parametrize("line", ["netron -h", "env --help", "help -h", "-h"])
def test_dash_h_prints_help_and_keeps_the_kernel(ip, line):
    text = unify(ip, line).stdout
    assert "usage: %unify" in text or "%unify SUBCOMMAND" in text
    assert ip.run_cell("1 + 1").result == 2


def test_unknown_subcommand_suggests_the_close_one(ip):
    with pytest.raises(UsageError, match=r"no subcommand 'netorn'\. Did you mean 'netron'\?"):
        unify(ip, "netorn model.onnx")


def test_unknown_option_is_a_usage_error_naming_the_subcommand(ip):
    with pytest.raises(UsageError, match=r"%unify netron: unrecognized arguments: --bogus"):
        unify(ip, "netron x.onnx --bogus")


def test_missing_argument_is_a_usage_error(ip):
    with pytest.raises(UsageError, match="the following arguments are required: model"):
        unify(ip, "netron")


def test_unbalanced_quotes_are_a_usage_error(ip):
    with pytest.raises(UsageError, match="Check your quotes"):
        unify(ip, "netron 'model.onnx")


def test_line_only_subcommand_refuses_a_cell(ip):
    with pytest.raises(UsageError, match="is a line magic"):
        unify(ip, "env", cell="x = 1")


def test_usage_errors_in_run_cell_do_not_kill_the_shell(ip):
    result = ip.run_cell("%unify netron does-not-exist.onnx")
    assert isinstance(result.error_in_exec, UsageError)
    assert "neither a file nor a variable" in str(result.error_in_exec)
    assert ip.run_cell("2 * 21").result == 42


def test_env_shows_frameworks_and_components(ip):
    captured = unify(ip, "env")
    texts = [output.data.get("text/plain", "") for output in captured.outputs]
    joined = "\n".join(texts)
    for name in ("torch", "tensorflow", "paddle", "onnxruntime", "netron", "nbunify"):
        assert name in joined
    assert any("text/html" in output.data for output in captured.outputs)


def _netron_message(captured):
    messages = [output.data[NETRON_MIME] for output in captured.outputs if NETRON_MIME in output.data]
    assert len(messages) == 1, captured.outputs
    return messages[0]


def test_netron_with_a_file_publishes_it_and_sends_the_message(ip, tmp_path, models_dir):
    path = tmp_path / "tiny.onnx"
    onnx.save(tiny_mlp(), path)
    captured = unify(ip, f"netron {path}")
    message = _netron_message(captured)
    assert message["version"] == 1 and message["open"] is True
    assert message["title"] == "tiny.onnx"
    assert message["name"].startswith("tiny-") and message["name"].endswith(".onnx")
    assert message["url"] == f"nbunify/models/{message['name']}"
    stored = models_dir / message["name"]
    assert stored.read_bytes() == path.read_bytes()
    assert message["size"] == path.stat().st_size
    plain = captured.outputs[0].data["text/plain"]
    assert "tiny.onnx" in plain and "netron" in plain
    json.dumps(message)  # the message is plain JSON


def test_netron_with_a_variable_uses_its_name_and_serializes_it(ip, models_dir):
    ip.user_ns["lenet_like"] = tiny_mlp("g")
    message = _netron_message(unify(ip, "netron lenet_like --no-open"))
    assert message["title"] == "lenet_like.onnx" and message["open"] is False
    reloaded = onnx.load(models_dir / message["name"])
    assert [node.op_type for node in reloaded.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]


def test_same_model_twice_reuses_one_file(ip, models_dir):
    ip.user_ns["m"] = tiny_mlp()
    first = _netron_message(unify(ip, "netron m"))
    second = _netron_message(unify(ip, "netron m"))
    assert first["name"] == second["name"]
    assert len([p for p in models_dir.iterdir() if not p.name.startswith(".")]) == 1


def test_netron_refuses_what_it_cannot_show(ip, tmp_path):
    ip.user_ns["not_a_model"] = {"a": 1}
    with pytest.raises(UsageError, match="cannot show a dict in netron"):
        unify(ip, "netron not_a_model")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(UsageError, match="is empty"):
        unify(ip, f"netron {empty}")
    with pytest.raises(UsageError, match="is a directory"):
        unify(ip, f"netron {tmp_path}")


def test_loading_the_extension_imports_no_framework():
    code = (
        "import sys, json\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython(); ip.run_line_magic('load_ext', 'nbunify')\n"
        "ip.run_line_magic('unify', 'help')\n"
        "print(json.dumps(sorted(m for m in ('torch', 'tensorflow', 'keras', 'paddle') if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
