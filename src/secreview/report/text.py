"""The review text: what a careful reviewer would write, the same way every time.

Files are listed in path order, findings by line.  Every finding states its severity, CWE and
pillar, the exact line, the evidence (the data-flow trace when there is one), and the fix.
A file with nothing to report says so plainly.  A tree's report scales: it lists the files with
something to say (findings, hidden findings, a reason it was not fully reviewed, suppressions
``--strict`` reports), then one line for the clean rest (``--show-clean`` lists each), and ends
with a table of findings per rule and severity before the summary.
"""

from __future__ import annotations

from .. import cwe, display
from ..findings import FileReview, Finding, Severity
from ..review import ReviewResult
from .colour import PLAIN, Palette
from .escape import visible, visible_lines

CLEAN = "No security defects are detected in the code."
CLEAN_CHANGE = "No security defects are detected in the lines this change touches."
CLEAN_BEYOND_BASELINE = "No security defects beyond the baseline are detected in the code."
# a file whose review stopped short cannot be called clean, only its reviewed part
CLEAN_SO_FAR = "No security defects are detected in the part of the code that was reviewed."
_INDENT = " " * 8


def render_finding(finding: Finding, palette: Palette = PLAIN) -> list[str]:
    entry = cwe.lookup(finding.cwe)
    pillar = cwe.pillar(finding.cwe)
    severity = finding.severity.name
    padding = " " * max(0, 7 - len(severity))
    lines = [
        f"  {palette.severity(finding.severity, severity)}{padding} CWE-{finding.cwe}  {entry.name}",
        f"{_INDENT}pillar CWE-{pillar.id} {pillar.name} · rule {palette.rule(finding.rule)} · confidence "
        f"{finding.confidence.label}",
        f"{_INDENT}{palette.line(f'line {finding.location.line}')}: {visible(finding.location.snippet)}",
        f"{_INDENT}{visible(finding.message)}",
    ]
    if finding.trace:
        lines.append(f"{_INDENT}Evidence:")
        for step in finding.trace:
            where = f"line {step.location.line}"
            if step.location.path != finding.location.path:
                where = f"{visible(step.location.path)}:{step.location.line}"
            lines.append(f"{_INDENT}  {where}: {visible(step.label)}: {visible(step.location.snippet)}")
    lines.append(f"{_INDENT}Fix: {visible(finding.fix)}")
    return lines


def render_file(review: FileReview, strict: bool = False, clean: str = CLEAN, hidden: str = "",
                palette: Palette = PLAIN) -> list[str]:
    """``hidden``: the note on this file's findings below the display thresholds, if any; the
    file is then not called clean."""
    lines = [visible(review.path)]
    if review.not_reviewed is not None:
        lines.append(f"  not reviewed: {visible(review.not_reviewed)}")
        return lines
    for finding in review.findings:
        lines.extend(render_finding(finding, palette))
    for note in review.incomplete:
        lines.append(f"  not fully reviewed: {visible(note)}")
    if hidden:
        lines.append(f"  {hidden}")
    elif not review.findings:
        lines.append(f"  {CLEAN_SO_FAR if review.incomplete else clean}")
    if strict:
        for line, text in review.unused_suppressions:
            lines.append(f"  unused suppression, line {line}: {visible(text)}")
        for line in review.bare_suppressions:
            lines.append(f"  suppression without a rule or CWE, line {line}")
    return lines


def summary(result: ReviewResult) -> str:
    reviewed = sum(1 for r in result.files if r.not_reviewed is None)
    folders = sum(1 for r in result.files if r.is_folder)
    skipped = len(result.files) - reviewed - folders
    if folders:
        walked = f"{folders} {'folder' if folders == 1 else 'folders'}"
        skipped = f"{skipped} {'file' if skipped == 1 else 'files'} and {walked}" if skipped else walked
    counts = {s: 0 for s in Severity}
    for finding in result.findings:
        counts[finding.severity] += 1
    by_severity = ", ".join(f"{s.label} {counts[s]}" for s in sorted(Severity, reverse=True))
    total = sum(counts.values())
    noun = "finding" if total == 1 else "findings"
    files = "file" if reviewed == 1 else "files"
    partial = sum(1 for r in result.files if r.not_reviewed is None and r.incomplete)
    partly = f" ({partial} not fully)" if partial else ""
    hidden = f"; {display.hidden_note(result)}" if result.hidden else ""
    if result.triaged:
        hidden += f"; {len(result.triaged)} triaged in the baseline"
    return f"Summary: {reviewed} {files} reviewed{partly}, {skipped} not reviewed; {total} {noun} ({by_severity}){hidden}."


def render_change(change) -> list[str]:
    """The change under review and its commit message, which is what the reviewer reads first."""
    lines = [f"Change: {visible(change.description)}"]
    if change.deleted:
        lines.append(f"  deleted, not reviewed: {', '.join(visible(path) for path in change.deleted)}")
    for note in change.notes:
        lines.append(f"  note: {visible(note)}")
    if change.message:
        lines.append("Commit message:")
        lines.extend(f"    {line}".rstrip() for line in visible_lines(change.message.rstrip("\n")))
    return lines


def render_added_suppressions(change) -> list[str]:
    """The suppression comments the change adds: a reviewer decides whether each is justified."""
    added = change.added_suppressions
    if not added:
        return []
    lines = [f"Suppressions on the code this change writes ({len(added)}):"]
    for mark in added:
        reason = visible(mark.reason) if mark.reason else "no reason given"
        covers = f" ({mark.how})" if mark.covers else ""
        lines.append(f"  {visible(mark.path)} line {mark.line}: {visible(mark.what)}: {reason}{covers}")
    return lines


def render_still_present(findings: list[Finding]) -> list[str]:
    lines = ["Still present after this change, although the commit message speaks of a fix:"]
    for finding in findings:
        lines.append(f"  {visible(finding.location.path)} line {finding.location.line}: {finding.severity.name} "
                     f"CWE-{finding.cwe} {finding.rule}: {visible(finding.location.snippet)}")
        lines.append(f"    {visible(finding.message)}")
    return lines


def render_triaged(result: ReviewResult) -> list[str]:
    """Findings a reviewer triaged in the baseline: reported as suppressed, with the reason."""
    lines = [f"Triaged in the baseline, not counted ({len(result.triaged)}):"]
    for finding, triage in sorted(result.triaged, key=lambda item: item[0].sort_key):
        reason = visible(triage.reason) if triage.reason else "no reason given"
        lines.append(f"  {visible(finding.location.path)} line {finding.location.line}: {finding.severity.name} "
                     f"CWE-{finding.cwe} {finding.rule}: {triage.label}: {reason}")
    return lines


def render_stale_triage(result: ReviewResult) -> list[str]:
    """With --strict: triage entries whose finding no longer occurs (they can be removed)."""
    stale = sorted((e for e in result.fixed if getattr(e, "status", "")), key=lambda e: (e.path, e.line, e.rule))
    if not stale:
        return []
    lines = [f"Triage entries that no longer match a finding ({len(stale)}):"]
    for entry in stale:
        lines.append(f"  {visible(entry.path)} (line {entry.line} before): {visible(entry.rule)}: "
                     f"{visible(entry.status)}: {visible(entry.reason) or 'no reason given'}")
    return lines


def render_fixed(result: ReviewResult) -> list[str]:
    title = "Fixed by this change" if result.change is not None else "Fixed since the baseline"
    lines = [f"{title} ({len(result.fixed)}):"]
    for entry in sorted(result.fixed, key=lambda e: (e.path, e.line, e.rule)):
        lines.append(f"  {visible(entry.path)} (line {entry.line} before): {visible(entry.severity.upper())} "
                     f"CWE-{entry.cwe} {visible(entry.rule)}: {visible(entry.snippet)}")
    return lines


def _clean_rest(clean: str, count: int) -> str:
    """The clean statement for ``count`` files not listed one by one."""
    files = f"the other {count} file{'' if count == 1 else 's'}"
    if clean.endswith(" in the code."):
        return f"{clean.removesuffix(' in the code.')} in {files} (--show-clean lists them)."
    return f"{clean.removesuffix('.')} in {files} (--show-clean lists them)."


def render_table(findings: list[Finding]) -> list[str]:
    """Findings per rule and severity, the rules with the most severe findings first."""
    order = sorted(Severity, reverse=True)
    counts: dict[str, dict[Severity, int]] = {}
    for finding in findings:
        row = counts.setdefault(finding.rule, {s: 0 for s in Severity})
        row[finding.severity] += 1
    width = max(len("rule"), *(len(rule) for rule in counts))
    lines = ["Findings by rule:", f"  {'rule':<{width}}  " + "  ".join(f"{s.label:>8}" for s in order)]
    ranked = sorted(counts.items(), key=lambda item: ([-item[1][s] for s in order], item[0]))
    for rule, row in ranked:
        lines.append(f"  {rule:<{width}}  " + "  ".join(f"{row[s]:>8}" for s in order))
    return lines


def _has_something_to_say(lines: list[str], clean: str) -> bool:
    """Whether a rendered file says more than its name and the clean statement."""
    return lines[1:] != [f"  {clean}"]


def clean_statement(result: ReviewResult) -> str:
    """What a file without findings is called: in the code, in a change, or beyond a baseline."""
    if result.change is not None:
        return CLEAN_CHANGE
    if result.baseline_state is not None:
        return CLEAN_BEYOND_BASELINE
    return CLEAN


def render(result: ReviewResult, palette: Palette = PLAIN) -> str:
    clean = clean_statement(result)
    blocks = []
    if result.change is not None:
        blocks.append("\n".join(render_change(result.change)))
        if result.change.added_suppressions:
            blocks.append("\n".join(render_added_suppressions(result.change)))
    if result.still_present:
        blocks.append("\n".join(render_still_present(result.still_present)))
    hidden = display.hidden_by_file(result)
    one_by_one = result.config.show_clean or len(result.files) == 1
    listed, clean_files = 0, 0
    for review in result.files:
        lines = render_file(review, result.config.strict, clean, hidden.get(review.path, ""), palette)
        if one_by_one or _has_something_to_say(lines, clean):
            blocks.append("\n".join(lines))
            listed += 1
        else:
            clean_files += 1
    if clean_files and not listed:
        blocks.append(f"{clean}\n  ({clean_files} files; --show-clean lists them)")
    elif clean_files:
        blocks.append(_clean_rest(clean, clean_files))
    if len(result.files) > 1 and result.findings:
        blocks.append("\n".join(render_table(result.findings)))
    if not result.files:
        none = "No Python files were changed." if result.change is not None else "No Python files were found to review."
        blocks.append(none)
    if result.triaged:
        blocks.append("\n".join(render_triaged(result)))
    if result.fixed:
        blocks.append("\n".join(render_fixed(result)))
    stale = render_stale_triage(result) if result.config.strict else []
    if stale:
        blocks.append("\n".join(stale))
    return "\n\n".join(blocks) + "\n\n" + summary(result) + "\n"
