"""paddle2onnx in one long-lived child process: the first export pays its start (about 3 s), later ones do not."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass

#: paddle2onnx's C++ half parses protobuf with whichever libprotobuf symbols came first in the process: after
#: ``import tensorflow`` those are TensorFlow's, and the export dies with a segmentation fault. So the conversion
#: runs in a child process that loads paddle2onnx without TensorFlow. It serves one request per line on stdin
#: ({"program", "params", "target", "opset", "folder"}) and answers each with one JSON line on its own copy of
#: stdout, while paddle2onnx's own output (it writes from C++ and Python, and calls sys.exit on errors) goes to
#: a log file per request. Its environment is its own: paddle2onnx sets POLYGRAPHY_AUTOINSTALL_DEPS=1 there.
_WORKER = r"""
import json, os, sys, traceback
answers = os.fdopen(os.dup(1), "w")
home = os.getcwd()
for line in sys.stdin:
    request = json.loads(line)
    log = os.open(os.path.join(request["folder"], "paddle2onnx.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved_out, saved_err = os.dup(1), os.dup(2)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(request["folder"])
    error = ""
    try:
        import paddle2onnx
        paddle2onnx.export(request["program"], request["params"], request["target"], request["opset"],
                           auto_upgrade_opset=False)
    except SystemExit as exit:
        error = f"paddle2onnx exited with status {exit.code}"
    except BaseException:
        error = traceback.format_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for descriptor in (log, saved_out, saved_err):
            os.close(descriptor)
        os.chdir(home)
    answers.write(json.dumps({"error": error}) + "\n")
    answers.flush()
"""


@dataclass
class Outcome:
    """What one conversion left: the converter's error ("" when none), its log, and the signal that killed it."""

    error: str
    log: str
    signal: int | None = None


class Converter:
    """The child process, started on first use and again after it dies; one conversion at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.started = 0  # how many child processes were started (the benchmark and the tests read it)

    def convert(self, program: str, params: str, target: str, opset: int, folder: str) -> Outcome:
        """Convert the saved program (``program``, ``params``) to ONNX at ``target``; the converter works in
        ``folder`` (a temporary one: its log goes there too)."""
        request = {"program": program, "params": params, "target": target, "opset": opset, "folder": folder}
        with self._lock:
            process = self._running()
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                answer = process.stdout.readline()
            except (BrokenPipeError, OSError):
                answer = ""
            log = _read(os.path.join(folder, "paddle2onnx.log"))
            if not answer:  # it died (a crash in paddle2onnx's C++): the next conversion starts a new one
                code = process.wait()
                self._process = None
                return Outcome("the converter process ended", log, -code if code < 0 else None)
        return Outcome(json.loads(answer)["error"], log)

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.stdin.close()  # the child's loop ends at end of input
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._process = None

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                             cwd=tempfile.gettempdir())
            self.started += 1
        return self._process


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as file:
            return file.read()
    except OSError:
        return ""


CONVERTER = Converter()
atexit.register(CONVERTER.close)
