"""The analysed view of one module that every rule works from.

One walk over the tree builds everything rules ask for (nodes by type, parents, calls with
their qualified names, enclosing scopes), so twenty rules cost one traversal, not twenty.
Rules see only this interface, never the parser or the engine behind it.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator, TypeVar

from ..findings import Location
from .names import collect_imports, qualify
from .source import ParsedSource

N = TypeVar("N", bound=ast.AST)
_MISSING = object()
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Call:
    node: ast.Call
    name: str | None  # qualified name of the callee, None when it is not a dotted name

    def arg(self, position: int | None = None, keyword: str | None = None) -> ast.expr | None:
        """The argument passed at ``position`` or as ``keyword``, if any."""
        if keyword is not None:
            for kw in self.node.keywords:
                if kw.arg == keyword:
                    return kw.value
        if position is not None and position < len(self.node.args):
            candidate = self.node.args[position]
            if not any(isinstance(a, ast.Starred) for a in self.node.args[: position + 1]):
                return candidate
        return None

    def has_keyword(self, keyword: str) -> bool:
        return any(kw.arg == keyword for kw in self.node.keywords)

    @property
    def has_star_kwargs(self) -> bool:
        return any(kw.arg is None for kw in self.node.keywords)

    @property
    def method(self) -> str | None:
        """The attribute name called, for ``x.method(...)`` whatever ``x`` is."""
        func = self.node.func
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
        return None


# Fields that never hold a node worth indexing: identifiers, numbers, flags, and the operator and
# context nodes, which CPython shares (one ``Load()`` for the whole process), so that they have no
# parent of their own and no rule asks for them.  Skipping them halves the cost of the index.
_NOT_CHILDREN = frozenset({"ctx", "op", "ops", "id", "attr", "name", "arg", "module", "level", "kind",
                           "conversion", "type_comment", "is_async", "simple", "asname", "tag"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    return tuple(name for name in cls._fields  # type: ignore[attr-defined]
                 if name not in _NOT_CHILDREN and not (cls is ast.Constant and name == "value"))


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` as a list, without the shared operator and context nodes."""
    cls = type(node)
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = _child_fields(cls)
    children: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, ast.AST):
                    children.append(item)
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


class ModuleContext:
    def __init__(self, source: ParsedSource, module_name: str = "", is_test: bool = False):
        self.source = source
        self.path = source.path
        self.tree = source.tree
        self.module_name = module_name
        self.is_test = is_test
        self._parents: dict[ast.AST, ast.AST] = {}
        self._by_type: dict[type, list[ast.AST]] = defaultdict(list)
        self._qualnames: dict[ast.AST, str | None] = {}
        # answers for every node on a walk up, so deep expressions cost linear, not quadratic, time
        self._functions: dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef | None] = {}
        self._statements: dict[ast.AST, ast.stmt] = {}
        self._index()
        self.aliases = collect_imports(self.nodes(ast.Import, ast.ImportFrom), module_name)

    # --- indexing -------------------------------------------------------------------------

    def _index(self) -> None:
        # Iterative pre-order walk: deep code cannot overflow the stack, and nodes of each type
        # come out in source order for all but a few expression shapes, which rules never rely on.
        parents = self._parents
        by_type = self._by_type
        stack: list[ast.AST] = [self.tree]
        pop, push, AST, fields_of = stack.pop, stack.append, ast.AST, _CHILD_FIELDS
        while stack:
            node = pop()
            cls = type(node)
            by_type[cls].append(node)
            fields = fields_of.get(cls)
            if fields is None:
                fields = fields_of[cls] = _child_fields(cls)
            # child_nodes, inlined: this loop visits every node of every file, where a call per node shows
            children: list[ast.AST] = []
            for name in fields:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for item in value:
                        if isinstance(item, AST):
                            children.append(item)
                elif isinstance(value, AST):
                    children.append(value)
            if children:
                for child in reversed(children):
                    parents[child] = node
                    push(child)

    @property
    def node_count(self) -> int:
        """The nodes of the tree: what a walk of the whole module visits (a rule's cost, for
        the step budget of secreview.guards)."""
        return len(self._parents) + 1

    def nodes(self, *types: type[N]) -> list[N]:
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))  # type: ignore[arg-type]
        merged = [n for t in types for n in self._by_type.get(t, ())]
        merged.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
        return merged  # type: ignore[return-value]

    @cached_property
    def calls(self) -> list[Call]:
        return [Call(node, qualify(node.func, self.aliases)) for node in self.nodes(ast.Call)]

    def calls_to(self, *names: str) -> Iterator[Call]:
        wanted = set(names)
        return (call for call in self.calls if call.name in wanted)

    def qualname(self, node: ast.AST) -> str | None:
        # rules and the engine ask again and again about the same few nodes
        found = self._qualnames.get(node, _MISSING)
        if found is _MISSING:
            found = self._qualnames[node] = qualify(node, self.aliases)
        return found  # type: ignore[return-value]

    # --- structure ------------------------------------------------------------------------

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parents.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self._parents.get(node)
        while current is not None:
            yield current
            current = self._parents.get(current)

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The innermost function around ``node`` (lambdas do not count), or None."""
        walked: list[ast.AST] = []
        current = node
        while True:
            known = self._functions.get(current, _MISSING)
            if known is not _MISSING:
                found = known
                break
            walked.append(current)
            parent = self._parents.get(current)
            if parent is None or isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found = parent
                break
            current = parent
        for visited in walked:
            self._functions[visited] = found  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def scope_name(self, node: ast.AST) -> str:
        """``Class.method`` style name of the function or class around ``node``."""
        names = [a.name for a in self.ancestors(node) if isinstance(a, _SCOPES)]
        return ".".join(reversed(names)) or "<module>"

    def statement(self, node: ast.AST) -> ast.stmt:
        """The statement ``node`` is part of (the module for a node outside every statement)."""
        walked: list[ast.AST] = []
        current: ast.AST = node
        while not isinstance(current, ast.stmt):
            known = self._statements.get(current)
            if known is not None:
                current = known
                break
            walked.append(current)
            parent = self._parents.get(current)
            if parent is None:
                break
            current = parent
        for visited in walked:
            self._statements[visited] = current  # type: ignore[assignment]
        return current  # type: ignore[return-value]

    def location(self, node: ast.AST) -> Location:
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", line) or line
        return Location(
            path=self.path,
            line=line,
            column=self._characters(line, getattr(node, "col_offset", 0)) + 1,
            end_line=end_line,
            end_column=self._characters(end_line, getattr(node, "end_col_offset", 0) or 0) + 1,
            snippet=self.source.line(line).strip(),
        )

    def _characters(self, line: int, utf8_offset: int) -> int:
        """ast counts columns in UTF-8 bytes; reports count characters (SARIF unicodeCodePoints)."""
        text = self.source.line(line)
        if text.isascii():
            return utf8_offset
        return len(text.encode("utf-8")[:utf8_offset].decode("utf-8", "ignore"))

    # --- data flow ------------------------------------------------------------------------

    def taint_flows(self) -> list:
        """Every flow of a labelled value into a sink found from this module (see python.dataflow)."""
        from .dataflow import module_flows

        return module_flows(self)

    def taint(self, node: ast.AST) -> list:
        """The flows whose sink is the call or statement ``node`` of this module."""
        where = self.location(node)
        return [f for f in self.taint_flows()
                if f.location.path == self.path and (f.location.line, f.location.column) == (where.line, where.column)]

    # --- values ---------------------------------------------------------------------------

    @cached_property
    def module_constants(self) -> dict[str, object]:
        """Names bound exactly once at module level to a foldable constant."""
        bound: dict[str, list[ast.expr | None]] = defaultdict(list)
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    for name in _bound_names(target):
                        bound[name].append(stmt.value if isinstance(target, ast.Name) else None)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                bound[stmt.target.id].append(stmt.value)
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                bound[stmt.target.id].append(None)
        constants: dict[str, object] = {}
        for name, values in bound.items():
            if len(values) == 1 and values[0] is not None:
                value = fold(values[0], constants)
                if value is not _MISSING:
                    constants[name] = value
        return constants

    def constant(self, node: ast.AST | None, default: object = _MISSING) -> object:
        """The value of ``node`` when it is known without running the code, else ``default``."""
        if node is None:
            return default
        value = fold(node, self.module_constants)
        return default if value is _MISSING else value

    def is_constant(self, node: ast.AST | None) -> bool:
        return node is not None and self.constant(node) is not _MISSING


UNKNOWN = _MISSING


def _bound_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _bound_names(element)
    elif isinstance(target, ast.Starred):
        yield from _bound_names(target.value)


_MAX_FOLDED_LENGTH = 100_000
_MAX_FOLDED_BITS = 100_000


class _TooLarge(ArithmeticError):
    """Folding would build a value too large to be worth knowing (and could exhaust memory):
    reviewed code such as ``"a" * 10**9`` or ``"%1000000000d" % 1`` must not cost gigabytes."""


def _multiply(a: object, b: object) -> object:
    count, other = (a, b) if isinstance(a, int) else (b, a)
    if isinstance(count, int) and isinstance(other, (str, bytes, tuple, list)):
        if count > 0 and len(other) * count > _MAX_FOLDED_LENGTH:
            raise _TooLarge
    elif isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > _MAX_FOLDED_BITS:
        raise _TooLarge
    return a * b  # type: ignore[operator]


_HUGE_WIDTH = re.compile(r"%[-#0 +(\w)]*(?:\*|\d{6,})|%[^%a-zA-Z]*\.(?:\*|\d{6,})")


def _modulo(a: object, b: object) -> object:
    if isinstance(a, (str, bytes)):
        template = a if isinstance(a, str) else a.decode("latin-1")
        if _HUGE_WIDTH.search(template):  # a field width or precision of a million or more
            raise _TooLarge
    return a % b  # type: ignore[operator]


def _power(a: object, b: object) -> object:
    if not (isinstance(b, int) and 0 <= b < 64):
        raise _TooLarge
    if isinstance(a, int) and a.bit_length() * b > _MAX_FOLDED_BITS:
        raise _TooLarge
    return a**b  # type: ignore[operator]


def _shift(a: object, b: object) -> object:
    if not (isinstance(b, int) and b < 64):
        raise _TooLarge
    return a << b  # type: ignore[operator]


# Each raises (never returns a marker) when the value is unknown or too large, so every caller
# can treat any exception as "not a constant".
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: _multiply,
    ast.Mod: _modulo,
    ast.FloorDiv: lambda a, b: a // b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitAnd: lambda a, b: a & b,
    ast.LShift: _shift,
    ast.Pow: _power,
}


def fold(node: ast.AST, names: dict[str, object] | None = None, depth: int = 0) -> object:
    """Constant-fold an expression; returns UNKNOWN when any part is not a known constant."""
    if depth > 50:
        return _MISSING
    names = names or {}
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id, _MISSING)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [fold(e, names, depth + 1) for e in node.elts]
        if any(i is _MISSING for i in items):
            return _MISSING
        return tuple(items) if isinstance(node, ast.Tuple) else list(items)
    if isinstance(node, ast.UnaryOp):
        operand = fold(node.operand, names, depth + 1)
        if operand is _MISSING:
            return _MISSING
        try:
            if isinstance(node.op, ast.Not):
                return not operand
            if isinstance(node.op, ast.USub):
                return -operand  # type: ignore[operator]
            if isinstance(node.op, ast.Invert):
                return ~operand  # type: ignore[operator]
            return +operand  # type: ignore[operator]
        except Exception:
            return _MISSING
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            return _MISSING
        left = fold(node.left, names, depth + 1)
        right = fold(node.right, names, depth + 1)
        if left is _MISSING or right is _MISSING:
            return _MISSING
        try:
            value = op(left, right)
        except Exception:
            return _MISSING
        if isinstance(value, (str, bytes, tuple, list)) and len(value) > _MAX_FOLDED_LENGTH:
            return _MISSING
        return value
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and value.format_spec is None and value.conversion == -1:
                inner = fold(value.value, names, depth + 1)
                if inner is _MISSING:
                    return _MISSING
                parts.append(str(inner))
            else:
                return _MISSING
        return "".join(parts)
    if isinstance(node, ast.BoolOp):
        values = [fold(v, names, depth + 1) for v in node.values]
        if any(v is _MISSING for v in values):
            return _MISSING
        result = values[0]
        for value in values[1:]:
            if isinstance(node.op, ast.And):
                result = result and value
            else:
                result = result or value
        return result
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left = fold(node.left, names, depth + 1)
        right = fold(node.comparators[0], names, depth + 1)
        if left is _MISSING or right is _MISSING:
            return _MISSING
        try:
            return _compare(node.ops[0], left, right)
        except Exception:
            return _MISSING
    return _MISSING


def _compare(op: ast.cmpop, left: object, right: object) -> object:
    if isinstance(op, ast.Eq):
        return left == right
    if isinstance(op, ast.NotEq):
        return left != right
    if isinstance(op, ast.Is):
        return left is right
    if isinstance(op, ast.IsNot):
        return left is not right
    if isinstance(op, ast.In):
        return left in right  # type: ignore[operator]
    if isinstance(op, ast.NotIn):
        return left not in right  # type: ignore[operator]
    if isinstance(op, ast.Lt):
        return left < right  # type: ignore[operator]
    if isinstance(op, ast.LtE):
        return left <= right  # type: ignore[operator]
    if isinstance(op, ast.Gt):
        return left > right  # type: ignore[operator]
    if isinstance(op, ast.GtE):
        return left >= right  # type: ignore[operator]
    return _MISSING
