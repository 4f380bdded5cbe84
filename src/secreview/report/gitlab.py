"""GitLab's two report formats: the SAST security report and the Code Quality report.

- ``gitlab-sast`` is a security report of schema version 15 (``artifacts: reports: sast``): one
  vulnerability per finding, identified by its CWE and its secreview rule, with the fingerprint
  as its id, so GitLab tracks it across pipelines; files not (fully) reviewed become scan
  messages.  The scan's start and end times are the time of rendering (``SOURCE_DATE_EPOCH``
  when it is set, for reproducible output): the schema requires them.
- ``gitlab-codequality`` is the Code Climate subset GitLab reads (``reports: codequality``), shown
  in merge requests beside the changed lines.

Paths are relative to the repository's root, as GitLab resolves them, like SARIF's ``%SRCROOT%``.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

from .. import __version__, cwe
from ..findings import Finding, Severity
from ..review import ReviewResult
from .escape import json_visible
from .paths import SourcePaths

SAST_SCHEMA_VERSION = "15.0.6"
_SAST_SEVERITY = {Severity.CRITICAL: "Critical", Severity.HIGH: "High", Severity.MEDIUM: "Medium", Severity.LOW: "Low"}
_QUALITY_SEVERITY = {Severity.CRITICAL: "blocker", Severity.HIGH: "critical", Severity.MEDIUM: "major",
                     Severity.LOW: "minor"}
_TOOL = {"id": "secreview", "name": "secreview", "version": __version__, "vendor": {"name": "secreview"}}


def _timestamp() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    moment = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch.isdigit()
              else datetime.datetime.now(datetime.timezone.utc))
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _paths(result: ReviewResult) -> SourcePaths:
    return SourcePaths.of(result.root.resolve(), [review.path for review in result.files])


def _last_line(finding: Finding) -> int:
    return max(finding.location.end_line or finding.location.line, finding.location.line)


def _vulnerability(finding: Finding, paths: SourcePaths) -> dict[str, Any]:
    entry = cwe.lookup(finding.cwe)
    location = finding.location
    return {
        "id": finding.fingerprint,
        "category": "sast",
        "name": entry.name,
        "description": f"{finding.message}\n\nFix: {finding.fix}",
        "severity": _SAST_SEVERITY[finding.severity],
        "scanner": {"id": _TOOL["id"], "name": _TOOL["name"]},
        "solution": finding.fix,
        "location": {"file": paths.relative(location.path), "start_line": location.line,
                     "end_line": _last_line(finding)},
        "identifiers": [
            {"type": "cwe", "name": f"CWE-{entry.id}", "value": str(entry.id),
             "url": f"https://cwe.mitre.org/data/definitions/{entry.id}.html"},
            {"type": "secreview_rule", "name": f"secreview rule {finding.rule}", "value": finding.rule},
        ],
    }


def render_sast(result: ReviewResult) -> str:
    paths = _paths(result)
    now = _timestamp()
    messages = [{"level": "warn", "value": f"{paths.relative(path)}: {status}: {why}"}
                for path, status, why in result.gaps()]
    document = {
        "version": SAST_SCHEMA_VERSION,
        "scan": {"analyzer": _TOOL, "scanner": _TOOL, "type": "sast", "start_time": now, "end_time": now,
                 "status": "success", "messages": messages},
        "vulnerabilities": [_vulnerability(f, paths) for f in result.findings],
    }
    return json_visible(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def render_code_quality(result: ReviewResult) -> str:
    paths = _paths(result)
    issues = []
    for finding in result.findings:
        location = finding.location
        issues.append({
            "type": "issue",
            "check_name": finding.rule,
            "description": f"CWE-{finding.cwe}: {finding.message}",
            "content": {"body": f"Fix: {finding.fix}"},
            "categories": ["Security"],
            "severity": _QUALITY_SEVERITY[finding.severity],
            "fingerprint": finding.fingerprint,
            "location": {"path": paths.relative(location.path),
                         "lines": {"begin": location.line, "end": _last_line(finding)}},
        })
    return json_visible(json.dumps(issues, indent=2, ensure_ascii=False)) + "\n"
