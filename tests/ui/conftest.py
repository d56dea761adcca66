"""A real JupyterLab server (non-root base URL) and Debian chromium driven by Playwright, for browser tests."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from jupyter_lab import BASE_URL, CHROMIUM, CHROMIUM_ARGS, LabServer, running_lab  # noqa: F401 (tests import these)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab-root")
    state = tmp_path_factory.mktemp("lab-state")
    with running_lab(root, state) as server:
        yield server
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
