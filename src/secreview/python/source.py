"""Reading and parsing one Python file, without importing or executing it.

Every way a file can fail to be reviewable ends here as :class:`NotReviewable` with a reason a
person can act on; nothing past this module sees an undecodable or unparsable file.
"""

from __future__ import annotations

import ast
import io
import sys
import re
import tokenize
from dataclasses import dataclass, field

DEFAULT_MAX_FILE_BYTES = 2_000_000
# Syntax is judged by the interpreter secreview runs on; naming it tells the user why code
# written for a newer Python is not reviewed.
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

    def line(self, number: int) -> str:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""


def decode(path: str, data: bytes) -> str:
    if b"\x00" in data:
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
        tree = _parse_tree(text, path)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "unknown line"
        raise NotReviewable(f"not valid Python {_PYTHON} ({exc.msg}, {where})") from None
    except (RecursionError, MemoryError):
        raise NotReviewable("expression nesting too deep to analyse") from None
    except ValueError as exc:
        raise NotReviewable(f"not valid Python {_PYTHON} ({exc})") from None
    return ParsedSource(path=path, text=text, tree=tree, lines=physical_lines(text), comments=_comments(text))


# CPython 3.11 builds the tree under a nesting limit of three times the recursion limit, and a
# left-nested sum is as deep as it has terms: generated SQL or a table of strings built with
# 5,000 ``+`` must still parse.  The conversion recurses in C, which at this depth needs well
# under a megabyte of stack.
_PARSE_RECURSION_LIMIT = 6_000


def _parse_tree(text: str, path: str) -> ast.Module:
    limit = sys.getrecursionlimit()
    if limit >= _PARSE_RECURSION_LIMIT:
        return ast.parse(text, filename=path, type_comments=False)
    sys.setrecursionlimit(_PARSE_RECURSION_LIMIT)
    try:
        return ast.parse(text, filename=path, type_comments=False)
    finally:
        sys.setrecursionlimit(limit)


_NEWLINE = re.compile(r"\r\n|\r|\n")


def physical_lines(text: str) -> list[str]:
    """The lines as Python numbers them: ``str.splitlines`` also breaks at form feeds and
    U+2028 inside a line, which would shift every later line number of a snippet."""
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# Only comments that can change the review are collected; tokenizing every file just to find
# none would cost more than parsing it.
_DIRECTIVE_WORDS = ("secreview", "nosec")


def _comments(text: str) -> dict[int, str]:
    """Line -> comment text, for comments holding a secreview or nosec directive."""
    found: dict[int, str] = {}
    lowered = text.lower()
    if not any(word in lowered for word in _DIRECTIVE_WORDS):
        return found
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and any(w in token.string.lower() for w in _DIRECTIVE_WORDS):
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError, RecursionError):
        pass  # the tree parsed, so a tokenizer quirk only costs us suppressions on later lines
    return found
