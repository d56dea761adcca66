"""MIME types nbunify sends to JupyterLab, and display bundles that degrade to text/html and text/plain."""

from __future__ import annotations

import html
from typing import Any

#: Kernel -> Lab: "open this model (already in the models directory) in a netron tab".
NETRON_MIME = "application/vnd.nbunify.netron+json"
#: Kernel -> Lab: a model graph (issue: JupyterLab renderers).
GRAPH_MIME = "application/vnd.nbunify.graph+json"
#: Kernel -> Lab: training curves (issue: train and compare).
CURVES_MIME = "application/vnd.nbunify.curves+json"

#: Version of the JSON messages; the Lab extension refuses messages of a newer major version.
MESSAGE_VERSION = 1


def netron_bundle(message: dict[str, Any]) -> dict[str, Any]:
    """The display bundle for a netron message, readable without the Lab extension."""
    title = str(message["title"])
    text = (
        f"{title} is ready for netron ({message['size']:,} bytes). In JupyterLab with nbunify "
        f"installed it opens in a tab; otherwise run `netron {message['file']}`."
    )
    link = html.escape(message["url"], quote=True)
    fallback = (
        f"<div class='nbunify-netron-fallback'>Model <code>{html.escape(title)}</code> "
        f"({message['size']:,} bytes) is served at <a href='{link}' target='_blank'>{html.escape(message['url'])}</a>. "
        "Open it in JupyterLab with nbunify installed to see it in netron.</div>"
    )
    return {NETRON_MIME: message, "text/html": fallback, "text/plain": text}
