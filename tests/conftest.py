"""Shared pytest fixtures: a real Jupyter server with the nbunify extension (pytest-jupyter)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

if importlib.util.find_spec("nbunify") is None:
    # Tests run from a checkout that is not installed: the server loads nbunify by import.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config():
    """A Jupyter server with the nbunify server extension enabled."""
    return Config({"ServerApp": {"jpserver_extensions": {"nbunify": True}}})


@pytest.fixture
def nbunify_models_dir(tmp_path, monkeypatch):
    """An empty models directory of the test's own, set through $NBUNIFY_MODELS_DIR."""
    path = tmp_path / "models"
    path.mkdir()
    monkeypatch.setenv("NBUNIFY_MODELS_DIR", str(path))
    return path


@pytest.fixture
def raw_fetch(jp_serverapp, http_server_client, jp_auth_header, jp_base_url):
    """Fetch ``jp_base_url + path`` exactly as written (no URL escaping, no redirects, no raise).

    ``anonymous=True`` sends no token and no cookie, as a browser of someone not logged in would.
    """

    def fetch(path, anonymous=False, headers=None, **kwargs):
        headers = dict(headers or {})
        if not anonymous:
            for key, value in jp_auth_header.items():
                headers.setdefault(key, value)
        kwargs.setdefault("request_timeout", 20)
        return http_server_client.fetch(
            jp_base_url + path, headers=headers, raise_error=False, follow_redirects=False, **kwargs
        )

    return fetch


@pytest.fixture(scope="session")
def ip():
    """One real IPython shell for the whole run (globalipapp makes a single global shell) with nbunify loaded."""
    from IPython.testing.globalipapp import get_ipython, start_ipython

    shell = start_ipython() or get_ipython()
    # The test shell formats text only; a notebook front end also asks for HTML.
    shell.display_formatter.active_types = ["text/plain", "text/html"]
    shell.run_line_magic("load_ext", "nbunify")
    return shell
