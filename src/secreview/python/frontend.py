"""One tree type for every Python file, whatever interpreter secreview runs on.

The engine consumes the standard library's ``ast`` nodes of the host interpreter, and only
those.  :func:`read` produces them in three ways, tried in order:

1. *host*: ``ast.parse`` of the host.  Every file it accepts gets exactly its tree, so the review
   of code that parses today is unchanged, and this path costs nothing extra.
2. *lowered*: the host rejected the file; :mod:`secreview.python.lowering` rewrites the syntax
   of newer Pythons (3.12 to 3.14) and of Python 2 into syntax the host reads, with every line
   in place, and the host parses that.  F- and t-strings no rewrite can express are replaced by
   a placeholder ``( ... )`` of the same shape and their nodes are built here from the scanned
   parts (:func:`_build`).
3. *recovered*: the file has a real syntax error.  The smallest region around the error that
   the parser cannot read (the statement; if that is not enough, the enclosing compound
   statement, and so on outwards) is blanked, its first line replaced by ``pass`` at its own
   indentation so the block around it stays valid, and the text is read again.  Each round
   blanks at least one more line of code, and the rounds are bounded (:data:`MAX_ROUNDS`,
   :data:`RECOVERY_BYTES`), so this ends; each region becomes one "not fully reviewed" note naming the error's line.  Lines of
   merge-conflict markers are blanked first (both sides of the conflict stay in the review).

Python 2 forms are noted too (``read as Python 2 (print statement, ...)``): the file is reviewed,
but with Python 3's meaning of its names (``input`` for example), which every output format
must say.  See docs/parser.md for the candidates measured and why this design won.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field

from . import lowering
from .lowering import Field, StringToken, TEMPLATE_FUNCTION

# Each round of recovery lowers and parses the whole file again: at most MAX_ROUNDS rounds, and
# at most RECOVERY_BYTES read in all, so a large file with many errors costs seconds, not minutes.
MAX_ROUNDS = 100
RECOVERY_BYTES = 20_000_000
# CPython 3.11 builds the tree under a nesting limit of three times the recursion limit, and a
# left-nested sum is as deep as it has terms: generated SQL or a table of strings built with
# 5,000 ``+`` must still parse.  The conversion recurses in C, which at this depth needs well
# under a megabyte of stack.
_PARSE_RECURSION_LIMIT = 6_000
_CHILDREN_SHARE_SPAN = sys.version_info < (3, 12)  # how the host places f-string parts


def host_parse(text: str, path: str = "<unknown>", mode: str = "exec") -> ast.AST:
    limit = sys.getrecursionlimit()
    if limit >= _PARSE_RECURSION_LIMIT:
        return ast.parse(text, filename=path, mode=mode, type_comments=False)
    sys.setrecursionlimit(_PARSE_RECURSION_LIMIT)
    try:
        return ast.parse(text, filename=path, mode=mode, type_comments=False)
    finally:
        sys.setrecursionlimit(limit)


@dataclass
class Read:
    tree: ast.Module
    way: str  # "host", "lowered" or "recovered"
    notes: list[str] = field(default_factory=list)  # "not fully reviewed" notes
    text: str | None = None  # the text the tree was parsed from, when it is not the file's


def read(text: str, path: str = "<unknown>") -> Read:
    """The file's tree; raises the host's ``SyntaxError`` when no part of it can be read."""
    try:
        tree = host_parse(text, path)
        if _HOST_TEMPLATES and _TEMPLATE_PREFIX.search(text):
            tree = _Templates().visit(tree)
        return Read(tree, "host")
    except SyntaxError as first_error:
        original_error = first_error
    work = text
    regions: list[_Region] = []
    notes: list[str] = []
    lines = work.splitlines(keepends=True)
    markers = [k for k, line in enumerate(lines, 1) if _CONFLICT_MARKER.match(line)]
    if markers:
        for k in markers:
            lines[k - 1] = _line_break(lines[k - 1])
        work = "".join(lines)
        notes.append(f"merge-conflict marker lines {_ranges(markers)} skipped; both sides reviewed")
    for _ in range(max(4, min(MAX_ROUNDS, RECOVERY_BYTES // max(len(text), 1)))):
        try:
            lowered = lowering.lower(work)
            tree = host_parse(lowered.text, path)
            tree = _patch(tree, lowered)
        except lowering.ScanError as exc:
            error_line, message = exc.line, exc.msg
        except SyntaxError as exc:
            error_line, message = _error_line(exc), exc.msg
        else:
            if regions and not _has_code(tree):
                raise original_error
            if lowered.python2:
                notes.insert(0, "read as Python 2 ({})".format(", ".join(lowered.python2)))
            notes.extend(r.note() for r in regions)
            way = "recovered" if regions or markers else "lowered"
            return Read(tree, way, notes, lowered.text)
        blanked, regions = _blank_around(work, error_line, message, regions)
        if blanked is None:
            break
        work = blanked
    # out of rounds: keep what comes before the top-level statement of the last error
    return _head_only(work, error_line, message, regions, notes, path, original_error)


def _head_only(work, error_line, message, regions, notes, path, original_error) -> Read:
    lines = work.splitlines(keepends=True)
    starts = _statement_starts(work, len(lines))
    cut = min(max(error_line, 1), len(lines) or 1)
    while cut > 1 and not (cut in starts and _is_code(lines[cut - 1]) and _indent(lines[cut - 1]) == 0):
        cut -= 1
    head = "".join(lines[:cut - 1])
    try:
        lowered = lowering.lower(head)
        tree = _patch(host_parse(lowered.text, path), lowered)
    except (SyntaxError, lowering.ScanError):
        raise original_error from None
    if not _has_code(tree):
        raise original_error
    kept = [r for r in regions if r.last < cut]
    region = _Region(cut, len(lines), error_line, message)
    notes = list(notes)
    if lowered.python2:
        notes.insert(0, "read as Python 2 ({})".format(", ".join(lowered.python2)))
    notes.extend(r.note() for r in kept)
    notes.append(region.note().replace(" not reviewed", " not reviewed (too many syntax errors)"))
    return Read(tree, "recovered", notes, lowered.text + "".join(_line_break(line) for line in lines[cut - 1:]))


_CONFLICT_MARKER = re.compile(r"(<{7}|={7}|>{7}|\|{7})(?=[ \t\r\n]|$)")
_EXPECTED_BLOCK = re.compile(r"after '.*' statement on line (\d+)")


def _error_line(exc: SyntaxError) -> int:
    m = _EXPECTED_BLOCK.search(exc.msg or "")
    if m:
        return int(m.group(1))
    return exc.lineno or 1


def _line_break(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _ranges(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _has_code(tree: ast.Module) -> bool:
    return any(not isinstance(s, ast.Pass) for s in tree.body)


# --- recovery -------------------------------------------------------------------------------

@dataclass
class _Region:
    first: int
    last: int
    error_line: int
    message: str

    def note(self) -> str:
        span = f"line {self.first}" if self.first == self.last else f"lines {self.first}-{self.last}"
        return f"syntax error at line {self.error_line} ({self.message}): {span} not reviewed"


_CLAUSES = ("elif", "else", "except", "finally", "case")
_OPENERS = ("if", "try", "for", "while", "with", "async", "match")


def _indent(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" \f"))


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _first_word(line: str) -> str:
    m = re.match(r"\s*([A-Za-z_]\w*)", line)
    return m.group(1) if m else ""


def _statement_starts(text: str, count: int) -> set[int]:
    """Lines on which a logical line starts, as far as the scanner can tell."""
    try:
        tokens = lowering.Scanner(text).tokens()
    except lowering.ScanError as exc:
        return set(range(1, count + 1)) if exc.line <= 1 else _statement_starts_upto(text, exc.line, count)
    scanner = lowering.Scanner(text)
    starts = set()
    fresh = True
    for token in tokens:
        if token.kind == "COMMENT":
            continue
        if token.kind == "NEWLINE":
            fresh = True
        elif fresh:
            starts.add(scanner.line_of(token.start))
            fresh = False
    return starts


def _statement_starts_upto(text: str, line: int, count: int) -> set[int]:
    lines = text.splitlines(keepends=True)
    head = "".join(lines[:line - 1])
    starts = _statement_starts(head, line - 1) if head else set()
    return starts | set(range(line, count + 1))


def _statement(lines: list[str], starts: set[int], line: int) -> tuple[int, int]:
    """The statement around ``line`` (1-based, inclusive span) with its indented body, its
    decorators and the other clauses of its compound statement."""
    count = len(lines)
    first = line
    while first > 1 and (first not in starts or not _is_code(lines[first - 1])):
        first -= 1
    while first > 1 and not _is_code(lines[first - 1]):
        first += 1
        break
    indent = _indent(lines[first - 1])
    if _first_word(lines[first - 1]) in _CLAUSES:
        k = first - 1
        while k >= 1:
            if _is_code(lines[k - 1]) and k in starts and _indent(lines[k - 1]) <= indent:
                if _indent(lines[k - 1]) < indent:
                    break
                first = k
                if _first_word(lines[k - 1]) not in _CLAUSES:
                    break
            k -= 1
    k = first - 1
    while k >= 1 and (_is_code(lines[k - 1]) and lines[k - 1].lstrip().startswith("@")
                      and _indent(lines[k - 1]) == indent):
        first = k
        k -= 1
    last = max(line, first)
    k = last + 1
    while k <= count:
        current = lines[k - 1]
        if _is_code(current) and _indent(current) <= indent and (k in starts or k > line):
            if _indent(current) == indent and _first_word(current) in _CLAUSES:
                last = k
                k += 1
                continue
            break
        if _is_code(current):
            last = k
        k += 1
    return first, last


def _enclosing(lines: list[str], starts: set[int], first: int) -> int | None:
    """The header line of the compound statement around line ``first``, if any."""
    indent = _indent(lines[first - 1])
    for k in range(first - 1, 0, -1):
        if _is_code(lines[k - 1]) and k in starts and _indent(lines[k - 1]) < indent:
            return k
    return None


def _blank_around(text: str, error_line: int, message: str, regions: list[_Region]):
    lines = text.splitlines(keepends=True)
    count = len(lines)
    if count == 0:
        return None, regions
    error_line = min(max(error_line, 1), count)
    starts = _statement_starts(text, count)
    first, last = _statement(lines, starts, error_line)
    touching = [r for r in regions if r.first - 1 <= error_line <= r.last + 1 or first <= r.last and r.first <= last]
    if touching:
        # the region blanked for this error was not enough: the compound statement around it
        first = min([first] + [r.first for r in touching])
        last = max([last] + [r.last for r in touching])
        header = _enclosing(lines, starts, first)
        if header is not None:
            first, last2 = _statement(lines, starts, header)
            last = max(last, last2)
        else:
            nxt = next((k for k in range(last + 1, count + 1) if _is_code(lines[k - 1])), None)
            if nxt is None or not any(_is_code(lines[k - 1]) for k in range(first, last + 1)) and nxt is None:
                return None, regions
            if nxt is not None:
                last = _statement(lines, starts, nxt)[1]
        kept = [r for r in regions if r not in touching]
        region = _Region(first, last, min(r.error_line for r in touching), touching[0].message)
    else:
        kept = list(regions)
        region = _Region(first, last, error_line, message)
    if not any(_is_code(lines[k - 1]) for k in range(region.first, region.last + 1)):
        if not touching:
            # the error sits on blank lines (end of file): blank the code just before it
            k = region.first - 1
            while k >= 1 and not _is_code(lines[k - 1]):
                k -= 1
            if k < 1:
                return None, regions
            return _blank_around(text, k, message, regions)
        return None, regions
    indentation = lines[region.first - 1][:len(lines[region.first - 1]) - len(lines[region.first - 1].lstrip(" \t\f"))]
    for k in range(region.first, region.last + 1):
        lines[k - 1] = _line_break(lines[k - 1])
    lines[region.first - 1] = indentation + "pass" + _line_break(lines[region.first - 1]) if lines[region.first - 1] else indentation + "pass\n"
    kept.append(region)
    kept.sort(key=lambda r: r.first)
    return "".join(lines), kept


# --- t-strings on a host that reads them (3.14) -----------------------------------------------

_HOST_TEMPLATES = hasattr(ast, "TemplateStr")
_TEMPLATE_PREFIX = re.compile(r"(?<![\w'\"])(?:[tT][rR]?|[rR][tT])['\"]")


class _Templates(ast.NodeTransformer):
    """The host's TemplateStr nodes as the call every other host shows (see lowering)."""

    def visit_TemplateStr(self, node: ast.AST) -> ast.AST:
        self.generic_visit(node)
        where = _span(node)
        args: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                args.append(value)
            else:
                args.append(value.value)
                spec = getattr(value, "format_spec", None)
                if spec is not None:
                    args.extend(v.value if not isinstance(v, ast.Constant) and hasattr(v, "value") else v
                                for v in spec.values if not isinstance(v, ast.Constant))
        return ast.Call(func=ast.Name(id=TEMPLATE_FUNCTION, ctx=ast.Load(), **where), args=args, keywords=[], **where)


# --- placeholders: f- and t-strings built from their scanned parts ---------------------------

class _Patcher(ast.NodeTransformer):
    def __init__(self, lowered: lowering.Lowered) -> None:
        self.lowered = lowered

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        if not node.elts:
            group = self.lowered.placeholders.get((node.lineno, node.col_offset))
            if group is not None:
                return _build(self.lowered.source, group, node)
        return self.generic_visit(node)


def _patch(tree: ast.AST, lowered: lowering.Lowered) -> ast.AST:
    if not lowered.placeholders:
        return tree
    return _Patcher(lowered).visit(tree)


class _Positions:
    """Line and UTF-8 column of an index into the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.scanner = lowering.Scanner(text)

    def at(self, index: int) -> tuple[int, int]:
        line = self.scanner.line_of(index)
        start = self.scanner.line_starts[line - 1]
        return line, len(self.text[start:index].encode("utf-8"))


def _build(text: str, group: list[StringToken], span: ast.AST) -> ast.expr:
    positions = _Positions(text)
    where = dict(lineno=span.lineno, col_offset=span.col_offset, end_lineno=span.end_lineno,
                 end_col_offset=span.end_col_offset)
    if any("t" in s.prefix for s in group):
        args: list[ast.expr] = []
        for s in group:
            for value in _values(text, positions, s, where, template=True):
                args.append(value)
        func = ast.Name(id=TEMPLATE_FUNCTION, ctx=ast.Load(), **where)
        return ast.Call(func=func, args=args, keywords=[], **where)
    values: list[ast.expr] = []
    for s in group:
        values.extend(_values(text, positions, s, where, template=False))
    return ast.JoinedStr(values=_merge(values, where), **where)


def _merge(values: list[ast.expr], where: dict) -> list[ast.expr]:
    merged: list[ast.expr] = []
    for value in values:
        if isinstance(value, ast.Constant):
            if not value.value:
                continue
            if merged and isinstance(merged[-1], ast.Constant):
                merged[-1] = ast.Constant(value=merged[-1].value + value.value, **_span(merged[-1]))
                continue
        merged.append(value)
    return merged


def _span(node: ast.AST) -> dict:
    return dict(lineno=node.lineno, col_offset=node.col_offset, end_lineno=node.end_lineno,
                end_col_offset=node.end_col_offset)


def _values(text, positions, s: StringToken, where, template: bool) -> list[ast.expr]:
    if s.parts is None:
        source = text[s.start:s.end]
        value = ast.literal_eval(source.replace("u", "", 1) if "u" in s.prefix and "r" in s.prefix else source)
        if isinstance(value, bytes):
            raise SyntaxError("cannot mix bytes and nonbytes literals", (None, where["lineno"], 0, ""))
        return [ast.Constant(value=value, **where)]
    return _parts(text, positions, s.parts, s.prefix, where, template)


def _parts(text, positions, parts, prefix, where, template) -> list[ast.expr]:
    out: list[ast.expr] = []
    for part in parts:
        if isinstance(part, tuple):
            a, b = part
            out.append(ast.Constant(value=_literal(text[a:b], prefix, collapse=True), **_part_span(positions, a, b, where)))
            continue
        fld: Field = part
        expr = _expression(text, positions, fld.expr_start, fld.expr_end)
        if template:
            out.append(expr)
            if fld.spec:
                out.extend(v for v in _parts(text, positions, fld.spec, prefix, where, template) if not isinstance(v, ast.Constant))
            continue
        conversion = ord(fld.conversion) if fld.conversion else -1
        if fld.debug:
            debug_end = fld.debug_end
            shown = re.sub(r"#[^\r\n]*", "", text[fld.expr_start:debug_end])  # comments are not shown
            out.append(ast.Constant(value=shown, **_part_span(positions, fld.expr_start, debug_end, where)))
            if conversion == -1 and fld.spec is None:
                conversion = ord("r")
        spec = None
        if fld.spec is not None:
            spec_values = _merge(_parts(text, positions, fld.spec, prefix, where, template), where)
            spec = ast.JoinedStr(values=spec_values, **_part_span(positions, fld.start, fld.end, where))
        out.append(ast.FormattedValue(value=expr, conversion=conversion, format_spec=spec,
                                      **_part_span(positions, fld.start, fld.end, where)))
    return out


def _part_span(positions: _Positions, a: int, b: int, where: dict) -> dict:
    if _CHILDREN_SHARE_SPAN:
        return where
    (l1, c1), (l2, c2) = positions.at(a), positions.at(b)
    return dict(lineno=l1, col_offset=c1, end_lineno=l2, end_col_offset=c2)


def _literal(raw: str, prefix: str, collapse: bool):
    if collapse:
        raw = raw.replace("{{", "{").replace("}}", "}")
    if "r" in prefix:
        return raw
    try:
        return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return raw


def _expression(text: str, positions: _Positions, start: int, end: int) -> ast.expr:
    source = "(" + text[start:end] + ")"
    line0, col0 = positions.at(start)
    try:
        tree = host_parse(source, mode="eval")
    except SyntaxError as exc:
        try:
            lowered = lowering.lower(source, build_fstrings="nested too deeply" in (exc.msg or ""))
            tree = _patch(host_parse(lowered.text, mode="eval"), lowered)
        except (SyntaxError, lowering.ScanError):
            raise SyntaxError(f"f-string: {exc.msg}", (None, line0 + (exc.lineno or 1) - 1, 0, "")) from None
    for node in ast.walk(tree.body):
        if "lineno" in node._attributes:
            node.lineno, node.col_offset = _shift(node.lineno, node.col_offset, line0, col0)
            node.end_lineno, node.end_col_offset = _shift(node.end_lineno, node.end_col_offset, line0, col0)
    body = tree.body
    if isinstance(body, ast.Tuple) and (body.lineno, body.col_offset) == (line0, col0 - 1):
        # f"{3,}": a tuple without parentheses spans its text, not the parentheses added here
        expression = text[start:end]
        first = start + len(expression) - len(expression.lstrip())
        last = end - (len(expression) - len(expression.rstrip()))
        (body.lineno, body.col_offset), (body.end_lineno, body.end_col_offset) = positions.at(first), positions.at(last)
    return body


def _shift(line: int, col: int, line0: int, col0: int) -> tuple[int, int]:
    if line == 1:
        return line0, col + col0 - 1
    return line + line0 - 1, col
