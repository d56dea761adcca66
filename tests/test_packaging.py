"""The package as users get it: one version, a wheel with the prebuilt extension and server config, both enabled."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbunify

ROOT = Path(__file__).resolve().parents[1]


def test_python_and_npm_versions_agree():
    package = json.loads((ROOT / "package.json").read_text())
    assert package["version"] == nbunify.__version__


def test_wheel_ships_the_prebuilt_extension_and_server_config(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(tmp_path.glob("nbunify-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    data = f"nbunify-{nbunify.__version__}.data/data/"
    extension = data + "share/jupyter/labextensions/nbunify/"
    assert extension + "package.json" in names
    assert extension + "install.json" in names
    assert any(re.fullmatch(re.escape(extension) + r"static/remoteEntry\.[0-9a-f]+\.js", name) for name in names)
    assert data + "etc/jupyter/jupyter_server_config.d/nbunify.json" in names
    assert "nbunify/server/__init__.py" in names and "nbunify/frameworks.py" in names
    assert not any(name.startswith("nbunify/labextension/") for name in names)  # shipped once, as shared data


def _jupyter(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, check=True)
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # drop colour codes


def test_lab_extension_is_installed_and_enabled():
    listing = _jupyter("labextension", "list")
    line = next(line for line in listing.splitlines() if re.search(r"\bnbunify v", line))
    assert "enabled" in line and "OK" in line


def test_server_extension_is_enabled():
    listing = _jupyter("server", "extension", "list")
    assert re.search(r"nbunify\s+enabled", listing), listing
