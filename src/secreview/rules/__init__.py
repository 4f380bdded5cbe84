"""Rules: declared units with metadata and one check each, grouped one family per module.

A rule is a function over a :class:`~secreview.python.module.ModuleContext` that yields
:class:`Issue` objects, registered with :func:`rule`.  Its docstring is its documentation,
written under the fixed headings of :data:`DOC_HEADINGS`; the same text feeds ``secreview
explain``, the ``rules`` listing and SARIF rule metadata.  The engine finds rules by importing
every module of this package, so it never knows one by name.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from .. import cwe as cwe_catalogue
from ..findings import Confidence, Finding, Severity, TraceStep
from ..python.module import ModuleContext

DOC_HEADINGS = ("What it does", "Why it matters", "Example", "Fix", "References")


@dataclass(frozen=True)
class Issue:
    """What a check yields: the node at fault and what to say about it."""

    node: ast.AST
    message: str
    fix: str
    severity: Severity | None = None  # None: the rule's default
    confidence: Confidence | None = None
    trace: tuple[TraceStep, ...] = ()


Check = Callable[[ModuleContext], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    id: str
    cwe: int
    severity: Severity
    confidence: Confidence
    summary: str
    check: Check = field(repr=False, compare=False)
    family: str = ""
    relevant_in_tests: bool = False  # reported in test code under the default test-code policy
    docs: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def doc_markdown(self) -> str:
        body = "\n\n".join(f"## {heading}\n\n{self.docs[heading]}" for heading in DOC_HEADINGS)
        return f"# {self.id}: {self.summary}\n\n{body}\n"

    def run(self, ctx: ModuleContext) -> Iterator[Finding]:
        for issue in self.check(ctx):
            yield Finding(
                rule=self.id,
                cwe=self.cwe,
                severity=issue.severity or self.severity,
                confidence=issue.confidence or self.confidence,
                location=ctx.location(issue.node),
                message=issue.message,
                fix=issue.fix,
                scope=ctx.scope_name(issue.node),
                trace=issue.trace,
            )


_REGISTRY: dict[str, Rule] = {}
_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def rule(
    id: str,
    cwe: int,
    severity: str,
    confidence: str,
    summary: str,
    relevant_in_tests: bool = False,
) -> Callable[[Check], Check]:
    """Register ``check`` as a rule; its docstring holds the rule's documentation."""

    def register(check: Check) -> Check:
        if not _ID.fullmatch(id):
            raise ValueError(f"rule id {id!r} is not kebab-case")
        if id in _REGISTRY:
            raise ValueError(f"rule {id!r} is declared twice")
        cwe_catalogue.pillar(cwe)  # an unknown CWE is a programming error: fail at import
        family = check.__module__.rpartition(".")[2]
        _REGISTRY[id] = Rule(
            id=id,
            cwe=cwe,
            severity=Severity.parse(severity),
            confidence=Confidence[confidence.upper()],
            summary=summary,
            check=check,
            family=family,
            relevant_in_tests=relevant_in_tests,
            docs=parse_doc(id, inspect.getdoc(check) or ""),
        )
        return check

    return register


def parse_doc(rule_id: str, text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        heading = re.fullmatch(r"##\s+(.+?)\s*", line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
        elif current is not None:
            current.append(line)
    missing = [h for h in DOC_HEADINGS if not "\n".join(sections.get(h, [])).strip()]
    if missing:
        raise ValueError(f"rule {rule_id!r} documentation lacks: {', '.join(missing)}")
    return {h: "\n".join(sections[h]).strip() for h in DOC_HEADINGS}


_loaded = False


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def all_rules() -> list[Rule]:
    _load_families()
    return sorted(_REGISTRY.values(), key=lambda r: r.id)


def get(rule_id: str) -> Rule | None:
    _load_families()
    return _REGISTRY.get(rule_id)


def find(selector: str) -> list[Rule]:
    """Rules named by id, or all rules of a CWE (``CWE-78``)."""
    _load_families()
    if selector in _REGISTRY:
        return [_REGISTRY[selector]]
    number = cwe_catalogue.parse_cwe(selector)
    if number is None:
        return []
    return [r for r in all_rules() if r.cwe == number]
