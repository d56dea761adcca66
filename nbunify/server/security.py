"""Who may reach nbunify's routes and which files they may reach: the handler base and path checks."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from jupyter_server.base.handlers import JupyterHandler
from tornado import web

#: Authorization resource of every nbunify route (``Authorizer.is_authorized(..., resource)``).
AUTH_RESOURCE = "nbunify"

# The characters of publish()'s names (nbunify.model_files.safe_stem, a digest, a suffix).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}")


class PathRefused(Exception):
    """A request names a path it may not reach; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NbunifyHandler(JupyterHandler):
    """Base of nbunify's page and file handlers: an anonymous request gets 403, never a login redirect.

    jupyter_server redirects anonymous GETs of ordinary pages to the login page and answers API
    requests with 403. nbunify's pages and files are fetched by scripts inside an iframe, where a
    redirect would load the login page as "the model"; so they answer 403 the way APIHandler does.
    """

    auth_resource = AUTH_RESOURCE

    def get_login_url(self) -> str:
        # Reached only through @web.authenticated when nobody is logged in.
        if not self.current_user:
            raise web.HTTPError(403)
        return super().get_login_url()


class ConfinedFileHandler(NbunifyHandler, web.StaticFileHandler):
    """A static-file handler that serves only regular files directly inside its root (see resolve_served_file)."""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        try:
            resolved = resolve_served_file(root, self.path)
        except PathRefused as refusal:
            raise web.HTTPError(refusal.status, "%s", refusal.message) from None
        return super().validate_absolute_path(root, str(resolved))


def is_plain_file_name(name: str) -> bool:
    """True for a name made like publish()'s: ``[A-Za-z0-9_][A-Za-z0-9._-]*``, at most 255 characters.

    This refuses ``..``, ``.partial-*`` files that publish() is still writing, hidden files,
    absolute paths and anything with a slash or a backslash, after URL decoding (so ``%2e%2e``
    and ``%2F`` too). The frontend accepts the same names only.
    """
    return _PLAIN_NAME.fullmatch(name) is not None


def resolve_served_file(directory: str | os.PathLike, name: str) -> Path:
    """The real path of the regular file ``name`` directly inside ``directory``, or PathRefused(404).

    Symlinks are followed and the target must still sit directly in the resolved directory: a
    link inside it that points elsewhere on the machine is refused.
    """
    if not is_plain_file_name(name):
        raise PathRefused(404, f"{name!r} is not a plain file name")
    root = Path(os.path.realpath(directory))
    target = Path(os.path.realpath(root / name))
    if target.parent != root or not is_plain_file_name(target.name):
        raise PathRefused(404, f"{name!r} resolves outside {root}")
    if not target.is_file():
        raise PathRefused(404, f"no file named {name!r}")
    return target


def resolve_in_root(root_dir: str | os.PathLike, relative_path: str, allow_hidden: bool = False) -> Path:
    """The real path of a file given relative to the Jupyter root, as the file browser shows it.

    Raises PathRefused with a sentence a user can act on: 400 for a malformed path or a directory,
    403 for a path that leaves the root (``..``, a symlink) or is hidden (unless ``allow_hidden``,
    which mirrors ``ContentsManager.allow_hidden``), 404 for a missing file.
    """
    if not isinstance(relative_path, str) or not relative_path.strip():
        raise PathRefused(
            400, 'Give the model file as {"path": "folder/model.onnx"}, relative to the Jupyter root directory.'
        )
    if "\x00" in relative_path:
        raise PathRefused(400, "The path contains a NUL character; give the path shown in the file browser.")
    given = PurePosixPath(relative_path.replace("\\", "/"))
    if given.is_absolute() or os.path.isabs(relative_path) or os.path.splitdrive(relative_path)[0]:
        raise PathRefused(
            400,
            f"{relative_path!r} is an absolute path; give a path relative to the Jupyter root directory,"
            " as the file browser shows it.",
        )
    root = Path(os.path.realpath(root_dir))
    target = Path(os.path.realpath(root.joinpath(*given.parts)))
    if target != root and root not in target.parents:
        raise PathRefused(
            403, f"{relative_path!r} is outside the Jupyter root directory; only files under it can be shown."
        )
    if not allow_hidden:
        inside = (*given.parts, *target.relative_to(root).parts)
        hidden = [part for part in inside if part.startswith(".") and part != ".."]
        if hidden:
            raise PathRefused(
                403,
                f"{relative_path!r} is hidden ({hidden[0]!r} starts with a dot) and Jupyter does not serve"
                " hidden files; move or rename the file.",
            )
    if not target.exists():
        raise PathRefused(
            404,
            f"There is no file {relative_path!r} in the Jupyter root directory; check the name in the file browser.",
        )
    if target.is_dir():
        raise PathRefused(400, f"{relative_path!r} is a directory; give the model file inside it.")
    if not target.is_file():
        raise PathRefused(400, f"{relative_path!r} is not a regular file.")
    return target
