"""Colour on a terminal only: NO_COLOR and FORCE_COLOR are honoured, files and pipes stay plain."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from e2e import scan, write

from secreview.report import colour

DEFECT = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("terminal", "to_file", "environ", "expected"), [
    (True, False, {}, True),
    (True, False, {"TERM": "dumb"}, False),
    (True, False, {"NO_COLOR": "1"}, False),
    (True, False, {"NO_COLOR": ""}, True),  # an empty NO_COLOR is not set, by the convention
    (False, False, {}, False),  # a pipe
    (False, False, {"FORCE_COLOR": "1"}, True),
    (False, False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    (True, True, {"FORCE_COLOR": "1"}, False),  # --output FILE: never
])
def test_colour_is_wanted_only_where_a_person_reads_the_text(terminal: bool, to_file: bool, environ: dict,
                                                              expected: bool) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    assert colour.wanted(stream, to_file, environ) is expected


def test_forced_colour_paints_severity_rule_and_line_and_nothing_else(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"loader.py": DEFECT})
    plain = scan("loader.py", "--no-cache").stdout
    monkeypatch.setenv("FORCE_COLOR", "1")
    painted = scan("loader.py", "--no-cache").stdout
    assert "\x1b[31mHIGH\x1b[0m    CWE-502" in painted
    assert "rule \x1b[1munsafe-deserialization\x1b[0m ·" in painted
    assert "\x1b[32mline 5\x1b[0m: return pickle.loads(blob)" in painted
    # without the escapes the text is the plain text, byte for byte
    for code in ("\x1b[31m", "\x1b[1m", "\x1b[32m", "\x1b[0m"):
        painted = painted.replace(code, "")
    assert painted == plain
    assert "\x1b[" not in scan("loader.py", "--no-cache", "--format", "json").stdout
    scan("loader.py", "--no-cache", "--output", "review.txt")
    assert "\x1b[" not in (tmp_path / "review.txt").read_text()
