"""Taint analysis: follow values from sources to sinks, with the path they take.

Design
------
*Abstract interpretation, forward, one function at a time.*  A function body is run over
abstract :class:`Value` objects: the set of taint :class:`Label` s the value may carry, its
constant when known (folded with the same rules as :func:`~secreview.python.module.fold`), the
constant prefix and constant text fragments of strings being built, the qualified name of the
object (``flask.request``, ``requests.Session()``) that models are keyed by, and the elements
of containers with constant keys or indexes.  Branches whose test folds to a constant are
pruned; the states of the others are joined (only at the names written since they forked, see
:class:`State`, so thousands of branches over thousands of live names stay linear); loops run
to a fixed point (bounded).  Tests
refine the state of the branch they guard (``if x not in ALLOWED: abort()`` leaves ``x`` clean
after the ``if``, because the branch where it is tainted does not continue).

*Labels* name where a value came from (a source kind such as ``http``, a parameter of the
function being summarised, or ``opaque``: a value of unknown origin) and carry the trace so far
and the sink kinds they have been sanitised for.  Sanitisers are per kind, never global.

*Summaries.*  Each function is analysed once with placeholder labels on its parameters (and
on fields of its parameters: ``self.target``); the result records which parameters reach which
sinks (with the path inside the function), what the return value carries, what the function
stores on ``self`` (constructors and setters), what its truthy result proves about its
parameters (``is_safe_url(url)``) and what holds of them when it returns normally (a validator
that raises).  A call site instantiates the summary with its arguments, so a flow through
``run_query(sql)`` into another module is found, and reported at the sink with the whole path.
Summaries are computed lazily, memoised per project, guarded against recursion and bounded in
depth.  Unresolved calls: library functions pass their arguments to the result (models refine
this); methods of untainted objects that are not imported modules (ORM queries, caches,
service objects) do not; a sink's result does not carry what the sink consumed (a command's
output is not the command), unless the model says it keeps it (parsers, deserialisers).

*Models* (:mod:`secreview.models`) say what library code does; the engine knows no rule and
no library by name.  Rules select flows by sink kind (:func:`ModuleTaint.flows`).

*Budget.*  Only functions that can reach a sink (syntactically, through calls to the project)
and that either handle input (entry points, source reads) or hold a sink that is dangerous by
construction are analysed as roots; others are analysed only when a caller needs their
summary.  In a large project another module is parsed only for a call that passes request
data on.  A value tracks at most MAX_LABELS origins, a trace MAX_TRACE steps, a loop
MAX_LOOP_ROUNDS rounds (one when nested three deep).  The reviewed file's budget
(:mod:`secreview.guards`: steps, a CPU backstop and memory) counts the statements and expressions
interpreted for the file (``Project.steps``) and is checked every 256 of them; once it is spent the engine starts no new work, keeps its findings so far, and the file is reported as not
fully reviewed.  An expression nested deeper than MAX_EXPR_DEPTH is approximated (its value
carries what the names in it carry), and code too deep for the interpreter's stack degrades to
"unknown"; both are recorded in ``Project.notes``, which the review reports, so an approximated
analysis is never mistaken for a full one.  Everything iterates in source or sorted order, so reports do
not depend on the hash seed.

*Values of unknown origin* carry an ``opaque`` label (a parameter with no visible caller is
one too): rules whose sinks are dangerous by construction (shell, eval, SQL text built by
formatting) report them at low confidence; constants, choices between constants and
sanitised values never are.
"""

from __future__ import annotations

import ast
import builtins
import fnmatch
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import models as model_files
from ..findings import Location, TraceStep
from ..models import ALL_KINDS, EntryModel, Models, SinkModel
from .module import UNKNOWN, ModuleContext, child_nodes

if TYPE_CHECKING:
    from ..guards import Budget

MAX_TRACE = 14
MAX_LOOP_ROUNDS = 3
MAX_SUMMARY_DEPTH = 8
MAX_TEXT = 400
# A replacement field with a huge width or precision ("{:>1000000000}") would make folding the
# format allocate gigabytes; such templates are left unknown rather than run.
_WIDE_FORMAT_FIELD = re.compile(r"\{[^{}]*:[^{}]*?\d{5,}")
MAX_ITEMS = 64
MAX_LABELS = 24  # origins tracked per value
MAX_EXPR_DEPTH = 100  # nesting of one expression the interpreter follows; deeper parts are approximated
MAX_NOTES = 5  # "analysed approximately" notes kept per reviewed file
SMALL_PROJECT = 200  # modules; above this, other modules are loaded only for calls carrying input
# Checks that clean a kind only together: a local redirect target starts with "/", not with "//"
# (another host, scheme-relative) and holds no backslash (browsers read "/\\host" as "//host").
_COMBINED_CHECKS = {"redirect": frozenset({"redirect-rooted", "redirect-no-authority", "redirect-no-backslash"})}
OPAQUE = "opaque"
PARAM = "param"


# --- labels and values ------------------------------------------------------------------------


class Label:
    """One origin of a value: a source read, a parameter placeholder, or an unknown value."""

    __slots__ = ("_hash", "_key", "cleaned", "kind", "owner", "param", "trace", "var", "what", "where")

    def __init__(self, kind: str, what: str, where: Location | None, trace: tuple[TraceStep, ...] = (),
                 cleaned: frozenset[str] = frozenset(), param: object = None, owner: str = "", var: str = ""):
        self.kind = kind
        self.what = what
        self.where = where
        self.trace = trace
        self.cleaned = cleaned
        self.param = param
        self.owner = owner
        self.var = var
        self._key = (kind, what, where.path if where else "", where.line if where else 0,
                     where.column if where else 0, param, owner, cleaned)
        self._hash = hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Label) and self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Label({self.kind}, {self.what!r}, cleaned={sorted(self.cleaned)})"

    def with_(self, **changes) -> Label:
        values = {k: getattr(self, k) for k in ("kind", "what", "where", "trace", "cleaned", "param", "owner", "var")}
        values.update(changes)
        return Label(**values)

    def clean(self, kinds: Iterable[str]) -> Label:
        merged = self.cleaned | frozenset(kinds)
        if merged == self.cleaned:
            return self
        for kind, parts in _COMBINED_CHECKS.items():
            if kind not in merged and parts <= merged:
                merged = merged | {kind}
        return self.with_(cleaned=merged)

    def step(self, step: TraceStep, var: str | None = None) -> Label:
        trace = self.trace
        if trace and trace[-1] == step:
            return self if var is None or var == self.var else self.with_(var=var)
        if len(trace) >= MAX_TRACE:
            trace = trace[:2] + trace[3:]  # keep the source; drop the oldest intermediate step
        new = Label.__new__(Label)  # same identity as self, a longer path: skip recomputing the key
        new.kind, new.what, new.where, new.cleaned = self.kind, self.what, self.where, self.cleaned
        new.param, new.owner, new._key, new._hash = self.param, self.owner, self._key, self._hash
        new.trace = trace + (step,)
        new.var = self.var if var is None else var
        return new

    def cleaned_for(self, kind: str) -> bool:
        return kind in self.cleaned


class Value:
    """What the analysis knows about a value at one point of the program."""

    __slots__ = ("const", "flags", "func", "guards", "items", "labels", "prefix", "qual", "seq", "text")

    def __init__(self, labels: frozenset[Label] = frozenset(), const: object = UNKNOWN, qual: str | None = None,
                 items: dict | None = None, seq: bool = False, prefix: str | None = None, text: str = "",
                 flags: frozenset[str] = frozenset(), guards: tuple = (), func: object = None):
        if len(labels) > MAX_LABELS:
            labels = _cap(labels)
        self.labels = labels
        self.const = const
        self.qual = qual
        self.items = items
        self.seq = seq
        self.prefix = prefix
        self.text = text
        self.flags = flags
        self.guards = guards
        self.func = func

    @property
    def known(self) -> bool:
        return self.const is not UNKNOWN

    def replace(self, **changes) -> Value:
        values = {k: getattr(self, k) for k in Value.__slots__}
        values.update(changes)
        return Value(**values)

    def __repr__(self) -> str:
        return f"Value(labels={set(self.labels)}, const={self.const!r}, qual={self.qual}, items={self.items})"


EMPTY = Value()


def _label_rank(label: Label) -> tuple:
    trust = 2 if label.kind == OPAQUE else 1 if label.kind == PARAM else 0
    where = label.where
    return (trust, where.path if where else "", where.line if where else 0, where.column if where else 0,
            label.kind, label.what, str(label.param), label.owner, tuple(sorted(label.cleaned)))


def _cap(labels: frozenset[Label]) -> frozenset[Label]:
    """At most MAX_LABELS origins per value, sources before parameters before unknowns, so a
    long chain of concatenations stays linear and the choice does not depend on hashing."""
    return frozenset(sorted(labels, key=_label_rank)[:MAX_LABELS])


def constant(value: object) -> Value:
    if isinstance(value, str):
        return Value(const=value, prefix=value, text=value[:MAX_TEXT])
    return Value(const=value)


def join(a: Value | None, b: Value | None) -> Value:
    if a is None:
        return b or EMPTY
    if b is None or a is b:
        return a
    const = a.const if (a.known and b.known and type(a.const) is type(b.const) and _safe_eq(a.const, b.const)) else UNKNOWN
    items = None
    if a.items is not None and b.items is not None and a.seq == b.seq:
        items = dict(a.items)
        for key, value in b.items.items():
            items[key] = join(items.get(key), value)
    prefix = None
    if a.prefix is not None and b.prefix is not None:
        prefix = _common_prefix(a.prefix, b.prefix)
    text = a.text if a.text == b.text else (a.text + " " + b.text)[:MAX_TEXT]
    return Value(
        labels=a.labels | b.labels,
        const=const,
        qual=a.qual if a.qual == b.qual else (a.qual or b.qual if not (a.qual and b.qual) else None),
        items=items,
        seq=a.seq and b.seq,
        prefix=prefix,
        text=text,
        flags=a.flags & b.flags,
        guards=a.guards if a.guards == b.guards else (),
        func=a.func if a.func is b.func else None,
    )


def _safe_eq(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]


def _relabel(value: Value, change: Callable[[Label], Label | None]) -> Value:
    """The value with each label replaced by ``change(label)`` (None drops it), items included."""
    if not value.labels and not value.items:
        return value
    labels = collapse(l for l in (change(l) for l in value.labels) if l is not None)
    items = None
    if value.items is not None:
        items = {k: _relabel(v, change) for k, v in value.items.items()}
    return value.replace(labels=labels, items=items)


def clean_value(value: Value, kinds: frozenset[str]) -> Value:
    if ALL_KINDS in kinds:
        return Value(const=value.const if isinstance(value.const, (int, float, bool)) else UNKNOWN)
    return _relabel(value, lambda l: l.clean(kinds))


def step_value(value: Value, step: TraceStep, var: str | None = None) -> Value:
    if not value.labels:
        return value
    return _relabel(value, lambda l: l.step(step, var))


def ordered(labels: Iterable[Label]) -> list[Label]:
    """Labels in an order that does not depend on the hash seed.  Labels of one origin reached
    along different paths are equal, so where they collapse the first one met survives: meeting
    them in a fixed order keeps the reported variable and trace the same on every run."""
    return sorted(labels, key=_label_order)


def _label_order(label: Label) -> tuple:
    where = label.where
    return (label.kind, label.what, where.path if where else "", where.line if where else 0,
            where.column if where else 0, repr(label.param), label.owner, tuple(sorted(label.cleaned)),
            label.var, len(label.trace), tuple((s.location.path, s.location.line, s.location.column, s.label)
                                               for s in label.trace))


def collapse(labels: Iterable[Label]) -> frozenset[Label]:
    """``labels`` as a set, where labels of one origin that arrived along different paths (equal,
    with other traces) keep the first in :func:`ordered`'s order, not the first met: mapping a
    set's labels (a parameter replaced by its argument, a conversion that cleans) meets them in
    hash order, and the trace shown must not depend on the hash seed."""
    chosen: dict[Label, Label] = {}
    for label in labels:
        kept = chosen.get(label)
        if kept is None or (kept is not label and _label_order(label) < _label_order(kept)):
            chosen[label] = label
    return frozenset(chosen.values())


def merge_labels(values: Iterable[Value]) -> frozenset[Label]:
    labels: frozenset[Label] = frozenset()
    for value in values:
        if value.labels:
            labels = labels | value.labels
    return labels


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """A label that reaches a sink: what rules turn into findings."""

    kind: str  # the sink kind
    sink: SinkModel
    location: Location
    scope: str
    label: Label
    built: bool  # the value at the sink was assembled from constant text and other parts
    variable: str  # how the value at the sink is written in the code

    @property
    def source_kind(self) -> str:
        return self.label.kind

    @property
    def trace(self) -> tuple[TraceStep, ...]:
        sink_step = TraceStep(self.location, f"reaches {self.sink.what or self.kind + ' sink'}")
        return self.label.trace + (sink_step,)


@dataclass
class ParamHit:
    kind: str
    sink: SinkModel
    location: Location
    scope: str
    label: Label  # a PARAM label, with the steps inside the function
    built: bool
    variable: str


@dataclass
class Summary:
    name: str
    params: list[str]
    returns: Value = EMPTY
    hits: list[ParamHit] = field(default_factory=list)
    complete: bool = True
    self_attrs: dict[str, Value] = field(default_factory=dict)  # what a method stores on its receiver
    validates: dict[str, frozenset[str]] = field(default_factory=dict)  # parameter -> kinds clean when truthy
    ensures: dict[str, frozenset[str]] = field(default_factory=dict)  # parameter -> kinds clean after a return


# --- the project: modules, summaries, callers ------------------------------------------------


class Project:
    """The modules of one review, for resolving calls across files and memoising summaries."""

    def __init__(self, modules: dict[str, Callable[[], ModuleContext | None]] | None = None,
                 models: Models | None = None,
                 caller_names: Callable[[], tuple[dict[str, int], dict[str, int]]] | None = None):
        self.models = models or model_files.load()
        self.threat_models: frozenset[str] = frozenset({"remote"})  # the review's (config.threat_models)
        self._loaders = dict(modules or {})
        self._contexts: OrderedDict[str, ModuleContext | None] = OrderedDict()
        self._analyses: dict[str, ModuleTaint] = {}
        self.summaries: dict[tuple, Summary] = {}
        self.in_progress: set[tuple] = set()
        self.depth = 0
        self._caller_names_loader = caller_names
        self._references: tuple[dict[str, int], dict[str, int]] | None = None
        self.collector: list[Flow] = []  # flows found by the module run in progress
        self.budget: Budget | None = None  # the reviewed file's budget (secreview.guards)
        self.over_budget = False
        # The current file's analysis steps (statements and expressions interpreted, tree walks of
        # the review): its step budget counts them (secreview.guards); checked at _check_at.
        self.steps = 0
        self._check_at = 0
        self.notes: list[str] = []  # where the analysis of the current file was approximated
        self.stack_exhausted = False  # the interpreter's stack limit shaped the current file's analysis
        self._current: str | None = None  # the module of the reviewed file
        # Modules the analysis of the current file consulted: what its result depends on (the
        # cache keys on their contents); see start_file.
        self.consulted: set[str] = set()
        self.asked: set[str] = set()  # names asked about with has_module: whether they exist matters too
        self.caller_answers: dict[str, bool] = {}  # has_callers' answers: they depend on every file's text

    def start_file(self, name: str | None) -> None:
        """Begin the analysis of one reviewed file with nothing memoised from earlier files.

        Summaries computed under another file's call stack were cut at a different depth or
        cycle, so reusing them made a file's findings depend on the order of review.  Starting
        afresh makes them a function of the project's code alone, which the parallel review
        (output identical to ``--jobs 1``) and the cache rely on.  Parsed modules are kept:
        parsing is pure.
        """
        self.summaries.clear()
        self._analyses.clear()
        self.in_progress.clear()
        self.depth = 0
        self.over_budget = False
        self.steps = 0
        self._check_at = 0
        self.notes = []
        self.stack_exhausted = False
        self._current = name
        self.consulted = {name} if name else set()
        self.asked = set()
        self.caller_answers = {}

    def register(self, ctx: ModuleContext) -> None:
        key = ctx.module_name or ctx.path
        self._contexts[key] = ctx
        self._contexts.move_to_end(key)
        self._trim()

    def _trim(self) -> None:
        while len(self._contexts) > 48:
            old, _ = self._contexts.popitem(last=False)
            self._analyses.pop(old, None)

    def step_checkpoint(self) -> bool:
        """:meth:`budget_spent`, asked once every 256 steps (at the same steps on every run)."""
        if self.steps < self._check_at:
            return self.over_budget
        self._check_at = self.steps + 256
        return self.budget_spent()

    def budget_spent(self) -> bool:
        """Whether the reviewed file's budget is spent: the engine then starts no new work."""
        if not self.over_budget and self.budget is not None and self.budget.spent(self.steps):
            self.over_budget = True
        return self.over_budget

    def relieve_memory(self) -> None:
        """Drop the parsed modules kept to follow calls, which can be parsed again, and their
        analyses; the reviewed file's own are kept, its analysis is under way."""
        for name in list(self._contexts):
            if name != self._current:
                del self._contexts[name]
                self._analyses.pop(name, None)

    def note_approximated(self, ctx: ModuleContext, node: ast.AST, why: str, *, stack: bool = False) -> None:
        """Record that part of the analysis was approximated: the review says so.  ``stack``: the
        interpreter's stack ran out, which depends on how deep the caller already was."""
        self.stack_exhausted = self.stack_exhausted or stack
        line = getattr(node, "lineno", 0)
        where = f"line {line}" if ctx.module_name == self._current or ctx.path == self._current else f"{ctx.path} line {line}"
        note = f"{why} at {where}: analysed approximately"
        if note not in self.notes and len(self.notes) < MAX_NOTES:
            self.notes.append(note)

    def has_module(self, name: str) -> bool:
        self.asked.add(name)
        return name in self._loaders or name in self._contexts

    def context(self, name: str) -> ModuleContext | None:
        self.consulted.add(name)
        if name in self._contexts:
            self._contexts.move_to_end(name)
            return self._contexts[name]
        loader = self._loaders.get(name)
        if loader is None:
            return None
        try:
            ctx = loader()
        except Exception:
            ctx = None
        if ctx is not None:
            ctx.project = self
        self._contexts[name] = ctx
        self._trim()
        return ctx

    def analysis(self, ctx: ModuleContext) -> ModuleTaint:
        key = ctx.module_name or ctx.path
        current = self._analyses.get(key)
        if current is None or current.ctx is not ctx:
            current = ModuleTaint(ctx, self)
            self._analyses[key] = current
        return current

    def module_analysis(self, name: str) -> ModuleTaint | None:
        ctx = self.context(name)
        return None if ctx is None else self.analysis(ctx)

    def module_of(self, qual: str) -> str | None:
        """The project module a dotted name lies in, without loading it."""
        parts = qual.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if self.has_module(module):
                return module
        return None

    def is_loaded(self, name: str) -> bool:
        return self._contexts.get(name) is not None

    def may_load(self, name: str, carries_input: bool) -> bool:
        """Budget: in a large project, parse another module only for calls that pass input on."""
        # "already consulted by this file", not "already parsed": which modules happen to be parsed
        # depends on the files reviewed before, and the result must not
        return carries_input or name in self.consulted or len(self._loaders) <= SMALL_PROJECT

    def cached_context(self, name: str) -> ModuleContext | None:
        """A module the engine already parsed, so the review need not parse it again."""
        return self._contexts.get(name)

    def resolve(self, qual: str) -> tuple[ModuleTaint, str] | None:
        """The project module and the dotted name inside it that ``qual`` names, if any."""
        parts = qual.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if self.has_module(module):
                analysis = self.module_analysis(module)
                if analysis is not None:
                    return analysis, ".".join(parts[cut:])
                return None
        return None

    def has_callers(self, name: str) -> bool:
        """Whether anything in the project refers to ``name`` besides its definition."""
        if self._references is None:
            if self._caller_names_loader is not None:
                self._references = self._caller_names_loader()
            else:
                texts = [ctx.source.text.encode("utf-8", "replace") for ctx in self._contexts.values() if ctx is not None]
                self._references = name_references(texts)
        mentions, definitions = self._references
        answer = self.caller_answers[name] = mentions.get(name, 0) > definitions.get(name, 0)
        return answer


_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_DEFINITION = re.compile(rb"\bdef\s+([A-Za-z_][A-Za-z0-9_]*)")


def name_references(texts: Iterable[bytes]) -> tuple[dict[str, int], dict[str, int]]:
    """How often each identifier occurs, and how often it is defined with ``def``, over the files.

    A function mentioned more often than it is defined is called or passed somewhere (a
    callback, a thread target, a URL map), so its parameters get their values from callers
    rather than from nowhere.  Counting text over-approximates, which only costs low-confidence
    findings about values of unknown origin.
    """
    from collections import Counter

    mentions: Counter = Counter()
    definitions: Counter = Counter()
    for data in texts:
        mentions.update(_IDENTIFIER.findall(data))
        definitions.update(_DEFINITION.findall(data))
    return ({k.decode(): v for k, v in mentions.items()}, {k.decode(): v for k, v in definitions.items()})


# --- the per-module analysis ------------------------------------------------------------------


@dataclass
class FunctionRef:
    module: ModuleTaint
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    cls: ast.ClassDef | None = None

    @property
    def key(self) -> tuple:
        return (self.module.key, self.node.lineno, self.node.col_offset, getattr(self.node, "name", "<lambda>"))

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")


@dataclass
class ClassRef:
    module: ModuleTaint
    node: ast.ClassDef
    qual: str


class ModuleTaint:
    """The taint analysis of one module: its globals, its functions, and the flows found."""

    def __init__(self, ctx: ModuleContext, project: Project):
        self.ctx = ctx
        self.project = project
        self.models = project.models
        self.key = ctx.module_name or ctx.path
        self.functions: dict[str, FunctionRef] = {}
        self.classes: dict[str, ClassRef] = {}
        self.class_of: dict[ast.AST, ast.ClassDef] = {}
        for stmt in ctx.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = FunctionRef(self, stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = ClassRef(self, stmt, f"{self.key}.{stmt.name}")
        for cls in ctx.nodes(ast.ClassDef):
            for stmt in cls.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.class_of[stmt] = cls
        self._globals: dict[str, Value] | None = None
        self._globals_running = False
        self._flows: list[Flow] | None = None
        self._may_reach: dict[ast.AST, bool] = {}
        self._facts: dict[ast.AST, FunctionFacts] = {}
        self._methods_named: dict[str, list[FunctionRef]] | None = None
        self._registrations: dict[str, list[EntryModel]] | None = None
        self._imported_quals: frozenset[str] | None = None
        self._imports_cache: dict[str, bool] = {}
        self._self_types: dict[ast.ClassDef, str | None] = {}
        self._constructed: dict[ast.ClassDef, dict[str, Value]] = {}
        self._attribute_stores: dict[str, list[ast.Attribute]] | None = None
        self._entries: dict[tuple, EntryModel | None] = {}
        self._derived: dict[tuple, bool] = {}
        self._value_quals: dict[ast.AST, str | None] = {}

    # -- globals

    @property
    def globals(self) -> dict[str, Value]:
        if self._globals is None:
            if self._globals_running:
                return {}
            self._globals_running = True
            try:
                interp = Interpreter(self, None, scope="<module>")
                interp.run_module(self.ctx.tree.body)
                self._globals = interp.final_state()
            except RecursionError:
                self.project.note_approximated(self.ctx, self.ctx.tree, "module body nested too deeply", stack=True)
                self._globals = {}
            except _OverBudget:
                self._globals = {}
            finally:
                self._globals_running = False
        return self._globals

    def imports(self, prefix: str) -> bool:
        cached = self._imports_cache.get(prefix)
        if cached is None:
            cached = any(q == prefix or q.startswith(prefix + ".") for q in self.ctx.aliases.values())
            self._imports_cache[prefix] = cached
        return cached

    # -- lookups

    def lookup(self, dotted_name: str) -> FunctionRef | ClassRef | None:
        head, _, rest = dotted_name.partition(".")
        if not rest:
            return self.functions.get(head) or self.classes.get(head)
        cls = self.classes.get(head)
        if cls is not None and "." not in rest:
            method = self.method(cls, rest)
            return method
        return None

    def method(self, cls: ClassRef, name: str, seen: int = 0, local_only: bool = False) -> FunctionRef | None:
        for stmt in cls.node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                return FunctionRef(self, stmt, cls.node)
        if seen > 5:
            return None
        for base in cls.node.bases:
            if isinstance(base, ast.Name) and base.id in self.classes:
                found = self.method(self.classes[base.id], name, seen + 1, local_only)
                if found is not None:
                    return found
            elif not local_only:
                qual = self.ctx.qualname(base)
                resolved = self.project.resolve(qual) if qual else None
                if resolved is not None:
                    target = resolved[0].lookup(resolved[1])
                    if isinstance(target, ClassRef):
                        found = target.module.method(target, name, seen + 1)
                        if found is not None:
                            return found
        return None

    # -- running

    def flows(self) -> list[Flow]:
        if self._flows is None:
            saved = self.project.collector
            self.project.collector = collected = []
            try:
                self.globals  # the module body, which also reports module-level flows
                for ref in self._roots():
                    if self.project.budget_spent():
                        break
                    summarize(self.project, ref)
            finally:
                self.project.collector = saved
            self._flows = _dedupe_flows(collected)
        return self._flows

    def _roots(self) -> Iterator[FunctionRef]:
        """Functions worth analysing on their own: handlers, source readers, dangerous sinks."""
        candidates = self._candidates()
        for node in self.ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
            ref = FunctionRef(self, node, self.class_of.get(node))
            entry = self.entry(ref)
            if entry is None and node not in candidates:
                continue
            if self.may_reach_sink(node, entry=entry):
                yield ref

    def _candidates(self) -> set[ast.AST]:
        """Functions that read a source or hold a sink dangerous by construction (one pass over the
        module's index, so functions that are neither cost nothing)."""
        models = self.models
        ctx = self.ctx
        found: set[ast.AST] = set()
        for call in ctx.calls:
            name = models.canonical(call.name)
            sinks = models.call_sinks.get(name) if name else None
            if sinks is None and isinstance(call.node.func, ast.Attribute):
                sinks = models.method_sinks.get(call.node.func.attr)
            if sinks and any(s.unknown != "none" for s in sinks) or (name is not None and name in models.sources):
                function = self.ctx.enclosing_function(call.node)
                if function is not None:
                    found.add(function)
        prefixes = _source_prefixes(models)
        typed_prefixes = _typed_source_prefixes(models)
        for function in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
            for arg in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs):
                if arg.annotation is not None:
                    annotated = models.canonical(ctx.qualname(arg.annotation))
                    if annotated and annotated + "()" in typed_prefixes:
                        found.add(function)
        roots = {p.split(".")[0] for p in prefixes}
        relevant = {local: qual for local, qual in ctx.aliases.items() if qual.split(".")[0] in roots}
        if relevant:
            for node in ctx.nodes(ast.Name):
                qual = relevant.get(node.id)
                if qual is None:
                    continue
                parent = ctx.parent(node)
                name = ctx.qualname(parent) if isinstance(parent, ast.Attribute) else ctx.qualname(node)
                if name is not None and (models.canonical(name) in prefixes or models.canonical(qual) in prefixes):
                    function = self.ctx.enclosing_function(node)
                    if function is not None:
                        found.add(function)
        return found

    def facts(self, node: ast.AST) -> FunctionFacts:
        cached = self._facts.get(node)
        if cached is None:
            cached = self._facts[node] = FunctionFacts.of(node, self)
        return cached

    def may_reach_sink(self, node: ast.AST, depth: int = 0, entry: EntryModel | None = None) -> bool:
        """Whether a call chain from ``node`` can reach a sink, judged from names only (cheap)."""
        cached = self._may_reach.get(node)
        if cached is not None:
            return cached
        self._may_reach[node] = False  # recursion guard
        facts = self.facts(node)
        result = facts.direct_sink or (entry is not None and entry.return_sink is not None and facts.returns_value)
        if not result and entry is not None and entry.self_type:
            # sinks inherited from the framework class: self.redirect(...) in a request handler
            for call in facts.calls:
                func = call.func
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                    if self.models.canonical(f"{entry.self_type}().{func.attr}") in self.models.call_sinks:
                        result = True
                        break
        if not result:
            for call in facts.calls:
                kind, targets = self._syntactic_targets(call, node)
                if kind == "other-module":
                    result = True  # followed only when the analysis gets there
                    break
                if depth < 6 and any(t.module.may_reach_sink(t.node, depth + 1) for t in targets):
                    result = True
                    break
        self._may_reach[node] = result
        return result

    def _syntactic_targets(self, call: ast.Call, within: ast.AST) -> tuple[str, list[FunctionRef]]:
        """What a call may run, from names alone: functions and methods of this module, or a
        marker for another module of the project (loaded only if the analysis follows it)."""
        func = call.func
        if isinstance(func, ast.Name):
            target = self.functions.get(func.id)
            if target is not None:
                return "here", [target]
            cls = self.classes.get(func.id)
            if cls is not None:
                init = self.method(cls, "__init__", local_only=True)
                return "here", [init] if init is not None else []
            qual = self.ctx.aliases.get(func.id)
            if qual and self.project.module_of(qual) is not None:
                return "other-module", []
        elif isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name):
                if func.value.id in ("self", "cls"):
                    cls_node = self.class_of.get(within)
                    if cls_node is not None and cls_node.name in self.classes:
                        found = self.method(self.classes[cls_node.name], func.attr, local_only=True)
                        return "here", [found] if found is not None else []
                qual = self.ctx.aliases.get(func.value.id)
                if qual and self.project.module_of(f"{qual}.{func.attr}") is not None:
                    return "other-module", []
            # a method called on an object of unknown class: any method of that name here
            return "here", self.methods_named().get(func.attr, [])
        return "none", []

    def methods_named(self) -> dict[str, list[FunctionRef]]:
        if self._methods_named is None:
            self._methods_named = {}
            for function, cls in self.class_of.items():
                self._methods_named.setdefault(function.name, []).append(FunctionRef(self, function, cls))
        return self._methods_named

    # -- entry points

    def entry(self, ref: FunctionRef) -> EntryModel | None:
        node = ref.node
        if isinstance(node, ast.Lambda):
            return None
        key = (node, ref.cls)
        found = self._entries.get(key, UNKNOWN)
        if found is UNKNOWN:
            found = self._entry(ref)
            if self._globals is not None:  # while the globals are being computed, names resolve differently
                self._entries[key] = found
        return found  # type: ignore[return-value]

    def _entry(self, ref: FunctionRef) -> EntryModel | None:
        node = ref.node
        for entry in self.models.ordered_entries:
            if entry.module_imports and not self.imports(entry.module_imports):
                continue
            if entry.registered_by:
                if entry in self._registered().get(node.name, ()):
                    return entry
                continue
            if entry.decorators or entry.decorator_methods:
                if self._decorated_by(node, entry):
                    return entry
                continue
            if entry.bases:
                if ref.cls is None or not self._derives(ref.cls, entry.bases):
                    continue
                if entry.methods and node.name not in entry.methods:
                    continue
                if not entry.methods and node.name.startswith("_") and not node.decorator_list:
                    continue  # a helper of the handlers, not a handler (actions are decorated)
                return entry
            if entry.first_param:
                params = _positional(node)
                if ref.cls is not None and params and params[0] in ("self", "cls"):
                    params = params[1:]
                if params and params[0] == entry.first_param:
                    return entry
        return None

    def constructed_fields(self, cls: ast.ClassDef) -> dict[str, Value]:
        """Fields that the class's ``__init__`` sets to a value that does not depend on its
        arguments (a constant, the configuration, a client it builds) and that no other method
        of the class reassigns: every method sees that value, whoever calls it.  Without this,
        ``self.store_dir = CONF.store_dir`` read in a handler is of unknown origin."""
        cached = self._constructed.get(cls)
        if cached is not None:
            return cached
        ref = self.classes.get(cls.name)
        init = self.method(ref, "__init__", local_only=True) if ref is not None and ref.node is cls else None
        if init is None:
            self._constructed[cls] = {}
            return {}
        if init.key in self.project.in_progress:
            return {}  # asked while __init__ itself runs: not known yet
        # any store of that attribute name elsewhere in the module (another method, `obj.flag = x`
        # in a caller) or a setattr() may change it
        if self._attribute_stores is None:
            self._attribute_stores = {}
            for child in self.ctx.nodes(ast.Attribute):
                if isinstance(child.ctx, (ast.Store, ast.Del)):
                    self._attribute_stores.setdefault(child.attr, []).append(child)
            if any(call.name == "setattr" for call in self.ctx.calls):
                self._attribute_stores[""] = []
        if "" in self._attribute_stores:
            self._constructed[cls] = {}
            return {}
        own = set(ast.walk(init.node))
        reassigned = {attr for attr, nodes in self._attribute_stores.items() if any(n not in own for n in nodes)}
        stored = summarize(self.project, init).self_attrs
        # containers are left out: other methods fill them in place (self.parts.append(x)); so are
        # the project's own objects (self.compute_api = compute.API()): a service layer looks
        # things up by its arguments, and following it from every handler reports what it loads
        fields = {name: value for name, value in stored.items()
                  if not value.labels and value.items is None and name not in reassigned and not self._project_object(value)}
        self._constructed[cls] = fields
        return fields

    def _project_object(self, value: Value) -> bool:
        if value.func is not None:
            return True
        qual = (value.qual or "").split("()", 1)[0]
        return bool(qual) and (qual.startswith(self.key + ".") or self.project.module_of(qual) is not None)

    def framework_self_type(self, cls: ast.ClassDef) -> str | None:
        """The framework type of a handler class's instances, for its helper methods too: in a
        Django view, ``self.request`` is the request in ``_current_tag(self)`` as much as in
        ``get(self, request)``."""
        if cls not in self._self_types:
            self._self_types[cls] = next((e.self_type for e in self.models.ordered_entries
                                          if e.self_type and e.bases and self._derives(cls, e.bases)), None)
        return self._self_types[cls]

    def _registered(self) -> dict[str, list[EntryModel]]:
        """Functions this module registers as handlers by a call (add_url_rule, Route)."""
        if self._registrations is None:
            self._registrations = {}
            registering = [e for e in self.models.entries if e.registered_by]
            if registering:
                for call in self.ctx.calls:
                    qual = self._value_qual(call.node.func)
                    for entry in registering:
                        if qual not in entry.registered_by:
                            continue
                        handler = call.arg(entry.registered_arg, entry.registered_keyword)
                        if isinstance(handler, ast.Name):
                            self._registrations.setdefault(handler.id, []).append(entry)
                        elif isinstance(handler, ast.Attribute):
                            self._registrations.setdefault(handler.attr, []).append(entry)
        return self._registrations

    def _decorated_by(self, node: ast.FunctionDef | ast.AsyncFunctionDef, entry: EntryModel) -> bool:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qual = self._value_qual(target)
            if qual is not None and qual in entry.decorators:
                return True
            if isinstance(target, ast.Attribute) and target.attr in entry.decorator_methods:
                receiver = self._value_qual(target.value) or ""
                text = self.ctx.qualname(target.value) or ""
                if entry.decorator_receivers is None or entry.decorator_receivers.search(text) or entry.decorator_receivers.search(receiver):
                    return True
        return False

    def _value_qual(self, node: ast.AST) -> str | None:
        """Qualified name of an expression at module level: ``app.route`` → ``flask.Flask().route``."""
        # asked for each decorator once per entry-point model: remembered once the globals it
        # reads are final
        found = self._value_quals.get(node, UNKNOWN)
        if found is UNKNOWN:
            found = self._value_qual_uncached(node)
            if self._globals is not None:
                self._value_quals[node] = found
        return found  # type: ignore[return-value]

    def _value_qual_uncached(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            value = self.globals.get(node.id)
            if value is not None and value.qual:
                return self.models.canonical(value.qual)
            return self.models.canonical(self.ctx.aliases.get(node.id, node.id))
        if isinstance(node, ast.Attribute):
            base = self._value_qual(node.value)
            return self.models.canonical(f"{base}.{node.attr}") if base else None
        if isinstance(node, ast.Call):
            base = self._value_qual(node.func)
            return f"{base}()" if base else None
        return None

    def _derives(self, cls: ast.ClassDef, bases: tuple[str, ...], depth: int = 0) -> bool:
        if depth:
            return self._derives_uncached(cls, bases, depth)
        key = (cls, bases)
        found = self._derived.get(key)
        if found is None:
            found = self._derived[key] = self._derives_uncached(cls, bases, 0)
        return found

    def _derives_uncached(self, cls: ast.ClassDef, bases: tuple[str, ...], depth: int) -> bool:
        for base in cls.bases:
            qual = self.models.canonical(self.ctx.qualname(base)) or ""
            if any(qual == b or qual.endswith("." + b) or b.endswith("." + qual) and "." not in qual and qual for b in bases):
                return True
            if depth < 5 and isinstance(base, ast.Name) and base.id in self.classes:
                if self._derives(self.classes[base.id].node, bases, depth + 1):
                    return True
        return False


@dataclass
class FunctionFacts:
    """What one walk over a function body tells: its calls, what it reads, what it returns."""

    calls: list[ast.Call]
    direct_sink: bool
    reads_source: bool
    unknown_sink: bool
    returns_value: bool
    assigned: set[str]
    nested: set[ast.AST]
    stored: set[str] = field(default_factory=set)  # names assigned in the body (parameters rebound)

    @classmethod
    def of(cls, node: ast.AST, module: ModuleTaint) -> FunctionFacts:
        models = module.models
        ctx = module.ctx
        prefixes = _source_prefixes(models)
        calls: list[ast.Call] = []
        direct = reads = unknown = returns = False
        assigned: set[str] = set()
        nested: set[ast.AST] = set()
        setitem_sinks = "__setitem__" in models.method_sinks
        for child in _walk_own(node):
            if isinstance(child, ast.Call):
                calls.append(child)
                func = child.func
                name = models.canonical(ctx.qualname(func))
                sinks = models.call_sinks.get(name) if name else None
                if sinks is None and isinstance(func, ast.Attribute):
                    sinks = models.method_sinks.get(func.attr) or models.instance_sink_methods.get(func.attr)
                if sinks:
                    direct = True
                    unknown = unknown or any(s.unknown != "none" for s in sinks)
                if name is not None and not reads and name in models.sources:
                    reads = True
            elif isinstance(child, ast.Name):
                if isinstance(child.ctx, (ast.Store, ast.Del)):
                    assigned.add(child.id)
                elif not reads:
                    qual = models.canonical(ctx.aliases.get(child.id, child.id))
                    reads = qual in prefixes
            elif isinstance(child, ast.Attribute):
                if not reads and isinstance(child.ctx, ast.Load):
                    qual = models.canonical(ctx.qualname(child))
                    reads = qual is not None and qual in prefixes
            elif isinstance(child, (ast.Assign, ast.AugAssign)) and setitem_sinks:
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                direct = direct or any(isinstance(t, ast.Subscript) for t in targets)
            elif isinstance(child, ast.Return) and child.value is not None:
                returns = True
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assigned.add(child.name)
                if not isinstance(child, ast.ClassDef):
                    nested.add(child)
        stored = set(assigned)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            assigned.update(_all_params(node))
        return cls(calls, direct, reads, unknown, returns, assigned, nested, stored)


_SOURCE_PREFIX_CACHE: dict[int, frozenset[str]] = {}


def _source_prefixes(models: Models) -> frozenset[str]:
    cached = _SOURCE_PREFIX_CACHE.get(id(models))
    if cached is None:
        prefixes = set()
        for name in models.sources:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if "()" not in candidate:
                    prefixes.add(candidate)
        # a bare module name (``os``) is not a source read; its attributes are
        cached = frozenset(p for p in prefixes if "." in p or p in models.sources)
        _SOURCE_PREFIX_CACHE[id(models)] = cached
    return cached


def _typed_source_prefixes(models: Models) -> frozenset[str]:
    """Instance types (``starlette.requests.Request()``) some of whose attributes are sources."""
    return frozenset(name.split("()", 1)[0] + "()" for name in models.sources if "()" in name)


def _walk_own(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function body, nested functions and classes excluded (and the shared operator
    and context nodes, which say nothing about a function)."""
    stack = child_nodes(node)
    while stack:
        child = stack.pop()
        yield child
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        stack.extend(child_nodes(child))


def _positional(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[str]:
    return [a.arg for a in [*node.args.posonlyargs, *node.args.args]]


def _dedupe_flows(flows: list[Flow]) -> list[Flow]:
    """One flow per sink, kind and origin (the shortest path), in an order that does not depend
    on hashing, so reports are identical from run to run."""
    best: dict[tuple, Flow] = {}
    for flow in flows:
        key = (flow.kind, flow.location.path, flow.location.line, flow.location.column, flow.label)
        current = best.get(key)
        if current is None or _flow_order(flow) < _flow_order(current):
            best[key] = flow
    return sorted(best.values(), key=_flow_order)


def _flow_order(flow: Flow) -> tuple:
    loc = flow.location
    return (loc.path, loc.line, loc.column, flow.kind, len(flow.label.trace), _label_rank(flow.label),
            tuple((s.location.path, s.location.line, s.location.column, s.label) for s in flow.label.trace),
            flow.variable)


# --- summaries --------------------------------------------------------------------------------


def summarize(project: Project, ref: FunctionRef) -> Summary:
    key = ref.key
    cached = project.summaries.get(key)
    if cached is not None:
        return cached
    params = _all_params(ref.node)
    if key in project.in_progress or project.depth >= MAX_SUMMARY_DEPTH or project.over_budget:
        return Summary(ref.name, params, complete=False)
    project.in_progress.add(key)
    project.depth += 1
    try:
        interp = Interpreter(ref.module, ref, scope=_scope_name(ref))
        summary = interp.run_function()
    except RecursionError:
        project.note_approximated(ref.module.ctx, ref.node, f"function {ref.name} nested too deeply", stack=True)
        summary = Summary(ref.name, params, complete=False)
    except _OverBudget:
        summary = Summary(ref.name, params, complete=False)
    finally:
        project.depth -= 1
        project.in_progress.discard(key)
    project.summaries[key] = summary
    return summary


def _scope_name(ref: FunctionRef) -> str:
    if isinstance(ref.node, ast.Lambda):
        return "<lambda>"
    return ref.module.ctx.scope_name(ref.node.body[0]) if ref.node.body else ref.node.name


def _all_params(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[str]:
    args = node.args
    names = [a.arg for a in [*args.posonlyargs, *args.args]]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names.extend(a.arg for a in args.kwonlyargs)
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return names


# --- the interpreter --------------------------------------------------------------------------


class _OverBudget(Exception):
    """The reviewed file's budget is spent: what was found so far is kept, the rest is not analysed."""


class State(dict):
    """Name or dotted attribute path -> Value at one point of a function (None where the point
    cannot be reached).

    Each write is recorded in the owning interpreter's region log (:meth:`Interpreter._open`),
    so a join of two states forked at one statement compares only the names either side
    wrote: a function with thousands of live names and thousands of branches stays linear.
    Only writes through these methods are recorded; the engine mutates states no other way.
    """

    __slots__ = ("_log",)

    def __init__(self, owner: Interpreter, entries: dict | None = None):
        dict.__init__(self, entries or ())
        self._log = owner._log  # the cell, not the interpreter: no reference cycle to collect

    def __setitem__(self, key: str, value: Value) -> None:
        dict.__setitem__(self, key, value)
        log = self._log[0]
        if log is not None:
            log.add(key)

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        log = self._log[0]
        if log is not None:
            log.add(key)

    def pop(self, key: str, *default):
        log = self._log[0]
        if log is not None:
            log.add(key)
        return dict.pop(self, key, *default)

    def _unsupported(self, *args, **kwargs):
        raise TypeError("State records writes through [] and pop only")

    update = setdefault = popitem = clear = __ior__ = _unsupported  # would bypass the log

    def __reduce__(self):  # a state is never copied except through the interpreter
        raise TypeError("State is not copyable")

_ENUM_BASES = ("enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag")
_NUMERIC_TYPES = {"int", "float", "bool", "complex", "uuid.UUID", "decimal.Decimal", "datetime.date",
                  "datetime.datetime", "pydantic.conint", "pydantic.UUID4", "ipaddress.ip_address"}


def _region(method: Callable[[Interpreter, ast.stmt], None]) -> Callable[[Interpreter, ast.stmt], None]:
    """A compound statement is one region of :meth:`Interpreter._open`: its joins look only at
    the names written inside it."""
    def run(self: Interpreter, stmt: ast.stmt) -> None:
        outer = self._open()
        try:
            method(self, stmt)
        finally:
            self._close(outer)
    run.__name__ = method.__name__
    return run


class Interpreter:
    def __init__(self, module: ModuleTaint, ref: FunctionRef | None, scope: str):
        self.module = module
        self.ctx = module.ctx
        self.project = module.project
        self.models = module.models
        self.ref = ref
        self.scope = scope
        self._log: list[set[str] | None] = [None]  # the open region's log of written names, see _open
        self.state: State | None = State(self)
        self.returns: Value | None = None
        self.summary_hits: list[ParamHit] = []
        self.loop_breaks: list[list[State]] = []
        self.loop_continues: list[list[State]] = []
        self.entry: EntryModel | None = None
        self.is_module = ref is None
        self.local_names: set[str] = set()
        self._hit_keys: set[tuple] = set()
        self._expr_depth = 0
        self.return_facts: list[dict[str, frozenset[str]]] = []
        self.exit_facts: list[dict[str, frozenset[str]]] = []
        self._placeholders: set[str] = set()  # parameters bound to a placeholder label
        self.self_name: str | None = None
        self._dotted: set[str] = set()  # attribute paths ever stored in the state (self.x, obj.y)
        self._following = False  # the call being evaluated passes input on (worth loading its module)
        self.self_attrs: dict[str, Value] = {}

    # -- entry points

    def run_module(self, body: list[ast.stmt]) -> None:
        self.exec_block(body)

    def final_state(self) -> dict[str, Value]:
        return dict(self.state or {})

    def run_function(self) -> Summary:
        ref = self.ref
        assert ref is not None
        node = ref.node
        params = _all_params(node)
        self.local_names = self.module.facts(node).assigned
        if self.entry is None and not isinstance(node, ast.Lambda):
            self.entry = self.module.entry(ref)
        self.state = State(self)
        if ref.cls is not None and not _is_static(node) and _positional(node):
            self.self_name = _positional(node)[0]
        self._bind_params(node, ref)
        if isinstance(node, ast.Lambda):
            self.returns = self.eval(node.body)
        else:
            self.exec_block(node.body)
            if self.state is not None:
                self._note_exit()
        returns = self.returns or EMPTY
        return Summary(ref.name, params, returns, self.summary_hits, self_attrs=self.self_attrs,
                       validates=_common_facts(self.return_facts), ensures=_common_facts(self.exit_facts))

    def _note_exit(self) -> None:
        """What holds of the parameters when the function returns normally: a validator that
        raises on bad input leaves its caller's argument clean after the call."""
        if self.ref is None or self.state is None or isinstance(self.ref.node, ast.Lambda):
            return
        facts: dict[str, frozenset[str]] = {}
        rebound = self.module.facts(self.ref.node).stored
        for name in _positional(self.ref.node):
            if name in rebound or name == self.self_name:
                continue
            value = self.state.get(name)
            if value is None:
                continue
            own = [l for l in value.labels if l.kind == PARAM and l.owner == self.ref.name]
            if not value.labels:
                if name in self._placeholders:  # it had its placeholder, and a check removed it
                    facts[name] = frozenset({ALL_KINDS})
            elif own and all(l.cleaned for l in own):
                kinds = own[0].cleaned
                for label in own[1:]:
                    kinds = kinds & label.cleaned
                if kinds:
                    facts[name] = kinds
        self.exit_facts.append(facts)

    def _bind_params(self, node, ref: FunctionRef) -> None:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        entry = self.entry
        in_class = ref.cls is not None and not _is_static(node)
        index = 0
        all_args = [(a, d) for a, d in zip(positional, defaults)]
        if args.vararg:
            all_args.append((args.vararg, None))
        all_args.extend(zip(args.kwonlyargs, args.kw_defaults))
        if args.kwarg:
            all_args.append((args.kwarg, None))
        positional_names = _positional(node)
        user_position = 0
        for arg, default in all_args:
            name = arg.arg
            where = self.ctx.location(arg)
            is_self = in_class and index == 0 and arg in positional
            param_key = index
            if arg is args.vararg:
                param_key = "*"
            elif arg is args.kwarg:
                param_key = "**"
            elif arg in args.kwonlyargs:
                param_key = name
            value: Value
            typed = self._annotation_type(arg.annotation)
            if is_self:
                cls_ref = self.module.classes.get(ref.cls.name) if ref.cls is not None else None
                qual = (cls_ref.qual + "()") if cls_ref else None
                self_type = entry.self_type if entry is not None else None
                if self_type is None and ref.cls is not None:
                    self_type = self.module.framework_self_type(ref.cls)
                if self_type:
                    qual = self_type + "()"
                label = Label(PARAM, f"`{name}`", where, (), param=param_key, owner=ref.name, var=name)
                fields = self._initialized_fields(ref, entry) if entry is not None and entry.initializers else None
                value = Value(labels=frozenset({label}), qual=qual, func=cls_ref, items=fields or None)
            elif entry is not None and name in self._converted_params(entry):
                value = EMPTY
            elif entry is not None and (dependency := self._dependency_value(entry, default)) is not None:
                value = dependency
            elif typed and typed not in _NUMERIC_TYPES and typed + "()" in _typed_source_prefixes(self.models):
                value = Value(qual=typed + "()")  # a request object: its modelled attributes are the input
            elif entry is not None and self._entry_param(entry, name, user_position, default, arg.annotation):
                what = entry.what.replace("{name}", name)
                if self._closed_type(typed):
                    value = EMPTY
                else:
                    label = Label(entry.kind, what, where, (TraceStep(where, f"`{name}` is {what}"),), var=name)
                    # a project class (a pydantic model): its declared field types are known
                    qual = typed + "()" if typed and self._project_class(typed) is not None else None
                    value = Value(labels=frozenset({label}), qual=qual)
            elif entry is not None and self._typed_entry_param(entry, name, user_position):
                value = Value(qual=self._typed_entry_param(entry, name, user_position) + "()")
            elif self._closed_type(typed):
                value = EMPTY
            else:
                label = Label(PARAM, f"parameter `{name}` of `{ref.name}`", where,
                              (TraceStep(where, f"`{name}` is a parameter of `{ref.name}`"),),
                              param=param_key, owner=ref.name, var=name)
                self._placeholders.add(name)
                value = Value(labels=frozenset({label}), qual=(typed + "()") if typed else None)
            if not is_self and arg in positional:
                user_position += 1
            self.state[name] = value
            index += 1
        del positional_names

    def _initialized_fields(self, ref: FunctionRef, entry: EntryModel) -> dict[str, Value]:
        """Request data the framework's per-request initializers (``setup``, ``prepare``) store on
        ``self`` before it runs this handler; what they store from their own parameters (the
        configuration ``initialize(**kwargs)`` receives) is not known here and left out."""
        fields: dict[str, Value] = {}
        cls_ref = self.module.classes.get(ref.cls.name) if ref.cls is not None else None
        if cls_ref is None:
            return fields
        for name in entry.initializers:
            if name == ref.name:
                continue
            init = self.module.method(cls_ref, name, local_only=True)
            if init is None or init.key in self.project.in_progress:
                continue
            for attr, stored in summarize(self.project, init).self_attrs.items():
                kept = _relabel(stored, lambda l: None if l.kind == PARAM else l)
                if kept.labels:
                    fields["." + attr] = join(fields.get("." + attr), kept.replace(items=None))
        return fields

    def _dependency_value(self, entry: EntryModel, default: ast.AST | None) -> Value | None:
        """``Depends(get_term)``: the parameter is what the dependency returns from request input."""
        if not (isinstance(default, ast.Call) and default.args):
            return None
        called = self.models.canonical(self.ctx.qualname(default.func))
        if called not in entry.skip_defaults:
            return None
        target = self.eval(default.args[0]).func
        if not isinstance(target, FunctionRef) or isinstance(target.node, ast.Lambda):
            return EMPTY
        if self.project.depth >= MAX_SUMMARY_DEPTH or target.key in self.project.in_progress:
            return EMPTY
        interp = Interpreter(target.module, target, scope=_scope_name(target))
        interp.entry = entry
        self.project.depth += 1
        self.project.in_progress.add(target.key)
        try:
            returns = interp.run_function().returns
        except RecursionError:
            self.project.note_approximated(target.module.ctx, target.node, f"dependency {target.name} nested too deeply", stack=True)
            return EMPTY
        finally:
            self.project.depth -= 1
            self.project.in_progress.discard(target.key)
        return _relabel(returns, lambda l: None if l.kind == PARAM else l)

    def _converted_params(self, entry: EntryModel) -> set[str]:
        """Parameters the framework converts to numbers before the handler sees them."""
        names: set[str] = set()
        if entry.converted is None or self.ref is None or isinstance(self.ref.node, ast.Lambda):
            return names
        for decorator in self.ref.node.decorator_list:
            if isinstance(decorator, ast.Call) and decorator.args:
                route = self.ctx.constant(decorator.args[0], None)
                if isinstance(route, str):
                    names.update(m.group("name") for m in entry.converted.finditer(route))
        return names

    def _entry_param(self, entry: EntryModel, name: str, position: int, default, annotation) -> bool:
        if self._typed_entry_param(entry, name, position):
            return False
        if name in self._converted_params(entry):
            return False
        if not entry.params:
            return False
        if default is not None and isinstance(default, ast.Call):
            called = self.models.canonical(self.ctx.qualname(default.func))
            if called in entry.skip_defaults:
                return False
        if annotation is not None:
            annotated = self.models.canonical(self.ctx.qualname(annotation))
            if annotated in entry.skip_annotations:
                return False
        return any(p == "*" or fnmatch.fnmatchcase(name, p) for p in entry.params)

    def _typed_entry_param(self, entry: EntryModel, name: str, position: int) -> str | None:
        return entry.typed.get(name) or entry.typed.get(f"#{position}")

    def _closed_type(self, typed: str | None) -> bool:
        """A declared type whose values carry no text: numbers, ``Literal`` choices, enumerations
        (a framework that validates annotations, or a validating model, rejects anything else)."""
        if typed is None:
            return False
        if typed in _NUMERIC_TYPES or typed == "typing.Literal":
            return True
        cls = self._project_class(typed)
        return cls is not None and cls.module._derives(cls.node, _ENUM_BASES)

    def _project_class(self, qual: str) -> ClassRef | None:
        if "." not in qual:
            return self.module.classes.get(qual)
        if qual.startswith(self.module.key + "."):
            return self.module.classes.get(qual[len(self.module.key) + 1:])
        resolved = self.project.resolve(qual) if self.project.has_module(qual.rpartition(".")[0]) else None
        target = resolved[0].lookup(resolved[1]) if resolved is not None else None
        return target if isinstance(target, ClassRef) else None

    def _closed_field(self, instance_qual: str, attr: str) -> bool:
        """``report.pages`` where ``report`` is a validating model whose ``pages`` is declared ``int``."""
        cls = self._project_class(instance_qual[:-2]) if instance_qual.endswith("()") else None
        bases = self.models.validating_bases
        if cls is None or not bases or not cls.module._derives(cls.node, bases):
            return False
        for _ in range(6):  # the field may be declared on a model it extends
            for stmt in cls.node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == attr:
                    reader = self if cls.module is self.module else Interpreter(cls.module, None, scope="<class>")
                    return reader._closed_type(reader._annotation_type(stmt.annotation))
                if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                        and any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets)):
                    field_type = self.models.canonical(cls.module.ctx.qualname(stmt.value.func))
                    return field_type in self.models.closed_field_types
            parent = next((b for b in cls.node.bases if isinstance(b, ast.Name) and b.id in cls.module.classes), None)
            if parent is None:
                return False
            cls = cls.module.classes[parent.id]
        return False

    def _annotation_type(self, annotation: ast.AST | None) -> str | None:
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.Subscript):
            # Annotated[int, ...] / Optional[int]
            head = self.ctx.qualname(annotation.value) or ""
            if head.rpartition(".")[2] == "Literal":
                return "typing.Literal"
            if head.rpartition(".")[2] in ("Annotated", "Optional"):
                inner = annotation.slice
                if isinstance(inner, ast.Tuple) and inner.elts:
                    inner = inner.elts[0]
                return self._annotation_type(inner)
            return None
        qual = self.ctx.qualname(annotation)
        return self.models.canonical(qual) if qual else None

    # -- states

    def copy_state(self) -> State | None:
        return None if self.state is None else State(self, self.state)

    def _copy(self, state: State | None) -> State | None:
        return None if state is None else State(self, state)

    def _open(self) -> set[str] | None:
        """Start a region (one compound statement): every state joined inside it was forked
        from the state at its start, so two of them differ only in names written since, which
        this region's log collects.  Returns the enclosing log, for :meth:`_close`."""
        outer = self._log[0]
        self._log[0] = set()
        return outer

    def _close(self, outer: set[str] | None) -> None:
        """End the region: its writes are writes of the enclosing region too."""
        written = self._log[0]
        self._log[0] = outer
        if outer is not None and written:
            outer |= written

    def join_states(self, a: State | None, b: State | None) -> State | None:
        """The join of two states of the open region: names neither side wrote hold the same
        value on both sides (joining it with itself gives it back), so only the region's log is
        looked at."""
        if a is None:
            return None if b is None else State(self, b)
        merged = State(self, a)
        if b is None or b is a:
            return merged
        for key in self._log[0]:  # type: ignore[union-attr]  # joins happen inside regions only
            x = a.get(key)
            y = b.get(key)
            if x is not y:
                merged[key] = join(x, y)
        return merged

    def same_states(self, a: State | None, b: State | None) -> bool:
        if a is None or b is None:
            return a is b
        for key in self._log[0]:  # type: ignore[union-attr]  # as in join_states
            value = a.get(key)
            other = b.get(key)
            if value is other:
                continue
            if value is None or other is None:
                return False
            if value.labels != other.labels or value.known != other.known:
                return False
            if value.items is not None or other.items is not None:
                if (value.items is None) != (other.items is None) or value.items.keys() != other.items.keys():
                    return False
                for k in value.items:
                    if value.items[k].labels != other.items[k].labels:
                        return False
        return True

    # -- statements

    def exec_block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if self.state is None:
                return
            self.exec_stmt(stmt)

    def exec_stmt(self, stmt: ast.stmt) -> None:
        project = self.project
        project.steps += 1
        if project.steps >= project._check_at and project.step_checkpoint():
            raise _OverBudget
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is None:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self.eval(child)
            return
        method(stmt)

    def stmt_Expr(self, stmt: ast.Expr) -> None:
        self.eval(stmt.value)
        if isinstance(stmt.value, ast.Call) and self._never_returns(stmt.value):
            self.state = None

    def _never_returns(self, call: ast.Call) -> bool:
        name = self.models.canonical(self.ctx.qualname(call.func))
        return name in self.models.noreturn

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        value = self.eval(stmt.value)
        for target in stmt.targets:
            self.assign(target, value, stmt)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value), stmt)

    def stmt_AugAssign(self, stmt: ast.AugAssign) -> None:
        current = self.eval(_load(stmt.target))
        right = self.eval(stmt.value)
        value = self.binop(stmt.op, current, right, stmt)
        if isinstance(stmt.op, ast.Add) and current.seq and current.items is not None and right.seq and right.items is not None:
            items = dict(current.items)
            for i, k in enumerate(sorted(right.items)):
                items[len(current.items) + i] = right.items[k]
            value = value.replace(items=items, seq=True)
        self.assign(stmt.target, value, stmt)

    def stmt_Return(self, stmt: ast.Return) -> None:
        value = self.eval(stmt.value) if stmt.value is not None else constant(None)
        if self.ref is not None and not (value.known and not value.const):
            # what this return proves about the parameters when the function's result is truthy
            facts: dict[str, frozenset[str]] = {}
            if stmt.value is not None and self.state is not None:
                params = set(_all_params(self.ref.node))
                for key, kinds, _ in self._facts(stmt.value, True, 0):
                    if key in params:
                        facts[key] = facts.get(key, frozenset()) | kinds
            self.return_facts.append(facts)
        if self.ref is not None:
            self._note_exit()
        if self.entry is not None and self.entry.return_sink and stmt.value is not None:
            self.check_response_body(self.entry.return_sink, stmt.value, value)
        if value.labels and self.ref is not None:
            value = step_value(value, TraceStep(self.ctx.location(stmt), f"returned by `{self.ref.name}`"))
        self.returns = join(self.returns, value) if self.returns is not None else value
        self.state = None

    def stmt_Raise(self, stmt: ast.Raise) -> None:
        if stmt.exc is not None:
            self.eval(stmt.exc)
        self.state = None

    def stmt_Delete(self, stmt: ast.Delete) -> None:
        for target in stmt.targets:
            key = _key(target)
            if key and self.state is not None:
                self.state.pop(key, None)

    def stmt_Assert(self, stmt: ast.Assert) -> None:
        self.eval(stmt.test)
        self.refine(stmt.test, True)

    @_region
    def stmt_If(self, stmt: ast.If) -> None:
        test = self.eval(stmt.test)
        truth = self._truth(test)
        if truth is True:
            self.refine(stmt.test, True)
            self.exec_block(stmt.body)
            return
        if truth is False:
            self.refine(stmt.test, False)
            self.exec_block(stmt.orelse)
            return
        before = self.copy_state()
        self.refine(stmt.test, True)
        self.exec_block(stmt.body)
        after_body = self.state
        self.state = before
        self.refine(stmt.test, False)
        self.exec_block(stmt.orelse)
        self.state = self.join_states(after_body, self.state)

    def _truth(self, value: Value) -> bool | None:
        if not value.known:
            return None
        try:
            return bool(value.const)
        except Exception:
            return None

    @_region
    def stmt_While(self, stmt: ast.While) -> None:
        test = self.eval(stmt.test)
        truth = self._truth(test)
        if truth is False:
            self.exec_block(stmt.orelse)
            return
        exits = self._loop(stmt, lambda: self.refine(stmt.test, True), None)
        if truth is True:
            self.state = exits
        else:
            self.refine(stmt.test, False)
            self.exec_block(stmt.orelse)
            self.state = self.join_states(self.state, exits)

    @_region
    def stmt_For(self, stmt: ast.For) -> None:
        iterable = self.eval(stmt.iter)
        element = self.element_of(iterable)
        if isinstance(stmt.iter, (ast.List, ast.Tuple, ast.Set)) and iterable.items == {} and iterable.seq:
            self.exec_block(stmt.orelse)
            return
        exits = self._loop(stmt, None, lambda: self.assign(stmt.target, element, stmt))
        self.exec_block(stmt.orelse)
        self.state = self.join_states(self.state, exits)

    stmt_AsyncFor = stmt_For

    def _loop(self, stmt, on_enter, bind) -> State | None:
        """Run the body to a fixed point; the state afterwards is the loop-not-taken state.

        Returns the join of the states at ``break``.
        """
        entry = self.copy_state()
        breaks: list[State] = []
        head = entry
        rounds = MAX_LOOP_ROUNDS if len(self.loop_breaks) < 2 else 1  # deep nests: one pass, joined
        for _ in range(rounds):
            self.state = self._copy(head)
            if self.state is None:
                break
            if on_enter:
                on_enter()
            if bind:
                bind()
            self.loop_breaks.append([])
            self.loop_continues.append([])
            self.exec_block(stmt.body)
            round_breaks = self.loop_breaks.pop()
            continues = self.loop_continues.pop()
            breaks = round_breaks
            end = self.state
            for state in continues:
                end = self.join_states(end, state)
            new_head = self.join_states(head, end)
            if self.same_states(new_head, head):
                head = new_head
                break
            head = new_head
        self.state = head
        exit_state: State | None = None
        for state in breaks:
            exit_state = self.join_states(exit_state, state)
        return exit_state

    def stmt_Break(self, stmt: ast.Break) -> None:
        if self.loop_breaks and self.state is not None:
            self.loop_breaks[-1].append(self.state)
        self.state = None

    def stmt_Continue(self, stmt: ast.Continue) -> None:
        if self.loop_continues and self.state is not None:
            self.loop_continues[-1].append(self.state)
        self.state = None

    def stmt_With(self, stmt: ast.With) -> None:
        for item in stmt.items:
            value = self.eval(item.context_expr)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, value, stmt)
        self.exec_block(stmt.body)

    stmt_AsyncWith = stmt_With

    @_region
    def stmt_Try(self, stmt: ast.Try) -> None:
        before = self.copy_state()
        self.exec_block(stmt.body)
        after_body = self.state
        self.exec_block(stmt.orelse) if self.state is not None else None
        normal = self.state
        handler_entry = self.join_states(before, after_body)
        outcomes = normal
        for handler in stmt.handlers:
            self.state = self._copy(handler_entry)
            if self.state is None:
                continue
            if handler.name:
                self.state[handler.name] = Value()
            self.exec_block(handler.body)
            outcomes = self.join_states(outcomes, self.state)
        self.state = outcomes
        if stmt.finalbody:
            if self.state is None:
                # finally runs on the way out of a return/raise; analyse it for its sinks only
                self.state = State(self, handler_entry)
                self.exec_block(stmt.finalbody)
                self.state = None
            else:
                self.exec_block(stmt.finalbody)

    stmt_TryStar = stmt_Try

    @_region
    def stmt_Match(self, stmt) -> None:
        subject = self.eval(stmt.subject)
        before = self.copy_state()
        outcome: State | None = None
        fallthrough = True
        for case in stmt.cases:
            verdict = self._case_matches(case.pattern, subject)
            if verdict is False:
                continue
            self.state = self._copy(before)
            if self.state is None:
                break
            self._bind_pattern(case.pattern, subject, stmt)
            if case.guard is not None:
                self.eval(case.guard)
                self.refine(case.guard, True)
            self.exec_block(case.body)
            outcome = self.join_states(outcome, self.state)
            if verdict is True and case.guard is None:
                fallthrough = False
                break
        self.state = self.join_states(outcome, before if fallthrough else None)

    def _case_matches(self, pattern, subject: Value) -> bool | None:
        if isinstance(pattern, ast.MatchValue):
            value = self.eval(pattern.value)
            if value.known and subject.known:
                return _safe_eq(value.const, subject.const)
            return None
        if isinstance(pattern, ast.MatchAs) and pattern.pattern is None:
            return True
        if isinstance(pattern, ast.MatchOr):
            verdicts = [self._case_matches(p, subject) for p in pattern.patterns]
            if any(v is True for v in verdicts):
                return True
            if all(v is False for v in verdicts):
                return False
        return None

    def _bind_pattern(self, pattern, subject: Value, stmt) -> None:
        if isinstance(pattern, ast.MatchAs):
            if pattern.name:
                value = subject
                if pattern.pattern is not None and isinstance(pattern.pattern, ast.MatchValue):
                    value = self.eval(pattern.pattern.value)
                self.assign(ast.Name(id=pattern.name, ctx=ast.Store()), value, stmt)
            if pattern.pattern is not None and not isinstance(pattern.pattern, ast.MatchValue):
                self._bind_pattern(pattern.pattern, subject, stmt)
        elif isinstance(pattern, ast.MatchValue):
            return
        else:
            for child in ast.iter_child_nodes(pattern):
                if isinstance(child, ast.pattern):
                    self._bind_pattern(child, self.element_of(subject), stmt)
            for attr in ("name", "rest"):
                name = getattr(pattern, attr, None)
                if isinstance(name, str):
                    self.assign(ast.Name(id=name, ctx=ast.Store()), subject, stmt)

    def stmt_FunctionDef(self, stmt) -> None:
        if self.is_module:
            self.state[stmt.name] = Value(qual=f"{self.module.key}.{stmt.name}", func=self.module.functions.get(stmt.name))
        else:
            self.state[stmt.name] = Value(func=FunctionRef(self.module, stmt, None))

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_ClassDef(self, stmt: ast.ClassDef) -> None:
        cls = self.module.classes.get(stmt.name) if self.is_module else None
        if cls is not None:
            self.state[stmt.name] = Value(qual=cls.qual, func=cls)

    def stmt_Import(self, stmt) -> None:
        return

    stmt_ImportFrom = stmt_Import

    def stmt_Global(self, stmt) -> None:
        return

    stmt_Nonlocal = stmt_Global

    def stmt_Pass(self, stmt) -> None:
        return

    # -- assignment

    def assign(self, target: ast.AST, value: Value, stmt: ast.AST) -> None:
        if self.state is None:
            return
        if isinstance(target, ast.Name):
            self.state[target.id] = self._stepped(value, target.id, stmt)
            self._forget_attributes(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            stars = [i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred)]
            known = value.items is not None and value.seq and not (value.labels - merge_labels(value.items.values()))
            ordered = [value.items[k] for k in sorted(value.items)] if known else None
            after = len(target.elts) - stars[0] - 1 if stars else 0
            for index, element in enumerate(target.elts):
                part = None
                if ordered is not None:
                    if not stars or index < stars[0]:
                        part = ordered[index] if index < len(ordered) else None
                    elif index == stars[0]:
                        middle = ordered[stars[0]: len(ordered) - after]
                        part = Value(labels=merge_labels(middle), items=dict(enumerate(middle)), seq=True)
                    else:
                        position = len(ordered) - (len(target.elts) - index)
                        part = ordered[position] if 0 <= position < len(ordered) else None
                if isinstance(element, ast.Starred):
                    self.assign(element.value, part if part is not None else Value(labels=value.labels), stmt)
                    continue
                if part is None:
                    part = self.element_of(value)
                self.assign(element, part, stmt)
        elif isinstance(target, ast.Attribute):
            key = _key(target)
            if isinstance(target.value, ast.Name) and target.value.id == self.self_name:
                current = self.self_attrs.get(target.attr)
                self.self_attrs[target.attr] = join(current, value) if current is not None else value
            receiver_value = self.eval(target.value)
            if receiver_value.qual:
                self.check_store(target, receiver_value, value, stmt)
            if key:
                self.state[key] = self._stepped(value, key, stmt)
                self._dotted.add(key)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value)
            index = self.eval(target.slice) if not isinstance(target.slice, ast.Slice) else EMPTY
            self.check_setitem(target, container, index, value, stmt)
            key = _key(target.value)
            if key:
                stored = self._stepped(value, f"{key}[...]", stmt)
                if index.known and container.items is not None and _hashable(index.const) and len(container.items) < MAX_ITEMS:
                    items = dict(container.items)
                    items[index.const] = stored
                    updated = container.replace(items=items, labels=container.labels | stored.labels)
                elif index.known and container.items is None and not container.labels and _hashable(index.const) and key in self.state:
                    updated = container.replace(items={index.const: stored}, labels=stored.labels)
                else:
                    updated = container.replace(labels=container.labels | stored.labels, items=None if not index.known else container.items)
                self.state[key] = updated
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, stmt)

    def _stepped(self, value: Value, name: str, stmt: ast.AST) -> Value:
        if not value.labels:
            return value
        return step_value(value, TraceStep(self.ctx.location(stmt), f"assigned to `{name}`"), name)

    def _forget_attributes(self, name: str) -> None:
        if not self._dotted:
            return
        prefix = name + "."
        for k in [k for k in self._dotted if k.startswith(prefix)]:
            self.state.pop(k, None)

    # -- expressions

    def eval(self, node: ast.AST | None) -> Value:
        if node is None:
            return EMPTY
        if self._expr_depth >= MAX_EXPR_DEPTH:
            return self._approximate(node)
        self.project.steps += 1
        self._expr_depth += 1
        try:
            method = getattr(self, "expr_" + type(node).__name__, None)
            if method is None:
                labels = frozenset()
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.expr):
                        labels |= self.eval(child).labels
                return Value(labels=labels)
            return method(node)
        finally:
            self._expr_depth -= 1

    def _approximate(self, node: ast.AST) -> Value:
        """An expression too deep to follow: it carries what the variables in it carry (a walk
        with no recursion), with no sanitiser or sink inside it recognised."""
        self.project.note_approximated(self.ctx, node, f"expression nested more than {MAX_EXPR_DEPTH} deep")
        state = self.state or {}
        labels: frozenset = frozenset()
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name):
                value = state.get(inner.id)
                if value is not None:
                    labels |= value.labels
        return Value(labels=labels)

    def expr_Constant(self, node: ast.Constant) -> Value:
        return constant(node.value)

    def expr_Name(self, node: ast.Name) -> Value:
        state = self.state or {}
        value = state.get(node.id)
        if value is not None:
            return value
        if not self.is_module and node.id not in self.local_names:
            value = self.module.globals.get(node.id)
            if value is not None:
                return value
        if node.id in self.module.ctx.module_constants:
            return constant(self.module.ctx.module_constants[node.id])
        qual = self.ctx.aliases.get(node.id)
        if qual is not None:
            qual = self.models.canonical(qual)
            source = self.models.sources.get(qual)
            if source is not None:
                return self.source_value(source, qual, node)
            return Value(qual=qual)
        if node.id in ("True", "False", "None"):
            return constant({"True": True, "False": False, "None": None}[node.id])
        function = self.module.functions.get(node.id)
        if function is not None:
            return Value(qual=f"{self.module.key}.{node.id}", func=function)
        cls = self.module.classes.get(node.id)
        if cls is not None:
            return Value(qual=cls.qual, func=cls)
        source = self.models.sources.get(node.id)
        if source is not None:
            return self.source_value(source, node.id, node)
        if node.id in _BUILTINS:
            return Value(qual=node.id)  # a builtin function or type, not data
        return self.opaque(f"`{node.id}`", node, qual=node.id)

    def opaque(self, what: str, node: ast.AST, qual: str | None = None) -> Value:
        where = self.ctx.location(node)
        label = Label(OPAQUE, what, where, (TraceStep(where, f"{what} has a value of unknown origin"),), var=what.strip("`"))
        return Value(labels=frozenset({label}), qual=qual)

    def source_value(self, source, qual: str, node: ast.AST, text: str | None = None) -> Value:
        if source.keys is not None:
            return Value(qual=qual)  # input only under some keys: see keyed_read
        where = self.ctx.location(node)
        text = text or _short(node)
        label = Label(source.kind, source.what, where, (TraceStep(where, f"`{text}` is read from {source.what}"),))
        return Value(labels=frozenset({label}), qual=qual)

    def expr_Attribute(self, node: ast.Attribute) -> Value:
        key = _key(node)
        if key and self.state and key in self.state:
            return self.state[key]
        base = self.eval(node.value)
        if (self.self_name is not None and isinstance(node.value, ast.Name) and node.value.id == self.self_name
                and self.ref is not None and self.ref.cls is not None
                and not (base.items is not None and "." + node.attr in base.items)):
            constructed = self.module.constructed_fields(self.ref.cls).get(node.attr)
            if constructed is not None:
                return constructed
        qual = self.models.canonical(f"{base.qual}.{node.attr}") if base.qual else None
        if qual is not None:
            source = self.models.sources.get(qual)
            if source is not None:
                return self.source_value(source, qual, node)
            if self.project.has_module(base.qual or "") and self.project.may_load(base.qual or "", self._following):
                resolved = self.project.resolve(qual)
                if resolved is not None:
                    target = resolved[0].lookup(resolved[1])
                    if target is not None:
                        return Value(qual=qual, func=target)
                    other_globals = resolved[0].globals
                    value = other_globals.get(resolved[1])
                    if value is not None:
                        return value
        if base.items is not None and not base.seq and ("." + node.attr) in base.items:
            return base.items["." + node.attr]  # a field of an object built in view
        flags = frozenset()
        for flag in base.flags:
            if flag.startswith("parsed-url:") and node.attr in ("netloc", "hostname", "scheme", "host"):
                flags = flags | {"host-of:" + flag[len("parsed-url:"):]}
        if isinstance(base.func, ClassRef) and not base.labels:
            return Value(qual=qual, flags=flags)
        if base.labels and base.qual and self._closed_field(base.qual, node.attr):
            return Value(qual=qual)
        if base.labels and qual in self.models.call_sanitizers:
            # a property that sanitises, as a call would: Path(name).name is a base name
            return clean_value(Value(labels=base.labels, qual=qual), self.models.call_sanitizers[qual].kinds)
        labels = base.labels
        if any(l.kind == PARAM and not isinstance(l.param, tuple) for l in labels):
            # a field of a parameter: its own placeholder, so callers substitute that field only
            labels = frozenset(
                l.with_(param=(l.param, node.attr), var=f"{l.var}.{node.attr}" if l.var else node.attr)
                if l.kind == PARAM and not isinstance(l.param, tuple) else l for l in labels)
        return Value(labels=labels, qual=qual, flags=flags)

    def keyed_read(self, base: Value, key: Value, node: ast.AST) -> Value | None:
        """A read from a mapping that is input under some keys only (a WSGI environ)."""
        source = self.models.sources.get(base.qual) if base.qual else None
        if source is None or source.keys is None:
            return None
        if key.known and isinstance(key.const, str) and not source.keys.search(key.const):
            return EMPTY
        where = self.ctx.location(node)
        text = _short(node)
        label = Label(source.kind, source.what, where, (TraceStep(where, f"`{text}` is read from {source.what}"),))
        return Value(labels=frozenset({label}))

    def expr_Subscript(self, node: ast.Subscript) -> Value:
        base = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            for part in (node.slice.lower, node.slice.upper, node.slice.step):
                self.eval(part)
            prefix = base.prefix if (node.slice.lower is None or self.ctx.constant(node.slice.lower, None) == 0) else None
            return Value(labels=base.labels, prefix=prefix, text=base.text, const=UNKNOWN, seq=base.seq)
        index = self.eval(node.slice)
        keyed = self.keyed_read(base, index, node)
        if keyed is not None:
            return keyed
        if index.known and base.items is not None and _hashable(index.const):
            item = base.items.get(index.const)
            if item is None and base.seq and isinstance(index.const, int) and index.const < 0:
                count = len(base.items)
                item = base.items.get(count + index.const)
            if item is not None:
                return item
            if not base.labels:
                return EMPTY
        if base.items and not base.seq and not index.known and not (base.labels - merge_labels(base.items.values())):
            result = None
            for value in base.items.values():
                result = join(result, value)
            return result
        if base.known and index.known:
            try:
                return constant(base.const[index.const])  # type: ignore[index]
            except Exception:
                pass
        qual = f"{base.qual}[]" if base.qual else None
        return Value(labels=base.labels, qual=qual)

    def expr_Starred(self, node: ast.Starred) -> Value:
        return self.eval(node.value)

    def expr_Await(self, node: ast.Await) -> Value:
        return self.eval(node.value)

    def expr_Yield(self, node: ast.Yield) -> Value:
        value = self.eval(node.value)
        self.returns = join(self.returns, value) if self.returns is not None else value
        return EMPTY

    expr_YieldFrom = expr_Yield

    def expr_NamedExpr(self, node: ast.NamedExpr) -> Value:
        value = self.eval(node.value)
        self.assign(node.target, value, node)
        return value

    def expr_Lambda(self, node: ast.Lambda) -> Value:
        return Value(func=FunctionRef(self.module, node, None))

    def expr_IfExp(self, node: ast.IfExp) -> Value:
        test = self.eval(node.test)
        truth = self._truth(test)
        if truth is True:
            return self.eval(node.body)
        if truth is False:
            return self.eval(node.orelse)
        saved = self.copy_state()
        self.refine(node.test, True)
        body = self.eval(node.body)
        self.state = self._copy(saved)
        self.refine(node.test, False)
        orelse = self.eval(node.orelse)
        self.state = saved
        return join(body, orelse)

    def expr_BoolOp(self, node: ast.BoolOp) -> Value:
        values = []
        saved = self.copy_state()
        for operand in node.values:
            value = self.eval(operand)
            values.append(value)
            truth = self._truth(value)
            if isinstance(node.op, ast.And):
                if truth is False:
                    break
                self.refine(operand, True)
            else:
                if truth is True:
                    break
                self.refine(operand, False)
        self.state = saved
        if all(v.known for v in values):
            result = values[0].const
            for v in values[1:]:
                result = (result and v.const) if isinstance(node.op, ast.And) else (result or v.const)
            return constant(result)
        result = values[0]
        for v in values[1:]:
            result = join(result, v)
        return result.replace(const=UNKNOWN, guards=())

    def expr_Compare(self, node: ast.Compare) -> Value:
        left = self.eval(node.left)
        rights = [self.eval(c) for c in node.comparators]
        if len(rights) == 1 and left.known and rights[0].known:
            from .module import _compare
            try:
                result = _compare(node.ops[0], left.const, rights[0].const)
                if result is not UNKNOWN:
                    return constant(result)
            except Exception:
                pass
        return Value()

    def expr_UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.eval(node.operand)
        if operand.known:
            try:
                if isinstance(node.op, ast.Not):
                    return constant(not operand.const)
                if isinstance(node.op, ast.USub):
                    return constant(-operand.const)  # type: ignore[operator]
            except Exception:
                pass
        if isinstance(node.op, ast.Not):
            return Value()
        return Value(labels=operand.labels)

    def expr_BinOp(self, node: ast.BinOp) -> Value:
        # A long sum (generated SQL, a table of strings) nests to the left as deep as it has
        # terms: walk its left spine with a loop, so its length costs no Python stack.
        spine = [node]
        innermost = node.left
        while isinstance(innermost, ast.BinOp):
            spine.append(innermost)
            innermost = innermost.left
        value = self.eval(innermost)
        for binop in reversed(spine):
            value = self.binop(binop.op, value, self.eval(binop.right), binop)
        return value

    def binop(self, op: ast.operator, left: Value, right: Value, node: ast.AST) -> Value:
        if left.known and right.known:
            from .module import _BINOPS
            fn = _BINOPS.get(type(op))
            if fn is not None:
                try:
                    result = fn(left.const, right.const)
                    if not (isinstance(result, (str, bytes)) and len(result) > 100_000):
                        return constant(result)
                except Exception:
                    pass
        if isinstance(op, ast.Mod) and left.qual:
            escaping = self.models.call_sanitizers.get(f"{left.qual}.__mod__")
            if escaping is not None:
                return Value(labels=clean_value(right, escaping.kinds).labels, qual=left.qual)
        if isinstance(op, ast.Mod) and isinstance(left.const, str):
            labels = _percent_labels(left.const, right)
            text = (left.const + right.text)[:MAX_TEXT]
            prefix = left.const.split("%", 1)[0]
            return Value(labels=labels, prefix=prefix, text=text, flags=frozenset({"built"}))
        if isinstance(op, ast.Add):
            if left.seq and left.items is not None and right.seq and right.items is not None:
                items = dict(left.items)
                for i, k in enumerate(sorted(right.items)):
                    items[len(left.items) + i] = right.items[k]
                return Value(labels=left.labels | right.labels, items=items, seq=True)
            prefix = None
            if left.known and isinstance(left.const, str):
                prefix = left.const + (right.prefix or "")
            elif left.prefix is not None:
                prefix = left.prefix
            built = (left.text or right.text) and not (left.known and right.known)
            flags = frozenset({"built"}) if built else frozenset()
            if _sets_head(left) or "head-set" in left.flags:
                flags = flags | {"head-set"}
            return Value(labels=left.labels | right.labels, prefix=prefix, text=(left.text + right.text)[:MAX_TEXT],
                         flags=flags)
        if isinstance(op, ast.Div) and left.qual:
            return Value(labels=left.labels | right.labels, qual=left.qual, prefix=left.prefix)
        return Value(labels=left.labels | right.labels)

    def expr_JoinedStr(self, node: ast.JoinedStr) -> Value:
        labels: frozenset[Label] = frozenset()
        prefix_parts: list[str] = []
        prefix_open = True
        text_parts: list[str] = []
        consts: list[str] | None = []
        head_set = False
        for index, part in enumerate(node.values):
            if isinstance(part, ast.Constant):
                text = str(part.value)
                text_parts.append(text)
                if prefix_open:
                    prefix_parts.append(text)
                if consts is not None:
                    consts.append(text)
                continue
            if isinstance(part, ast.FormattedValue):
                value = self.eval(part.value)
                if index == 0 and _sets_head(value):
                    head_set = True
                if part.format_spec is not None:
                    self.eval(part.format_spec)
                value_labels = value.labels
                if part.conversion == ord("r"):
                    value_labels = collapse(l.clean({"log"}) for l in value_labels)
                labels |= value_labels
                if value.known and part.conversion == -1 and part.format_spec is None:
                    rendered = str(value.const)
                    text_parts.append(rendered)
                    if prefix_open:
                        prefix_parts.append(rendered)
                    if consts is not None:
                        consts.append(rendered)
                else:
                    consts = None
                    if prefix_open and value.prefix:
                        prefix_parts.append(value.prefix)
                    prefix_open = False
                    text_parts.append(value.text)
        if consts is not None:
            return constant("".join(consts))
        return Value(labels=labels, prefix="".join(prefix_parts), text="".join(text_parts)[:MAX_TEXT],
                     flags=frozenset({"built", "head-set"} if head_set else {"built"}))

    def expr_FormattedValue(self, node: ast.FormattedValue) -> Value:
        return self.eval(node.value)

    def expr_List(self, node) -> Value:
        return self._sequence(node.elts, seq=True, node=node)

    expr_Tuple = expr_List

    def expr_Set(self, node: ast.Set) -> Value:
        return self._sequence(node.elts, seq=False, node=node)

    def _sequence(self, elts, seq: bool, node) -> Value:
        items: dict | None = {}
        labels: frozenset[Label] = frozenset()
        consts = []
        for index, element in enumerate(elts):
            value = self.eval(element)
            labels |= value.labels
            if isinstance(element, ast.Starred):
                items = None
                consts = None
                continue
            if items is not None and index < MAX_ITEMS:
                items[index] = value
            if consts is not None:
                if value.known:
                    consts.append(value.const)
                else:
                    consts = None
        const = UNKNOWN
        if consts is not None:
            if isinstance(node, ast.Tuple):
                const = tuple(consts)
            elif isinstance(node, ast.List):
                const = list(consts)
            else:
                try:
                    const = frozenset(consts)
                except TypeError:
                    const = UNKNOWN
        return Value(labels=labels, items=items, seq=seq, const=const)

    def expr_Dict(self, node: ast.Dict) -> Value:
        items: dict | None = {}
        labels: frozenset[Label] = frozenset()
        for key_node, value_node in zip(node.keys, node.values):
            value = self.eval(value_node)
            labels |= value.labels
            if key_node is None:  # {**other}
                if value.items is not None and items is not None and not value.seq:
                    items.update(value.items)
                else:
                    items = None
                continue
            key = self.eval(key_node)
            labels |= key.labels
            if items is not None and key.known and _hashable(key.const) and len(items) < MAX_ITEMS:
                items[key.const] = value
            else:
                items = None
        return Value(labels=labels, items=items)

    def _comprehension(self, node, element_nodes: list[ast.expr]) -> Value:
        saved = self.copy_state()
        self.state = State(self, saved)
        for generator in node.generators:
            iterable = self.eval(generator.iter)
            self.assign(generator.target, self.element_of(iterable), node)
            for condition in generator.ifs:
                self.eval(condition)
                self.refine(condition, True)
        values = [self.eval(e) for e in element_nodes]
        self.state = saved
        labels = merge_labels(values)
        if isinstance(node, ast.DictComp):
            return Value(labels=labels)
        return Value(labels=labels, text=values[0].text if values else "")

    def expr_ListComp(self, node) -> Value:
        return self._comprehension(node, [node.elt])

    expr_SetComp = expr_ListComp
    expr_GeneratorExp = expr_ListComp

    def expr_DictComp(self, node: ast.DictComp) -> Value:
        return self._comprehension(node, [node.key, node.value])

    def element_of(self, container: Value) -> Value:
        if container.items:
            result = None
            for value in container.items.values():
                result = join(result, value) if result is not None else value
            if container.items and not (container.labels - merge_labels(container.items.values())):
                return result.replace(const=UNKNOWN) if result.known and len(container.items) > 1 else result
            return Value(labels=container.labels)
        return Value(labels=container.labels, qual=f"{container.qual}[]" if container.qual else None)

    # -- calls

    def expr_Call(self, node: ast.Call) -> Value:
        func = node.func
        receiver: Value | None = None
        method: str | None = None
        callee: Value | None = None
        if isinstance(func, ast.Attribute):
            receiver = self.eval(func.value)
            method = func.attr
            qual = self.models.canonical(f"{receiver.qual}.{method}") if receiver.qual else None
        else:
            callee = self.eval(func)
            qual = callee.qual
        args = [self.eval(a) for a in node.args]
        kwargs: dict[str | None, Value] = {}
        for kw in node.keywords:
            value = self.eval(kw.value)
            kwargs[kw.arg] = join(kwargs[kw.arg], value) if kw.arg in kwargs else value
        following = self._following
        self._following = _carries_input(args, kwargs, receiver)
        try:
            if qual is not None and receiver is not None and receiver.qual and self.project.has_module(receiver.qual):
                callee = self.expr_Attribute(func)
            return self._call(node, func, receiver, method, callee, qual, args, kwargs)
        finally:
            self._following = following

    def _call(self, node, func, receiver, method, callee, qual, args, kwargs) -> Value:
        call = CallSite(node, qual, method, receiver, args, kwargs, self)
        guards = self._guard_facts(call)  # before a sink consumes the arguments it inspects

        sinks = self.models.call_sinks.get(qual) if qual else None
        if sinks is None and method is not None:
            sinks = self.models.method_sinks.get(method)
            if sinks and receiver is not None and isinstance(receiver.const, (str, bytes)):
                sinks = None  # str.find, bytes.split: not the sink of the same name
        target = self._project_target(call, callee)
        consumed: set[int] = set()
        if sinks and not (target is not None and qual not in self.models.call_sinks):
            for sink in sinks:
                if self.check_sink(call, sink) and not sink.keeps:
                    consumed.update(range(len(args)) if sink.all_args else sink.args)
        if consumed:
            # what a sink consumes does not flow on: a command's output, a fetched page and a
            # parsed document are not the request's data
            call.args = [EMPTY if i in consumed else a for i, a in enumerate(args)]
            if -1 in consumed:
                call.receiver = Value(qual=receiver.qual) if receiver is not None else None

        if qual is not None:
            source = self.models.sources.get(qual)
            if source is not None:
                return self.source_value(source, qual + "()", node)
        result = self._call_result(call, target, callee)
        if qual is not None and qual in self.models.call_sanitizers:
            result = clean_value(result, self.models.call_sanitizers[qual].kinds)
        elif method is not None and method in self.models.method_sanitizers:
            for sanitizer in self.models.method_sanitizers[method]:
                if sanitizer.keyword is not None:
                    given = next((kw.value for kw in node.keywords if kw.arg == sanitizer.keyword), None)
                    named = self.models.canonical(self.ctx.qualname(given)) if given is not None else None
                    if named not in sanitizer.keyword_values:
                        continue
                if sanitizer.arg_contains:
                    first = args[0].const if args else None
                    if not isinstance(first, str) or not any(s in first for s in sanitizer.arg_contains):
                        continue
                result = clean_value(result, sanitizer.kinds)
        if guards:
            result = result.replace(guards=guards)
        return result

    def _project_target(self, call: CallSite, callee: Value | None) -> FunctionRef | ClassRef | None:
        if callee is not None and isinstance(callee.func, (FunctionRef, ClassRef)):
            return callee.func
        receiver = call.receiver
        if receiver is not None and call.method is not None:
            if isinstance(receiver.func, ClassRef):
                return receiver.func.module.method(receiver.func, call.method)
            if receiver.qual and receiver.qual.endswith("()"):
                cls_qual = receiver.qual[:-2]
                module = self.project.module_of(cls_qual) if "." in cls_qual else None
                resolved = self.project.resolve(cls_qual) if module and self.project.may_load(module, self._following) else None
                if resolved is not None:
                    target = resolved[0].lookup(resolved[1])
                    if isinstance(target, ClassRef):
                        return target.module.method(target, call.method)
        if (callee is None or callee.func is None) and call.qual and call.qual not in self.models.call_sinks:
            module = self.project.module_of(call.qual) if "." in call.qual else None
            resolved = self.project.resolve(call.qual) if module and self.project.may_load(module, self._following) else None
            if resolved is not None:
                return resolved[0].lookup(resolved[1])
        return None

    def _call_result(self, call: CallSite, target, callee: Value | None) -> Value:
        node = call.node
        qual = call.qual
        models = self.models
        if isinstance(target, ClassRef):
            init = target.module.method(target, "__init__")
            fields = None
            labels: frozenset[Label] = frozenset()
            if init is not None:
                call.receiver = Value(qual=target.qual + "()", func=target)
                _, fields = self._apply_summary(call, init, bound=True, with_fields=True)
            else:
                fields = self._declared_fields(call, target)
                if fields is None and self._library_base(target):
                    # a library class's constructor (a form, a serializer bound to request data):
                    # like any library call, its result holds what it was given
                    labels = merge_labels(call.args) | merge_labels(call.kwargs.values())
                    fields = self._validated_data(target, labels)
            return Value(labels=labels, qual=target.qual + "()", func=target, items=fields)
        if isinstance(target, FunctionRef):
            if isinstance(target.node, ast.Lambda) or (target.module is self.module and target.cls is None
                                                       and self.ref is not None
                                                       and target.node in self.module.facts(self.ref.node).nested):
                return self._inline(call, target)
            bound = call.receiver is not None and target.cls is not None and not _is_static(target.node)
            if not bound:
                return self._apply_summary(call, target, bound=False)
            result, fields = self._apply_summary(call, target, bound=True, with_fields=True)
            key = call.receiver_key
            if fields and key and self.state is not None and key in self.state:
                # a setter: what the method stores on its receiver is now in our object
                current = self.state[key]
                items = dict(current.items) if current.items is not None and not current.seq else {}
                for name, value in fields.items():
                    items[name] = value
                self.state[key] = current.replace(items=items, labels=current.labels)
            return result
        # library calls
        propagate = None
        if qual is not None and qual in models.call_propagators:
            propagate = models.call_propagators[qual]
        elif call.method is not None and call.method in models.method_propagators:
            propagate = models.method_propagators[call.method]
        special = self._builtin_result(call)
        if special is not None:
            return special
        if propagate is not None:
            labels: frozenset[Label] = frozenset()
            for origin in propagate:
                if origin == "args":
                    labels |= merge_labels(call.args) | merge_labels(call.kwargs.values())
                elif origin == "receiver" and call.receiver is not None:
                    labels |= call.receiver.labels
                elif origin.isdigit() and int(origin) < len(call.args):
                    labels |= call.args[int(origin)].labels
            result = Value(labels=labels, qual=models.canonical(f"{qual}()") if qual else None, flags=self._call_flags(call))
        else:
            labels = merge_labels(call.args) | merge_labels(call.kwargs.values())
            if call.receiver is not None:
                if self._collaborator(call):
                    # a method of a project object we cannot resolve (self.api.get(ctx, id)):
                    # it looks things up by its arguments; what it returns is not those arguments
                    labels = frozenset()
                labels |= call.receiver.labels
            elif (callee is not None and callee.qual is None and callee.func is None and isinstance(node.func, ast.Name)
                  and self.state is not None and node.func.id in self.state
                  and all(label.kind in (OPAQUE, PARAM) for label in callee.labels)):
                # a callable passed in (a handler, a callback): what it returns is not known to be its arguments
                labels = callee.labels
            if not labels and qual is None and call.receiver is None:
                return self.opaque(f"the result of `{_short(node.func)}()`", node)
            result = Value(labels=labels, qual=models.canonical(f"{qual}()") if qual else None, flags=self._call_flags(call))
            if not labels and qual is not None and not self._is_library(qual):
                result = self.opaque(f"the result of `{_short(node.func)}()`", node, qual=f"{qual}()")
        if call.method in _MUTATORS and call.receiver is not None and call.receiver_key and self.state is not None:
            self._mutate(call)
            owner, _, attr = call.receiver_key.partition(".")
            if owner == self.self_name and attr and "." not in attr and call.receiver_key in self.state:
                # self.parts.append(part): a setter too, as much as self.parts = [part]
                current = self.self_attrs.get(attr)
                value = self.state[call.receiver_key]
                self.self_attrs[attr] = join(current, value) if current is not None else value
        if call.method in models.setters and call.receiver_key and self.state is not None and len(call.args) >= 2:
            option = call.node.args[0]
            name = (self.ctx.qualname(option) or "").rpartition(".")[2] or str(call.args[0].const)
            setting = call.args[1].const if call.args[1].known else "?"
            current = self.state.get(call.receiver_key, call.receiver)
            self.state[call.receiver_key] = current.replace(flags=current.flags | {f"{name}={setting}"})
        return result

    def _collaborator(self, call: CallSite) -> bool:
        """A method call on an untainted object that is not a library's (its type is unknown or
        the project's): the common shape of service and database layers."""
        receiver = call.receiver
        if receiver is None or any(l.kind not in (OPAQUE, PARAM) for l in receiver.labels):
            return False
        if receiver.known or receiver.items is not None:
            return False  # a string, a container: its methods build from their arguments
        if call.method in _STRING_METHODS or call.method in _TRANSFORMING_METHODS:
            return False  # text built or transformed from the arguments (template.format(x), pattern.sub(r, x))
        qual = receiver.qual
        if qual is not None and qual in self._imported:
            return False  # a function of an imported module or class (json.dumps, Path.home)
        return True

    @property
    def _imported(self) -> frozenset[str]:
        cached = self.module._imported_quals
        if cached is None:
            cached = self.module._imported_quals = frozenset(self.models.canonical(q) for q in self.ctx.aliases.values())
        return cached

    def _is_library(self, qual: str) -> bool:
        head = qual.split(".")[0].removesuffix("()")
        if head in _BUILTINS:
            return True
        return head in self.ctx.aliases.values() or "." in qual and qual.split(".")[0] in {
            a.split(".")[0] for a in self.ctx.aliases.values()}

    def _call_flags(self, call: CallSite) -> frozenset[str]:
        flags = set()
        for name, value in call.kwargs.items():
            if name and value.known and isinstance(value.const, (bool, int, str, type(None))):
                flags.add(f"{name}={value.const}")
        if call.qual in self.models.call_propagators or call.method in self.models.method_propagators:
            pass
        for origin in (call.args[0] if call.args else None, call.receiver):
            if origin is not None and "normalized" in origin.flags and call.method in ("resolve", "absolute"):
                flags.add("normalized")
        if call.qual and self._normalizes(call):
            flags.add("normalized")
        if call.qual and call.qual in self.models.call_flags:
            flags.update(self.models.call_flags[call.qual])
        if call.qual in ("re.compile", "regex.compile") and call.given and _anchored(call.given[0].const):
            flags.add("anchored-pattern")
        if call.qual and call.qual.rpartition(".")[2] in ("urlparse", "urlsplit") and call.args:
            key = _key(_unwrap_conversion(call.node.args[0]))
            if key:
                flags.add("parsed-url:" + key)
        return frozenset(flags)

    def _normalizes(self, call: CallSite) -> bool:
        name = call.qual or ""
        return name.rpartition(".")[2] in ("realpath", "abspath", "normpath", "resolve") or name.endswith(".resolve")

    def _mutate(self, call: CallSite) -> None:
        key = call.receiver_key
        current = self.state.get(key, call.receiver) if self.state is not None else call.receiver
        added = merge_labels(call.args) | merge_labels(call.kwargs.values())
        if call.method == "append" and current.seq and current.items is not None and len(call.args) == 1 and len(current.items) < MAX_ITEMS:
            items = dict(current.items)
            items[len(items)] = call.args[0]
            self.state[key] = current.replace(items=items, labels=current.labels | added, const=UNKNOWN)
            return
        if call.method == "extend" and current.seq and current.items is not None and call.args and call.args[0].items is not None and call.args[0].seq:
            items = dict(current.items)
            for k in sorted(call.args[0].items):
                items[len(items)] = call.args[0].items[k]
            self.state[key] = current.replace(items=items, labels=current.labels | added, const=UNKNOWN)
            return
        if call.method == "extend" and current.seq and current.items is not None and call.args and len(current.items) < MAX_ITEMS:
            # an unknown number of elements: the known head stays, one element stands for the rest
            items = dict(current.items)
            items[len(items)] = self.element_of(call.args[0])
            self.state[key] = current.replace(items=items, labels=current.labels | added, const=UNKNOWN)
            return
        if call.method == "update" and current.items is not None and not current.seq and not call.args and call.kwargs:
            items = dict(current.items)
            items.update({k: v for k, v in call.kwargs.items() if k is not None})
            self.state[key] = current.replace(items=items, labels=current.labels | added)
            return
        if call.method == "update" and current.items is not None and not current.seq and call.args and call.args[0].items is not None:
            items = dict(current.items)
            items.update(call.args[0].items)
            self.state[key] = current.replace(items=items, labels=current.labels | added)
            return
        if added:
            self.state[key] = current.replace(labels=current.labels | added, items=None, const=UNKNOWN)

    def _builtin_result(self, call: CallSite) -> Value | None:
        """Operations whose result the models cannot describe: element access and string building."""
        method = call.method
        receiver = call.receiver
        args = call.args
        if call.qual == "posixpath.join" and args:
            # a path joined onto a fixed first part keeps that part's prefix
            first = args[0]
            prefix = first.const if first.known and isinstance(first.const, str) else first.prefix
            return Value(labels=merge_labels(args), prefix=prefix or None, text=" ".join(a.text for a in args)[:MAX_TEXT])
        if receiver is None:
            if call.qual in ("str", "format") and len(args) == 1:
                arg = args[0]
                if arg.known:
                    return constant(str(arg.const))
                return Value(labels=arg.labels, prefix=arg.prefix, text=arg.text, flags=(arg.flags & {"built"}) | {"str"})
            if call.qual in ("repr", "ascii") and len(args) == 1:
                return clean_value(Value(labels=args[0].labels), frozenset({"log", "header"}))
            if call.qual == "map" and len(args) >= 2 and args[0].qual in self.models.call_sanitizers:
                return clean_value(Value(labels=merge_labels(args[1:])), self.models.call_sanitizers[args[0].qual].kinds)
            if call.qual in ("list", "tuple") and len(args) == 1:
                return args[0].replace(qual=None, const=UNKNOWN) if args[0].seq else Value(labels=args[0].labels)
            if call.qual == "dict" and not args:
                items = {k: v for k, v in call.kwargs.items() if k is not None}
                return Value(labels=merge_labels(items.values()), items=items)
            return None
        if method == "get" and args and receiver.qual:
            keyed = self.keyed_read(receiver, args[0], call.node)
            if keyed is not None:
                return keyed
        if method == "get" and receiver.items is not None and not receiver.seq and args:
            default = args[1] if len(args) > 1 else constant(None)
            if args[0].known:
                item = receiver.items.get(args[0].const) if _hashable(args[0].const) else None
                if item is not None:
                    return item
                if not receiver.labels:
                    return default
            elif receiver.items and not (receiver.labels - merge_labels(receiver.items.values())):
                # an unknown key into a dict whose values are all known: one of them, or the default
                result = default
                for value in receiver.items.values():
                    result = join(result, value)
                return result
        if isinstance(receiver.const, str):
            template = receiver.const
            if method == "format_map" and args:
                mapping = args[0]
                values = list(mapping.items.values()) if mapping.items is not None else [mapping]
                prefix = template.split("{", 1)[0]
                return Value(labels=mapping.labels | merge_labels(values), prefix=prefix, text=template[:MAX_TEXT],
                             flags=frozenset({"built"}))
            if method == "format":
                labels = merge_labels(args) | merge_labels(call.kwargs.values())
                if (all(a.known for a in args) and all(v.known for v in call.kwargs.values())
                        and not _WIDE_FORMAT_FIELD.search(template)):
                    try:
                        return constant(template.format(*[a.const for a in args],
                                                        **{k: v.const for k, v in call.kwargs.items() if k}))
                    except Exception:
                        pass
                prefix = template.split("{", 1)[0]
                text = (template + " ".join(a.text for a in args))[:MAX_TEXT]
                return Value(labels=labels, prefix=prefix, text=text, flags=frozenset({"built"}))
            if method == "join" and args:
                parts = args[0]
                if parts.known and isinstance(parts.const, (list, tuple)) and all(isinstance(p, str) for p in parts.const):
                    return constant(template.join(parts.const))
                prefix = None
                text = template
                if parts.items is not None and parts.seq:
                    ordered = [parts.items[k] for k in sorted(parts.items)]
                    prefix_parts = []
                    for part in ordered:
                        if part.known and isinstance(part.const, str):
                            prefix_parts.append(part.const)
                            prefix_parts.append(template)
                        else:
                            if part.prefix:
                                prefix_parts.append(part.prefix)
                            break
                    prefix = "".join(prefix_parts)
                    text = " ".join(p.text for p in ordered)[:MAX_TEXT]
                return Value(labels=parts.labels, prefix=prefix, text=text, flags=frozenset({"built"}))
        if method in ("items", "values", "keys", "copy") and receiver.items is not None and not receiver.seq:
            if method == "copy":
                return receiver
            return Value(labels=receiver.labels)
        if method in _STRING_METHODS and receiver.labels or method in _STRING_METHODS and receiver.text:
            keep_prefix = method in ("strip", "rstrip", "replace", "format") and False
            flags = (receiver.flags & {"built"}) | {"str"}
            labels = receiver.labels
            if method in ("format", "replace", "join"):
                labels = labels | merge_labels(args)
            return Value(labels=labels, prefix=receiver.prefix if keep_prefix else None, text=receiver.text, flags=flags,
                         const=UNKNOWN)
        return None

    def _validated_data(self, target: ClassRef, labels: frozenset[Label]) -> dict[str, Value] | None:
        """``form.cleaned_data``: the given data by field name, with the fields the form converts
        (``port = forms.IntegerField()``) holding no text."""
        if not labels or not self.models.validated_data or not target.module._derives(target.node, self.models.validating_bases):
            return None
        closed = {name: EMPTY for name in self._assigned_fields(target) if self._closed_field(target.qual + "()", name)}
        return {"." + attr: Value(labels=labels, items=dict(closed)) for attr in self.models.validated_data}

    def _assigned_fields(self, target: ClassRef) -> list[str]:
        names = []
        for stmt in target.node.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                names.extend(t.id for t in stmt.targets if isinstance(t, ast.Name))
        return names

    def _library_base(self, target: ClassRef) -> bool:
        """Whether the class extends a class of a library (not the project's, not a builtin, not
        a typing or abc helper), whose constructor the analysis cannot see."""
        cls, depth = target, 0
        while cls is not None and depth < 6:
            local = None
            for base in cls.node.bases:
                if isinstance(base, ast.Name) and base.id in cls.module.classes:
                    local = cls.module.classes[base.id]
                    continue
                qual = cls.module.ctx.qualname(base) or ""
                if not qual or qual in _BUILTINS or qual.split(".")[0] in ("typing", "abc", "enum", "dataclasses"):
                    continue
                if self.project.module_of(qual) is None:
                    return True
            cls, depth = local, depth + 1
        return False

    def _declared_fields(self, call: CallSite, target: ClassRef) -> dict[str, Value] | None:
        """A class without ``__init__`` whose body declares annotated fields (a dataclass, a
        NamedTuple, an attrs or pydantic model): its constructor takes them in order, or by
        name, and stores each (a validating model's ``int`` field holds no text)."""
        chain = [target]
        while len(chain) < 6:
            parent = next((b for b in chain[-1].node.bases if isinstance(b, ast.Name) and b.id in chain[-1].module.classes), None)
            if parent is None:
                break
            chain.append(chain[-1].module.classes[parent.id])
        names: list[str] = []
        for cls in reversed(chain):
            for stmt in cls.node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id not in names:
                    head = stmt.annotation.value if isinstance(stmt.annotation, ast.Subscript) else None
                    if head is None or "ClassVar" not in (self.ctx.qualname(head) or ""):
                        names.append(stmt.target.id)
        if not names:
            return None
        fields: dict[str, Value] = {}
        for i, (value, node) in enumerate(zip(call.args, call.node.args)):
            if isinstance(node, ast.Starred):
                for name in names[i:]:
                    fields["." + name] = value
                break
            if i < len(names):
                fields["." + names[i]] = value
        for keyword, value in call.kwargs.items():
            if keyword is None:  # Model(**payload): any field may come from it
                for name in names:
                    fields["." + name] = join(fields.get("." + name), value)
            elif keyword in names:
                fields["." + keyword] = value
        if not fields:
            return None
        instance = target.qual + "()"
        for key in list(fields):
            if fields[key].labels and self._closed_field(instance, key[1:]):
                fields[key] = EMPTY
        return fields

    def _inline(self, call: CallSite, target: FunctionRef) -> Value:
        """Nested functions and lambdas: analysed with the caller's state as their closure."""
        if self.project.depth >= MAX_SUMMARY_DEPTH:
            return Value(labels=merge_labels(call.args))
        node = target.node
        interp = Interpreter(self.module, target, scope=self.scope)
        interp.state = State(interp, self.state)
        interp.local_names = self.module.facts(node).assigned | self.local_names
        params = _positional(node)
        for i, name in enumerate(params):
            if i < len(call.args):
                value = call.args[i]
            elif name in call.kwargs:
                value = call.kwargs[name]
            else:
                value = Value()
            interp.state[name] = value
        if node.args.vararg:
            interp.state[node.args.vararg.arg] = Value(labels=merge_labels(call.args[len(params):]))
        if node.args.kwarg:
            interp.state[node.args.kwarg.arg] = Value(labels=merge_labels(call.kwargs.values()))
        interp._hit_keys = self._hit_keys
        self.project.depth += 1
        try:
            if isinstance(node, ast.Lambda):
                interp.returns = interp.eval(node.body)
            else:
                interp.exec_block(node.body)
        except RecursionError:
            self.project.note_approximated(self.ctx, node, "nested function nested too deeply", stack=True)
            return Value(labels=merge_labels(call.args))
        finally:
            self.project.depth -= 1
        self.summary_hits.extend(interp.summary_hits)
        return interp.returns or EMPTY

    def _with_stored_fields(self, receiver: Value, key: str | None) -> Value:
        """The receiver with the fields this function stored on it (``self.name = ...`` earlier in
        the method that now calls ``self.helper()``)."""
        if not key or not self._dotted or self.state is None:
            return receiver
        prefix = key + "."
        stored = {"." + k[len(prefix):]: self.state[k] for k in self._dotted
                  if k.startswith(prefix) and "." not in k[len(prefix):] and k in self.state}
        if not stored:
            return receiver
        items = dict(receiver.items) if receiver.items is not None and not receiver.seq else {}
        items.update(stored)
        return receiver.replace(items=items)

    def _apply_summary(self, call: CallSite, target: FunctionRef, bound: bool, with_fields: bool = False):
        summary = summarize(self.project, target)
        node = call.node
        where = self.ctx.location(node)
        params = summary.params
        mapping: dict[object, Value] = {}
        offset = 1 if bound else 0
        if bound and call.receiver is not None:
            mapping[0] = self._with_stored_fields(call.receiver, call.receiver_key)
        positional_count = len(_positional(target.node))
        for i, value in enumerate(call.args):
            index = i + offset
            if isinstance(node.args[i], ast.Starred):
                for j in range(index, positional_count):
                    mapping[j] = join(mapping.get(j), value)
                mapping["*"] = join(mapping.get("*"), value)
                break
            if index < positional_count:
                mapping[index] = value
            else:
                mapping["*"] = join(mapping.get("*"), value)
        positional_names = _positional(target.node)
        for name, value in call.kwargs.items():
            if name is None:
                for j in range(offset, positional_count):
                    mapping.setdefault(j, value)
                mapping["**"] = join(mapping.get("**"), value)
                continue
            if name in positional_names:
                mapping[positional_names.index(name)] = value
            elif name in params:
                mapping[name] = value
            else:
                mapping["**"] = join(mapping.get("**"), value)
        if not summary.complete:
            fallback = Value(labels=merge_labels(mapping.values()))
            return (fallback, None) if with_fields else fallback

        def param_name(key: object) -> str:
            if isinstance(key, int) and key < len(positional_names):
                return positional_names[key]
            return str(key)

        def substitute(label: Label) -> frozenset[Label]:
            if label.kind != PARAM or label.owner != summary.name:
                return frozenset({label})
            field_name = None
            if isinstance(label.param, tuple):
                position, field_name = label.param
                argument = mapping.get(position)
                if argument is not None and argument.items is not None and ("." + field_name) in argument.items:
                    argument = argument.items["." + field_name]
                elif argument is not None and argument.qual:
                    # the caller passed a modelled object: its field may be a source (request.GET)
                    field_qual = self.models.canonical(f"{argument.qual}.{field_name}")
                    source = self.models.sources.get(field_qual)
                    if source is not None:
                        argument = self.source_value(source, field_qual, node, f"{param_name(position)}.{field_name}")
            else:
                argument = mapping.get(label.param)
            if argument is None or not argument.labels:
                return frozenset()
            shown = param_name(label.param[0]) + "." + field_name if field_name else param_name(label.param)
            step = TraceStep(where, f"passed to `{summary.name}` as `{shown}`")
            inner = tuple(s for s in label.trace[1:])
            out = []
            for arg_label in argument.labels:
                merged = arg_label.step(step)
                trace = merged.trace + inner
                if len(trace) > MAX_TRACE:
                    trace = trace[:2] + trace[-(MAX_TRACE - 2):]
                out.append(merged.with_(trace=trace, cleaned=merged.cleaned | label.cleaned, var=label.var or merged.var))
            return collapse(out)

        for hit in summary.hits:
            for label in ordered(substitute(hit.label)):  # the order hits are kept in is the callers' order
                if label.cleaned_for(hit.kind):
                    continue  # the caller sanitised the argument for this sink: quote(x) into a helper that runs it
                self.record(hit.kind, hit.sink, hit.location, hit.scope, label, hit.built, hit.variable)

        returns = summary.returns
        labels: frozenset[Label] = frozenset()
        for label in ordered(returns.labels):
            labels |= substitute(label)
        items = None
        if returns.items is not None:
            items = {}
            for k, v in returns.items.items():
                sub: frozenset[Label] = frozenset()
                for label in ordered(v.labels):
                    sub |= substitute(label)
                items[k] = v.replace(labels=sub)
        has_params = any(l.kind == PARAM and l.owner == summary.name for l in returns.labels)
        result = Value(labels=labels, const=returns.const if not has_params else UNKNOWN,
                       qual=returns.qual, items=items, seq=returns.seq,
                       prefix=returns.prefix, text=returns.text, flags=returns.flags)
        if summary.ensures and self.state is not None:
            # a validator that raises: after `check_name(name)` returns, the caller's `name` is clean
            for name, kinds in summary.ensures.items():
                if name not in positional_names:
                    continue
                position = positional_names.index(name) - offset
                argument = node.args[position] if 0 <= position < len(node.args) else None
                key = _key(argument) if argument is not None else None
                if key and key in self.state:
                    self.state[key] = clean_value(self.state[key], kinds)
        if summary.validates:
            # a validation helper: `if not is_safe(url): abort()` cleans the caller's `url`
            facts = []
            for name, kinds in summary.validates.items():
                argument = None
                if name in positional_names:
                    position = positional_names.index(name) - offset
                    if 0 <= position < len(node.args):
                        argument = node.args[position]
                for kw in node.keywords:
                    if kw.arg == name:
                        argument = kw.value
                key = _key(_unwrap_conversion(argument)) if argument is not None else None
                if key:
                    facts.append((key, kinds, True))
            if facts:
                result = result.replace(guards=tuple(facts))
        if not with_fields:
            return result
        fields = {}
        for name, value in summary.self_attrs.items():
            sub = frozenset()
            for label in ordered(value.labels):
                sub |= substitute(label)
            fields["." + name] = value.replace(labels=sub, items=None)
        return result, fields

    # -- sinks

    def check_sink(self, call: CallSite, sink: SinkModel) -> bool:
        """Check the arguments ``sink`` names; False when the call is not this sink at all."""
        if not self._sink_receiver_matches(call, sink):
            return False
        self._check_sink_arguments(call, sink)
        return True

    def _sink_receiver_matches(self, call: CallSite, sink: SinkModel) -> bool:
        if call.receiver is not None and (sink.receiver is not None or sink.receiver_type is not None):
            # a receiver of known type is judged by its type; otherwise by how the code names it
            receiver_type = call.receiver.qual
            if receiver_type and self._is_project_name(receiver_type):
                receiver_type = None  # an attribute of a project object: its type is not known
            if receiver_type and sink.receiver_type is not None:
                return bool(sink.receiver_type.search(receiver_type))
            if sink.receiver is not None:
                text = _short(call.node.func.value, 200) if isinstance(call.node.func, ast.Attribute) else ""
                return bool(sink.receiver.search(text))
            return False
        return True

    def _check_sink_arguments(self, call: CallSite, sink: SinkModel) -> None:
        if sink.when is not None:
            flag = call.kwargs.get(sink.when)
            if flag is None or not (flag.known and flag.const):
                if flag is None or flag.known:
                    return
        if sink.unless is not None:
            flag = call.kwargs.get(sink.unless)
            if flag is not None and (not flag.known or flag.const):
                return
        if sink.key is not None or sink.key_not is not None:
            first = call.args[0] if call.args else None
            key = first.const if first is not None and first.known else None
            if sink.key is not None and not (isinstance(key, str) and sink.key.search(key)):
                return
            if sink.key_not is not None and isinstance(key, str) and sink.key_not.search(key):
                return
            if sink.key_not is not None and key is None and first is not None and first.labels:
                pass
        if sink.html_only:
            for keyword in sink.html_only:
                value = call.kwargs.get(keyword)
                if value is not None and value.known and isinstance(value.const, str) and "html" not in value.const.lower():
                    return
        if sink.safe_flag is not None:
            keyword, flag = sink.safe_flag
            value = call.kwargs.get(keyword)
            if value is None and sink.safe_flag_arg is not None and sink.safe_flag_arg < len(call.args):
                value = call.args[sink.safe_flag_arg]
            if value is not None and flag in value.flags:
                return
        if sink.requires_flag is not None:
            holder, flag = sink.requires_flag
            carrier = call.receiver if holder == "receiver" else call.kwargs.get(holder)
            if carrier is None or flag not in carrier.flags:
                return
        values: list[tuple[Value, ast.AST]] = []
        arguments = call.args
        if sink.format_arg is not None and sink.format_arg < len(arguments):
            template = arguments[sink.format_arg]
            if template.known and isinstance(template.const, str):
                rest = arguments[sink.format_arg + 1:]
                formatted = _percent_each(template.const, rest)
                arguments = arguments[: sink.format_arg + 1] + formatted
        if sink.all_args:
            values.extend((v, n) for v, n in zip(arguments, call.node.args))
            values.extend((call.kwargs[kw.arg], kw.value) for kw in call.node.keywords if kw.arg in call.kwargs)
        for position in sink.args:
            if position == -1:
                if call.receiver is not None and isinstance(call.node.func, ast.Attribute):
                    values.append((call.receiver, call.node.func.value))
            elif position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.node.args[:position]):
                values.append((call.args[position], call.node.args[position]))
            elif any(isinstance(a, ast.Starred) for a in call.node.args[: position + 1]):
                star = next(i for i, a in enumerate(call.node.args) if isinstance(a, ast.Starred))
                values.append((call.args[star], call.node.args[star]))
        for keyword in sink.keywords:
            for kw in call.node.keywords:
                if kw.arg == keyword:
                    values.append((call.kwargs[keyword], kw.value))
        if sink.part != "whole" and sink.all_args:
            # a command given as separate arguments: execute("virsh", "domdisplay", id)
            argv = call.args[sink.argv_from:]
            if any(isinstance(a, ast.Starred) for a in call.node.args):
                values = [(Value(labels=merge_labels(argv)), call.node)] if sink.part == "head" else []
            else:
                values = [(Value(labels=merge_labels(argv), items=dict(enumerate(argv)), seq=True), call.node)]
        for value, arg_node in values:
            self.check_value(sink, value, arg_node, call.node)

    def _is_project_name(self, qual: str) -> bool:
        head = qual.split(".", 1)[0]
        return qual.startswith(self.module.key + ".") or self.project.has_module(head) or (
            head not in self.ctx.aliases.values() and head not in {a.split(".")[0] for a in self.ctx.aliases.values()}
            and "." in qual and not head.endswith("()"))

    def check_value(self, sink: SinkModel, value: Value, arg_node: ast.AST, sink_node: ast.AST) -> None:
        if sink.part != "whole":
            value = self._command_part(sink, value)
            if value is None:
                return
        if sink.operators:
            value = self._operator_part(sink, value)
            if value is None:
                return
        if sink.host_fixed and value.prefix and _host_fixed(value.prefix, sink.kind):
            return
        if sink.host_fixed and "head-set" in value.flags:
            return  # the URL starts with a value from the configuration, not the request: its host is set
        if not value.labels:
            return
        built = "built" in value.flags
        variable = _short(arg_node)
        location = self.ctx.location(sink_node)
        for label in ordered(value.labels):
            if label.cleaned_for(sink.kind):
                continue
            self.record(sink.kind, sink, location, self.scope, label, built, variable)

    def _command_part(self, sink: SinkModel, value: Value) -> Value | None:
        if value.items is None or not value.seq:
            if sink.part == "head":
                if value.known and isinstance(value.const, (list, tuple)):
                    return None
                if value.prefix:
                    return None  # without a shell the whole string names one program, fixed by its prefix
                return value  # a string command: the whole string names the program
            return None
        ordered = [value.items[k] for k in sorted(value.items)]
        if not ordered:
            return None
        program = ordered[0].const if ordered[0].known and isinstance(ordered[0].const, str) else None
        runs_shell = program is not None and program.rsplit("/", 1)[-1] in sink.shells and any(
            e.known and e.const == "-c" for e in ordered[1:])
        if sink.part == "head":
            if runs_shell:
                # ["sh", "-c", text]: the text after -c is a shell command
                after = False
                labels: frozenset[Label] = frozenset()
                for element in ordered[1:]:
                    if after:
                        labels |= element.labels
                    after = after or (element.known and element.const == "-c")
                return Value(labels=labels | ordered[0].labels)
            return ordered[0]
        if program is None or runs_shell:
            return None  # the program is not fixed, or a shell runs the text: head findings cover it
        labels = frozenset()
        after_separator = False
        for element in ordered[1:]:
            if element.known and element.const == "--":
                after_separator = True
                continue
            if element.prefix:
                continue  # "--name=" + value, "themes/" + value: cannot start a new option
            if not after_separator:
                labels |= element.labels
        return Value(labels=labels) if labels else None

    def _operator_part(self, sink: SinkModel, value: Value, depth: int = 0) -> Value | None:
        if value.items is None:
            return value  # the whole document comes from elsewhere
        labels: frozenset[Label] = frozenset()
        for key, item in value.items.items():
            if value.seq:
                inner = self._operator_part(sink, item, depth + 1) if depth < 4 else item
                if inner is not None:
                    labels |= inner.labels
            elif isinstance(key, str) and key in sink.operators or "document" in item.flags:
                labels |= item.labels  # an operator's value, or a whole document parsed from input
            elif item.items is not None and depth < 4:
                inner = self._operator_part(sink, item, depth + 1)
                if inner is not None:
                    labels |= inner.labels
        return Value(labels=labels) if labels else None

    def check_store(self, target: ast.Attribute, receiver: Value, value: Value, stmt: ast.AST) -> None:
        qual = self.models.canonical(f"{receiver.qual}.{target.attr}") if receiver.qual else None
        sinks = self.models.call_sinks.get(f"{qual}=") if qual else None
        if sinks:
            for sink in sinks:
                self.check_value(sink, value, stmt.value if isinstance(stmt, ast.Assign) else target, stmt)

    def check_setitem(self, target: ast.Subscript, container: Value, index: Value, value: Value, stmt: ast.AST) -> None:
        qual = self.models.canonical(f"{container.qual}.__setitem__") if container.qual else None
        sinks = self.models.call_sinks.get(qual) if qual else None
        if sinks is None:
            sinks = self.models.method_sinks.get("__setitem__")
        if not sinks:
            return
        fake = ast.Call(func=ast.Attribute(value=target.value, attr="__setitem__", ctx=ast.Load()),
                        args=[target.slice, getattr(stmt, "value", target)], keywords=[])
        ast.copy_location(fake, stmt)
        fake.end_lineno = getattr(stmt, "end_lineno", None)
        fake.end_col_offset = getattr(stmt, "end_col_offset", None)
        call = CallSite(fake, qual, "__setitem__", container, [index, value], {}, self)
        call.location_node = stmt
        for sink in sinks:
            self.check_sink(call, sink)

    def _derived_from_source(self, qual: str | None) -> bool:
        """``flask.request.args.get()``, ``...get().strip()``: read from a source object itself."""
        if not qual:
            return False
        probe = qual
        while probe:
            if probe in self.models.sources:
                return True
            cut = max(probe.rfind("."), probe.rfind("("), probe.rfind("["))
            if cut <= 0:
                return False
            probe = probe[:cut]
        return False

    def check_response_body(self, kind: str, node: ast.AST, value: Value) -> None:
        if isinstance(node, ast.Tuple) and node.elts:
            node = node.elts[0]  # (body, status, headers)
            value = self._quiet_eval(node)
        if value.items is not None or _is_instance_of_class(value.qual):
            return  # a dict or list (sent as JSON), a response object: not a text body
        if not (value.text or value.prefix or value.flags & {"built", "str"} or self._derived_from_source(value.qual)):
            return  # what an unknown call returns is not known to be text
        sinks = self.models.call_sinks.get(f"<return>:{kind}")
        if not sinks:
            return
        for sink in sinks:
            self.check_value(sink, value, node, node)

    def record(self, kind: str, sink: SinkModel, location: Location, scope: str, label: Label, built: bool, variable: str) -> None:
        key = (kind, location, label)
        if key in self._hit_keys:
            return
        self._hit_keys.add(key)
        if label.kind == PARAM and self.ref is not None and label.owner == self.ref.name:
            self.summary_hits.append(ParamHit(kind, sink, location, scope, label, built, variable))
        self.project.collector.append(Flow(kind, sink, location, scope, label, built, variable))

    # -- guards

    def _guard_facts(self, call: CallSite) -> tuple:
        """Facts a validation call establishes: ((key, kinds, holds_when_truthy), ...)."""
        models = self.models
        guards = []
        if call.qual and call.qual in models.call_guards:
            guards.append(models.call_guards[call.qual])
        if call.method and call.method in models.method_guards:
            guards.extend(models.method_guards[call.method])
        facts = []
        for guard in guards:
            if guard.when != "truthy":
                continue
            if guard.arg == -1:
                if not isinstance(call.node.func, ast.Attribute):
                    continue
                tested = call.node.func.value
                tested_value = call.receiver
            else:
                if guard.arg >= len(call.node.args):
                    continue
                tested = call.node.args[guard.arg]
                tested_value = call.args[guard.arg]
            if guard.arg_equals:
                first = call.args[0].const if call.args and call.args[0].known else None
                if guard.arg == -1 and not (isinstance(first, str) and any(first.startswith(e) for e in guard.arg_equals)):
                    continue
            if "normalized" in guard.kinds and tested_value is not None and "normalized" not in tested_value.flags:
                continue
            if guard.anchored:
                if call.receiver is not None and call.qual not in models.call_guards:
                    if "anchored-pattern" not in call.receiver.flags:
                        continue
                elif not (call.args and _anchored(call.args[0].const)):
                    continue
            key = _key(_unwrap_conversion(tested))
            if not key:
                continue
            kinds = frozenset(k for k in guard.kinds if k != "normalized") or frozenset({"path"})
            facts.append((key, kinds, not guard.negated))
        if call.qual in ("isinstance",) and len(call.node.args) == 2:
            types = call.node.args[1]
            names = [self.ctx.qualname(t) for t in (types.elts if isinstance(types, ast.Tuple) else [types])]
            if names and all(n in _NUMERIC_TYPES for n in names):
                key = _key(call.node.args[0])
                if key:
                    facts.append((key, frozenset({ALL_KINDS}), True))
        return tuple(facts)

    def refine(self, test: ast.AST, truth: bool) -> None:
        if self.state is None:
            return
        for key, kinds, const in self._facts(test, truth, 0):
            current = self.state.get(key)
            if current is None:
                if "." in key or key in self.local_names or self.is_module:
                    current = self.eval(ast.parse(key, mode="eval").body) if _is_dotted(key) else None
                if current is None:
                    continue
            if const is not UNKNOWN:
                self.state[key] = constant(const)
            else:
                self.state[key] = clean_value(current, kinds)

    def _facts(self, test: ast.AST, truth: bool, depth: int) -> list[tuple[str, frozenset[str], object]]:
        if depth > 8:
            return []
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return self._facts(test.operand, not truth, depth + 1)
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And) == truth:
                facts = []
                for operand in test.values:
                    facts.extend(self._facts(operand, truth, depth + 1))
                return facts
            return []
        if isinstance(test, ast.NamedExpr):
            return self._facts(test.value, truth, depth + 1) + self._facts(test.target, truth, depth + 1)
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            return self._compare_facts(test, truth)
        if isinstance(test, ast.Call):
            value = self._quiet_eval(test)
            return [(k, kinds, UNKNOWN) for k, kinds, when in value.guards if when == truth]
        if isinstance(test, (ast.Name, ast.Attribute)):
            value = self._quiet_eval(test)
            facts = [(k, kinds, UNKNOWN) for k, kinds, when in value.guards if when == truth]
            key = _key(test)
            if not truth and key:
                facts.append((key, frozenset({ALL_KINDS}), UNKNOWN))  # falsy: empty, None or 0, no data
            if not truth:
                for flag in value.flags:
                    if flag.startswith("host-of:"):
                        facts.append((flag[len("host-of:"):], frozenset({"redirect"}), UNKNOWN))
            return facts
        return []

    def _quiet_eval(self, node: ast.AST) -> Value:
        """Evaluate a test again without reporting its sinks twice."""
        collected = len(self.project.collector)
        hits = len(self.summary_hits)
        value = self.eval(node)
        del self.project.collector[collected:]
        del self.summary_hits[hits:]
        return value

    def _compare_facts(self, test: ast.Compare, truth: bool) -> list:
        op = test.ops[0]
        left, right = test.left, test.comparators[0]
        facts = []
        if isinstance(op, (ast.Is, ast.IsNot)):
            for a, b in ((left, right), (right, left)):
                if isinstance(b, ast.Constant) and b.value is None and isinstance(a, ast.Call):
                    # pattern.fullmatch(x) is not None: the check passed, as a truthy result says
                    if truth == isinstance(op, ast.IsNot):
                        facts.extend(self._facts(a, True, 1))
        if isinstance(op, (ast.In, ast.NotIn)):
            holds = truth if isinstance(op, ast.In) else not truth
            container = self._quiet_eval(right)
            tested = self._quiet_eval(left)
            if holds and not any(l.kind not in (OPAQUE, PARAM) for l in container.labels):
                key = _key(_unwrap_conversion(left))
                if key:
                    facts.append((key, frozenset({ALL_KINDS}), UNKNOWN))
                for flag in tested.flags:
                    if flag.startswith("host-of:"):
                        facts.append((flag[len("host-of:"):], frozenset({"redirect", "url"}), UNKNOWN))
            left_value = self._quiet_eval(left)
            if not holds and left_value.known and isinstance(left_value.const, str):
                # `if ".." in name: abort()` leaves `name` without the tested text afterwards
                key = _key(right)
                if key and (".." in left_value.const or left_value.const in ("/", "\\")):
                    facts.append((key, frozenset({"path"}), UNKNOWN))
                if key and left_value.const == "\\":
                    facts.append((key, frozenset({"redirect-no-backslash"}), UNKNOWN))
                if key and left_value.const in ("\n", "\r", "\r\n"):
                    facts.append((key, frozenset({"log", "header"}), UNKNOWN))
        elif isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
            holds = truth if isinstance(op, (ast.Eq, ast.Is)) else not truth
            for a, b in ((left, right), (right, left)):
                if holds and isinstance(a, ast.Call):
                    guard = self.models.call_guards.get(self.models.canonical(self.ctx.qualname(a.func)) or "")
                    if guard is not None and guard.when == "equal" and guard.arg < len(a.args):
                        tested = a.args[guard.arg]
                        for element in (tested.elts if isinstance(tested, (ast.List, ast.Tuple)) else [tested]):
                            key = _key(element)
                            if key:
                                facts.append((key, guard.kinds, UNKNOWN))
                other = self._quiet_eval(b)
                if holds and other.known and not (other.const is None):
                    key = _key(a)
                    if key:
                        facts.append((key, frozenset({ALL_KINDS}), other.const))
                tested = self._quiet_eval(a)
                if holds:
                    # the host of the tested URL equals another host (a constant, the server's own)
                    for flag in tested.flags:
                        if flag.startswith("host-of:") and flag not in other.flags:
                            facts.append((flag[len("host-of:"):], frozenset({"redirect", "url"}), UNKNOWN))
                if holds and other.known and other.const in ("", None):
                    for flag in tested.flags:
                        if flag.startswith("host-of:"):
                            facts.append((flag[len("host-of:"):], frozenset({"redirect"}), UNKNOWN))
        return facts


class CallSite:
    __slots__ = ("args", "given", "interp", "kwargs", "location_node", "method", "node", "qual", "receiver")

    def __init__(self, node, qual, method, receiver, args, kwargs, interp):
        self.node = node
        self.qual = qual
        self.method = method
        self.receiver = receiver
        self.args = args
        self.kwargs = kwargs
        self.interp = interp
        self.location_node = node
        self.given = args  # the arguments as passed, before a sink consumed any

    @property
    def receiver_key(self) -> str | None:
        if isinstance(self.node.func, ast.Attribute):
            return _key(self.node.func.value)
        return None


def _carries_input(args: list[Value], kwargs: dict, receiver: Value | None) -> bool:
    """Whether a call passes data from a source on (what makes following it into a module worth it)."""
    for value in (*args, *kwargs.values(), *((receiver,) if receiver is not None else ())):
        for label in value.labels:
            if label.kind not in (OPAQUE, PARAM):
                return True
    return False


_BUILTINS = frozenset(dir(builtins))
_TRANSFORMING_METHODS = {
    "sub", "subn", "findall", "finditer", "search", "match", "fullmatch", "group", "groups", "groupdict",
    "substitute", "safe_substitute", "getvalue", "read", "readline", "readlines", "decode", "encode",
    "tobytes", "tolist", "to_dict", "dict", "copy", "items", "values", "keys", "joinpath", "with_name",
    "with_suffix", "with_stem", "urljoin", "quote", "escape", "dumps", "loads", "b64encode", "b64decode",
    "hexdigest", "digest", "update", "append", "extend", "add", "insert", "setdefault", "write",
}
_MUTATORS = {"append", "extend", "insert", "update", "add", "setdefault", "appendleft", "put"}
_STRING_METHODS = {
    "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold", "swapcase", "replace",
    "split", "rsplit", "splitlines", "partition", "rpartition", "encode", "decode", "format", "zfill", "ljust",
    "rjust", "center", "expandtabs", "removeprefix", "removesuffix", "translate", "join", "format_map",
}


_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsab%])")


def _percent_labels(template: str, right: Value) -> frozenset[Label]:
    """Labels that ``template % right`` carries: numeric conversions do not carry text."""
    specs = [(name, conv) for name, conv in _PERCENT.findall(template) if conv != "%"]
    if not specs:
        return right.labels
    def converted(value: Value, conv: str) -> frozenset[Label]:
        if conv in "diouxXeEfFgGc":
            return frozenset()
        if conv in "ra":
            return collapse(l.clean({"log", "header"}) for l in value.labels)
        return value.labels
    if all(name for name, _ in specs) and right.items is not None and not right.seq:
        labels: frozenset[Label] = frozenset()
        for name, conv in specs:
            item = right.items.get(name)
            labels |= converted(item, conv) if item is not None else right.labels
        return labels
    if right.items is not None and right.seq:
        ordered = [right.items[k] for k in sorted(right.items)]
        if len(ordered) == len(specs):
            labels = frozenset()
            for value, (_, conv) in zip(ordered, specs):
                labels |= converted(value, conv)
            return labels
        return right.labels
    if len(specs) == 1 and right.items is None:
        return converted(right, specs[0][1])
    return right.labels


def _percent_each(template: str, values: list[Value]) -> list[Value]:
    """``values`` as ``template`` formats them, one conversion each (logging's deferred %)."""
    specs = [conv for name, conv in _PERCENT.findall(template) if conv != "%"]
    if len(specs) != len(values):
        return values
    out = []
    for value, conv in zip(values, specs):
        if conv in "diouxXeEfFgGc":
            out.append(EMPTY)
        elif conv in "ra":
            out.append(clean_value(value, frozenset({"log", "header"})))
        else:
            out.append(value)
    return out


_CLASS_INSTANCE = re.compile(r"(^|\.)_?[A-Z]\w*\(\)$")


def _is_instance_of_class(qual: str | None) -> bool:
    """``flask.Response()``, ``app.models.Page()``: an object built by a class, not text."""
    return qual is not None and bool(_CLASS_INSTANCE.search(qual))


def _common_facts(returns: list[dict[str, frozenset[str]]]) -> dict[str, frozenset[str]]:
    """What every truthy return of a function proves about its parameters."""
    if not returns:
        return {}
    common = dict(returns[0])
    for facts in returns[1:]:
        for key in list(common):
            if key not in facts:
                del common[key]
            elif ALL_KINDS in facts[key]:
                continue
            elif ALL_KINDS in common[key]:
                common[key] = facts[key]
            else:
                common[key] = common[key] & facts[key]
                if not common[key]:
                    del common[key]
    return common


def _anchored(pattern: object) -> bool:
    """A constant regular expression that must match up to the end of the text."""
    if isinstance(pattern, bytes):
        pattern = pattern.decode("latin-1")
    return isinstance(pattern, str) and (pattern.endswith("$") and not pattern.endswith("\\$") or pattern.endswith("\\Z"))


def _sets_head(value: Value) -> bool:
    """A value of unknown origin (configuration, a settings attribute) that starts a URL: what
    comes after it cannot choose the host.  Parameters and request data do not count."""
    if value.known or value.items is not None or not (value.labels or value.qual):
        return False
    return all(label.kind == OPAQUE for label in value.labels)


def _host_fixed(prefix: str, kind: str) -> bool:
    """A constant prefix that fixes where a URL goes: a scheme and host followed by a path."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\\]+[/?#]", prefix):
        return True
    if kind == "redirect" and re.match(r"^/[^/\\]", prefix):
        return True
    return False


def _key(node: ast.AST) -> str | None:
    """The state key of a variable or attribute path (``x``, ``self.x``), else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _key(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _is_dotted(key: str) -> bool:
    return all(part.isidentifier() for part in key.split("."))


_SAME_VALUE_METHODS = ("lower", "upper", "strip", "casefold", "resolve", "absolute")
_SAME_VALUE_CALLS = ("str", "realpath", "abspath", "normpath", "Path", "PurePath", "PosixPath")
_JOINED_ONTO = ("urljoin",)  # urljoin(base, x): where it goes is decided by x


def _unwrap_conversion(node: ast.AST, depth: int = 0) -> ast.AST:
    """What a test is about: ``str(x)``, ``x.lower()``, ``os.path.realpath(x)``,
    ``Path(x).resolve()`` all test ``x``."""
    if depth > 4 or not isinstance(node, ast.Call):
        return node
    func = node.func
    if not node.args and isinstance(func, ast.Attribute) and func.attr in _SAME_VALUE_METHODS:
        return _unwrap_conversion(func.value, depth + 1)
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name in _SAME_VALUE_CALLS and len(node.args) == 1:
        return _unwrap_conversion(node.args[0], depth + 1)
    if name in _JOINED_ONTO and len(node.args) == 2:
        return _unwrap_conversion(node.args[1], depth + 1)
    return node


def _load(target: ast.AST) -> ast.AST:
    if isinstance(target, ast.Name):
        return ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
    if isinstance(target, ast.Attribute):
        return ast.copy_location(ast.Attribute(value=target.value, attr=target.attr, ctx=ast.Load()), target)
    if isinstance(target, ast.Subscript):
        return ast.copy_location(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), target)
    return target


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        return "the value"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_static(node) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in getattr(node, "decorator_list", ()))


# --- the interface rules see ------------------------------------------------------------------


def module_flows(ctx: ModuleContext) -> list[Flow]:
    """Every flow found while analysing ``ctx`` (sinks may lie in other modules of the project)."""
    project = getattr(ctx, "project", None)
    if project is None:
        project = Project(models=model_files.load())
        ctx.project = project
        project.register(ctx)
    analysis = project.analysis(ctx)
    return analysis.flows()
