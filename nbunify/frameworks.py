"""Which frameworks exist, with versions, devices and threads; lazy and order-safe framework import."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any, NamedTuple

from nbunify._import_guard import (
    FrameworkOrderError,
    check_paddle_order,
    install_import_guard,
    paddle_import_is_unsafe,
    status as _guard_status,
    tensorflow_import_context,
    uninstall_import_guard,
)
from nbunify.table import Table

__all__ = [
    "FrameworkNotInstalledError",
    "FrameworkOrderError",
    "frameworks",
    "import_guard_status",
    "install_import_guard",
    "load",
    "set_threads",
    "uninstall_import_guard",
]

NOT_PROBED = "not probed (not loaded)"


class Framework(NamedTuple):
    """One deep-learning framework: how it is imported, which pip distributions provide it."""

    name: str
    module: str
    distributions: tuple[str, ...]
    extra: str  # the nbunify extra that installs it: pip install "nbunify[<extra>]"
    title: str


FRAMEWORKS = (
    Framework("torch", "torch", ("torch",), "torch", "PyTorch"),
    Framework(
        "tensorflow", "tensorflow", ("tensorflow", "tensorflow-cpu", "tensorflow-gpu"), "tensorflow", "TensorFlow"
    ),
    Framework("paddle", "paddle", ("paddlepaddle", "paddlepaddle-gpu"), "paddle", "PaddlePaddle"),
)
_BY_NAME = {framework.name: framework for framework in FRAMEWORKS}
# Name accepted by load() -> the framework it loads ("keras" returns the keras module).
_LOAD_NAMES = {
    "torch": "torch",
    "tensorflow": "tensorflow",
    "tf": "tensorflow",
    "keras": "tensorflow",
    "paddle": "paddle",
}
_requested_threads: int | None = None


class FrameworkNotInstalledError(ImportError):
    """The framework is not installed in this Python environment; the message says how to add it."""


def _distribution_version(distributions: tuple[str, ...]) -> str | None:
    from importlib import metadata  # ~30 ms: paid by frameworks(), not by %load_ext nbunify

    for distribution in distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def _module_installed(module: str) -> bool:
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _not_installed(framework: Framework, module: str) -> FrameworkNotInstalledError:
    return FrameworkNotInstalledError(
        f"{framework.title} is not installed in this Python environment ({sys.executable}): "
        f"`import {module}` finds nothing. Install it with `pip install \"nbunify[{framework.extra}]\"` "
        '(or `pip install "nbunify[all]"` for torch, tensorflow and paddle), then restart the kernel.',
        name=module,
    )


def import_guard_status() -> dict[str, Any]:
    """What the import guard did: paddle's pre-import time, whether TensorFlow's symbols are local."""
    return dict(_guard_status)


def frameworks() -> Table:
    """A table of torch, tensorflow and paddle: installed, version, loaded, devices, threads.

    Imports no framework: versions come from package metadata, and devices and threads are asked
    of a framework only when it is already loaded.
    """
    rows = [_row(framework) for framework in FRAMEWORKS]
    columns = ["name", "installed", "version", "loaded", "devices", "threads"]
    return Table(rows, columns, title="Frameworks")


def _row(framework: Framework) -> dict[str, Any]:
    version = _distribution_version(framework.distributions)
    installed = _module_installed(framework.module) and version is not None
    keras_version = _distribution_version(("keras",)) if framework.name == "tensorflow" else None
    shown_version = version or ""
    if keras_version and version:
        shown_version = f"{version} (keras {keras_version})"
    loaded = framework.module in sys.modules
    devices, threads = NOT_PROBED, ""
    if loaded:
        try:
            devices, threads = _PROBES[framework.name](sys.modules[framework.module])
        except Exception as error:  # a half-imported or broken framework must not break the table
            devices = f"unknown ({type(error).__name__}: {error})"
    elif not installed:
        devices = ""
    elif framework.name == "paddle" and paddle_import_is_unsafe():
        devices = "cannot load after TensorFlow: restart the kernel, load paddle first"
    return {
        "name": framework.name,
        "installed": installed,
        "version": shown_version,
        "loaded": loaded,
        "devices": devices,
        "threads": threads,
        "keras": keras_version,
    }


def _probe_torch(torch: Any) -> tuple[str, str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append(f"cuda x{torch.cuda.device_count()}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return ", ".join(devices), f"intra-op {torch.get_num_threads()}, inter-op {torch.get_num_interop_threads()}"


def _probe_tensorflow(tf: Any) -> tuple[str, str]:
    devices = [device.name.replace("/physical_device:", "") for device in tf.config.list_physical_devices()]
    threading = tf.config.threading
    intra = threading.get_intra_op_parallelism_threads() or "auto"
    inter = threading.get_inter_op_parallelism_threads() or "auto"
    return ", ".join(devices), f"intra-op {intra}, inter-op {inter}"


def _probe_paddle(paddle: Any) -> tuple[str, str]:
    devices = [paddle.device.get_device()]
    cuda_count = paddle.device.cuda.device_count()
    if cuda_count and not devices[0].startswith("gpu"):
        devices.append(f"gpu x{cuda_count}")
    flags = paddle.get_flags(["FLAGS_paddle_num_threads"])
    return ", ".join(devices), f"paddle {flags['FLAGS_paddle_num_threads']}, omp {_omp_threads()}"


def _omp_threads() -> str:
    return os.environ.get("OMP_NUM_THREADS", "default")


_PROBES = {"torch": _probe_torch, "tensorflow": _probe_tensorflow, "paddle": _probe_paddle}


def _resolve(name: str) -> str:
    key = str(name).strip().lower()
    if key in _LOAD_NAMES:
        return key
    valid = list(_LOAD_NAMES)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown framework {name!r}.{hint} Valid names: {', '.join(valid)}.")


def load(name: str) -> ModuleType:
    """Import a framework in an order that keeps the process alive, and return its module.

    ``"torch"``, ``"paddle"``, ``"tensorflow"`` (or ``"tf"``) return that module; ``"keras"``
    loads TensorFlow and returns ``keras``. When paddle is installed and not loaded, a first
    TensorFlow import keeps TensorFlow's symbols local so paddle stays importable afterwards
    (``NBUNIFY_TF_GLOBAL_SYMBOLS=1`` instead imports paddle first, see nbunify._import_guard). Raises FrameworkNotInstalledError with a pip hint, FrameworkOrderError when
    paddle can no longer be imported safely, ValueError for an unknown name.
    """
    key = _resolve(name)
    framework = _BY_NAME[_LOAD_NAMES[key]]
    wanted = "keras" if key == "keras" else framework.module
    if wanted in sys.modules:
        return sys.modules[wanted]
    if not _module_installed(framework.module):
        raise _not_installed(framework, framework.module)
    if framework.name == "paddle":
        check_paddle_order()
        module = importlib.import_module("paddle")
    elif framework.name == "tensorflow":
        with tensorflow_import_context():
            module = importlib.import_module("tensorflow")
    else:
        module = importlib.import_module(framework.module)
    if wanted == "keras":
        if not _module_installed("keras"):
            raise _not_installed(framework, "keras")
        module = importlib.import_module("keras")
    if _requested_threads is not None:
        set_threads(_requested_threads)
    return module


def set_threads(count: int) -> dict[str, dict[str, Any]]:
    """Set the CPU thread counts of every loaded framework (and of those load() imports later).

    Returns ``{framework: {setting: value}}`` with what was set; a setting a framework no longer
    accepts (TensorFlow after its runtime started) is reported as ``"unchanged (...)"``.
    """
    global _requested_threads
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_threads needs a whole number of threads >= 1, got {count!r}.")
    _requested_threads = count
    applied: dict[str, dict[str, Any]] = {}
    if "torch" in sys.modules:
        applied["torch"] = _set_torch_threads(sys.modules["torch"], count)
    if "tensorflow" in sys.modules:
        applied["tensorflow"] = _set_tensorflow_threads(sys.modules["tensorflow"], count)
    if "paddle" in sys.modules:
        applied["paddle"] = _set_paddle_threads(sys.modules["paddle"], count)
    return applied


def _set_torch_threads(torch: Any, count: int) -> dict[str, Any]:
    torch.set_num_threads(count)
    result: dict[str, Any] = {"intra_op": torch.get_num_threads()}
    if torch.get_num_interop_threads() == count:
        result["inter_op"] = count
    else:
        try:
            torch.set_num_interop_threads(count)
            result["inter_op"] = count
        except RuntimeError:  # torch accepts it once, before any inter-op work started
            result["inter_op"] = f"unchanged ({torch.get_num_interop_threads()}, already in use)"
    return result


def _set_tensorflow_threads(tf: Any, count: int) -> dict[str, Any]:
    threading = tf.config.threading
    result: dict[str, Any] = {}
    for setting, getter, setter in (
        ("intra_op", threading.get_intra_op_parallelism_threads, threading.set_intra_op_parallelism_threads),
        ("inter_op", threading.get_inter_op_parallelism_threads, threading.set_inter_op_parallelism_threads),
    ):
        if getter() == count:
            result[setting] = count
            continue
        try:
            setter(count)
            result[setting] = count
        except RuntimeError:  # TensorFlow fixes both once its runtime is initialized
            result[setting] = f"unchanged ({getter() or 'auto'}, runtime already initialized)"
    return result


def _set_paddle_threads(paddle: Any, count: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if hasattr(paddle, "set_num_threads"):  # not in paddle 3.3; kept for releases that add it
        paddle.set_num_threads(count)
        result["set_num_threads"] = count
    core = getattr(getattr(paddle, "base", None), "core", None)
    if core is not None and hasattr(core, "set_num_threads"):  # OpenMP/MKL threads of CPU kernels
        core.set_num_threads(count)
        result["math_library"] = count
    paddle.set_flags({"FLAGS_paddle_num_threads": count})
    result["FLAGS_paddle_num_threads"] = count
    return result


class _CallableModule(ModuleType):
    """Lets ``nu.frameworks()`` work whichever of the module or the function ``nbunify.frameworks`` names.

    Importing this submodule rebinds the package attribute ``nbunify.frameworks`` to the module
    (``%load_ext nbunify`` does so), shadowing the lazily exported function of the same name.
    """

    def __call__(self) -> Table:
        return frameworks()


sys.modules[__name__].__class__ = _CallableModule
