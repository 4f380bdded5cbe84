"""Orchestration: discover → parse → analyse → policy, producing a :class:`ReviewResult`.

:func:`review_file` is pure (bytes and settings in, a :class:`FileReview` out) so it can run in
any process and be cached by content.  A failure inside one rule costs that rule on that file,
reported as "not fully reviewed", never the review.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import policy, rules
from .config import Config
from .discover import SourceFile, discover
from .findings import FileReview, Finding, Severity, assign_fingerprints
from .python.module import ModuleContext
from .python.source import NotReviewable, parse

if TYPE_CHECKING:
    from .baseline import BaselineEntry
    from .changes import Change, Provenance


@dataclass
class ReviewResult:
    files: list[FileReview]
    config: Config
    rules: list[rules.Rule]
    root: Path = field(default_factory=Path.cwd)  # the base of displayed paths (SARIF %SRCROOT%)
    # Set by the filters that run after the review (changes.review_change, baseline.compare):
    change: Change | None = None  # the change reviewed, with its commit message
    provenance: Provenance | None = None  # repository and revision, for SARIF
    baseline_state: dict[str, str] | None = None  # fingerprint -> "new" / "unchanged"; None: nothing compared
    fixed: list[BaselineEntry] = field(default_factory=list)  # compared findings that no longer occur
    still_present: list[Finding] = field(default_factory=list)  # in code the commit message says it fixes

    @property
    def findings(self) -> list[Finding]:
        return [f for review in self.files for f in review.findings]

    def exit_code(self) -> int:
        return 1 if any(f.severity >= self.config.fail_on for f in self.findings) else 0


def active_rules(config: Config) -> list[rules.Rule]:
    return [r for r in rules.all_rules() if config.rule_enabled(r.id, r.cwe)]


def review_file(source_file: SourceFile, data: bytes, config: Config, active: list[rules.Rule]) -> FileReview:
    result = FileReview(path=source_file.path, is_test=source_file.is_test)
    try:
        parsed = parse(source_file.path, data, config.max_file_size)
    except NotReviewable as exc:
        result.not_reviewed = str(exc)
        return result
    ctx = ModuleContext(parsed, module_name=source_file.module, is_test=source_file.is_test)
    found: list[Finding] = []
    for rule in active:
        if source_file.is_test and not policy.applies_in_tests(rule.relevant_in_tests, config):
            continue
        try:
            found.extend(rule.run(ctx))
        except RecursionError:
            result.incomplete.append(f"rule {rule.id} stopped: code nested too deeply")
        except Exception as exc:  # a rule bug must not cost the rest of the review
            result.incomplete.append(f"rule {rule.id} failed: {type(exc).__name__}: {exc}")
    found = _dedupe(sorted(found, key=lambda f: f.sort_key))
    applied = policy.apply_suppressions(found, parsed, config)
    result.findings = assign_fingerprints(applied.kept)
    result.unused_suppressions = [(m.line, m.text) for m in applied.unused]
    result.bare_suppressions = [m.line for m in applied.bare]
    return result


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and location: two paths to the same sink are one defect."""
    seen: set[tuple] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.rule, finding.location.line, finding.location.column)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _read(source_file: SourceFile) -> bytes:
    if source_file.absolute is None:
        return sys.stdin.buffer.read()
    return source_file.absolute.read_bytes()


def review_files(files: list[SourceFile], config: Config, reviews: list[FileReview] | None = None) -> ReviewResult:
    """Review already discovered files; ``reviews`` holds entries for paths that could not be read."""
    active = active_rules(config)
    reviews = list(reviews or [])
    for source_file in files:
        try:
            data = _read(source_file)
        except OSError as exc:
            reviews.append(FileReview(source_file.path, source_file.is_test, not_reviewed=f"cannot be read: {exc.strerror}"))
            continue
        reviews.append(review_file(source_file, data, config, active))
    reviews.sort(key=lambda r: r.path)
    return ReviewResult(files=reviews, config=config, rules=active, root=Path.cwd())


def review(paths: list[str], config: Config) -> ReviewResult:
    files, problems = discover(paths, config)
    return review_files(files, config, [FileReview(path=p.path, not_reviewed=p.reason) for p in problems])
