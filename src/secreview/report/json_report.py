"""Machine-readable review, schema ``secreview/review`` version 1.

The schema is published as ``review.schema.json`` beside this module and every test that
produces JSON validates against it.  Fields are only ever added within a version; a removal or
a change of meaning bumps ``version``.  Values are exact; the characters that could act when the
document is printed are written as JSON escapes by :func:`~.escape.json_visible`.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__, cwe
from ..findings import Finding, Location
from ..review import ReviewResult
from .escape import json_visible

SCHEMA_ID = "secreview/review"
SCHEMA_VERSION = 1


def location_dict(location: Location) -> dict[str, Any]:
    return {
        "path": location.path,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "end_column": location.end_column,
        "snippet": location.snippet,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    entry = cwe.lookup(finding.cwe)
    pillar = cwe.pillar(finding.cwe)
    return {
        "rule": finding.rule,
        "cwe": {"id": f"CWE-{entry.id}", "name": entry.name},
        "pillar": {"id": f"CWE-{pillar.id}", "name": pillar.name},
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "location": location_dict(finding.location),
        "scope": finding.scope,
        "message": finding.message,
        "fix": finding.fix,
        "trace": [{"location": location_dict(s.location), "label": s.label} for s in finding.trace],
        "fingerprint": finding.fingerprint,
    }


def document(result: ReviewResult) -> dict[str, Any]:
    files = []
    for review in result.files:
        files.append({
            "path": review.path,
            "test_code": review.is_test,
            "reviewed": review.not_reviewed is None,
            "not_reviewed_reason": review.not_reviewed,
            "incomplete": list(review.incomplete),
            "findings": [finding_dict(f) for f in review.findings],
            "unused_suppressions": [{"line": line, "text": text} for line, text in review.unused_suppressions],
            "bare_suppressions": list(review.bare_suppressions),
        })
    counts = {s: 0 for s in ("critical", "high", "medium", "low")}
    for finding in result.findings:
        counts[finding.severity.label] += 1
    change = {} if result.change is None else {"change": change_dict(result.change)}
    return {
        "schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "tool": {"name": "secreview", "version": __version__},
        "files": files,
        "triaged": [{"finding": finding_dict(f), "status": t.status, "reason": t.reason}
                    for f, t in sorted(result.triaged, key=lambda item: item[0].sort_key)],
        "summary": {
            "files_reviewed": sum(1 for f in files if f["reviewed"]),
            "files_not_reviewed": sum(1 for f in files if not f["reviewed"]),
            "files_not_fully_reviewed": sum(1 for f in files if f["reviewed"] and f["incomplete"]),
            "findings": sum(counts.values()),
            "by_severity": counts,
            "hidden": len(result.hidden),
            "triaged": len(result.triaged),
        },
        **change,
    }


def change_dict(change) -> dict[str, Any]:
    """What a reviewer of a change must see besides its findings."""
    return {
        "notes": list(change.notes),
        "added_suppressions": [
            {"path": s.path, "line": s.line, "kind": s.kind, "rules": list(s.rules), "reason": s.reason,
             "comment": s.comment, "covers": list(s.covers)}
            for s in change.added_suppressions
        ],
    }


def render(result: ReviewResult) -> str:
    return json_visible(json.dumps(document(result), indent=2, sort_keys=False, ensure_ascii=False)) + "\n"
