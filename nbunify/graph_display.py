"""nu.show and the graph display bundle (a module named show.py would shadow the lazy nu.show once imported)."""

from __future__ import annotations

import base64
import os
from typing import Any

from nbunify.display import GRAPH_MIME


def graph_message(model: Any, parity: Any = None, title: str = "") -> dict[str, Any]:
    """The graph message of ``model``: a spec (nu.Sequential), an ONNX model (ModelProto, bytes or .onnx path),
    a model imported by nu.from_onnx / nu.convert (the ONNX graph it was made from), or a native torch, keras or
    paddle model (exported by its framework's own exporter, nu.to_onnx).

    ``parity``: a report of ``nu.parity(imported, reference, per_node=True)`` to colour each node by its error;
    show the imported model the report was made with.
    """
    from nbunify.graph import onnx_message, with_parity
    from nbunify.spec import Sequential

    if isinstance(model, Sequential):
        from nbunify.graph_spec import spec_message

        message = spec_message(model, title)
    else:
        message = onnx_message(_onnx_of(model), title, _framework_of(model))
    if parity is not None:
        with_parity(message, parity)
    return message


def graph_bundle(message: dict[str, Any], png: bool = True) -> dict[str, Any]:
    """The display bundle: the message, text/plain, and a static picture (text/html SVG, image/png) for
    readers without the Lab extension (GitHub, nbviewer)."""
    from nbunify.graph_picture import graph_html, graph_png, graph_text

    bundle: dict[str, Any] = {GRAPH_MIME: message, "text/plain": graph_text(message), "text/html": graph_html(message)}
    picture = graph_png(message) if png else None
    if picture is not None:
        bundle["image/png"] = base64.b64encode(picture).decode("ascii")
    return bundle


def show(model: Any, parity: Any = None, title: str = "") -> None:
    """Display the interactive graph of ``model`` (see graph_message); a dict or list of models shows each."""
    from IPython.display import display

    if isinstance(model, dict):
        for item in model.values():  # as nu.build gives them: each title names its framework
            show(item, parity, title)
        return
    if isinstance(model, (list, tuple)):
        for item in model:
            show(item, parity, title)
        return
    display(graph_bundle(graph_message(model, parity, title)), raw=True)


def _onnx_of(model: Any) -> Any:
    import onnx

    from nbunify.convert.loading import load

    if isinstance(model, (onnx.ModelProto, bytes, bytearray, memoryview, str, os.PathLike)):
        return load(model, check=False)
    imported = getattr(model, "_nbunify_onnx", None)
    if imported is not None:
        return imported
    from nbunify import backends

    try:
        backends.owner(model)
    except (TypeError, ValueError):
        raise TypeError(f"nu.show draws a spec (nu.Sequential), an ONNX model or a torch, keras or paddle model, "
                        f"not a {type(model).__name__}") from None
    from nbunify.convert.export import to_onnx

    return to_onnx(model)


def _framework_of(model: Any) -> str | None:
    if getattr(model, "_nbunify_onnx", None) is not None:
        from nbunify import backends

        return f"{backends.owner(model)} (imported)"
    return None
