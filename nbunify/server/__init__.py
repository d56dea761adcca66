"""nbunify's Jupyter server extension: the load hook, its one setting, and the route table.

Every route lives under the server's base URL (``/user/<name>/`` on Binder and JupyterHub), so
netron and the model files reach the browser through the Jupyter port and its authentication:

==============================  ===========================================================
``nbunify/netron/``             netron's own UI from the installed ``netron`` package, patched
``nbunify/netron/<file>``       its scripts, styles, metadata and icons
``nbunify/models/<name>``       a file of ``nbunify.paths.models_dir()``
``nbunify/api/models``          GET: list served models; POST ``{"path"}``: publish a root file
``nbunify/api/info``            versions and the models directory
``nbunify/api/runs``            GET ``?path=<folder>``: the runs of ``<folder>/nbunify-runs/``
``nbunify/api/runs/curves``     GET ``?path=<folder>&ids=<id>,<id>``: those runs' curves message
==============================  ===========================================================
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.utils import url_path_join
from traitlets import Unicode
from traitlets.config import Configurable

from nbunify.model_files import MODELS_ROUTE
from nbunify.paths import MODELS_DIR_ENV, models_dir
from nbunify.server.models import InfoHandler, ModelFileHandler, ModelsAPIHandler
from nbunify.server.netron import NETRON_ROUTE, NetronIndexHandler, NetronStaticHandler
from nbunify.server.runs import CURVES_API_ROUTE, RUNS_API_ROUTE, RunsAPIHandler, RunsCurvesHandler


class NbunifyConfig(Configurable):
    """Settings of the nbunify server extension (``c.NbunifyConfig.<name>`` in jupyter_server_config.py)."""

    models_dir = Unicode(
        "",
        help=(
            "Directory whose files nbunify/models/ serves. Sets $NBUNIFY_MODELS_DIR for the server and for"
            " the kernels it starts, so both agree. Empty: keep $NBUNIFY_MODELS_DIR or nbunify's default"
            " under the Jupyter data directory."
        ),
    ).tag(config=True)


def route_table(base_url: str) -> list[tuple[str, type, dict[str, Any]]]:
    """The (pattern, handler, arguments) rules of every nbunify route under ``base_url``.

    Catch-all patterns send every path under nbunify's prefixes to an authenticated handler, so
    an anonymous request is refused before any name is looked at, and a bad name is refused by
    nbunify's own checks rather than by whatever route comes next.
    """
    netron = url_path_join(base_url, NETRON_ROUTE)
    return [
        (netron.rstrip("/"), NetronIndexHandler, {}),
        (netron, NetronIndexHandler, {}),
        (url_path_join(netron, r"index\.html"), NetronIndexHandler, {}),
        (url_path_join(netron, "(.*)"), NetronStaticHandler, {}),
        (url_path_join(base_url, MODELS_ROUTE, "(.*)"), ModelFileHandler, {}),
        (url_path_join(base_url, "nbunify/api/models"), ModelsAPIHandler, {}),
        (url_path_join(base_url, "nbunify/api/info"), InfoHandler, {}),
        (url_path_join(base_url, RUNS_API_ROUTE), RunsAPIHandler, {}),
        (url_path_join(base_url, CURVES_API_ROUTE), RunsCurvesHandler, {}),
    ]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register nbunify's routes on a running Jupyter server."""
    config = NbunifyConfig(parent=serverapp)
    if config.models_dir:
        # Kernels inherit the server's environment, so they publish where the server serves.
        os.environ[MODELS_DIR_ENV] = os.path.abspath(os.path.expanduser(config.models_dir))
    web_app = serverapp.web_app
    web_app.add_handlers(".*$", route_table(web_app.settings["base_url"]))
    serverapp.log.info(
        "nbunify: netron and model files served under %snbunify/ from %s",
        web_app.settings["base_url"],
        models_dir(),
    )
