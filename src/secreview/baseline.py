"""Baselines: the findings a project has accepted for now, so that a review reports only new ones.

A baseline file is versioned JSON (schema ``secreview/baseline``, version 1).  Findings are
matched by fingerprint alone (rule, file, enclosing function, normalised code and occurrence,
never line numbers), so lines inserted above a finding or unrelated reformatting do not make it
new.  Each entry also keeps the rule, place and code it had when the baseline was written, which
is what a reviewer needs to see when an entry no longer occurs and is listed as fixed.

Triage that lasts: an entry may carry a ``status`` (``false-positive``, ``accepted-risk``,
``will-fix``) and a ``reason``, written by hand into the file.  Such a finding is not new and does
not fail the gate, but unlike an untriaged baseline entry it is still reported, as suppressed with
that status and reason, in every format (SARIF: a ``suppressions`` entry with the justification);
``--strict`` lists triage entries that no longer match a finding.  ``--write-baseline`` over an
existing baseline keeps each status and reason whose finding remains.

A baseline is input like any other: it is read only if it is a regular file of at most
:data:`MAX_BASELINE_BYTES`, and anything it holds that secreview would not have written (JSON
nested too deeply to decode, a severity or CWE it does not know) is a :class:`BaselineError`,
exit code 2, naming the file and the entry.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, cwe, reading
from .findings import TRIAGE_STATUSES, Finding, Severity, Triage
from .review import ReviewResult

SCHEMA_ID = "secreview/baseline"
SCHEMA_VERSION = 1
MAX_BASELINE_BYTES = 256 * 1024 * 1024  # some 500,000 entries: far beyond any project's


class BaselineError(Exception):
    """A baseline file that cannot be used: one line for the user (exit code 2)."""


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    cwe: int
    severity: str
    path: str
    line: int
    scope: str
    snippet: str
    message: str
    status: str = ""  # triage (TRIAGE_STATUSES), written by a reviewer; "" when untriaged
    reason: str = ""

    @property
    def triage(self) -> Triage | None:
        return Triage(self.status, self.reason) if self.status else None

    @classmethod
    def from_finding(cls, finding: Finding) -> BaselineEntry:
        return cls(
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            cwe=finding.cwe,
            severity=finding.severity.label,
            path=finding.location.path,
            line=finding.location.line,
            scope=finding.scope,
            snippet=finding.location.snippet,
            message=finding.message,
        )


def render(result: ReviewResult, previous: list[BaselineEntry] = ()) -> str:
    """The baseline of every finding in ``result`` (and of those triaged in it), deterministic
    so that it diffs well under version control; ``previous`` entries lend their triage."""
    triage = {e.fingerprint: e for e in previous if e.status}
    findings = result.findings + [finding for finding, _ in result.triaged]
    entries = []
    for finding in findings:
        entry = BaselineEntry.from_finding(finding)
        kept = triage.get(entry.fingerprint)
        entries.append(dataclasses.replace(entry, status=kept.status, reason=kept.reason) if kept else entry)
    entries.sort(key=lambda e: (e.path, e.line, e.rule, e.fingerprint))
    document = {
        "schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "tool": {"name": "secreview", "version": __version__},
        "findings": [{k: v for k, v in dataclasses.asdict(e).items() if k not in _OPTIONAL or v} for e in entries],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, result: ReviewResult) -> None:
    """Write the baseline, keeping the triage of the baseline already at ``path`` if there is one."""
    try:
        previous = read(path) if path.exists() else []
    except BaselineError:
        previous = []  # not a baseline: it is replaced, as asked
    path.write_text(render(result, previous), encoding="utf-8")


_OPTIONAL = {f.name for f in dataclasses.fields(BaselineEntry) if f.default is not dataclasses.MISSING}
_FIELD_TYPES = {f.name: (int if f.type == "int" else str) for f in dataclasses.fields(BaselineEntry)}


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: expected an object")
    missing = [name for name in _FIELD_TYPES if name not in raw and name not in _OPTIONAL]
    if missing:
        raise BaselineError(f"{where}: missing {', '.join(missing)}")
    for name, kind in _FIELD_TYPES.items():
        if name in raw and (not isinstance(raw[name], kind) or isinstance(raw[name], bool)):
            raise BaselineError(f"{where}: {name} must be {'an integer' if kind is int else 'a string'}")
    entry = BaselineEntry(**{name: raw[name] for name in _FIELD_TYPES if name in raw})
    if entry.status and entry.status not in TRIAGE_STATUSES:
        raise BaselineError(f"{where}: unknown status {entry.status!r} (one of {', '.join(TRIAGE_STATUSES)})")
    if entry.reason and not entry.status:
        raise BaselineError(f"{where}: a reason without a status (one of {', '.join(TRIAGE_STATUSES)})")
    if entry.severity not in {s.label for s in Severity}:
        raise BaselineError(f"{where}: unknown severity {entry.severity!r} "
                            f"(one of {', '.join(s.label for s in Severity)})")
    try:
        cwe.pillar(entry.cwe)
    except cwe.UnknownCweError as exc:
        raise BaselineError(f"{where}: {exc.args[0]}") from None
    return entry


def read(path: Path) -> list[BaselineEntry]:
    try:
        document = json.loads(reading.read_regular(path, MAX_BASELINE_BYTES).decode("utf-8"))
    except reading.NotRegularFile:
        raise BaselineError(f"{path}: not a baseline file (not a regular file)") from None
    except reading.TooLarge as exc:
        raise BaselineError(f"{path}: not a baseline file ({exc.shown_size} bytes; "
                            f"a baseline is at most {MAX_BASELINE_BYTES})") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a baseline file (invalid JSON: {exc})") from None
    except RecursionError:
        raise BaselineError(f"{path}: not a baseline file (JSON nested too deeply)") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA_ID:
        raise BaselineError(f"{path}: not a baseline file (written by 'secreview scan --write-baseline')")
    if document.get("version") != SCHEMA_VERSION:
        raise BaselineError(f"{path}: baseline version {document.get('version')!r} is not supported (expected {SCHEMA_VERSION})")
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    return [_entry(raw, f"{path}: finding {i + 1}") for i, raw in enumerate(findings)]


def compare(result: ReviewResult, entries: list[BaselineEntry]) -> ReviewResult:
    """Keep the findings that are not in the baseline; list the baseline entries that no longer occur.

    An entry counts as fixed only where this review could have seen it again: its file was
    reviewed, or it no longer exists.  A review of part of a project is not told that the rest
    was fixed.
    """
    known = {e.fingerprint for e in entries}
    triage = {e.fingerprint: e.triage for e in entries if e.triage is not None}
    current = {f.fingerprint for f in result.findings}
    reviewed = {r.path for r in result.files if r.not_reviewed is None}
    files = [dataclasses.replace(r, findings=[f for f in r.findings if f.fingerprint not in known]) for r in result.files]
    triaged = [(f, triage[f.fingerprint]) for f in result.findings if f.fingerprint in triage]
    fixed = [
        e for e in entries
        if e.fingerprint not in current and (e.path in reviewed or not (result.root / e.path).exists())
    ]
    state = dict(result.baseline_state or {})
    for finding in result.findings:
        if finding.fingerprint not in known:
            state[finding.fingerprint] = state.get(finding.fingerprint, "new")
    previously_fixed = [e for e in result.fixed if e.fingerprint not in {f.fingerprint for f in fixed}]
    return dataclasses.replace(result, files=files, baseline_state=state, fixed=previously_fixed + fixed,
                               triaged=result.triaged + triaged)
