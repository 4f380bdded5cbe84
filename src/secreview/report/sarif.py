"""SARIF 2.1.0 for code-scanning tools.

Each rule carries its CWE twice: as the ``external/cwe/cwe-N`` tag that GitHub code scanning
reads, and as a relationship to the CWE taxonomy shipped in the run, which is how SARIF itself
relates a rule to a taxonomy.  Paths are relative to ``%SRCROOT%``, the repository's root
(:mod:`.paths`), so that code scanning maps every result to its file whichever folder the review
ran from; a file outside it gets an absolute ``file:`` URI.  Fingerprints go into
``partialFingerprints``, traces become ``codeFlows``, and files
that could not be reviewed become tool execution notifications.  Values are exact; the characters
that could act when the document is printed (controls the JSON encoder leaves raw, bidi controls,
runner markers) are written as JSON escapes by :func:`~.escape.json_visible`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__, cwe, display
from ..findings import Finding, Location, Severity
from ..review import ReviewResult
from .escape import json_visible
from .paths import SourcePaths

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/secreview/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "secreview/v1"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


class _Uris:
    """Artifact locations for the displayed paths of one review."""

    def __init__(self, paths: SourcePaths):
        self.paths = paths

    def artifact(self, path: str) -> dict[str, Any]:
        inside = self.paths.inside(path)
        if inside is None:
            return {"uri": Path(self.paths.full(path)).as_uri()}
        # surrogateescape: an undecodable byte of a file name is its own %XX, as in the name on disk
        return {"uri": quote(inside, errors="surrogateescape"), "uriBaseId": SRCROOT}

    def physical(self, location: Location) -> dict[str, Any]:
        return {"physicalLocation": {"artifactLocation": self.artifact(location.path), "region": _region(location)}}


def _region(location: Location) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": location.line, "startColumn": max(location.column, 1)}
    if location.end_line:
        region["endLine"] = location.end_line
    if location.end_column and (location.end_line > location.line or location.end_column > location.column):
        region["endColumn"] = location.end_column
    if location.snippet:
        region["snippet"] = {"text": location.snippet}
    return region


def _rule_descriptor(rule) -> dict[str, Any]:
    entry = cwe.lookup(rule.cwe)
    pillar = cwe.pillar(rule.cwe)
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.docs["What it does"]},
        "help": {"text": rule.doc_markdown, "markdown": rule.doc_markdown},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "relationships": [{
            "target": {"id": str(entry.id), "toolComponent": {"name": "CWE", "index": 0}},
            "kinds": ["superset"],
        }],
        "properties": {
            "tags": ["security", f"external/cwe/cwe-{entry.id}", f"pillar/cwe-{pillar.id}"],
            "precision": {3: "high", 2: "medium", 1: "low"}[int(rule.confidence)],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
        },
    }


def _taxonomy(cwe_ids: list[int]) -> dict[str, Any]:
    return {
        "name": "CWE",
        "organization": "MITRE",
        "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
        "informationUri": "https://cwe.mitre.org/",
        "taxa": [
            {"id": str(i), "name": cwe.lookup(i).name, "helpUri": f"https://cwe.mitre.org/data/definitions/{i}.html"}
            for i in sorted(set(cwe_ids))
        ],
    }


def _result(finding: Finding, rule_index: dict[str, int], uris: _Uris) -> dict[str, Any]:
    entry = cwe.lookup(finding.cwe)
    text = f"{finding.message} Fix: {finding.fix}"
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index[finding.rule],
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [uris.physical(finding.location)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "taxa": [{"id": str(entry.id), "toolComponent": {"name": "CWE", "index": 0}}],
        "properties": {
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "security-severity": _SECURITY_SEVERITY[finding.severity],
        },
    }
    if finding.trace:
        steps = [
            {"location": {**uris.physical(step.location), "message": {"text": step.label}}, "nestingLevel": 0}
            for step in finding.trace
        ]
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    return result


def _absent(entry, rule_index: dict[str, int], uris: _Uris) -> dict[str, Any]:
    """A baseline entry (or a finding before the change) that no longer occurs."""
    absent: dict[str, Any] = {
        "ruleId": entry.rule,
        "level": _LEVEL[Severity.parse(entry.severity)],
        "message": {"text": f"No longer found: {entry.message}"},
        "locations": [uris.physical(Location(entry.path, entry.line, snippet=entry.snippet))],
        "partialFingerprints": {FINGERPRINT_KEY: entry.fingerprint},
        "baselineState": "absent",
    }
    if entry.rule in rule_index:
        absent["ruleIndex"] = rule_index[entry.rule]
    return absent


def _results(result: ReviewResult, rule_index: dict[str, int], uris: _Uris) -> list[dict[str, Any]]:
    results = [_result(f, rule_index, uris) for f in result.findings]
    if result.baseline_state is None:
        return results
    for finding, entry in zip(result.findings, results):
        entry["baselineState"] = result.baseline_state.get(finding.fingerprint, "new")
    triaged = []
    for finding, triage in sorted(result.triaged, key=lambda item: item[0].sort_key):
        entry = _result(finding, rule_index, uris)
        entry["baselineState"] = "unchanged"
        justification = f"{triage.label}: {triage.reason}" if triage.reason else triage.label
        entry["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
        triaged.append(entry)
    return results + triaged + [_absent(e, rule_index, uris) for e in result.fixed]


def _provenance(result: ReviewResult) -> dict[str, Any]:
    if result.provenance is None:
        return {}
    details: dict[str, Any] = {"repositoryUri": result.provenance.repository_uri, "mappedTo": {"uriBaseId": SRCROOT}}
    if result.provenance.revision:
        details["revisionId"] = result.provenance.revision
    if result.provenance.branch:
        details["branch"] = result.provenance.branch
    return {"versionControlProvenance": [details]}


def _change_notifications(change, uris: _Uris) -> list[dict[str, Any]]:
    """The change's notes (it edits [tool.secreview]) and the suppressions it adds, which a
    reviewer must see although they are no results."""
    found: list[dict[str, Any]] = [{"level": "warning", "message": {"text": note}} for note in change.notes]
    for mark in change.added_suppressions:
        reason = mark.reason or "no reason given"
        found.append({
            "level": "note",
            "message": {"text": f"{mark.path}: line {mark.line}: suppression {mark.how}: {mark.what}: {reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": uris.artifact(mark.path),
                                                "region": {"startLine": mark.line}}}],
            "properties": {"kind": mark.kind, "rules": list(mark.rules), "reason": mark.reason,
                           "covers": list(mark.covers)},
        })
    return found


def document(result: ReviewResult) -> dict[str, Any]:
    rules = sorted({r.id: r for r in result.rules}.values(), key=lambda r: r.id)
    rule_index = {r.id: i for i, r in enumerate(rules)}
    root = result.root.resolve()
    uris = _Uris(SourcePaths.of(root, [review.path for review in result.files]))
    notifications = []
    for review in result.files:
        problems = [review.not_reviewed] if review.not_reviewed is not None else []
        problems += [f"not fully reviewed: {note}" for note in review.incomplete]
        for problem in problems:
            notifications.append({
                "level": "error" if review.not_reviewed is not None else "warning",
                "message": {"text": f"{review.path}: {problem}"},
                "locations": [{"physicalLocation": {"artifactLocation": uris.artifact(review.path)}}],
            })
    if result.change is not None:
        notifications.extend(_change_notifications(result.change, uris))
    root_uri = uris.paths.base.as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "secreview",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "informationUri": INFORMATION_URI,
                    "rules": [_rule_descriptor(r) for r in rules],
                    "supportedTaxonomies": [{"name": "CWE", "index": 0}],
                }
            },
            "taxonomies": [_taxonomy([r.cwe for r in rules])],
            "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": _results(result, rule_index, uris),
            "columnKind": "unicodeCodePoints",
            **_provenance(result),
            **_hidden(result),
        }],
    }


def _hidden(result: ReviewResult) -> dict[str, Any]:
    """How many findings the display thresholds left out of ``results``, so a consumer knows."""
    if not result.hidden:
        return {}
    return {"properties": {"hiddenFindings": len(result.hidden), "hiddenBy": display.thresholds(result)}}


def render(result: ReviewResult) -> str:
    return json_visible(json.dumps(document(result), indent=2, ensure_ascii=False)) + "\n"
