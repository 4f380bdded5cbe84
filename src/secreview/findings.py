"""The finding: what a rule reports, independent of any output format.

A finding names its rule, its CWE (the CWE-1000 pillar is derived in :mod:`secreview.cwe`,
never stored), a severity and a confidence as separate judgements, a location, an optional
data-flow trace, a message specific to the code and a concrete fix.

The fingerprint is what baselines and SARIF ``partialFingerprints`` key on.  It is built from
the rule, the file, the enclosing function and the normalised text of the flagged code, never
from line numbers, so inserting lines above a finding does not change it.  Two identical
defects in one function are told apart by their order of occurrence (see
:func:`assign_fingerprints`).
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field, replace


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


class Confidence(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Confidence":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(c.label for c in cls)
            raise ValueError(f"unknown confidence {text!r} (choose from {choices})") from None


TRIAGE_STATUSES = ("false-positive", "accepted-risk", "will-fix")


@dataclass(frozen=True)
class Triage:
    """A reviewer's decision on a baselined finding: a status of :data:`TRIAGE_STATUSES` and why."""

    status: str
    reason: str

    @property
    def label(self) -> str:
        return self.status.replace("-", " ")


@dataclass(frozen=True, order=True)
class Location:
    path: str
    line: int
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    snippet: str = ""

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)


@dataclass(frozen=True)
class TraceStep:
    """One step of a data-flow path: where the value is, and what happens to it there."""

    location: Location
    label: str


@dataclass(frozen=True)
class Finding:
    rule: str
    cwe: int
    severity: Severity
    confidence: Confidence
    location: Location
    message: str
    fix: str
    scope: str = "<module>"
    trace: tuple[TraceStep, ...] = ()
    fingerprint: str = ""

    @property
    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule, self.message)

    def lines(self) -> set[int]:
        """Every line the finding points at: its own span and each step of its trace."""
        covered = set(range(self.location.line, self.location.end_line + 1))
        covered.update(step.location.line for step in self.trace)
        return covered


_WHITESPACE = re.compile(r"\s+")


def _fingerprint_key(finding: Finding) -> str:
    sink_text = _WHITESPACE.sub("", finding.location.snippet)
    return "\x1f".join((finding.rule, finding.location.path, finding.scope, sink_text))


def assign_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Give each finding of one file its fingerprint; the list must be in source order."""
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for finding in findings:
        key = _fingerprint_key(finding)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        digest = hashlib.sha256(f"{key}\x1f{occurrence}".encode("utf-8", "surrogatepass"))
        out.append(replace(finding, fingerprint=digest.hexdigest()[:32]))
    return out


@dataclass
class FileReview:
    """The review of one file: its findings, or why it was not (fully) reviewed."""

    path: str
    is_test: bool = False
    findings: list[Finding] = field(default_factory=list)
    not_reviewed: str | None = None  # why the file was not reviewed at all
    is_folder: bool = False  # a folder that was not walked (then ``not_reviewed`` says why)
    incomplete: list[str] = field(default_factory=list)  # parts of the review that did not finish
    unused_suppressions: list[tuple[int, str]] = field(default_factory=list)
    bare_suppressions: list[int] = field(default_factory=list)
