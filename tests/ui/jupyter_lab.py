"""A real JupyterLab server (non-root base URL) and Debian chromium settings, shared by the browser tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

CHROMIUM = os.environ.get("NBUNIFY_CHROMIUM", "/usr/bin/chromium")
# Flags for root in a container with a closed network (see the environment notes in the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BASE_URL = "/user/nbunify-ui/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    def __init__(self, root: Path, port: int, token: str) -> None:
        self.root, self.port, self.token = root, port, token
        self.url = f"http://127.0.0.1:{port}{BASE_URL}"

    def lab_url(self, path: str = "", workspace: str = "default") -> str:
        """A Lab URL in its own workspace, reset, so no test inherits another's open tabs."""
        return f"{self.url}lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"


@contextlib.contextmanager
def running_lab(root: Path, state: Path) -> Iterator[LabServer]:
    """JupyterLab serving ``root``, its settings, kernels' IPython dir and log (``lab.log``) under ``state``."""
    port, token = _free_port(), secrets.token_hex(16)
    # no "official Jupyter news?" toast over the notebook (and no request for news)
    notification = state / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env = {
        **os.environ,
        "NBUNIFY_MODELS_DIR": str(state / "models"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "IPYTHONDIR": str(state / "ipython"),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={token}", f"--ServerApp.base_url={BASE_URL}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}", f"--LabApp.user_settings_dir={state / 'user-settings'}",
        "--LabApp.expose_app_in_browser=True", "--allow-root",
    ]
    with open(state / "lab.log", "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = LabServer(root, port, token)
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{server.url}api/status?token={token}", timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    process.kill()
                    raise RuntimeError(f"JupyterLab did not start:\n{(state / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        try:
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def write_notebook(path: Path, sources: list[str]) -> None:
    """A notebook of code cells with the python3 kernel."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def open_notebook_and_run_all(page, server: LabServer, name: str, cells: list[int] | None = None) -> None:
    """Open a notebook in its own workspace, wait for its kernel, and start running all its cells (or those at
    the indices in ``cells``) without waiting for them: a cell may update its output later."""
    page.goto(server.lab_url(name, page.workspace))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    page.evaluate(
        """async () => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.context.ready;
            await panel.sessionContext.ready;
        }"""
    )
    if cells is None:
        page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    for index in cells or []:
        run_cell(page, index)


def run_cell(page, index: int) -> None:
    """Start running the cell at ``index`` of the current notebook."""
    page.evaluate(
        """index => { const app = window.jupyterapp;
            app.shell.currentWidget.content.activeCellIndex = index;
            void app.commands.execute('notebook:run-cell'); }""",
        index,
    )
