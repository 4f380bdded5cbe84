"""Policy: which of the analysis's findings the user is shown.

Applied per file after analysis, in this order: suppression comments, then the test-code
policy.  Baselines and diffs are further filters over the whole review, applied after these.

Three kinds of suppression comment, each on any line of the finding's statement:

- ``# secreview: ignore[rule-or-CWE, ...] reason``, always honoured; a bare ``ignore`` silences
  every rule and is listed by ``--strict``;
- Bandit's ``# nosec``, honoured with ``nosec`` (``--nosec``): ``# nosec B602, B607`` (ids or
  Bandit's test names, as Bandit reads them) silences only the rules that name those ids as
  counterparts (:attr:`secreview.rules.Rule.bandit`); a ``# nosec`` that names no test silences
  every rule, as in Bandit;
- ``# noqa`` of Ruff and flake8, honoured with ``noqa`` (``--noqa``): ``# noqa: S324`` silences
  the rules that name that S code (:attr:`~secreview.rules.Rule.ruff`); a bare ``# noqa``
  silences every rule, as in Ruff.  Codes of other linters (``E501``) are not secreview's and
  are dropped when the comment is read, so ``# noqa: E501`` suppresses nothing here.

``--strict`` lists each honoured suppression that silenced nothing, of every kind, except
those that are not secreview's to judge: a bare ``# noqa`` (it serves every linter) and a
``# nosec``/``# noqa`` naming only codes no secreview rule maps (B110, S113: another tool's
rule that secreview does not have).

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
# Bandit's own reading of a nosec comment (bandit/core/manager.py): the tests named up to the next '#'
_NOSEC = re.compile(r"#\s*nosec\b:?\s*(?P<tests>[^#]+)?", re.IGNORECASE)
_NOSEC_TEST = re.compile(r"B\d+|[a-z\d_]+", re.IGNORECASE)
# flake8's and Ruff's: codes only after a colon; '# noqa E501' is a bare noqa to both
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_RUFF_SECURITY_CODE = re.compile(r"S\d+")

SECREVIEW, NOSEC, NOQA = "secreview", "nosec", "noqa"

# Bandit's test names, which '# nosec' accepts in place of ids, for the ids secreview's rules map
BANDIT_TEST_NAMES = {
    "assert_used": "B101", "exec_used": "B102", "set_bad_file_permissions": "B103",
    "hardcoded_bind_all_interfaces": "B104", "hardcoded_password_string": "B105",
    "hardcoded_password_funcarg": "B106", "hardcoded_password_default": "B107",
    "hardcoded_tmp_directory": "B108", "flask_debug_true": "B201", "tarfile_unsafe_members": "B202",
    "pickle": "B301", "marshal": "B302", "md5": "B303", "ciphers": "B304", "cipher_modes": "B305",
    "mktemp_q": "B306", "eval": "B307", "mark_safe": "B308", "random": "B311",
    "xml_bad_celementtree": "B313", "xml_bad_elementtree": "B314", "xml_bad_expatreader": "B315",
    "xml_bad_expatbuilder": "B316", "xml_bad_sax": "B317", "xml_bad_minidom": "B318",
    "xml_bad_pulldom": "B319", "xml_bad_etree": "B320", "unverified_context": "B323",
    "hashlib": "B324", "hashlib_new": "B324", "hashlib_insecure_functions": "B324", "tempnam": "B325",
    "request_with_no_cert_validation": "B501", "ssl_with_bad_version": "B502",
    "weak_cryptographic_key": "B505", "yaml_load": "B506", "ssh_no_host_key_verification": "B507",
    "subprocess_popen_with_shell_equals_true": "B602", "subprocess_without_shell_equals_true": "B603",
    "any_other_function_with_shell_equals_true": "B604", "start_process_with_a_shell": "B605",
    "start_process_with_no_shell": "B606", "hardcoded_sql_expressions": "B608",
    "django_extra_used": "B610", "django_rawsql_used": "B611", "pytorch_load": "B614",
    "django_mark_safe": "B703", "markupsafe_markup_xss": "B704",
}


@dataclass(frozen=True)
class Suppression:
    line: int
    # secreview: rule ids or CWE-N; nosec: Bandit ids (B602); noqa: Ruff S codes (S602).
    # Empty: a bare suppression, which silences every rule.
    selectors: tuple[str, ...]
    text: str
    kind: str = SECREVIEW  # nosec and noqa are honoured only when configured


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
    """Every directive of every comment: one comment may hold several (``# nosec B602  # noqa: S602``)."""
    found: list[Suppression] = []
    for line, comment in sorted(source.comments.items()):
        match = _IGNORE.search(comment)
        if match:
            raw = match.group("selectors")
            selectors = tuple(s.strip() for s in raw.split(",") if s.strip()) if raw is not None else ()
            found.append(Suppression(line, selectors, comment.strip()))
            comment = comment[:match.start()]  # its reason may mention nosec or noqa
        match = _NOSEC.search(comment)
        if match:
            found.append(Suppression(line, _bandit_ids(match.group("tests") or ""),
                                     match.group(0).strip(), NOSEC))
        match = _NOQA.search(comment)
        if match:
            codes = [c.upper() for c in re.split(r"[,\s]+", match.group("codes") or "") if c]
            security = tuple(c for c in codes if _RUFF_SECURITY_CODE.fullmatch(c))
            if not codes or security:  # '# noqa: E501' is another linter's business
                found.append(Suppression(line, security, match.group(0).strip(), NOQA))
    return found


def _bandit_ids(tests: str) -> tuple[str, ...]:
    """The Bandit ids a nosec comment names; words that are neither an id nor a test name are
    its reason, and a comment that names no test is a bare nosec (Bandit reads it so too)."""
    ids: list[str] = []
    for word in _NOSEC_TEST.findall(tests):
        code = word.upper() if re.fullmatch(r"B\d+", word, re.IGNORECASE) else BANDIT_TEST_NAMES.get(word.lower())
        if code and code not in ids:
            ids.append(code)
    return tuple(ids)


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


def _keys(mark: Suppression) -> tuple[str, ...]:
    """What a mark silences, as the keys a finding looks up: "" (every rule), a rule id or a CWE."""
    if not mark.selectors:
        return ("",)
    if mark.kind == SECREVIEW:
        return tuple(_selector_key(s) for s in mark.selectors)
    from . import rules  # imported here: the rules import the engine, which policy must not need

    return tuple(rule_id for code in mark.selectors for rule_id in rules.by_foreign_code(code))


def _judged_when_unused(mark: Suppression, keys: tuple[str, ...]) -> bool:
    if mark.kind == NOQA and not mark.selectors:
        return False  # a bare noqa serves every linter on the line
    return bool(keys)  # codes that no secreview rule maps are another tool's business


def apply_suppressions(findings: list[Finding], marks: SuppressionMarks, config: Config) -> PolicyResult:
    wanted_kinds = {SECREVIEW} | ({NOSEC} if config.nosec else set()) | ({NOQA} if config.noqa else set())
    honoured = [m for m in marks.suppressions if m.kind in wanted_kinds]
    if not honoured:
        return PolicyResult(findings, [], [])
    keys = {mark: _keys(mark) for mark in honoured}

    def span_key(line: int) -> tuple[int, int]:
        return marks.statements.get(line) or (line, line + 1)

    # Marks grouped by their statement, then by what they name ("" for a bare ignore).  A finding
    # looks up only its own statements' groups, and a group is marked used once, so a generated
    # file with one comment on each line of a huge statement costs linear time, not quadratic.
    groups: dict[tuple[int, int], dict[str, list[Suppression]]] = {}
    for mark in honoured:
        by_selector = groups.setdefault(span_key(mark.line), {})
        for key in keys[mark]:
            by_selector.setdefault(key, []).append(mark)
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
    unused = [m for m in honoured if m not in used and _judged_when_unused(m, keys[m])]
    bare = [m for m in honoured if not m.selectors and m.kind == SECREVIEW]
    return PolicyResult(kept, unused, bare)


def applies_in_tests(relevant_in_tests: bool, config: Config) -> bool:
    if config.test_code == "all":
        return True
    if config.test_code == "off":
        return False
    return relevant_in_tests
