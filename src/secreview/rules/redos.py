"""Regular expressions whose own structure backtracks catastrophically (ReDoS, CWE-1333).

This family judges constant patterns; an untrusted *pattern* is ``regex-injection``'s question.

Policy.  A pattern literal (also through a module constant, a local bound once, or a class
attribute) given to ``re.compile``/``match``/``search``/``fullmatch``/``findall``/``finditer``/
``sub``/``subn``/``split`` (or the ``regex`` module's functions of the same names) is parsed
with the standard library's regex parser, with the flags of the call (``re.X``, ``re.I``, ...),
and analysed by :mod:`secreview.python.regex_complexity`: never compiled, never run.  An
exponential shape (a repeated group whose body matches the same text in more than one way) is
reported wherever it is, because whoever controls the searched text can hang the process, and
the pattern does not know where its text will come from.  A shape that only backtracks
polynomially (``\\d+\\d+x``) is not reported: it matters only for long untrusted text, which
this family does not follow.  Patterns that only backtrack when the whole string must match
are reported at ``re.fullmatch`` only; a compiled pattern is judged as searched.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Confidence
from ..python.module import ModuleContext
from ..python.regex_complexity import analyse
from . import Issue, rule
from ._purpose import local_constant, resolved_calls

_FUNCTIONS = ("compile", "match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "split")
_CALLS = {f"{module}.{name}": name for module in ("re", "regex") for name in _FUNCTIONS}
# where the flags argument sits, by position, for each function
_FLAGS_POSITION = {"compile": 1, "match": 2, "search": 2, "fullmatch": 2, "findall": 2, "finditer": 2,
                   "split": 3, "sub": 4, "subn": 4}
_FLAG_VALUES = {
    "I": 2, "IGNORECASE": 2, "L": 4, "LOCALE": 4, "M": 8, "MULTILINE": 8, "S": 16, "DOTALL": 16,
    "U": 32, "UNICODE": 32, "X": 64, "VERBOSE": 64, "A": 256, "ASCII": 256,
}


def _flags(ctx: ModuleContext, node: ast.AST | None) -> int | None:
    """The constant value of a flags argument (``re.X | re.I``), None when it is not known."""
    if node is None:
        return 0
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.Add)):
        left, right = _flags(ctx, node.left), _flags(ctx, node.right)
        return None if left is None or right is None else left | right
    if isinstance(node, (ast.Attribute, ast.Name)):
        name = ctx.qualname(node) or ""
        module, _, flag = name.rpartition(".")
        if module in ("re", "regex", "re.RegexFlag") and flag in _FLAG_VALUES:
            return _FLAG_VALUES[flag] & ~256  # re.ASCII narrows classes: judging as Unicode is the safe side
    value = local_constant(ctx, node, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _class_attribute(ctx: ModuleContext, node: ast.AST) -> object:
    """``self.PATTERN`` / ``cls.PATTERN`` / ``Klass.PATTERN``: a constant bound once in the class body."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        return None
    klass = next((a for a in ctx.ancestors(node) if isinstance(a, ast.ClassDef)), None)
    if klass is None or node.value.id not in ("self", "cls", klass.name):
        return None
    bound = [stmt.value for stmt in klass.body
             if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
             and any(isinstance(t, ast.Name) and t.id == node.attr
                     for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]))]
    if len(bound) != 1:
        return None
    return ctx.constant(bound[0], None)


def _pattern(ctx: ModuleContext, node: ast.AST | None) -> str | bytes | None:
    if node is None:
        return None
    value = local_constant(ctx, node, None)
    if value is None:
        value = _class_attribute(ctx, node)
    return value if isinstance(value, (str, bytes)) else None


@rule(
    id="regex-catastrophic-backtracking",
    cwe=1333,
    severity="medium",
    confidence="high",
    summary="Regular expression whose repeated group backtracks exponentially on crafted input (ReDoS)",
)
def catastrophic_backtracking(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags constant regular expressions passed to `re.compile`, `re.match`, `re.search`,
    `re.fullmatch`, `re.findall`, `re.finditer`, `re.sub`, `re.subn` or `re.split` (and the
    `regex` module's functions of the same names) that contain a repeated group whose body can
    match the same text in more than one way: a nested unbounded repeat such as `(a+)+` or
    `(\\w+\\s?)+`, or alternatives that match a common string such as `(.|\\s)*`.  The pattern is
    parsed with the standard library's own regex parser and the call's flags (`re.VERBOSE`,
    `re.IGNORECASE`, ...); it is never compiled or run.  Possessive quantifiers and atomic
    groups (Python 3.11+), bounded repeats and patterns that can never be forced to backtrack
    (nothing after the group can fail) are not reported.

    ## Why it matters
    Python's regex engine backtracks: when the rest of the pattern fails, it retries every way
    the repeated group could have divided the text, and an ambiguous group has exponentially
    many.  Thirty characters and one that does not fit (`"a" * 30 + "!"` against
    `^(\\w+\\s?)+$`) keep a CPU busy for minutes, holding the GIL, so one request can stop a
    server (ReDoS).  Whoever controls the searched text can do it; the pattern itself is the
    defect.

    ## Example
    ```python
    WORDS = re.compile(r"^(\\w+\\s?)+$")

    def is_phrase(text):
        return WORDS.match(text) is not None
    ```

    ## Fix
    Make the repetition unambiguous, so each character can belong to one iteration only:
    `^\\w+(?:\\s\\w+)*$`; merge overlapping alternatives into one character class (`[\\s\\S]*`
    for `(.|\\s)*`); or on Python 3.11+ use an atomic group `(?>...)` or a possessive quantifier
    (`++`, `*+`).  Bounding the repeat (`{1,20}`) or the input length limits the damage.

    ## References
    - CWE-1333: Inefficient Regular Expression Complexity
    - https://owasp.org/www-community/attacks/Regular_expression_Denial_of_Service_-_ReDoS
    - https://docs.python.org/3/library/re.html (atomic groups and possessive quantifiers, 3.11+)
    """
    for call in resolved_calls(ctx):
        function = _CALLS.get(call.name or "")
        if function is None:
            continue
        pattern = _pattern(ctx, call.arg(0, "pattern"))
        if pattern is None:
            continue
        flags = _flags(ctx, call.arg(_FLAGS_POSITION[function], "flags"))
        if flags is None:
            continue  # unknown flags change what the pattern means (re.X); do not guess
        found = analyse(pattern, flags, fullmatch=function == "fullmatch")
        if found is None or found.kind != "exponential":
            continue
        yield Issue(
            call.node,
            message=(f"The pattern given to `{call.name}` repeats `{found.fragment}`, and {found.reason}; "
                     f"an input such as {found.attack} makes matching take time doubling with each extra character."),
            fix=(f"Rewrite `{found.fragment}`: {found.rewrite}; on Python 3.11+ an atomic group `(?>...)` or a "
                 "possessive quantifier (`++`, `*+`) also stops the backtracking, and bounding the input length "
                 "limits it."),
            confidence=Confidence.HIGH if found.certain else Confidence.MEDIUM,
        )
