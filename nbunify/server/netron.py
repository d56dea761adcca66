"""Serve the installed netron package's own web UI under the Jupyter base URL, patched for offline use.

Open a published model with ``<base_url>nbunify/netron/?url=<encodeURIComponent(base_url + url)>``
where ``url`` is the ``nbunify/models/<name>`` of publish(): netron fetches it from the same origin.
netron URL-decodes that parameter, so it must be encoded once more (a base URL like ``/a%40b/``
would otherwise become ``/a@b/``).
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import time

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from nbunify.server.security import ConfinedFileHandler, NbunifyHandler

#: Route of the netron UI, relative to the Jupyter base URL (with its trailing slash).
NETRON_ROUTE = "nbunify/netron/"

#: Static files of the netron package that the UI loads; anything else (its Python server, caches) is refused.
STATIC_CONTENT_TYPES = {
    ".js": "text/javascript; charset=UTF-8",
    ".css": "text/css; charset=UTF-8",
    ".json": "application/json; charset=UTF-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
}

# netron loads its modules, worker and metadata from its own directory, styles itself with an
# inline <style> block, and draws exported images from data:/blob: URLs. connect-src 'self'
# blocks its Google Analytics beacons and the ipinfo.io lookup behind the cookie prompt.
NETRON_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "worker-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' data: blob:",
        "frame-src 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
    ]
)

_CONSENT_DAYS = 30
_META_DATE = re.compile(r"<meta\b[^>]*\bname\s*=\s*([\"'])date\1[^>]*>", re.IGNORECASE)
_CONTENT_ATTRIBUTE = re.compile(r"(\bcontent\s*=\s*)([\"'])[^\"']*\2", re.IGNORECASE)


def netron_dir() -> str:
    """The directory of the installed ``netron`` Python package, which holds its built web UI."""
    import netron

    return os.path.dirname(os.path.realpath(netron.__file__))


def netron_version() -> str:
    """The installed netron's version string."""
    import netron

    return str(netron.__version__)


@functools.lru_cache(maxsize=4)
def _read_index_html(directory: str, modified: float) -> str:
    # Keyed by modification time so that upgrading netron in a running server serves the new page.
    with open(os.path.join(directory, "index.html"), encoding="utf-8") as handle:
        return handle.read()


def read_index_html() -> str:
    """netron's ``index.html`` as installed, unpatched."""
    directory = netron_dir()
    return _read_index_html(directory, os.path.getmtime(os.path.join(directory, "index.html")))


def patch_index_html(text: str, now: datetime.datetime) -> str:
    """netron's index page with its build date set to ``now`` (UTC, ``YYYY-MM-DD HH:MM:SS``).

    netron 9.3 compares ``<meta name="date">`` with the browser's clock and, past 180 days, shows
    "Please update to the newest version" in an endless loop. The package on disk keeps its
    build date, so the page is dated at request time. A page without the tag is left as is
    (netron then takes the current date itself).
    """
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")

    def redate(match: re.Match[str]) -> str:
        tag = match.group(0)
        if _CONTENT_ATTRIBUTE.search(tag):
            return _CONTENT_ATTRIBUTE.sub(lambda content: f'{content.group(1)}"{stamp}"', tag, count=1)
        return tag[: -2 if tag.endswith("/>") else -1].rstrip() + f' content="{stamp}">'

    return _META_DATE.sub(redate, text)


class NetronIndexHandler(NbunifyHandler):
    """``nbunify/netron/``: the patched index page, a ``consent`` cookie and a strict CSP."""

    @property
    def content_security_policy(self) -> str:
        # jupyter_server's own policy comes last and brings frame-ancestors 'self' (or the user's
        # configured policy); for repeated directives the browser keeps the first, i.e. netron's.
        # Its report-uri is dropped: every blocked analytics beacon would log a server warning.
        server_directives = [
            directive.strip()
            for directive in super().content_security_policy.split(";")
            if directive.strip() and directive.split()[0].lower() not in ("report-uri", "report-to")
        ]
        return "; ".join([NETRON_CONTENT_SECURITY_POLICY, *server_directives])

    @web.authenticated
    @authorized
    def get(self) -> None:
        if not self.request.path.endswith("/") and not self.request.path.endswith("/index.html"):
            # Relative script URLs need the trailing slash.
            query = f"?{self.request.query}" if self.request.query else ""
            self.redirect(self.request.path + "/" + query, permanent=False)
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        # netron asks for cookie consent (after trying ipinfo.io) unless this cookie exists.
        self.set_cookie(
            "consent",
            str(int(time.time() * 1000)),
            path=url_path_join(self.base_url, NETRON_ROUTE),
            expires_days=_CONSENT_DAYS,
            samesite="Lax",
            secure=self.request.protocol == "https",
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(patch_index_html(read_index_html(), now))


class NetronStaticHandler(ConfinedFileHandler):
    """``nbunify/netron/<file>``: the scripts, styles, metadata and icons next to netron's index."""

    def initialize(self) -> None:  # type: ignore[override]
        super().initialize(path=netron_dir())

    @web.authenticated
    @authorized
    def head(self, path: str) -> object:
        return super().head(path)

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True) -> object:
        return super().get(path, include_body=include_body)

    def parse_url_path(self, url_path: str) -> str:
        if os.path.splitext(url_path)[1].lower() not in STATIC_CONTENT_TYPES:
            raise web.HTTPError(404, "netron has no file %s", url_path)
        return url_path

    def get_content_type(self) -> str:
        return STATIC_CONTENT_TYPES[os.path.splitext(self.path)[1].lower()]
