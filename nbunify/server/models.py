"""Serve the model files of models_dir() and the small JSON API that lists and publishes them."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

import nbunify
from nbunify.model_files import MODELS_ROUTE, publish
from nbunify.paths import models_dir
from nbunify.server.netron import netron_version
from nbunify.server.security import (
    AUTH_RESOURCE,
    ConfinedFileHandler,
    PathRefused,
    resolve_in_root,
    resolve_served_file,
)


def list_models(directory: str | os.PathLike) -> list[dict[str, Any]]:
    """The servable model files of ``directory``, newest first, as ``{"name", "title", "url", "size"}``.

    Only files the ``nbunify/models/`` route would serve are listed: no hidden or ``.partial-*``
    files, no symlinks leading out of the directory. The title is the file name, as the
    directory keeps no other record of it.
    """
    found = []
    for entry in os.scandir(directory):
        try:
            path = resolve_served_file(directory, entry.name)
            stat = path.stat()
        except (PathRefused, OSError):
            continue
        found.append((stat.st_mtime, entry.name, stat.st_size))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [
        {"name": name, "title": name, "url": f"{MODELS_ROUTE}/{name}", "size": size} for _, name, size in found
    ]


class ModelFileHandler(ConfinedFileHandler):
    """``nbunify/models/<name>``: one file of models_dir(), streamed, as application/octet-stream.

    The directory is looked up per request, so ``$NBUNIFY_MODELS_DIR`` is honoured as it is now.
    Anything but a plain visible name directly inside it is answered 404, whatever the encoding.
    Like jupyter_server's ``/files/``, a cookie-authenticated GET must come from a page of this
    server (Referer check against cross-site inclusion); token-authenticated requests need not.
    """

    def initialize(self) -> None:  # type: ignore[override]
        super().initialize(path=str(models_dir()))

    @property
    def content_security_policy(self) -> str:
        # Never run anything as a page, even if a browser were told to render the bytes.
        return super().content_security_policy + "; sandbox"

    @web.authenticated
    @authorized
    def head(self, path: str) -> object:
        self.check_xsrf_cookie()
        return web.StaticFileHandler.get(self, path, include_body=False)

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True) -> object:
        self.check_xsrf_cookie()
        return web.StaticFileHandler.get(self, path, include_body=include_body)

    def parse_url_path(self, url_path: str) -> str:
        return url_path

    def get_content_type(self) -> str:
        return "application/octet-stream"

    def compute_etag(self) -> None:
        # The default hashes the whole file; names are content-addressed and Last-Modified suffices.
        return None

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")


class ModelsAPIHandler(APIHandler):
    """``nbunify/api/models``: GET lists the served models; POST publishes a file of the Jupyter root."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(json.dumps({"models": list_models(models_dir())}))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "path" not in body:
            return self._refuse(
                400,
                'The request body must be JSON like {"path": "folder/model.onnx"},'
                " with the path relative to the Jupyter root.",
            )
        allow_hidden = bool(getattr(self.contents_manager, "allow_hidden", False))
        try:
            source = resolve_in_root(self.settings["server_root_dir"], body["path"], allow_hidden=allow_hidden)
            # Hashing and copying a large model would stall every other request of the server.
            published = await asyncio.get_running_loop().run_in_executor(None, publish, source)
        except PathRefused as refusal:
            return self._refuse(refusal.status, refusal.message)
        except FileNotFoundError as error:
            return self._refuse(404, f"{error}; check the name in the file browser.")
        except PermissionError:
            return self._refuse(403, f"{body['path']!r} cannot be read by the Jupyter server (permission denied).")
        except (IsADirectoryError, ValueError) as error:
            return self._refuse(400, f"{body['path']!r} cannot be shown: {error}.")
        self.finish(json.dumps(published))

    def _refuse(self, status: int, message: str) -> None:
        # Written directly rather than raised: HTTPError treats "%" in a path as a format string.
        self.log.warning("nbunify: %s %s", status, message)
        self.set_status(status)
        self.finish(json.dumps({"message": message}))


class InfoHandler(APIHandler):
    """``nbunify/api/info``: versions and the served models directory, for the frontend and for debugging."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self) -> None:
        info = {
            "version": nbunify.__version__,
            "netron_version": netron_version(),
            "models_dir": str(models_dir()),
        }
        self.finish(json.dumps(info))
