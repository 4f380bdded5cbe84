"""Rules: declared units with metadata and one check each, grouped one family per module.

A rule is a function over a :class:`~secreview.python.module.ModuleContext` that yields
:class:`Issue` objects, registered with :func:`rule`.  Its docstring is its documentation,
written under the fixed headings of :data:`DOC_HEADINGS`; the same text feeds ``secreview
explain``, the ``rules`` listing and SARIF rule metadata.  The engine finds rules by importing
every module of this package, so it never knows one by name.

A rule also names its counterparts in Bandit (test ids, ``B602``) and in Ruff's flake8-bandit
rules (``S602``), where they exist: ``secreview explain B602`` finds the rule by them, and a
``# nosec B602`` or ``# noqa: S602`` comment (when honoured) suppresses exactly the rules that
name that code.  A counterpart is listed when the other tool reports the same weakness at the
same kind of code, not merely the same CWE: Bandit's B310 audits ``urlopen`` for its URL
scheme, so it is not ``ssrf``'s.
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
from ..findings import Confidence, Finding, Location, Severity, TraceStep
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
    location: Location | None = None  # where the defect is when not at ``node`` (a sink in another module)
    scope: str | None = None


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
    # reads the data-flow results only: still run once a file's budget is spent, to report the
    # flows found until then (the engine starts no new work by then)
    data_flow: bool = False
    docs: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    bandit: tuple[str, ...] = ()  # Bandit test ids reporting the same weakness (B602)
    ruff: tuple[str, ...] = ()  # Ruff's flake8-bandit codes reporting it (S602)

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
                location=issue.location or ctx.location(issue.node),
                message=issue.message,
                fix=issue.fix,
                scope=issue.scope or ctx.scope_name(issue.node),
                trace=issue.trace,
            )


_REGISTRY: dict[str, Rule] = {}
_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_BANDIT_CODE = re.compile(r"B[1-9][0-9]{2}")
_RUFF_CODE = re.compile(r"S[1-9][0-9]{2}")


def rule(
    id: str,
    cwe: int,
    severity: str,
    confidence: str,
    summary: str,
    relevant_in_tests: bool = False,
    data_flow: bool = False,
    bandit: tuple[str, ...] = (),
    ruff: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    """Register ``check`` as a rule; its docstring holds the rule's documentation."""

    def register(check: Check) -> Check:
        if not _ID.fullmatch(id):
            raise ValueError(f"rule id {id!r} is not kebab-case")
        for tool, codes, pattern in (("bandit", bandit, _BANDIT_CODE), ("ruff", ruff, _RUFF_CODE)):
            wrong = [c for c in codes if not pattern.fullmatch(c)]
            if wrong:
                raise ValueError(f"rule {id!r}: {tool} codes {wrong} are not of the form {pattern.pattern}")
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
            data_flow=data_flow,
            docs=parse_doc(id, inspect.getdoc(check) or ""),
            bandit=tuple(bandit),
            ruff=tuple(ruff),
        )
        return check

    return register


TRUST = {"http": Confidence.HIGH}  # other source kinds (cli, env, stdin, file) are lower trust

# Threat models, as CodeQL names them: which sources a review takes for untrusted.  ``remote``
# (a web request, always on) is what the rules declare; ``local`` (the command line, standard
# input) and ``environment`` (the process environment) are chosen with ``threat-models``.  Off
# by default: a command-line tool's user controls its arguments on purpose (Django's own
# ``manage.py`` imports the command it is asked for, ``shell`` runs the code it is given), so
# such flows are defects only where the program runs with more rights than whoever starts it.
THREAT_MODEL_OF_KIND = {"http": "remote", "cli": "local", "stdin": "local", "env": "environment"}
_THREAT_MODEL_SAYS = {
    "local": "input from whoever runs the program",
    "environment": "the environment the program is started with",
}


def taint_rule(
    id: str,
    cwe: int,
    severity: str,
    summary: str,
    sinks: tuple[str, ...],
    sources: tuple[str, ...] = ("http",),
    relevant_in_tests: bool = False,
    confidence: str = "high",
    bandit: tuple[str, ...] = (),
    ruff: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Register a data-flow rule: values of ``sources`` kinds reaching ``sinks`` kinds unsanitised.

    The decorated function takes a :class:`~secreview.python.dataflow.Flow` and returns the fix
    text for it; its docstring is the rule's documentation.  Sinks whose model accepts values of
    unknown origin (``unknown = "any"`` or ``"built"``: shells, ``eval``, SQL text built from
    parts) are also reported for such values, at low confidence; a parameter counts as unknown
    only when nothing in the reviewed code calls its function (callers are analysed instead).
    """
    wanted_sinks = frozenset(sinks)
    wanted_sources = frozenset(sources)
    ceiling = Confidence[confidence.upper()]  # a rule whose sink is dangerous only sometimes caps it
    lowered = Severity(max(Severity.LOW, Severity[severity.upper()] - 1))  # for a non-remote threat model

    def register(fix_for: Callable) -> Callable:
        def check(ctx: ModuleContext) -> Iterator[Issue]:
            best: dict[tuple, tuple[Confidence, Issue]] = {}
            for flow in ctx.taint_flows():
                if flow.kind not in wanted_sinks:
                    continue
                confidence = _flow_confidence(ctx, flow, wanted_sources)
                model = _optional_threat_model(ctx, flow, wanted_sources) if confidence is None else None
                if model is not None:
                    confidence = Confidence.MEDIUM
                if confidence is None:
                    continue
                confidence = min(confidence, ceiling)
                message = flow_message(flow, ctx.path)
                if model is not None:
                    message = f"{message.removesuffix('.')} (threat model `{model}`: {_THREAT_MODEL_SAYS[model]})."
                issue = Issue(
                    node=ctx.tree,
                    message=message,
                    fix=fix_for(flow),
                    severity=lowered if model is not None else None,
                    confidence=confidence,
                    trace=flow.trace,
                    location=flow.location,
                    scope=flow.scope,
                )
                key = (flow.location.path, flow.location.line, flow.location.column)
                current = best.get(key)
                if current is None or confidence > current[0] or (
                        confidence == current[0] and len(issue.trace) < len(current[1].trace)):
                    best[key] = (confidence, issue)
            for key in sorted(best):
                yield best[key][1]

        check.__doc__ = fix_for.__doc__
        check.__module__ = fix_for.__module__
        rule(id=id, cwe=cwe, severity=severity, confidence=confidence, summary=summary,
             relevant_in_tests=relevant_in_tests, data_flow=True, bandit=bandit, ruff=ruff)(check)
        return fix_for

    return register


def _flow_confidence(ctx: ModuleContext, flow, sources: frozenset[str]) -> Confidence | None:
    label = flow.label
    if label.kind in sources:
        return TRUST.get(label.kind, Confidence.MEDIUM)
    if label.kind in ("opaque", "param") and flow.sink.unknown != "none":
        if flow.sink.unknown == "built" and not flow.built:
            return None
        if label.kind == "param" and ctx.project is not None and ctx.project.has_callers(label.owner):
            return None  # its callers are analysed with what they pass
        return Confidence.LOW
    return None


def _optional_threat_model(ctx: ModuleContext, flow, sources: frozenset[str]) -> str | None:
    """The threat model, chosen in the configuration, under which this flow's source is
    untrusted although the rule does not declare it; None when there is none."""
    model = THREAT_MODEL_OF_KIND.get(flow.label.kind)
    if model is None or model == "remote" or flow.label.kind in sources:
        return None
    chosen = ctx.project.threat_models if ctx.project is not None else frozenset()
    return model if model in chosen else None


def flow_message(flow, here: str) -> str:
    """One sentence naming the value, where it comes from and the sink it reaches."""
    label = flow.label
    variable = label.var or flow.variable
    sink = flow.sink.what or f"a {flow.kind} sink"
    if label.kind in ("opaque", "param"):
        return (f"`{flow.variable}` is built from {label.what}, which is not a constant and not sanitised, "
                f"and reaches {sink}.")
    where = label.where
    what = label.what
    if where is not None:
        at = f"line {where.line}" if where.path == flow.location.path else f"{where.path} line {where.line}"
        what = f"{what[:-1]}, {at})" if what.endswith(")") else f"{what} ({at})"
    return f"`{variable}` from {what} reaches {sink}."


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


def foreign_tool(code: str) -> str | None:
    """"Bandit" or "Ruff" when ``code`` has the form of that tool's security codes, else None."""
    code = code.strip().upper()
    if _BANDIT_CODE.fullmatch(code):
        return "Bandit"
    if _RUFF_CODE.fullmatch(code):
        return "Ruff"
    return None


_BY_FOREIGN_CODE: dict[str, tuple[str, ...]] | None = None


def by_foreign_code(code: str) -> tuple[str, ...]:
    """The ids of the rules that name ``code`` (``B602``, ``S602``, any case) as a counterpart."""
    global _BY_FOREIGN_CODE
    if _BY_FOREIGN_CODE is None:
        index: dict[str, list[str]] = {}
        for r in all_rules():
            for mapped in r.bandit + r.ruff:
                index.setdefault(mapped, []).append(r.id)
        _BY_FOREIGN_CODE = {k: tuple(v) for k, v in index.items()}
    return _BY_FOREIGN_CODE.get(code.strip().upper(), ())


def find(selector: str) -> list[Rule]:
    """Rules named by id, or all rules of a CWE (``CWE-78``)."""
    _load_families()
    if selector in _REGISTRY:
        return [_REGISTRY[selector]]
    number = cwe_catalogue.parse_cwe(selector)
    if number is None:
        return []
    return [r for r in all_rules() if r.cwe == number]
