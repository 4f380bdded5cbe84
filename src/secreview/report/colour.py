"""Colour for the review text on a terminal: severity, rule and line stand out.

Only the text format is coloured, and only where a person reads it: standard output that is a
terminal (not ``dumb``).  ``NO_COLOR`` (any non-empty value) turns colour off everywhere;
``FORCE_COLOR`` turns it on for a pipe (a pager such as ``less -R``).  A report written with
``--output`` is never coloured.  The escape sequences are ours alone: the reviewed code's text
has had every control character made visible before it is painted (:mod:`.escape`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from ..findings import Severity

_RESET = "\x1b[0m"
_SEVERITY = {Severity.CRITICAL: "\x1b[1;31m", Severity.HIGH: "\x1b[31m", Severity.MEDIUM: "\x1b[33m",
             Severity.LOW: "\x1b[36m"}
_RULE = "\x1b[1m"
_LINE = "\x1b[32m"


def wanted(stream: TextIO, to_file: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the report written to ``stream`` (or to a file, ``to_file``) should be coloured."""
    if to_file or environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


class Palette:
    """Paints parts of the review text; the plain palette leaves them as they are."""

    def __init__(self, ansi: bool):
        self.ansi = ansi

    def severity(self, severity: Severity, text: str) -> str:
        return f"{_SEVERITY[severity]}{text}{_RESET}" if self.ansi else text

    def rule(self, text: str) -> str:
        return f"{_RULE}{text}{_RESET}" if self.ansi else text

    def line(self, text: str) -> str:
        return f"{_LINE}{text}{_RESET}" if self.ansi else text


PLAIN = Palette(ansi=False)
ANSI = Palette(ansi=True)
