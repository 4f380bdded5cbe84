"""Reading and parsing one Python file, without importing or executing it.

Every way a file can fail to be reviewable ends here as :class:`NotReviewable` with a reason a
person can act on; nothing past this module sees an undecodable or unparsable file.  The tree
comes from :mod:`secreview.python.frontend`: the host's own ``ast`` for every file it parses, and
the same node types for newer syntax, Python 2 and files with syntax errors.
"""

from __future__ import annotations

import ast
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
    comments = _comments(read.text if read.text is not None else text)
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
# none would cost more than parsing it.
_DIRECTIVE_WORDS = ("secreview", "nosec", "noqa")


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
