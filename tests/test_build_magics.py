"""`%unify build` and `%unify summary` in a real IPython shell, with the real frameworks."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import nbunify as nu

LENET_CELL = """conv2d 6 kernel=5 padding=2 activation=relu
maxpool2d 2
conv2d 16 kernel=5 activation=relu
maxpool2d 2
flatten
dense 120 activation=relu
dense 84 activation=relu
dense 10
"""


@pytest.fixture(scope="module")
def lenet(ip):
    ip.run_cell_magic("unify", "model lenet --input 1x28x28", LENET_CELL)
    return ip.user_ns["lenet"]


def test_build_stores_one_model_per_framework_with_identical_weights(ip, lenet):
    table = ip.run_line_magic("unify", "build lenet --to torch,keras,paddle --seed 3")
    assert [row["variable"] for row in table.rows] == ["lenet_torch", "lenet_keras", "lenet_paddle"]
    models = ip.user_ns["lenet_models"]
    assert set(models) == {"torch", "keras", "paddle"}
    expected = lenet.initial_weights(3)
    inputs = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    outputs = []
    for name in ("torch", "keras", "paddle"):
        model = ip.user_ns[f"lenet_{name}"]
        assert model is models[name]
        got = nu.weights(model)
        assert all(np.array_equal(got[key], expected[key]) for key in expected)
        outputs.append(nu.predict(model, inputs))
    assert max(np.abs(a - b).max() for a in outputs for b in outputs) <= 1e-5


def test_summary_of_a_spec_and_of_each_native_model(ip, lenet):
    ip.run_line_magic("unify", "build lenet --to torch,keras,paddle")
    with capture_output() as captured:
        ip.run_cell("%unify summary lenet_keras")
    assert "layers.Conv2D" in captured.stdout + "".join(o.data.get("text/plain", "") for o in captured.outputs)
    for name in ("lenet", "lenet_torch", "lenet_paddle"):
        table = ip.run_line_magic("unify", f"summary {name}")
        assert table.total == 61_706


@pytest.mark.parametrize("line, message", [
    ("build nothing_here", r"no variable 'nothing_here' in this notebook"),
    ("build lenet --to torch,jax", r"unknown framework 'jax'"),
    ("build lenet --seed x", r"argument --seed: invalid int value: 'x'"),
    ("summary 42x", r"no variable '42x'"),
])
def test_mistakes_are_usage_errors(ip, lenet, line, message):
    with pytest.raises(UsageError, match=message):
        ip.run_line_magic("unify", line)


def test_building_something_that_is_not_a_spec_says_so(ip):
    ip.user_ns["not_spec"] = [1, 2, 3]
    with pytest.raises(UsageError, match=r"'not_spec' is a list, not a model spec"):
        ip.run_line_magic("unify", "build not_spec")


def test_code_magic_shows_one_or_several_frameworks_and_saves(ip, lenet, tmp_path):
    one = ip.run_line_magic("unify", "code lenet --framework paddle")
    assert one.framework == "paddle" and "class Lenet(nn.Layer)" in one.text
    several = ip.run_line_magic("unify", "code lenet -f torch,keras,paddle")
    assert set(several.lines) == {"torch", "keras", "paddle"} and several.lines["keras"] < several.lines["torch"]
    target = tmp_path / "lenet_keras.py"
    ip.run_line_magic("unify", f"code lenet -f keras --save {target}")
    assert target.read_text() == nu.code(lenet, "keras").text
    with pytest.raises(UsageError, match="--save takes one framework"):
        ip.run_line_magic("unify", f"code lenet -f torch,keras --save {target}")


def test_a_framework_that_is_not_installed_names_the_extra_to_install():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class HidePaddle:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'paddle' or name.startswith('paddle.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, HidePaddle())\n"
        "import nbunify as nu\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "spec = nu.Sequential([nu.layers.Dense(2)], input_shape=(3,))\n"
        "try:\n"
        "    nu.build(spec, 'paddle')\n"
        "except ImportError as error:\n"
        "    print('API:', error)\n"
        "ip = start_ipython(); ip.run_line_magic('load_ext', 'nbunify'); ip.user_ns['spec'] = spec\n"
        "result = ip.run_cell('%unify build spec --to torch,paddle')\n"
        "print('MAGIC:', type(result.error_in_exec).__name__, result.error_in_exec)\n"
        "print('TORCH BUILT:', 'spec_torch' in ip.user_ns)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    api = next(line for line in result.stdout.splitlines() if line.startswith("API:"))
    assert "PaddlePaddle is not installed" in api and 'pip install "nbunify[paddle]"' in api
    magic = next(line for line in result.stdout.splitlines() if line.startswith("MAGIC:"))
    assert magic.startswith("MAGIC: UsageError %unify build:") and 'pip install "nbunify[paddle]"' in magic
    assert "TORCH BUILT: True" in result.stdout  # frameworks that are there were built before the error
