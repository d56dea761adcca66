"""A real JupyterLab server (non-root base URL) and Debian chromium driven by Playwright, for browser tests."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("NBUNIFY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
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


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    state = tmp_path_factory.mktemp("lab-state")
    port, token = _free_port(), secrets.token_hex(16)
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
        f"--LabApp.workspaces_dir={state / 'workspaces'}", "--LabApp.expose_app_in_browser=True", "--allow-root",
    ]
    log = open(state / "lab.log", "w")
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
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(state / "lab.log", ARTIFACTS / "lab-server.log")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.page_errors = errors
    page.workspace = request.node.name.replace("_", "-")
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"))
    context.close()


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """pytest-jupyter's per-test loop, but never the thread's current one: pytest-jupyter would pick
    up (and close) the loop that Playwright's sync API keeps running."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
