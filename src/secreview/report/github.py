"""GitHub: workflow-command annotations (``--format github``) and a pull-request review (``github-review``).

Annotations are lines that a GitHub Actions step prints, ``::error file=...,line=...::message``;
GitHub shows them on the lines of the pull request.  Values are escaped as GitHub's runner
expects: ``%``, CR and LF everywhere, and ``:`` and ``,`` in properties as well.  Before that,
reviewed text (the message and the file name too) is made :func:`~.escape.visible`: the runner's
log shows ANSI escapes, and a file name that is not shown as it is cannot be placed on the pull
request anyway, while one with escapes visible still names the file in the run's summary.

The review is the body of ``POST /repos/{owner}/{repo}/pulls/{number}/reviews``: a summary, the
event ``COMMENT`` and one comment per finding on the right-hand (new) side.  GitHub only accepts
comments on lines of the pull request's diff, so for a change the comment goes on the first line
of the finding that the change added.  The ``path`` of a review comment stays exact (GitHub
refuses a review that names a file the pull request lacks); the bodies are made visible.
"""

from __future__ import annotations

import json
from typing import Any

from .. import cwe, display
from ..findings import Finding, Severity
from ..review import ReviewResult
from .escape import code_span, json_visible, markdown_prose, visible
from .gerrit import STILL_PRESENT, comment_text, suppression_text

_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, still_present: bool = False) -> str:
    location = finding.location
    properties = [("file", visible(location.path)), ("line", str(location.line)), ("endLine", str(location.end_line))]
    if location.end_line == location.line and location.column >= 1 and location.end_column > location.column:
        properties += [("col", str(location.column)), ("endColumn", str(location.end_column))]
    properties.append(("title", f"{finding.rule} (CWE-{finding.cwe}, {finding.severity.label})"))
    level = "warning" if still_present and finding.severity < Severity.HIGH else _LEVEL[finding.severity]
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{level} {joined}::{escape_data(comment_text(finding, still_present))}"


def _unreported_still_present(result: ReviewResult) -> list[Finding]:
    reported = {f.fingerprint for f in result.findings}
    return [f for f in result.still_present if f.fingerprint not in reported]


def render(result: ReviewResult) -> str:
    still = {f.fingerprint for f in result.still_present}
    lines: list[str] = []
    seen: set[str] = set()
    for finding in sorted(result.findings + _unreported_still_present(result), key=lambda f: f.sort_key):
        line = annotation(finding, finding.fingerprint in still)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    for path, status, why in result.gaps():
        lines.append(f"::warning file={escape_property(visible(path))},title={status}::{escape_data(visible(why))}")
    if result.hidden:
        lines.append(f"::notice title=findings hidden::{escape_data(display.hidden_note(result))}")
    if result.change is not None:
        for note in result.change.notes:
            lines.append(f"::warning title=configuration::{escape_data(visible(note))}")
        for mark in result.change.added_suppressions:
            title = "suppression added" if not mark.covers else "suppression covers changed lines"
            lines.append(f"::notice file={escape_property(visible(mark.path))},line={mark.line},endLine={mark.line},"
                         f"title={title}::{escape_data(suppression_text(mark))}")
    return "".join(f"{line}\n" for line in lines)


def _markdown(finding: Finding, still_present: bool) -> str:
    entry = cwe.lookup(finding.cwe)
    pillar = cwe.pillar(finding.cwe)
    parts = [
        (f"**{finding.severity.name}** [CWE-{entry.id}](https://cwe.mitre.org/data/definitions/{entry.id}.html) "
         f"{entry.name} · pillar CWE-{pillar.id} {pillar.name} · rule `{finding.rule}` · confidence {finding.confidence.label}"),
        markdown_prose(finding.message),
    ]
    if still_present:
        parts.append(f"**{STILL_PRESENT}**")
    if finding.trace:
        steps = [f"- line {s.location.line} ({markdown_prose(s.label)}): {code_span(s.location.snippet)}"
                 if s.location.path == finding.location.path
                 else f"- {code_span(s.location.path)}:{s.location.line} ({markdown_prose(s.label)}): "
                      f"{code_span(s.location.snippet)}"
                 for s in finding.trace]
        parts.append("Evidence:\n" + "\n".join(steps))
    parts.append(f"**Fix:** {markdown_prose(finding.fix)}")
    return "\n\n".join(parts)


def _comment_line(finding: Finding, result: ReviewResult) -> int | None:
    """The line to hang the comment on: the finding's own, unless only another line of it is in the change."""
    if result.change is None:
        return finding.location.line
    changed = next((c for c in result.change.files if c.path == finding.location.path), None)
    if changed is None:
        return None
    candidates = [finding.location.line] + [s.location.line for s in finding.trace if s.location.path == finding.location.path]
    return next((line for line in candidates if line in changed.added), None)


def review_document(result: ReviewResult) -> dict[str, Any]:
    still = {f.fingerprint for f in result.still_present}
    comments: list[dict[str, Any]] = []
    outside_diff: list[Finding] = []
    seen: set[tuple[str, int, str]] = set()
    for finding in sorted(result.findings + _unreported_still_present(result), key=lambda f: f.sort_key):
        body = _markdown(finding, finding.fingerprint in still)
        line = _comment_line(finding, result)
        if line is None:
            outside_diff.append(finding)
            continue
        if (finding.location.path, line, body) in seen:
            continue
        seen.add((finding.location.path, line, body))
        comments.append({"path": finding.location.path, "line": line, "side": "RIGHT", "body": body})
    total = len(result.findings)
    where = "on the lines this change touches" if result.change is not None else "in the reviewed code"
    if total:
        summary = f"secreview: {total} security finding{'s' if total != 1 else ''} {where}."
    elif result.hidden:
        summary = f"secreview: no findings to show {where}."
    else:
        summary = f"secreview: No security defects are detected {where}."
    if result.hidden:
        summary += f" {display.hidden_note(result).capitalize()}."
    if result.triaged:
        summary += f" {len(result.triaged)} triaged in the baseline."
    sections = [summary]
    if outside_diff:
        listed = [
            f"- {code_span(f.location.path)} line {f.location.line}: {f.severity.name} CWE-{f.cwe} `{f.rule}`"
            f"{' (still present after this change)' if f.fingerprint in still else ''}"
            for f in outside_diff
        ]
        sections.append("Outside the lines of this diff:\n" + "\n".join(listed))
    if result.fixed:
        sections.append(f"Fixed: {len(result.fixed)} finding{'s' if len(result.fixed) != 1 else ''} no longer found.")
    gaps = result.gaps()
    if gaps:
        sections.append("Not covered in full:\n" + "\n".join(f"- {code_span(path)} {status}: {markdown_prose(why)}"
                                                           for path, status, why in gaps))
    if result.change is not None:
        sections.extend(f"**Note:** {markdown_prose(note)}" for note in result.change.notes)
        added = result.change.added_suppressions
        if added:
            sections.append("Suppressions on the code this change writes:\n" + "\n".join(
                f"- {code_span(m.path)} line {m.line}: {code_span(m.what)}: "
                f"{markdown_prose(m.reason) if m.reason else 'no reason given'}"
                f"{f' ({m.how})' if m.covers else ''}"
                for m in added))
        # each on a line the change wrote too (GitHub accepts comments on the diff's lines only)
        comments.extend({"path": m.path, "line": m.covers[0] if m.covers else m.line, "side": "RIGHT",
                         "body": suppression_text(m)} for m in added)
    return {"body": "\n\n".join(sections), "event": "COMMENT", "comments": comments}


def render_review(result: ReviewResult) -> str:
    return json_visible(json.dumps(review_document(result), indent=2, ensure_ascii=False)) + "\n"
