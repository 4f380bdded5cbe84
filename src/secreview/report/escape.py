"""Text from the reviewed code, made safe to print where a person or a CI runner reads it.

A report quotes what the reviewed code chose: file names, code lines, decoded string literals
(in messages, fixes and masked-secret previews), comments, commit messages and baseline paths.
Printed raw, that text can lie to whoever reads the report:

- a line break (``\\n``, ``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028, U+2029)
  starts a new line that the reviewed code wrote, for example ``::error file=a.py::FORGED``,
  which GitHub's runner obeys as if secreview had printed it;
- ESC and the other C0 and C1 controls drive the terminal: colours, cursor moves that overwrite
  earlier lines, OSC 8 links, window titles, the clipboard;
- bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) reorder what is shown, so
  the line a reviewer reads is not the line in the file ("Trojan Source"); other invisible format
  characters (zero-width spaces, tag characters) hide text;
- lone surrogates, which is how Python spells the undecodable bytes of a file name, cannot be
  encoded at all and would end the run with a traceback (:func:`visible` shows such a byte as
  ``\\xff``, the way ``discover`` names the file).

:func:`visible` writes each such character as a Python-style escape (``\\n``, ``\\x1b``,
``\\u202e``), so it is shown and cannot act.  It also defuses the markers a CI runner looks for
inside a line: GitHub's runner obeys ``::command::`` at the start of a line even after leading
white space (so indenting a line does not protect it) and the older ``##[command]`` anywhere in
one; Azure Pipelines looks for ``##vso[`` and TeamCity for ``##teamcity[``.  Their ``[`` becomes ``\\x5b``, and the first ``:`` of a
leading ``::`` becomes ``\\x3a``.  A backslash is not doubled, so code reads as it is written; the
price is that ``\\n`` in the report may be either a backslash and an ``n`` in the code or a line
break, which is harmless because neither can act.

Every human format (the review text, the Gerrit and GitHub message bodies, the progress line and
the errors on standard error) passes reviewed text through :func:`visible` where it is placed in
a line; the formats of record (JSON, SARIF, and the path fields that tools match on) keep the
value exact and rely on :func:`json_visible` instead, which writes the same characters (and the
``[`` of a runner marker) as JSON ``\\u`` escapes, so the document decodes to the same value but
shows nothing raw when printed.

Ordinary text, including any printable non-ASCII, comes out unchanged, and fast: the check is
``str.isprintable`` for all but the rare strings that need escaping.
"""

from __future__ import annotations

import re
import unicodedata

# Cc: C0, DEL and C1; Cf: format characters (bidi controls, zero-width, tags); Zl/Zp: U+2028/9;
# Cs: surrogates.  str.isprintable() is False for all of them, which gives a fast path.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\v": "\\v", "\f": "\\f"}
_RUNNER_MARKER = re.compile(r"##(?:vso|teamcity)?\[", re.IGNORECASE)  # ``##[``, ``##vso[``, ``##teamcity[``


def _is_hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def _escape_char(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        code -= 0xDC00  # surrogateescape's spelling of an undecodable byte: show the byte, as discover does
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` on one line with every character that could act on a terminal or a CI runner escaped.

    Use it on every piece of reviewed text that a human format places in a line of output.
    """
    if text.isprintable() and "##" not in text and "::" not in text:
        return text  # the common case: nothing to do
    if not text.isprintable():
        text = "".join(_escape_char(c) if _is_hidden(c) else c for c in text)
    if "##" in text:
        text = _RUNNER_MARKER.sub(lambda m: m.group()[:-1] + "\\x5b", text)
    stripped = text.lstrip()
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + "\\x3a" + stripped[1:]
    return text


def visible_lines(text: str) -> list[str]:
    """A multi-line value (a commit message) as lines, each made :func:`visible`.

    Only ``\\n`` (with an optional ``\\r`` before it) ends a line; any other separator stays in
    its line as an escape, so the count of lines is the count the author typed.
    """
    return [visible(line.removesuffix("\r")) for line in text.split("\n")]


def json_visible(document: str) -> str:
    """A serialized JSON document with the characters :func:`visible` escapes written as ``\\uXXXX``.

    ``json.dumps`` already escapes C0 controls, but with ``ensure_ascii=False`` it leaves DEL,
    C1, U+2028/U+2029, bidi controls and lone surrogates raw.  Those can only occur inside
    strings, where the escape stands for the same character, so the document's value is
    unchanged.  The ``[`` of a runner marker (``##[``, ``##vso[``) becomes ``\\u005b`` for the same
    reason: a JSON report printed in a CI log must not be obeyed either.  (No line of a JSON
    document starts with ``::``, since every string value stays on its line.)
    """
    document = _NOT_ASCII.sub(_json_escape, document)
    if "##" in document:
        document = _RUNNER_MARKER.sub(lambda m: m.group()[:-1] + "\\u005b", document)
    return document


_NOT_ASCII = re.compile(r"[^\x20-\x7e\n]")  # the JSON encoder leaves no other raw C0 control


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if not _is_hidden(char):
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character outside the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# --- Markdown (GitHub review bodies and comments) -----------------------------------------------
#
# A review comment is Markdown that GitHub renders for everyone who opens the pull request.  Text
# the reviewed code chose (a string literal folded into a message, a snippet, a file name) must
# not become markup there: an image ``![x](https://tracker/p.png)`` would load for every reader,
# a link would look like ours, raw HTML and headings would restyle the review.  So such text is
# either a code span, whose content Markdown shows literally, or prose with every character that
# Markdown gives a meaning backslash-escaped.  Messages mix our own code spans (`name`) with
# prose: each backtick-delimited part stays a code span (re-fenced) and the rest is escaped.

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~&])")  # what can start markup inside a line
_CODE_PART = re.compile(r"`([^`\n]*)`")


def code_span(text: str) -> str:
    """``text`` (made :func:`visible`) as one Markdown code span, fenced by more backticks than
    any run inside it, so no backtick in it can end the span."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def markdown_prose(text: str) -> str:
    """``text`` (made :func:`visible`) as inert Markdown: its `code` parts as code spans, the
    rest with Markdown's special characters escaped."""
    text = visible(text)
    parts, last = [], 0
    for match in _CODE_PART.finditer(text):
        parts.append(_MARKDOWN_SPECIAL.sub(r"\\\1", text[last:match.start()]))
        parts.append(code_span(match.group(1)) if match.group(1) else "``")
        last = match.end()
    parts.append(_MARKDOWN_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(parts)
