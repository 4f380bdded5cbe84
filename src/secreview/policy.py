"""Policy: which of the analysis's findings the user is shown.

Applied per file after analysis, in this order: suppression comments (``# secreview:
ignore[...]`` and, when configured, Bandit's ``# nosec``), then the test-code policy.  Baselines
and diffs are further filters over the whole review, applied after these.

Policy is a function of the raw findings, the file's :class:`SuppressionMarks` and the
configuration, never of the parsed file itself: it is applied on every run, to analyses fresh
or from the cache, so a policy setting (``nosec``, ``strict``, ``test-code`` for flows arriving
in test code, ``fail-on``) is not part of the cache key.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .config import Config
from .findings import Finding
from .python.source import ParsedSource

_IGNORE = re.compile(r"#\s*secreview:\s*ignore(?:\[(?P<selectors>[^\]]*)\])?(?P<reason>.*)$", re.IGNORECASE)
_NOSEC = re.compile(r"#.*\bnosec\b", re.IGNORECASE)


@dataclass(frozen=True)
class Suppression:
    line: int
    selectors: tuple[str, ...]  # empty: a bare ignore, which silences every rule
    text: str
    nosec: bool = False  # Bandit's '# nosec': honoured only when configured

    def matches(self, finding: Finding) -> bool:
        if not self.selectors:
            return True
        return any(s == finding.rule or s.upper() == f"CWE-{finding.cwe}" for s in self.selectors)


@dataclass(frozen=True)
class SuppressionMarks:
    """All that policy needs of a file's text: its suppression comments, whatever the
    configuration honours, and the statement of each line those comments' statements cover.

    Taken once when the file is parsed and kept with its analysis (and in the cache), so policy
    can be applied again (another ``nosec`` setting, flows arriving from other files) without
    parsing the file again.  A finding's line outside ``statements`` shares no statement with
    any suppression, so it can be matched by none.
    """

    suppressions: tuple[Suppression, ...] = ()
    statements: dict[int, tuple[int, int]] = field(default_factory=dict)  # line -> (first, last + 1) of its statement


def suppression_marks(source: ParsedSource) -> SuppressionMarks:
    found = _suppressions(source)
    if not found:
        return SuppressionMarks()
    spans = statement_spans(source.tree)

    def key(line: int) -> tuple[int, int]:
        span = spans.get(line)
        return (span.start, span.stop) if span else (line, line + 1)

    statements: dict[int, tuple[int, int]] = {}
    for first, stop in {key(mark.line) for mark in found}:  # a statement once, however many comments it has
        for line in range(first, stop):
            statements[line] = key(line)
    return SuppressionMarks(tuple(found), statements)


def _suppressions(source: ParsedSource) -> list[Suppression]:
    found: list[Suppression] = []
    for line, comment in sorted(source.comments.items()):
        match = _IGNORE.search(comment)
        if match:
            raw = match.group("selectors")
            selectors = tuple(s.strip() for s in raw.split(",") if s.strip()) if raw is not None else ()
            found.append(Suppression(line, selectors, comment.strip()))
        elif _NOSEC.search(comment):
            found.append(Suppression(line, (), comment.strip(), nosec=True))
    return found


def statement_spans(tree: ast.Module) -> dict[int, range]:
    """Each line -> the lines of the innermost simple statement (or compound header) on it."""
    spans: dict[int, range] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = max(node.lineno, body[0].lineno - 1)
        span = range(node.lineno, end + 1)
        for line in span:
            current = spans.get(line)
            if current is None or len(span) < len(current):
                spans[line] = span
    return spans


@dataclass
class PolicyResult:
    kept: list[Finding]
    unused: list[Suppression]
    bare: list[Suppression]


def _selector_key(selector: str) -> str:
    """Rule ids match exactly, CWE selectors in any case (as in :meth:`Suppression.matches`)."""
    return selector.upper() if selector.upper().startswith("CWE-") else selector


def apply_suppressions(findings: list[Finding], marks: SuppressionMarks, config: Config) -> PolicyResult:
    honoured = [m for m in marks.suppressions if config.nosec or not m.nosec]
    if not honoured:
        return PolicyResult(findings, [], [])

    def span_key(line: int) -> tuple[int, int]:
        return marks.statements.get(line) or (line, line + 1)

    # Marks grouped by their statement, then by what they name ("" for a bare ignore).  A finding
    # looks up only its own statements' groups, and a group is marked used once, so a generated
    # file with one comment on each line of a huge statement costs linear time, not quadratic.
    groups: dict[tuple[int, int], dict[str, list[Suppression]]] = {}
    for mark in honoured:
        by_selector = groups.setdefault(span_key(mark.line), {})
        for selector in mark.selectors or ("",):
            by_selector.setdefault(_selector_key(selector), []).append(mark)
    used_groups: set[tuple[tuple[int, int], str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        wanted = ("", finding.rule, f"CWE-{finding.cwe}")
        suppressed = False
        statements = {span_key(line) for line in range(finding.location.line, finding.location.end_line + 1)}
        for statement in statements:
            by_selector = groups.get(statement, {})
            for selector in wanted:
                if selector in by_selector:
                    suppressed = True
                    used_groups.add((statement, selector))
        if not suppressed:
            kept.append(finding)
    used = {mark for statement, selector in used_groups for mark in groups[statement][selector]}
    unused = [m for m in honoured if m not in used]
    bare = [m for m in honoured if not m.selectors and "nosec" not in m.text.lower()]
    return PolicyResult(kept, unused, bare)


def applies_in_tests(relevant_in_tests: bool, config: Config) -> bool:
    if config.test_code == "all":
        return True
    if config.test_code == "off":
        return False
    return relevant_in_tests
