"""Rewrite source the host's parser rejects into source it reads, keeping every line in place.

Used only when ``ast.parse`` of the host fails (see :mod:`secreview.python.frontend`): valid
files never pass through here, so their trees stay exactly the host's.

A small scanner of our own reads the text (the host's ``tokenize`` cannot read PEP 701 f-strings
on 3.11): names, numbers, strings with f- and t-string structure nested to any depth, operators,
brackets and logical lines.  The rewrites are edits of the text, chosen to keep line numbers
always exact and columns exact wherever a same-length form exists:

=====================================  ==============================================  =========
construct                              becomes                                         columns
=====================================  ==============================================  =========
``def f[T: int = str](...)`` (695/696)  type parameters blanked with spaces             exact
``type X[T] = v`` (695)                 ``X         = v`` (an assignment)               value exact
PEP 701 f-string ``f"{d["k"]}"``        outer quotes swapped: ``f'{d["k"]}'``           exact
PEP 701 f-string no swap can fix        placeholder ``( ... )``; the tree is built       exact
                                        here from the scanned parts (:func:`build`)
t-string ``t"a{x}"`` (750)              placeholder; becomes ``__template__('a', x)``   exact
``except A, B:`` (758)                  ``except (A, B):``                              +2 after
``except* E:`` on 3.10 (654)            ``except  E:`` (a plain handler)                exact
Python 2 ``print x, y``                 ``print(x, y)``                                 exact
Python 2 ``print >>f, x``               ``print(  f, x)``                               exact
Python 2 ``exec code in ns``            ``exec(code , ns)``                             exact
Python 2 ``except E, e:``               ``except E as e:``                              +2 after
Python 2 ``raise E, msg``               ``raise E( msg)``                               exact
Python 2 backticks ```x```              ``repr(x)``                                     +4 after
Python 2 ``<>``                         ``!=``                                          exact
Python 2 ``0755`` / ``10L``             ``493 `` / ``10 ``                              exact start
Python 2 ``ur'...'``                    `` r'...'``                                     +1 start
=====================================  ==============================================  =========

A t-string is not a ``str``: a ``string.templatelib.Template`` passed to a sink is the safe,
structured API, so it must not look like text built from its interpolations.  The engine sees
it as a call of an unknown function, ``__template__``, whose arguments are the literal parts and
the interpolations: a defect inside an interpolation (``t"{os.system(cmd)}"``) is still found,
and no rule reads the call as a formatted string.

``except A, B:`` means two exception types in 3.14 (PEP 758) and an exception bound to a name in
Python 2; a lower-case second name that is not a dotted name and does not end like an exception
class (``Error``, ``Exception``, ``Warning``) is read as Python 2's binding.
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
import warnings
from dataclasses import dataclass, field

TEMPLATE_FUNCTION = "__template__"

# Python 2 forms, as named in the note every output format carries.
PRINT_STATEMENT = "print statement"
EXEC_STATEMENT = "exec statement"
EXCEPT_COMMA = "except E, e"
RAISE_COMMA = "raise E, msg"
BACKTICKS = "backticks"
NOT_EQUAL = "<>"
OLD_OCTAL = "old octal literal"
LONG_SUFFIX = "long integer suffix"
UNICODE_RAW = "ur'' string"

_HOST_READS_EXCEPT_STAR = sys.version_info >= (3, 11)
_HOST_READS_PEP701 = sys.version_info >= (3, 12)
_HOST_READS_PEP695 = sys.version_info >= (3, 12)
_HOST_READS_TEMPLATES = sys.version_info >= (3, 14)
_HOST_READS_PEP758 = sys.version_info >= (3, 14)


class ScanError(Exception):
    def __init__(self, msg: str, line: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.line = line


_NAME = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]+[lL]?|0[oO][0-7_]+|0[bB][01_]+[lL]?"
    r"|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJlL]?")
_STRING_PREFIXES = {"r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt", "ur"}
_OPERATORS = sorted("""
    ** // >> << <> != == <= >= -> := += -= *= /= %= &= |= ^= @= **= //= >>= <<= ...
    + - * / % & | ^ ~ < > ( ) [ ] { } , : ; . = @ ! `
    """.split(), key=len, reverse=True)
_OPEN = "([{"
_CLOSE = ")]}"
_KEYWORDS_AFTER_PRINT = {"in", "is", "and", "or", "if", "else", "for", "not in"}


@dataclass
class Field:
    """A replacement field ``{expr!c:spec}`` of an f- or t-string (indexes into the text)."""
    start: int  # the '{'
    expr_start: int
    expr_end: int
    end: int  # after the '}'
    conversion: str | None = None
    debug: bool = False  # ``{x=}``
    debug_end: int = 0  # where the text a ``{x=}`` field shows ends
    head_end: int = 0  # where the expression, '=' and conversion end: the spec's ':' or the '}'
    spec: list | None = None  # parts of the format spec, like StringToken.parts


@dataclass
class StringToken:
    start: int  # the prefix
    end: int
    prefix: str  # lower case
    quote: str
    body_start: int
    body_end: int
    parts: list | None = None  # f/t-strings: (start, end) literal spans and Field s


@dataclass
class Token:
    kind: str  # NAME NUMBER STRING OP NEWLINE COMMENT
    start: int
    end: int
    string: StringToken | None = None
    depth: int = 0


class Scanner:
    """Tokens of Python source of any version from 2.7 to 3.14, enough to rewrite it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def line_of(self, index: int) -> int:
        return bisect.bisect_right(self.line_starts, index)

    def error(self, msg: str, index: int) -> ScanError:
        return ScanError(msg, self.line_of(index))

    def tokens(self) -> list[Token]:
        text, n = self.text, len(self.text)
        found: list[Token] = []
        depth = 0
        i = 0
        while i < n:
            c = text[i]
            if c in " \t\f":
                i += 1
            elif c == "#":
                j = _line_end(text, i)
                found.append(Token("COMMENT", i, j, depth=depth))
                i = j
            elif c == "\\" and text[i + 1:i + 2] in ("\n", "\r"):
                i += 2 if text[i + 1:i + 3] != "\r\n" else 3
            elif c in "\r\n":
                j = i + (2 if text[i:i + 2] == "\r\n" else 1)
                code = next((t for t in reversed(found) if t.kind != "COMMENT"), None)
                if depth == 0 and code is not None and code.kind != "NEWLINE":
                    found.append(Token("NEWLINE", i, i, depth=0))
                i = j
            elif c in "'\"":
                s = self.string(i, i)
                found.append(Token("STRING", i, s.end, s, depth))
                i = s.end
            elif c.isdigit() or (c == "." and text[i + 1:i + 2].isdigit()):
                m = _NUMBER.match(text, i)
                j = m.end() if m else i + 1
                found.append(Token("NUMBER", i, j, depth=depth))
                i = j
            elif c.isalpha() or c == "_" or ord(c) > 127:
                m = _NAME.match(text, i)
                j = m.end() if m else i + 1
                if text[j:j + 1] in ("'", '"') and text[i:j].lower() in _STRING_PREFIXES:
                    s = self.string(i, j)
                    found.append(Token("STRING", i, s.end, s, depth))
                    i = s.end
                else:
                    found.append(Token("NAME", i, j, depth=depth))
                    i = j
            else:
                op = next((o for o in _OPERATORS if text.startswith(o, i)), c)
                if op in _OPEN:
                    depth += 1
                elif op in _CLOSE:
                    depth = max(0, depth - 1)
                found.append(Token("OP", i, i + len(op), depth=depth))
                i += len(op)
        if found and found[-1].kind != "NEWLINE":
            found.append(Token("NEWLINE", n, n, depth=0))
        return found

    def string(self, start: int, quote_at: int) -> StringToken:
        text = self.text
        prefix = text[start:quote_at].lower()
        q = text[quote_at]
        quote = q * 3 if text.startswith(q * 3, quote_at) else q
        body = quote_at + len(quote)
        raw = "r" in prefix
        if "f" in prefix or "t" in prefix:
            end, parts = self.formatted(body, quote, raw, in_spec=False)
            return StringToken(start, end, prefix, quote, body, end - len(quote), parts)
        i, n = body, len(text)
        while True:
            if i >= n:
                raise self.error("unterminated string literal", start)
            c = text[i]
            if c == "\\":
                i += 2
            elif c == q and text.startswith(quote, i):
                return StringToken(start, i + len(quote), prefix, quote, body, i)
            elif c in "\r\n" and len(quote) == 1:
                raise self.error("unterminated string literal", start)
            else:
                i += 1

    def formatted(self, i: int, quote: str, raw: bool, in_spec: bool) -> tuple[int, list]:
        """Scan an f/t-string body (or a format spec) from ``i``; return the index after its
        closing quote (or at the spec's closing brace) and its parts."""
        text, n = self.text, len(self.text)
        parts: list = []
        literal = i
        while True:
            if i >= n:
                raise self.error("unterminated f-string", i - 1)
            c = text[i]
            if text.startswith(quote, i):
                if in_spec:
                    raise self.error("f-string: expecting '}'", i)
                if i > literal:
                    parts.append((literal, i))
                return i + len(quote), parts
            if c == "\\":
                if not raw and text[i + 1:i + 3] == "N{":
                    close = text.find("}", i)
                    i = close + 1 if close > 0 else i + 2
                else:
                    i += 1 if text[i + 1:i + 2] in ("{", "}") else 2
            elif c in "\r\n" and len(quote) == 1:
                raise self.error("unterminated f-string", i)
            elif c == "{":
                if text[i + 1:i + 2] == "{" and not in_spec:
                    i += 2
                    continue
                if i > literal:
                    parts.append((literal, i))
                fld = self.field(i, quote, raw)
                parts.append(fld)
                i = literal = fld.end
            elif c == "}":
                if in_spec:
                    if i > literal:
                        parts.append((literal, i))
                    return i, parts
                if text[i + 1:i + 2] == "}":
                    i += 2
                    continue
                raise self.error("f-string: single '}' is not allowed", i)
            else:
                i += 1

    def field(self, start: int, quote: str, raw: bool) -> Field:
        text, n = self.text, len(self.text)
        i = start + 1
        depth = 0
        fld = Field(start, i, i, i)
        while True:
            if i >= n or (text.startswith(quote, i) and depth == 0 and len(quote) == 3):
                raise self.error("f-string: expecting '}'", start)
            c = text[i]
            if c in _OPEN:
                depth += 1
                i += 1
            elif c in _CLOSE:
                if depth == 0:
                    if c != "}":
                        raise self.error(f"f-string: unmatched '{c}'", i)
                    fld.expr_end = fld.head_end = i
                    fld.end = i + 1
                    return fld
                depth -= 1
                i += 1
            elif c in "'\"":
                i = self.string(i, i).end
            elif c.isalpha() or c == "_" or ord(c) > 127:
                m = _NAME.match(text, i)
                j = m.end() if m else i + 1
                if text[j:j + 1] in ("'", '"') and text[i:j].lower() in _STRING_PREFIXES:
                    j = self.string(i, j).end
                i = j
            elif c == "#":
                i = _line_end(text, i)
            elif depth == 0 and c == "!" and text[i + 1:i + 2] != "=":
                fld.expr_end = i
                fld.conversion = text[i + 1:i + 2]
                return self._field_tail(fld, i + 2, quote, raw)
            elif depth == 0 and c == ":":
                fld.expr_end = i
                return self._field_tail(fld, i, quote, raw)
            elif depth == 0 and c == "=" and text[i + 1:i + 2] != "=" and text[i - 1] not in "=!<>":
                fld.expr_end = i
                fld.debug = True
                j = i + 1
                while j < n and text[j] in " \t\r\n#":
                    j = _line_end(text, j) if text[j] == "#" else j + 1
                fld.debug_end = j
                if text[j:j + 1] == "!":
                    fld.conversion = text[j + 1:j + 2]
                    j += 2
                return self._field_tail(fld, j, quote, raw)
            else:
                i += 1

    def _field_tail(self, fld: Field, i: int, quote: str, raw: bool) -> Field:
        text = self.text
        while text[i:i + 1] in (" ", "\t"):  # f"{x!s  }": blanks after a conversion are allowed
            i += 1
        fld.head_end = i
        if text[i:i + 1] == ":":
            i, fld.spec = self.formatted(i + 1, quote, raw, in_spec=True)
        if text[i:i + 1] != "}":
            raise self.error("f-string: expecting '}'", fld.start)
        fld.end = i + 1
        return fld


def _line_end(text: str, i: int) -> int:
    j = i
    n = len(text)
    while j < n and text[j] not in "\r\n":
        j += 1
    return j


@dataclass
class Lowered:
    text: str
    python2: list[str] = field(default_factory=list)  # Python 2 forms rewritten, in first-seen order
    modern: list[str] = field(default_factory=list)  # 3.12+ forms rewritten
    placeholders: dict[tuple[int, int], list[StringToken]] = field(default_factory=dict)  # (line, utf-8 col) -> strings
    source: str = ""  # the text the placeholders' string tokens index into


class _Edits:
    def __init__(self, text: str) -> None:
        self.text = text
        self.edits: list[tuple[int, int, str, object]] = []
        self.moved: dict[object, int] = {}  # key -> where its edit starts in the result

    def replace(self, start: int, end: int, new: str, key: object = None) -> None:
        self.edits.append((start, end, new, key))

    def apply(self) -> str:
        out = []
        size = 0
        last = 0
        for start, end, new, key in sorted(self.edits, key=lambda e: (e[0], e[1])):
            if start < last:
                continue  # overlapping edit: the first wins
            out.append(self.text[last:start])
            size += start - last
            if key is not None:
                self.moved[key] = size
            out.append(new)
            size += len(new)
            last = end
        out.append(self.text[last:])
        return "".join(out)


def _blank(text: str) -> str:
    """Spaces in place of every character but line breaks."""
    return re.sub(r"[^\r\n]", " ", text)


def lower(text: str, build_fstrings: bool = False) -> Lowered:
    """The source rewritten so that the host's ``ast`` reads it; raises :class:`ScanError`.
    ``build_fstrings``: leave every f-string to be built as a tree (nested too deep for 3.11)."""
    scanner = Scanner(text)
    tokens = scanner.tokens()
    edits = _Edits(text)
    result = Lowered(text, source=text)

    def note(kind: list[str], form: str) -> None:
        if form not in kind:
            kind.append(form)

    pending = _lower_strings(scanner, tokens, edits, result, note, build_fstrings)
    for statement in _statements(tokens):
        _lower_statement(scanner, statement, edits, result, note)
    backticks = [t for t in tokens if t.kind == "OP" and text[t.start] == "`"]
    for opening, closing in zip(backticks[::2], backticks[1::2]):
        edits.replace(opening.start, opening.end, "repr(")
        edits.replace(closing.start, closing.end, ")")
        note(result.python2, BACKTICKS)
    for token in tokens:
        if token.kind == "OP" and text[token.start:token.end] == "<>":
            edits.replace(token.start, token.end, "!=")
            note(result.python2, NOT_EQUAL)
        elif token.kind == "NUMBER":
            _lower_number(text, token, edits, result, note)
    result.text = edits.apply()
    if pending:
        out = Scanner(result.text)
        for key, group in enumerate(pending):
            index = edits.moved[key]
            line = out.line_of(index)
            col = len(result.text[out.line_starts[line - 1]:index].encode("utf-8"))
            result.placeholders[(line, col)] = group
    return result


def _lower_number(text, token, edits, result, note) -> None:
    literal = text[token.start:token.end]
    digits = literal
    if literal[-1] in "lL":
        digits = literal[:-1]
        note(result.python2, LONG_SUFFIX)
    if len(digits) > 1 and digits[0] == "0" and digits.isdigit() and digits.strip("0"):
        if set(digits) <= set("01234567"):
            digits = str(int(digits, 8))
            note(result.python2, OLD_OCTAL)
    if digits != literal:
        edits.replace(token.start, token.end, digits.ljust(len(literal)))


def _statements(tokens: list[Token]):
    """Logical lines: lists of tokens without comments or NEWLINE."""
    current: list[Token] = []
    for token in tokens:
        if token.kind == "COMMENT":
            continue
        if token.kind == "NEWLINE":
            if current:
                yield current
            current = []
            continue
        current.append(token)
    if current:
        yield current


_COMPOUND = {"if", "elif", "else", "while", "for", "try", "except", "finally", "with", "def", "class", "async"}


def _split_statement(text: str, tokens: list[Token]):
    """Split one logical line into its simple statements: at depth-0 ';' and after the colon
    of a compound statement's header."""
    pieces: list[list[Token]] = []
    current: list[Token] = []
    header = bool(tokens) and text[tokens[0].start:tokens[0].end] in _COMPOUND
    for token in tokens:
        s = text[token.start:token.end]
        if token.kind == "OP" and token.depth == 0 and s == ";":
            pieces.append(current)
            current = []
            continue
        current.append(token)
        if header and token.kind == "OP" and token.depth == 0 and s == ":":
            pieces.append(current)
            current = []
            header = False
    pieces.append(current)
    return [p for p in pieces if p]


def _lower_statement(scanner: Scanner, logical: list[Token], edits: _Edits, result: Lowered, note) -> None:
    text = scanner.text
    for statement in _split_statement(text, logical):
        words = [text[t.start:t.end] for t in statement]
        first = words[0]
        if first in ("def", "class") or (first == "async" and words[1:2] == ["def"]):
            at = 1 if first != "async" else 2
            if len(words) > at + 1 and words[at + 1] == "[" and statement[at].kind == "NAME" and not _HOST_READS_PEP695:
                close = _matching(statement, at + 1, text)
                if close is not None:
                    edits.replace(statement[at + 1].start, statement[close].end,
                                  _blank(text[statement[at + 1].start:statement[close].end]))
                    note(result.modern, "type parameters")
        elif first == "type" and len(words) >= 3 and statement[1].kind == "NAME" and not _HOST_READS_PEP695:
            at = 2
            if words[2] == "[":
                close = _matching(statement, 2, text)
                if close is None:
                    continue
                edits.replace(statement[2].start, statement[close].end,
                              _blank(text[statement[2].start:statement[close].end]))
                at = close + 1
            if words[at:at + 1] == ["="]:
                # the name moves to the keyword's place: blanking ``type`` would indent the line
                name = statement[1]
                edits.replace(statement[0].start, name.end,
                              words[1].ljust(name.end - statement[0].start))
                note(result.modern, "type statement")
        elif first == "print" and _is_print_statement(text, statement):
            _lower_call_statement(text, statement, edits)
            note(result.python2, PRINT_STATEMENT)
        elif first == "exec" and len(statement) > 1 and statement[1].kind in ("NAME", "STRING") \
                and words[1] not in _KEYWORDS_AFTER_PRINT:
            for token in statement[2:]:
                if token.kind == "NAME" and token.depth == statement[0].depth and text[token.start:token.end] == "in":
                    edits.replace(token.start, token.end, ", ")
                    break
            _lower_call_statement(text, statement, edits)
            note(result.python2, EXEC_STATEMENT)
        elif first == "except":
            _lower_except(text, statement, edits, result, note)
        elif first == "raise":
            commas = [t for t in statement if t.kind == "OP" and t.depth == statement[0].depth and text[t.start] == ","]
            if commas and "from" not in words:
                comma = commas[0]
                edits.replace(comma.start, comma.end, "(")
                edits.replace(statement[-1].end, statement[-1].end, ")")
                note(result.python2, RAISE_COMMA)


def _matching(statement: list[Token], open_at: int, text: str) -> int | None:
    depth = statement[open_at].depth
    for k in range(open_at + 1, len(statement)):
        t = statement[k]
        if t.kind == "OP" and text[t.start] in _CLOSE and t.depth == depth - 1:
            return k
    return None


def _is_print_statement(text: str, statement: list[Token]) -> bool:
    if len(statement) == 1:
        return True
    nxt = statement[1]
    word = text[nxt.start:nxt.end]
    if nxt.kind == "OP":
        if word == "(":
            return False  # print(...) is a call in both languages
        if word == "[":
            return nxt.start > statement[0].end  # print [1] is a statement; print[0] a subscript
        return word in (">>", "-", "+", "~", "{", "`", "*")
    if nxt.kind == "NAME":
        return word not in _KEYWORDS_AFTER_PRINT
    return True


def _lower_call_statement(text: str, statement: list[Token], edits: _Edits) -> None:
    """``print x, y`` -> ``print(x, y)`` with x where it was: the space after the keyword
    becomes the parenthesis; ``print >>f, x`` -> ``print(  f, x)``."""
    keyword = statement[0]
    if len(statement) == 1:
        edits.replace(keyword.end, keyword.end, "()")
        return
    second = statement[1]
    if text[second.start:second.end] == ">>":
        edits.replace(second.start, second.end, "  ")
    if second.start > keyword.end and text[keyword.end] in " \t":
        edits.replace(keyword.end, keyword.end + 1, "(")
    else:
        edits.replace(keyword.end, keyword.end, "(")
    edits.replace(statement[-1].end, statement[-1].end, ")")


_EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")


def _lower_except(text: str, statement: list[Token], edits: _Edits, result: Lowered, note) -> None:
    body = statement[1:]
    if body and text[body[0].start] == "*":
        if not _HOST_READS_EXCEPT_STAR:
            edits.replace(body[0].start, body[0].end, " ")  # 3.10 has no TryStar: a plain handler
            note(result.modern, "except*")
        body = body[1:]
    if body and text[body[-1].start:body[-1].end] == ":":
        body = body[:-1]
    if not body:
        return
    depth = statement[0].depth
    words = [text[t.start:t.end] for t in body]
    if "as" in words:
        return
    commas = [k for k, t in enumerate(body) if t.kind == "OP" and t.depth == depth and words[k] == ","]
    if not commas:
        return
    last = body[-1]
    tail = body[commas[-1] + 1:]
    binding = (len(commas) == 1 and len(tail) == 1 and tail[0].kind == "NAME"
               and (words[0] == "(" or (words[-1][:1].islower() or words[-1][:1] == "_")
                    and not words[-1].endswith(_EXCEPTION_SUFFIXES)))
    if binding:
        comma = body[commas[0]]
        edits.replace(comma.start, comma.end, " as")
        note(result.python2, EXCEPT_COMMA)
    elif not _HOST_READS_PEP758:
        edits.replace(body[0].start, body[0].start, "(")
        edits.replace(last.end, last.end, ")")
        note(result.modern, "except A, B")


def _lower_strings(scanner: Scanner, tokens: list[Token], edits: _Edits, result: Lowered, note,
                   build_fstrings: bool = False) -> list:
    """Rewrite the string groups 3.11 rejects; return the groups left to build as trees, in
    the order of their placeholder edits' keys."""
    text = scanner.text
    pending: list[list[StringToken]] = []
    k = 0
    while k < len(tokens):
        token = tokens[k]
        if token.kind != "STRING":
            k += 1
            continue
        group = [token.string]
        j = k + 1
        while j < len(tokens) and tokens[j].kind in ("STRING", "COMMENT"):
            if tokens[j].kind == "STRING":
                group.append(tokens[j].string)
            j += 1
        k = j
        needs_tree = any("t" in s.prefix for s in group) and not _HOST_READS_TEMPLATES
        if build_fstrings and any(s.parts is not None for s in group):
            needs_tree = True
        if not needs_tree and not _HOST_READS_PEP701:
            for s in group:
                if s.parts is not None and (_needs_pep701(text, s) or not _host_reads(text[s.start:s.end])):
                    swapped = _swap_quotes(text, s)
                    if swapped is None:
                        needs_tree = True
                        break
                    edits.replace(s.start, s.end, swapped)
                    note(result.modern, "PEP 701 f-string")
        if needs_tree:
            start, end = group[0].start, group[-1].end
            inner = _blank(text[start + 1:end - 1])
            edits.replace(start, end, "(" + inner + ")", key=len(pending))
            pending.append(group)
            note(result.modern, "t-string" if any("t" in s.prefix for s in group) else "PEP 701 f-string")
        else:
            for s in group:
                if "u" in s.prefix and "r" in s.prefix:
                    at = s.start + s.prefix.index("u")
                    edits.replace(at, at + 1, " ")
                    note(result.python2, UNICODE_RAW)
    return pending


def _field_texts(text: str, parts: list | None):
    """The text of each field's expression with its '=' and conversion, nested ones too."""
    for part in parts or ():
        if isinstance(part, Field):
            yield text[part.expr_start:part.head_end]
            yield from _field_texts(text, part.spec)


def _needs_pep701(text: str, s: StringToken) -> bool:
    """Whether 3.11 rejects this f-string: a field holds the outer quote, a backslash, a comment
    or (in a one-quote string) a line break."""
    q = s.quote[0]
    for expr in _field_texts(text, s.parts):
        if q in expr or "\\" in expr or "#" in expr or (len(s.quote) == 1 and ("\n" in expr or "\r" in expr)):
            return True
    return False


def _host_reads(expression: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an invalid escape is the reviewed code's, said once if at all
        try:
            ast.parse(expression, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def _swap_quotes(text: str, s: StringToken) -> str | None:
    """The f-string with its outer quote swapped for the other one, when that is all 3.11
    needs and the body never uses the other quote."""
    if len(s.quote) != 1:
        return None
    other = "'" if s.quote == '"' else '"'
    body = text[s.body_start:s.body_end]
    if other in body or "\\" in "".join(_field_texts(text, s.parts)) or "\n" in body or "#" in body:
        return None
    candidate = text[s.start:s.body_start - 1] + other + body + other
    return candidate if _host_reads(candidate) else None
