"""Code comments cite docs/esi.md by section, and every cited section exists (issue 10.7)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "esi.md"
CITATION = re.compile(r"docs/esi\.md\s*§\s*(\d+(?:\.\d+)*)")
SECTION = re.compile(r"^#{2,3} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)


def _sources() -> list[Path]:
    return sorted([*(REPO / "esiframe").rglob("*.py"), *(REPO / "tests").rglob("*.py")])


def test_the_doc_has_the_numbered_sections_code_relies_on() -> None:
    sections = set(SECTION.findall(DOC.read_text(encoding="utf-8")))
    assert {"1.9", "2", "3.1", "3.2", "3.3", "4", "5", "5.1", "6", "7", "8.3", "10"} <= sections
    assert {f"11.{n}" for n in range(1, 7)} <= sections


def test_every_cited_section_exists() -> None:
    sections = set(SECTION.findall(DOC.read_text(encoding="utf-8")))
    missing = [
        f"{path.relative_to(REPO)}:{number}: §{section}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for section in CITATION.findall(line)
        if section not in sections
    ]
    assert not missing, "cited sections not in docs/esi.md: " + ", ".join(missing)


def test_the_package_cites_no_document_outside_the_repository() -> None:
    """FACTS.md is not in the repository; comments cite docs/esi.md instead."""
    stale = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "esiframe").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bFACTS\b", line)
    ]
    assert not stale, "cite docs/esi.md (see FACTS_TO_DOCS.txt) instead of FACTS at: " + ", ".join(
        stale
    )
