"""A small table of rows: aligned text for terminals, escaped HTML for notebooks."""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence


class Table:
    """Rows of dicts sharing ``columns``; shows as text (``str``) or HTML (``_repr_html_``)."""

    def __init__(self, rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str = "") -> None:
        self.rows = [dict(row) for row in rows]
        self.columns = list(columns)
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]

    def __iter__(self):
        return iter(self.rows)

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]

    def __str__(self) -> str:
        cells = [[_text(row.get(column)) for column in self.columns] for row in self.rows]
        widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(column.ljust(width) for column, width in zip(self.columns, widths)).rstrip())
        lines.append("  ".join("-" * width for width in widths))
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(column)}</th>" for column in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_text(row.get(column)))}</td>" for column in self.columns) + "</tr>"
            for row in self.rows
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table class='nbunify-table'>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
