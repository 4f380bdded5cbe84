"""Reading and parsing one Python file, without importing or executing it.

Every way a file can fail to be reviewable ends here as :class:`NotReviewable` with a reason a
person can act on; nothing past this module sees an undecodable or unparsable file.  The tree
comes from :mod:`secreview.python.frontend`: the host's own ``ast`` for every file it parses, and
the same node types for newer syntax, Python 2 and files with syntax errors.
"""

from __future__ import annotations

import ast
import bisect
import io
import sys
import re
import tokenize
from dataclasses import dataclass, field

from . import frontend

DEFAULT_MAX_FILE_BYTES = 2_000_000
# A file no part of which can be read names the interpreter whose parser gave the error.
_PYTHON = "{}.{}".format(*sys.version_info[:2])


class NotReviewable(Exception):
    """The file cannot be reviewed; ``str(exc)`` is the reason shown to the user."""


@dataclass
class ParsedSource:
    path: str
    text: str
    tree: ast.Module
    lines: list[str]
    comments: dict[int, str] = field(default_factory=dict)  # line -> directive comment, '#' included
    # what the review of this file must say it did not cover (read as Python 2, lines skipped
    # for a syntax error); see secreview.python.frontend
    notes: list[str] = field(default_factory=list)
    way: str = "host"  # how the tree was read: "host", "lowered" or "recovered"

    def line(self, number: int) -> str:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""


# Byte order marks of the encodings whose text holds NUL bytes: such a file is text, not binary,
# but Python cannot run it (a source file must be ASCII-compatible), so it is named for what it is.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
              (b"\xff\xfe", "utf-16-le", "UTF-16"), (b"\xfe\xff", "utf-16-be", "UTF-16"))


def decode(path: str, data: bytes) -> str:
    if b"\x00" in data:
        for bom, codec, name in _WIDE_BOMS:
            if data.startswith(bom):
                try:
                    data[len(bom):].decode(codec)
                except UnicodeDecodeError:
                    break
                raise NotReviewable(f"{name} encoded (byte order mark): Python cannot run it; source must be "
                                    "UTF-8 or declare an ASCII-compatible PEP 263 encoding")
        raise NotReviewable("binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if exc.msg.startswith("invalid or missing encoding declaration"):
            # what tokenize says of bytes that are not UTF-8 under no coding line at all
            raise NotReviewable("cannot be decoded as utf-8 and has no PEP 263 coding line") from None
        raise NotReviewable(f"unknown source encoding: {exc.msg}") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise NotReviewable(f"cannot be decoded as {encoding}: {exc.reason if hasattr(exc, 'reason') else exc}") from None
    return text.removeprefix("\ufeff")


def parse(path: str, data: bytes, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> ParsedSource:
    if len(data) > max_bytes:
        raise NotReviewable(f"file too large ({len(data)} bytes; limit {max_bytes}, see max-file-size)")
    text = decode(path, data)
    try:
        read = frontend.read(text, path)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "unknown line"
        raise NotReviewable(f"not valid Python {_PYTHON} ({exc.msg}, {where})") from None
    except RecursionError:
        raise NotReviewable("expression nesting too deep to analyse") from None
    except MemoryError:
        raise NotReviewable("out of memory while parsing (expressions nested too deep, or the file too large)") from None
    except ValueError as exc:
        raise NotReviewable(f"not valid Python {_PYTHON} ({exc})") from None
    # the rewritten text keeps every comment on its line, and the host's tokenizer reads it
    comments = _comments(read.text, None) if read.text is not None else _comments(text, read.tree if read.way == "host" else None)
    return ParsedSource(path=path, text=text, tree=read.tree, lines=physical_lines(text), comments=comments,
                        notes=read.notes, way=read.way)


_NEWLINE = re.compile(r"\r\n|\r|\n")


def physical_lines(text: str) -> list[str]:
    """The lines as Python numbers them: ``str.splitlines`` also breaks at form feeds and
    U+2028 inside a line, which would shift every later line number of a snippet."""
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# Only comments that can change the review are collected; tokenizing every file just to find
# none would cost more than parsing it, and tokenizing every file that holds a directive word
# (a third of real trees say ``noqa`` somewhere) costs ten times the parse in pure-Python
# ``tokenize``.  So a file the host parsed is read the cheap way: each line where a directive
# word follows a ``#`` is a candidate, and its comment starts at its first ``#`` that no string
# literal of the tree covers.  Where the tree cannot settle it (a ``#`` inside a string that spans
# lines, which may be a comment between implicitly joined parts; a lone carriage return, which
# the tree counts as a line break and ``tokenize`` does not), the file is tokenized as before.
_DIRECTIVE_WORDS = ("secreview", "nosec", "noqa")
_DIRECTIVE = re.compile("|".join(_DIRECTIVE_WORDS), re.IGNORECASE | re.ASCII)
_STRING_NODES = tuple(getattr(ast, name) for name in ("JoinedStr", "TemplateStr") if hasattr(ast, name))


def _comments(text: str, tree: ast.Module | None = None) -> dict[int, str]:
    """Line -> comment text, for comments holding a secreview, nosec or noqa directive.
    ``tree``: the host's tree of exactly ``text``, which lets most files skip tokenizing."""
    lowered = text.lower()
    if not any(word in lowered for word in _DIRECTIVE_WORDS):
        return {}
    if tree is not None:
        found = _comments_beside_the_tree(text, tree)
        if found is not None:
            return found
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and any(w in token.string.lower() for w in _DIRECTIVE_WORDS):
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError, RecursionError):
        pass  # the tree parsed, so a tokenizer quirk only costs us suppressions on later lines
    return found


def _candidate_lines(text: str) -> dict[int, str]:
    """Line number -> line, for each line where a directive word follows a ``#``."""
    candidates: dict[int, str] = {}
    line_number, counted_to = 1, 0
    for match in _DIRECTIVE.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        if text.find("#", start, match.start()) < 0:
            continue
        line_number += text.count("\n", counted_to, start)
        counted_to = start
        if line_number not in candidates:
            end = text.find("\n", start)
            candidates[line_number] = text[start:] if end < 0 else text[start:end]
    return candidates


def _comments_beside_the_tree(text: str, tree: ast.Module) -> dict[int, str] | None:
    """The directive comments found with the tree's string spans; None when the tree cannot
    tell a comment from string content on some candidate line."""
    candidates = _candidate_lines(text)
    if not candidates:
        return {}
    if "\r" in text.replace("\r\n", ""):
        return None
    covered: dict[int, list[tuple[int, int]]] = {}  # line -> byte spans of single-line strings
    spanning: list[tuple[int, int, int, int]] = []  # strings over several lines: their positions
    lines = sorted(candidates)
    pending: list[ast.AST] = [tree]
    while pending:  # only into nodes that reach a candidate line: most of the tree is never seen
        node = pending.pop()
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        decorators = getattr(node, "decorator_list", None)
        if first is not None and decorators:  # a definition's position is its def line, below them
            first = min(first, decorators[0].lineno)
        if first is not None and last is not None:
            nearest = bisect.bisect_left(lines, first)
            if nearest == len(lines) or lines[nearest] > last:
                continue
            if isinstance(node, _STRING_NODES) or (isinstance(node, ast.Constant)
                                                   and isinstance(node.value, (str, bytes))):
                if first == last:
                    covered.setdefault(first, []).append((node.col_offset, node.end_col_offset))
                else:
                    spanning.append((first, node.col_offset, last, node.end_col_offset))
                continue
        pending.extend(ast.iter_child_nodes(node))
    found: dict[int, str] = {}
    for line_number, line in candidates.items():
        encoded = line.removesuffix("\r").encode("utf-8", "surrogatepass")
        column = encoded.find(b"#")
        while column >= 0:
            if any(first <= column < last for first, last in covered.get(line_number, ())):
                column = encoded.find(b"#", column + 1)
                continue
            if any((first_line, first_column) <= (line_number, column) < (last_line, last_column)
                   for first_line, first_column, last_line, last_column in spanning):
                return None
            comment = encoded[column:].decode("utf-8", "surrogatepass")
            if any(word in comment.lower() for word in _DIRECTIVE_WORDS):
                found[line_number] = comment
            break
    return found
