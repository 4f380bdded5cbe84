"""Inline expectations in fixture files, in the manner of CodeQL's inline test expectations.

``# expect: rule-a, rule-b`` on a line: exactly these rules report a finding starting there.
``# ok: rule-a`` on a line: that rule must stay silent there (a safe look-alike).
``# fixture: test-code`` anywhere: the file is reviewed as test code.
Every other line must stay clean too: the runner compares the exact set of (line, rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9, -]+)")
_OK = re.compile(r"#\s*ok:\s*([a-z0-9, -]+)")
_TEST_CODE = re.compile(r"#\s*fixture:\s*test-code\b")


def _rules(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass
class Expectations:
    expected: set[tuple[int, str]] = field(default_factory=set)
    clean: set[tuple[int, str]] = field(default_factory=set)
    is_test_code: bool = False

    @property
    def count(self) -> int:
        return len(self.expected) + len(self.clean)


def read(path: Path) -> Expectations:
    found = Expectations()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if (m := _EXPECT.search(line)):
            found.expected.update((number, r) for r in _rules(m.group(1)))
        if (m := _OK.search(line)):
            found.clean.update((number, r) for r in _rules(m.group(1)))
        if _TEST_CODE.search(line):
            found.is_test_code = True
    overlap = found.expected & found.clean
    if overlap:
        raise ValueError(f"{path}: lines both expected and clean: {sorted(overlap)}")
    return found
