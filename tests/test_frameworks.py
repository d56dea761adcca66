"""nbunify.frameworks with the real torch, tensorflow and paddle: import orders, guard, errors, table."""

from __future__ import annotations

import concurrent.futures
import importlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from nbunify.frameworks import FrameworkNotInstalledError, load

# `nbunify.frameworks` may name the public function (nu.frameworks) rather than the module.
frameworks_module = importlib.import_module("nbunify.frameworks")

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("torch", "tensorflow", "paddle")
FRAMEWORK_MODULES = ("torch", "tensorflow", "paddle", "keras")
ORDER_MESSAGE = "TensorFlow was imported before PaddlePaddle"

# A child imports frameworks in ORDER (plain `import`, as a notebook cell would), then load()s
# each, uses each loaded one for a tiny computation, and prints one JSON report on its last line.
ORDER_CHILD = """
import importlib, json, sys
import nbunify.frameworks as frameworks
if GUARD:
    frameworks.install_import_guard()
report = {"imports": {}, "loads": {}, "sums": {}}
def attempt(action):
    try:
        action()
        return "ok"
    except frameworks.FrameworkOrderError as error:
        return "FrameworkOrderError: " + str(error)
for name in ORDER:
    report["imports"][name] = attempt(lambda: importlib.import_module(name))
for name in ("torch", "tensorflow", "paddle"):
    report["loads"][name] = attempt(lambda: frameworks.load(name))
if "torch" in sys.modules:
    report["sums"]["torch"] = float(sys.modules["torch"].ones(3).sum())
if "tensorflow" in sys.modules:
    tf = sys.modules["tensorflow"]
    report["sums"]["tensorflow"] = float(tf.reduce_sum(tf.ones(3)))
if "paddle" in sys.modules:
    report["sums"]["paddle"] = float(sys.modules["paddle"].ones([3]).sum())
report["loaded"] = [name for name in ("torch", "tensorflow", "paddle") if name in sys.modules]
report["status"] = frameworks.import_guard_status()
print(json.dumps(report))
"""

# Without the guard: load() alone must keep the process alive and usable.
LOAD_CHILD = """
import json, sys
import nbunify.frameworks as frameworks
report = {}
if FIRST_PLAIN_IMPORT:
    import tensorflow
keras = frameworks.load("keras") if LOAD_KERAS else None
report["keras_module"] = keras.__name__ if keras else None
try:
    paddle = frameworks.load("paddle")
    report["paddle"] = "ok: " + str(float(paddle.ones([2]).sum()))
except frameworks.FrameworkOrderError as error:
    report["paddle"] = "FrameworkOrderError: " + str(error)
    report["is_import_error"] = isinstance(error, ImportError)
report["threads"] = frameworks.set_threads(1)
report["rows"] = frameworks.frameworks().rows
print(json.dumps(report))
"""

FRAMEWORKS_CHILD = """
import json, sys
import nbunify.frameworks as frameworks
frameworks.install_import_guard()
table = frameworks.frameworks()
text, html = str(table), table._repr_html_()
print(json.dumps({"rows": table.rows, "text": text, "html": html,
                  "imported": [m for m in ("torch", "tensorflow", "paddle", "keras") if m in sys.modules]}))
"""


def _child(template: str, env: dict[str, str] | None = None, **constants: object) -> dict:
    code = "".join(f"{name} = {value!r}\n" for name, value in constants.items()) + textwrap.dedent(template)
    child_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for variable in ("NBUNIFY_PRELOAD_PADDLE", "NBUNIFY_TF_GLOBAL_SYMBOLS"):
        child_env.pop(variable, None)
    child_env.update(env or {})
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=child_env, cwd=ROOT
    )
    last_line = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    return {
        "returncode": completed.returncode,
        "report": json.loads(last_line) if last_line.startswith("{") else None,
        "stderr": completed.stderr[-3000:],
    }


ORDERS = list(itertools.permutations(NAMES))
CASES = {
    **{("guard",) + order: (ORDER_CHILD, {}, {"GUARD": True, "ORDER": list(order)}) for order in ORDERS},
    ("guard-preload", "tensorflow", "torch", "paddle"): (
        ORDER_CHILD,
        {"NBUNIFY_PRELOAD_PADDLE": "1"},
        {"GUARD": True, "ORDER": ["tensorflow", "torch", "paddle"]},
    ),
    ("guard-no-preload-global", "tensorflow", "paddle", "torch"): (
        ORDER_CHILD,
        {"NBUNIFY_PRELOAD_PADDLE": "0", "NBUNIFY_TF_GLOBAL_SYMBOLS": "1"},
        {"GUARD": True, "ORDER": ["tensorflow", "paddle", "torch"]},
    ),
    ("no-guard", "import tensorflow", "load paddle"): (
        LOAD_CHILD,
        {},
        {"FIRST_PLAIN_IMPORT": True, "LOAD_KERAS": False},
    ),
    ("no-guard", "load keras", "load paddle"): (
        LOAD_CHILD,
        {},
        {"FIRST_PLAIN_IMPORT": False, "LOAD_KERAS": True},
    ),
}


@pytest.fixture(scope="module")
def children() -> dict:
    """Run every framework-importing child once, two at a time (one per core)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            key: pool.submit(_child, template, env, **constants) for key, (template, env, constants) in CASES.items()
        }
        return {key: future.result() for key, future in futures.items()}


def _alive(result: dict) -> dict:
    assert result["returncode"] >= 0, f"child killed by signal {-result['returncode']}:\n{result['stderr']}"
    assert result["returncode"] == 0 and result["report"] is not None, result["stderr"]
    return result["report"]


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_guard_keeps_every_import_order_alive_with_all_three_loaded(children, order):
    report = _alive(children[("guard",) + order])
    assert report["imports"] == {name: "ok" for name in order}
    assert report["loads"] == {name: "ok" for name in NAMES}
    assert report["loaded"] == list(NAMES)
    assert report["sums"] == {"torch": 3.0, "tensorflow": 3.0, "paddle": 3.0}
    tensorflow_first = order.index("tensorflow") < order.index("paddle")
    expected_symbols = "local" if tensorflow_first else None  # default: no paddle preload, local symbols
    assert report["status"] == {"paddle_preload_seconds": None, "tensorflow_symbols": expected_symbols}


def test_guard_with_preload_imports_paddle_before_tensorflow(children):
    report = _alive(children[("guard-preload", "tensorflow", "torch", "paddle")])
    assert report["status"]["paddle_preload_seconds"] > 0
    assert report["status"]["tensorflow_symbols"] is None  # TensorFlow kept its own global loading
    assert report["imports"] == {"tensorflow": "ok", "torch": "ok", "paddle": "ok"}
    assert report["sums"] == {"torch": 3.0, "tensorflow": 3.0, "paddle": 3.0}


def test_guard_refuses_paddle_after_tensorflow_with_global_symbols(children):
    report = _alive(children[("guard-no-preload-global", "tensorflow", "paddle", "torch")])
    assert report["imports"]["tensorflow"] == "ok" and report["imports"]["torch"] == "ok"
    refusal = report["imports"]["paddle"]
    assert refusal.startswith("FrameworkOrderError: " + ORDER_MESSAGE)
    assert "restart the kernel" in refusal and "%load_ext nbunify" in refusal and "separate process" in refusal
    assert report["loads"]["paddle"] == refusal
    assert report["loaded"] == ["torch", "tensorflow"]
    assert report["sums"] == {"torch": 3.0, "tensorflow": 3.0}


def test_load_paddle_after_plain_tensorflow_import_refuses_without_guard(children):
    report = _alive(children[("no-guard", "import tensorflow", "load paddle")])
    assert report["paddle"].startswith("FrameworkOrderError: " + ORDER_MESSAGE)
    assert report["is_import_error"] is True
    rows = {row["name"]: row for row in report["rows"]}
    assert rows["paddle"]["loaded"] is False and "restart the kernel" in rows["paddle"]["devices"]
    assert set(report["threads"]) == {"tensorflow"}


def test_load_keras_then_paddle_works_and_set_threads_reaches_both(children):
    report = _alive(children[("no-guard", "load keras", "load paddle")])
    assert report["keras_module"] == "keras"
    assert report["paddle"] == "ok: 2.0"
    assert report["threads"]["paddle"]["FLAGS_paddle_num_threads"] == 1
    assert report["threads"]["tensorflow"] == {"intra_op": 1, "inter_op": 1}
    rows = {row["name"]: row for row in report["rows"]}
    assert rows["tensorflow"]["loaded"] and "CPU:0" in rows["tensorflow"]["devices"]
    assert rows["paddle"]["loaded"] and rows["paddle"]["devices"] == "cpu"


def test_frameworks_table_imports_no_framework():
    result = _child(FRAMEWORKS_CHILD)
    report = _alive(result)
    assert report["imported"] == []
    rows = {row["name"]: row for row in report["rows"]}
    assert list(rows) == list(NAMES)
    for name, distribution in (("torch", "torch"), ("paddle", "paddlepaddle")):
        assert rows[name]["installed"] is True and rows[name]["version"] == metadata.version(distribution)
        assert rows[name]["loaded"] is False and rows[name]["devices"] == frameworks_module.NOT_PROBED
    assert rows["tensorflow"]["version"] == f"{metadata.version('tensorflow-cpu')} (keras {metadata.version('keras')})"
    assert report["text"].splitlines()[1].split() == ["name", "installed", "version", "loaded", "devices", "threads"]
    assert "<table" in report["html"] and "keras" in report["html"]


def _pretend_missing(monkeypatch, missing: str) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.delitem(sys.modules, missing, raising=False)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *rest: None if name == missing else real_find_spec(name, *rest)
    )


@pytest.mark.parametrize(
    ("name", "module", "extra"), [("paddle", "paddle", "paddle"), ("tf", "tensorflow", "tensorflow")]
)
def test_missing_framework_names_the_pip_extra(monkeypatch, name, module, extra):
    _pretend_missing(monkeypatch, module)
    with pytest.raises(FrameworkNotInstalledError) as caught:
        load(name)
    assert isinstance(caught.value, ImportError)
    assert f'pip install "nbunify[{extra}]"' in str(caught.value)
    row = {row["name"]: row for row in frameworks_module.frameworks().rows}[module]
    assert row["installed"] is False and row["devices"] == ""


@pytest.mark.parametrize(("typo", "suggestion"), [("padle", "paddle"), ("tensorflw", "tensorflow"), ("Torhc", "torch")])
def test_unknown_name_suggests_the_closest(typo, suggestion):
    with pytest.raises(ValueError) as caught:
        load(typo)
    message = str(caught.value)
    assert f"Did you mean {suggestion!r}?" in message
    assert "torch, tensorflow, tf, keras, paddle" in message


def test_guard_is_idempotent_and_ignores_other_names():
    from nbunify._import_guard import ImportGuard

    before = list(sys.meta_path)
    try:
        frameworks_module.uninstall_import_guard()
        first = frameworks_module.install_import_guard()
        assert frameworks_module.install_import_guard() is first
        assert sum(isinstance(finder, ImportGuard) for finder in sys.meta_path) == 1
        assert sys.meta_path[0] is first
        assert first.find_spec("json") is None and first.find_spec("tensorflow.keras") is None
        frameworks_module.uninstall_import_guard()
        assert not any(isinstance(finder, ImportGuard) for finder in sys.meta_path)
    finally:
        sys.meta_path[:] = before


def test_frameworks_answers_as_function_and_as_module():
    import nbunify

    assert str(nbunify.frameworks()) == str(frameworks_module()) == str(frameworks_module.frameworks())


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_set_threads_rejects_a_bad_count(count):
    with pytest.raises(ValueError, match="whole number of threads"):
        frameworks_module.set_threads(count)
