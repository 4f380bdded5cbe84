"""What a report shows: the last step of policy, after suppressions, test code, baseline and diff.

``min-severity`` and ``min-confidence`` choose which findings a report lists, in every format.
A finding below them is counted (``ReviewResult.hidden``) and every summary says how many were
hidden, so a reader never takes a filtered report for a clean one.  The exit code follows what
is shown, as ``--fail-on`` would if it were set no lower: a gate that hides low findings does not
fail on them.  Nothing else changes: a file is still (not) reviewed, and ``--write-baseline``
records every finding, hidden or not.
"""

from __future__ import annotations

import dataclasses

from .findings import Confidence, Finding, Severity
from .review import ReviewResult


def shown(result: ReviewResult) -> ReviewResult:
    """``result`` with the findings below the configured thresholds taken out and counted."""
    config = result.config
    if config.min_severity == Severity.LOW and config.min_confidence == Confidence.LOW:
        return result

    def visible(finding: Finding) -> bool:
        return finding.severity >= config.min_severity and finding.confidence >= config.min_confidence

    hidden = [f for review in result.files for f in review.findings if not visible(f)]
    if not hidden:
        return result
    files = [dataclasses.replace(review, findings=[f for f in review.findings if visible(f)]) for review in result.files]
    return dataclasses.replace(result, files=files, hidden=result.hidden + hidden,
                               still_present=[f for f in result.still_present if visible(f)])


def thresholds(result: ReviewResult) -> str:
    """The thresholds that hid findings, as a reader would set them again: ``min-severity high``."""
    config = result.config
    parts = []
    if config.min_severity != Severity.LOW:
        parts.append(f"min-severity {config.min_severity.label}")
    if config.min_confidence != Confidence.LOW:
        parts.append(f"min-confidence {config.min_confidence.label}")
    return ", ".join(parts)


def hidden_by_file(result: ReviewResult) -> dict[str, str]:
    """Path -> ``2 findings hidden (min-severity high)``, for each file with hidden findings."""
    counts: dict[str, int] = {}
    for finding in result.hidden:
        counts[finding.location.path] = counts.get(finding.location.path, 0) + 1
    return {path: _counted(count, result) for path, count in counts.items()}


def _counted(count: int, result: ReviewResult) -> str:
    return f"{count} finding{'' if count == 1 else 's'} hidden ({thresholds(result)})"


def hidden_note(result: ReviewResult) -> str:
    """``3 findings hidden (min-severity high)``, or "" when none were hidden."""
    return _counted(len(result.hidden), result) if result.hidden else ""
