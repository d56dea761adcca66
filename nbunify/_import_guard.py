"""Import-order guard: keeps TensorFlow and PaddlePaddle from crashing the process they share."""

# Root cause (paddlepaddle 3.3.1, tensorflow-cpu 2.21.0, Linux; found with gdb and
# LD_DEBUG=bindings): tensorflow/python/pywrap_tensorflow.py loads _pywrap_tensorflow_internal.so
# with RTLD_GLOBAL (through its optional module pywrap_dlopen_global_flags), which puts
# libtensorflow_framework.so.2 and the protobuf it exports into the process-wide symbol scope.
# paddle's libphi_core.so carries another protobuf build; loaded afterwards, ~1,700 of its
# protobuf symbols bind to TensorFlow's copy, and paddle's first static initialiser crashes:
#   #0 google::protobuf::internal::RepeatedPtrFieldBase::AddOutOfLineHelper(void*)  libphi_core.so
#   #1 paddle::framework::OpProtoAndCheckerMaker::AddInput(...)                     libpaddle.so
#   #2 paddle::operators::PyFuncOpMaker::Make()                                     libpaddle.so
#   #4 OperatorRegistrar<PyFuncOp, ...>::OperatorRegistrar  <- _dl_init <- dlopen(libpaddle.so)
# Either remedy works when applied before tensorflow loads: import paddle first (its protobuf then
# binds to itself), or keep TensorFlow's symbols local by making pywrap_dlopen_global_flags
# unimportable, which is TensorFlow's own code path for builds that need no RTLD_GLOBAL.

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import threading
import time
import warnings
from typing import Any, Iterator

# Defined by TensorFlow's and paddle's protobuf alike; visible through dlopen(NULL) only when a
# library exported its protobuf to the global scope, which is exactly the state paddle dies in.
_PROTOBUF_PROBE_SYMBOL = "_ZN6google8protobuf7Message9MergeFromERKS1_"
_TENSORFLOW_GLOBAL_FLAGS_MODULE = "tensorflow.python.pywrap_dlopen_global_flags"
_WATCHED = frozenset({"tensorflow", "paddle"})

status: dict[str, Any] = {
    "paddle_preload_seconds": None,  # set when nbunify imported paddle before tensorflow
    "tensorflow_symbols": None,  # "local" when nbunify kept TensorFlow's symbols out of the global scope
}
_preloading = False
_local_window_active = False


class FrameworkOrderError(ImportError):
    """Importing this framework now would crash the process, because of what was imported before."""


def _flag(variable: str, default: bool) -> bool:
    value = os.environ.get(variable, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")


def _version(distributions: tuple[str, ...]) -> str:
    from importlib import metadata

    for distribution in distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "?"


def protobuf_in_global_scope() -> bool | None:
    """Whether some loaded library exported protobuf process-wide; None where this cannot be probed."""
    try:
        import ctypes

        return hasattr(ctypes.CDLL(None), _PROTOBUF_PROBE_SYMBOL)
    except (OSError, TypeError, AttributeError):
        return None


def paddle_import_is_unsafe() -> bool:
    """True when importing paddle now would bind it to TensorFlow's protobuf and crash."""
    if _preloading or "paddle" in sys.modules or "tensorflow" not in sys.modules:
        return False
    exported = protobuf_in_global_scope()
    if exported is None:  # no dlopen(NULL) here: trust what nbunify knows about how TF was loaded
        return status["tensorflow_symbols"] != "local"
    return exported


def order_error_message() -> str:
    paddle_version = _version(("paddlepaddle", "paddlepaddle-gpu"))
    tensorflow_version = _version(("tensorflow", "tensorflow-cpu", "tensorflow-gpu"))
    return (
        "TensorFlow was imported before PaddlePaddle in this process, and importing paddle now "
        f"would crash it (segmentation fault with paddle {paddle_version} and TensorFlow "
        f"{tensorflow_version}: TensorFlow exports its protobuf library process-wide and paddle's "
        "libraries bind to it), so nbunify refused the import and the kernel stays alive. To use "
        "both frameworks, restart the kernel and run `%load_ext nbunify` (or `import paddle`) "
        "before importing tensorflow or keras; or run the paddle work in a separate process."
    )


def check_paddle_order() -> None:
    """Raise FrameworkOrderError instead of letting a paddle import kill the process."""
    if paddle_import_is_unsafe():
        raise FrameworkOrderError(order_error_message(), name="paddle")


def _paddle_installed() -> bool:
    try:
        return importlib.util.find_spec("paddle") is not None
    except (ImportError, ValueError):
        return False


def _preload_paddle() -> bool:
    global _preloading
    started = time.perf_counter()
    _preloading = True
    try:
        with warnings.catch_warnings():
            # paddle warns about ccache on import; this import was not the user's own request.
            warnings.filterwarnings("ignore", message="No ccache found")
            importlib.import_module("paddle")
    except Exception as error:  # a broken paddle must not stop tensorflow: fall back to local symbols
        warnings.warn(f"nbunify could not import paddle before tensorflow ({error!r}).", RuntimeWarning, stacklevel=3)
        return False
    finally:
        _preloading = False
    status["paddle_preload_seconds"] = round(time.perf_counter() - started, 3)
    return True


class _GlobalSymbolsBlocker:
    """Makes TensorFlow's optional RTLD_GLOBAL helper unimportable, so its libraries load RTLD_LOCAL."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == _TENSORFLOW_GLOBAL_FLAGS_MODULE:
            raise ImportError("nbunify keeps TensorFlow's symbols local so that paddle can be imported later")
        return None


@contextlib.contextmanager
def tensorflow_import_context(*, tensorflow_pending: bool = False) -> Iterator[None]:
    """Wrap a first tensorflow import so that paddle stays importable after it.

    With paddle installed and not loaded, TensorFlow loads with its symbols kept local (default:
    no cost, no paddle import). ``NBUNIFY_TF_GLOBAL_SYMBOLS=1`` keeps TensorFlow's own RTLD_GLOBAL
    loading (for custom-op libraries that need it) and then imports paddle first so it stays
    usable; ``NBUNIFY_PRELOAD_PADDLE=1``/``0`` forces that preload on/off. ``tensorflow_pending`` is
    set by the import guard, for which tensorflow is already a half-made entry of ``sys.modules``.
    """
    global _local_window_active
    global_symbols = _flag("NBUNIFY_TF_GLOBAL_SYMBOLS", False)
    if (
        _local_window_active
        or "paddle" in sys.modules
        or (not tensorflow_pending and "tensorflow" in sys.modules)
        or not _paddle_installed()
        or (_flag("NBUNIFY_PRELOAD_PADDLE", global_symbols) and _preload_paddle())
        or global_symbols
    ):
        yield
        return
    blocker = _GlobalSymbolsBlocker()
    sys.meta_path.insert(0, blocker)
    _local_window_active = True
    try:
        yield
        status["tensorflow_symbols"] = "local"
    finally:
        _local_window_active = False
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(blocker)


class _GuardedLoader:
    """Delegates to the real loader; runs the order check or the tensorflow preparation first."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: Any) -> Any:
        if self._name == "paddle":
            check_paddle_order()
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: Any) -> None:
        if self._name == "tensorflow":
            with tensorflow_import_context(tensorflow_pending=True):
                self._loader.exec_module(module)
        else:
            self._loader.exec_module(module)
        # Once loaded, the module shows its real loader (for inspect, importlib.resources, reload).
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader

    def __getattr__(self, attribute: str) -> Any:  # get_data, get_resource_reader, is_package ...
        return getattr(self._loader, attribute)


class ImportGuard:
    """A ``sys.meta_path`` finder watching top-level ``tensorflow`` and ``paddle`` only.

    It acts when a module is loaded, not when it is found, so ``importlib.util.find_spec``
    probes never import anything. Every other name costs one set lookup and returns None.
    """

    def __init__(self) -> None:
        self._busy = threading.local()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _WATCHED or getattr(self._busy, "active", False):
            return None
        if fullname == "paddle" and "tensorflow" not in sys.modules:
            return None
        if fullname == "tensorflow" and "paddle" in sys.modules:
            return None
        self._busy.active = True
        try:
            spec = _find_spec_elsewhere(self, fullname, path, target)
        finally:
            self._busy.active = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _GuardedLoader(spec.loader, fullname)
        return spec


def _find_spec_elsewhere(guard: ImportGuard, fullname: str, path: Any, target: Any) -> Any:
    for finder in list(sys.meta_path):
        find_spec = getattr(finder, "find_spec", None)
        if finder is guard or find_spec is None:
            continue
        spec = find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


def install_import_guard() -> ImportGuard:
    """Put the guard first on ``sys.meta_path`` (once; later calls return the same guard)."""
    for finder in sys.meta_path:
        if type(finder).__name__ == "ImportGuard" and type(finder).__module__ == __name__:
            return finder
    guard = ImportGuard()
    sys.meta_path.insert(0, guard)
    return guard


def uninstall_import_guard() -> None:
    """Remove the guard from ``sys.meta_path`` (tests; ``%load_ext`` never calls this)."""
    sys.meta_path[:] = [
        finder
        for finder in sys.meta_path
        if not (type(finder).__name__ == "ImportGuard" and type(finder).__module__ == __name__)
    ]
