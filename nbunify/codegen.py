"""`nu.code(spec, framework)`: idiomatic, runnable native source for a spec, with its line count."""

from __future__ import annotations

import html
import importlib
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from nbunify.backends import resolve
from nbunify.spec import Sequential


@dataclass(frozen=True)
class GeneratedCode:
    """Source text of one framework's model; shows highlighted in notebooks, plain elsewhere."""

    framework: str
    text: str

    @property
    def lines(self) -> int:
        """Lines of code: neither blank nor only a comment (what "lines of code" means in nu.compare)."""
        return sum(1 for line in self.text.splitlines() if line.strip() and not line.strip().startswith("#"))

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(self.text)
        return target

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer

            body = highlight(self.text, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))
        except ImportError:  # pygments ships with IPython, but keep a plain fallback
            body = f"<pre>{html.escape(self.text)}</pre>"
        return f"<div class='nbunify-code'><p><b>{self.framework}</b>: {self.lines} lines of code</p>{body}</div>"


@dataclass(frozen=True)
class SideBySide:
    """Several frameworks' sources in columns (HTML), or one after another (text)."""

    sources: tuple[GeneratedCode, ...]

    def __getitem__(self, framework: str) -> GeneratedCode:
        return next(source for source in self.sources if source.framework == resolve(framework))

    @property
    def lines(self) -> dict[str, int]:
        return {source.framework: source.lines for source in self.sources}

    def __str__(self) -> str:
        return "\n".join(f"# ---- {source.framework} ({source.lines} lines) ----\n{source.text}" for source in self.sources)

    def _repr_html_(self) -> str:
        columns = "".join(f"<div style='flex:1;min-width:0;overflow-x:auto'>{source._repr_html_()}</div>"
                          for source in self.sources)
        return f"<div class='nbunify-code-side-by-side' style='display:flex;gap:1em'>{columns}</div>"


def code(spec: Sequential, framework: str | list[str] | tuple[str, ...]) -> GeneratedCode | SideBySide:
    """The native source that builds ``spec`` in ``framework`` (no framework import needed to generate it).

    A list of frameworks gives their sources side by side.
    """
    if not isinstance(spec, Sequential):
        raise TypeError(f"nu.code needs a spec (nu.Sequential or nu.spec.parse), got {type(spec).__name__}")
    if not isinstance(framework, str):
        return SideBySide(tuple(code(spec, name) for name in dict.fromkeys(resolve(n) for n in framework)))
    name = resolve(framework)
    module = importlib.import_module(f"nbunify.backends.{name}.codegen")
    return GeneratedCode(name, module.generate(spec))


def class_name(spec: Sequential) -> str:
    """'residual_cnn' -> 'ResidualCnn', a valid Python class name for generated code."""
    words = re.split(r"[^0-9A-Za-z]+", spec.name)
    result = "".join(word[:1].upper() + word[1:] for word in words if word) or "Model"
    if result[0].isdigit() or keyword.iskeyword(result):
        result = "Model" + result
    return result
