"""Shared helpers of subcommands: find a notebook variable, split framework lists, turn library errors into UsageError."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from IPython.core.error import UsageError


def variable(shell: Any, name: str, command: str) -> Any:
    """The value of ``name`` in the notebook, or a UsageError saying how to define it."""
    namespace = shell.user_ns if shell is not None else {}
    if name not in namespace:
        raise UsageError(f"%unify {command}: no variable {name!r} in this notebook. Define a spec first, e.g. "
                         f"`%%unify model {name} --input 1x28x28` or `{name} = nu.Sequential([...], input_shape=...)`.")
    return namespace[name]


def spec_variable(shell: Any, name: str, command: str) -> Any:
    from nbunify.spec import Sequential

    value = variable(shell, name, command)
    if not isinstance(value, Sequential):
        raise UsageError(f"%unify {command}: {name!r} is a {type(value).__name__}, not a model spec "
                         "(nu.Sequential or `%%unify model`).")
    return value


def frameworks(text: str) -> list[str]:
    """'torch, keras,paddle' -> ['torch', 'keras', 'paddle'] (validated names)."""
    from nbunify.backends import resolve

    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError("give at least one framework, e.g. --to torch,keras,paddle")
    try:
        return [resolve(name) for name in names]
    except ValueError as error:
        raise UsageError(str(error)) from None


@contextlib.contextmanager
def user_errors(command: str) -> Iterator[None]:
    """Library errors a user can fix (bad spec, missing framework, bad value) become UsageError."""
    from nbunify.spec import SpecError

    try:
        yield
    except (SpecError, ImportError, ValueError, TypeError) as error:
        raise UsageError(f"%unify {command}: {error}") from None
