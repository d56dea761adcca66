"""docs/onnx-support.md says what the importers' registries convert: regenerated from the code, it must not drift."""

from __future__ import annotations

import re
from pathlib import Path

from nbunify.convert.support_table import FRAMEWORKS, registered_versions, versions_cell

PAGE = Path(__file__).resolve().parents[1] / "docs" / "onnx-support.md"


def rows() -> dict[str, list[str]]:
    found = {}
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 1 + len(FRAMEWORKS) and cells[0] not in ("op", "---") and not cells[0].startswith("-"):
            found[cells[0]] = cells[1:]
    return found


def test_every_registered_op_and_version_is_in_the_page_and_nothing_else():
    table = rows()
    for index, framework in enumerate(FRAMEWORKS):
        registered = registered_versions(framework)
        for op, versions in registered.items():
            assert op in table, f"{op} ({framework}) is missing from {PAGE.name}: regenerate it"
            assert re.sub(r" \(\d+/\d+\)$", "", table[op][index]) == versions_cell(versions), (op, framework)
        listed = {op for op, cells in table.items() if not cells[index].startswith("-")}
        assert listed == set(registered), f"{framework}: the page lists ops the registry does not convert"


def test_the_page_has_every_framework_s_conformance_totals():
    text = PAGE.read_text()
    for framework in FRAMEWORKS:
        match = re.search(rf"\| {framework} \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| ([\d.]+)% \|", text)
        assert match, f"no conformance totals for {framework}"
        passed, failed, unsupported = (int(match.group(i)) for i in (1, 2, 3))
        assert abs(passed / (passed + failed + unsupported) * 100 - float(match.group(5))) < 0.05
