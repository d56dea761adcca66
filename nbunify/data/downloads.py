"""The dataset cache directory and downloads into it (urllib, .partial then rename, MD5 check, progress)."""

from __future__ import annotations

import hashlib
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

DATA_DIR_ENV = "NBUNIFY_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.cache/nbunify/datasets")
_CHUNK = 1 << 20
_PROGRESS_EVERY = 0.5  # seconds between progress lines on stderr


class DatasetUnavailableError(RuntimeError, OSError):
    """A downloadable dataset is neither in the cache nor downloadable now; the message says where to put it."""


class RemoteFile(NamedTuple):
    """One file of a dataset: its name in the cache, where it is published, its published MD5."""

    name: str
    url: str
    md5: str


def cache_directory(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else ``$NBUNIFY_DATA_DIR``, else ``~/.cache/nbunify/datasets``."""
    chosen = cache_dir if cache_dir is not None else os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().absolute()


def open_url(url: str, timeout: float = 60.0) -> Any:
    """Open ``url`` for reading (a file-like response); tests replace this to stay offline."""
    request = urllib.request.Request(url, headers={"User-Agent": "nbunify"})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - fixed https dataset URLs


def fetch(dataset: str, files: Sequence[RemoteFile], cache_dir: Any = None, download: bool = True) -> Path:
    """The directory that holds every file of ``dataset``, downloading the missing ones if allowed.

    Files already in the cache are used as they are (so offline machines work once the files
    are there). Raises DatasetUnavailableError naming the files and the directory otherwise.
    """
    directory = cache_directory(cache_dir) / dataset
    missing = [remote for remote in files if not (directory / remote.name).is_file()]
    if missing and not download:
        raise unavailable(dataset, files, directory, "it is not in the cache and download=False")
    for remote in missing:
        try:
            _download(remote, directory, dataset)
        except Exception as error:  # no network, HTTP error, disk full, bad checksum: all say the same
            reason = f"downloading {remote.url} failed ({type(error).__name__}: {error})"
            raise unavailable(dataset, files, directory, reason) from error
    return directory


def unavailable(dataset: str, files: Sequence[RemoteFile], directory: Path, reason: str) -> DatasetUnavailableError:
    names = ", ".join(remote.name for remote in files)
    sources = ", ".join(remote.url for remote in files)
    return DatasetUnavailableError(
        f"The {dataset} dataset is not available: {reason}. nbunify reads it from these files: {names}, "
        f"in the directory {directory}. Download them on a machine that is online ({sources}) and copy "
        f"them into that directory as they are (not unpacked), or point cache_dir=... or "
        f"${DATA_DIR_ENV} at a directory that has a {dataset}/ folder holding them, or call "
        f"nu.data.load({dataset!r}) again when this machine is online."
    )


def _download(remote: RemoteFile, directory: Path, dataset: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / remote.name
    partial = target.with_name(target.name + ".partial")
    try:
        digest = _copy_with_progress(remote.url, partial, f"{dataset}: {remote.name}")
        if remote.md5 and digest != remote.md5:
            raise ValueError(f"the file's MD5 is {digest}, not the published {remote.md5}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _copy_with_progress(url: str, path: Path, label: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # the published checksums are MD5: integrity, not security
    with open_url(url) as response, open(path, "wb") as output:
        total = int(response.headers.get("Content-Length") or 0) if hasattr(response, "headers") else 0
        done, last_report = 0, 0.0
        while chunk := response.read(_CHUNK):
            output.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if time.monotonic() - last_report >= _PROGRESS_EVERY:
                last_report = time.monotonic()
                _report(label, done, total, end="")
        _report(label, done, total, end="\n")
    return digest.hexdigest()


def _report(label: str, done: int, total: int, end: str) -> None:
    size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB ({100 * done // total}%)" if total else f"{done / 1e6:.1f} MB"
    print(f"\rDownloading {label}: {size}", end=end, file=sys.stderr, flush=True)
