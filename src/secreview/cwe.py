"""CWE names and CWE-1000 pillars, derived from the catalogue shipped by the ``cwe2`` package,
read through its API (``cwe2.mappings.navigate_cwe`` names the view's table and
``cwe2.database.get_by_category`` reads it), not through paths inside the package.

The Research Concepts view (CWE-1000) arranges every weakness under one of ten pillars by
"ChildOf" relations marked ``Primary`` within view 1000.  We follow those relations upwards
from the CWE a rule declares until we reach an entry whose abstraction is ``Pillar``.  Nothing
here is typed by hand: a rule that names a CWE missing from the catalogue fails at load time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from cwe2.database import get_by_category
from cwe2.mappings import navigate_cwe

RESEARCH_VIEW = "1000"
_RELATION = re.compile(r"NATURE:ChildOf:CWE ID:(\d+):VIEW ID:(\d+)(?::ORDINAL:(\w+))?")


@dataclass(frozen=True)
class CweEntry:
    id: int
    name: str
    abstraction: str
    parents: tuple[int, ...]  # ChildOf in view 1000, the primary parent first

    @property
    def tag(self) -> str:
        return f"CWE-{self.id}"


class UnknownCweError(KeyError):
    pass


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict[int, CweEntry]:
    entries: dict[int, CweEntry] = {}
    for weakness in get_by_category(navigate_cwe["research_concepts"]["csv_file"]):
        primary: list[int] = []
        other: list[int] = []
        for parent, view, ordinal in _RELATION.findall(weakness.related_weaknesses or ""):
            if view != RESEARCH_VIEW:
                continue
            (primary if ordinal == "Primary" else other).append(int(parent))
        cwe_id = int(weakness.cwe_id)
        entries[cwe_id] = CweEntry(
            id=cwe_id,
            name=weakness.name,
            abstraction=weakness.weakness_abstraction,
            parents=tuple(primary + other),
        )
    return entries


def lookup(cwe_id: int) -> CweEntry:
    try:
        return _catalogue()[cwe_id]
    except KeyError:
        raise UnknownCweError(f"CWE-{cwe_id} is not in the CWE-1000 research view") from None


@functools.lru_cache(maxsize=None)
def pillar(cwe_id: int) -> CweEntry:
    """The CWE-1000 pillar above ``cwe_id`` (the entry itself when it is a pillar)."""
    entry = lookup(cwe_id)
    seen = {entry.id}
    while entry.abstraction != "Pillar":
        parent = next((p for p in entry.parents if p not in seen), None)
        if parent is None:
            raise UnknownCweError(f"CWE-{cwe_id} has no pillar in the CWE-1000 view")
        entry = lookup(parent)
        seen.add(entry.id)
    return entry


def pillars() -> list[CweEntry]:
    return sorted((e for e in _catalogue().values() if e.abstraction == "Pillar"), key=lambda e: e.id)


def parse_cwe(text: str) -> int | None:
    """``CWE-78``, ``cwe78`` or ``78`` as a number; None when the text is not a CWE."""
    match = re.fullmatch(r"(?:cwe-?)?(\d+)", text.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None
