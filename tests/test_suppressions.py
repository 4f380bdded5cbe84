"""``# secreview: ignore[rule-or-CWE] reason`` comments, ``--strict`` and Bandit's ``# nosec``."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import scan, write


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def review(tmp_path: Path, code: str, *flags: str) -> dict:
    write(tmp_path, {"mod.py": code})
    run = scan("mod.py", "--format", "json", *flags)
    assert run.code in (0, 1), run.stderr
    [entry] = run.json()["files"]
    return entry


def lines_flagged(entry: dict) -> list[tuple[int, str]]:
    return [(f["location"]["line"], f["rule"]) for f in entry["findings"]]


def test_unsuppressed_finding_is_reported(tmp_path: Path) -> None:
    entry = review(tmp_path, "import pickle\npickle.loads(b'')\n")
    assert lines_flagged(entry) == [(2, "unsafe-deserialization")]


@pytest.mark.parametrize("selector", ["unsafe-deserialization", "CWE-502", "cwe-502", "yaml-unsafe-load, unsafe-deserialization"])
def test_ignore_by_rule_or_cwe_on_the_flagged_line(tmp_path: Path, selector: str) -> None:
    entry = review(tmp_path, f"import pickle\npickle.loads(b'')  # secreview: ignore[{selector}] cache we wrote\n")
    assert entry["findings"] == []
    assert entry["unused_suppressions"] == []


def test_ignore_for_another_rule_does_not_silence_and_is_unused(tmp_path: Path) -> None:
    entry = review(tmp_path, "import pickle\npickle.loads(b'')  # secreview: ignore[yaml-unsafe-load] wrong rule\n")
    assert lines_flagged(entry) == [(2, "unsafe-deserialization")]
    assert [u["line"] for u in entry["unused_suppressions"]] == [2]


MULTI_LINE = """\
import pickle


def restore(blob, hooks):
    state = apply(
        hooks,
        pickle.loads(blob),
        strict=True,
    )
    return state
"""


@pytest.mark.parametrize("line", [5, 6, 7, 8, 9])
def test_ignore_on_any_line_of_a_multi_line_statement(tmp_path: Path, line: int) -> None:
    lines = MULTI_LINE.splitlines()
    lines[line - 1] += "  # secreview: ignore[unsafe-deserialization] blob is signed upstream"
    entry = review(tmp_path, "\n".join(lines) + "\n")
    assert entry["findings"] == [], f"comment on line {line} did not suppress"


@pytest.mark.parametrize("line", [4, 10])
def test_ignore_on_a_neighbouring_statement_does_not_leak(tmp_path: Path, line: int) -> None:
    lines = MULTI_LINE.splitlines()
    lines[line - 1] += "  # secreview: ignore[unsafe-deserialization]"
    entry = review(tmp_path, "\n".join(lines) + "\n")
    assert lines_flagged(entry) == [(7, "unsafe-deserialization")]


def test_ignore_on_a_compound_header_covers_the_header_only(tmp_path: Path) -> None:
    code = (
        "import pickle\n"
        "if pickle.loads(b''):  # secreview: ignore[unsafe-deserialization] header\n"
        "    pickle.loads(b'')\n"
    )
    assert lines_flagged(review(tmp_path, code)) == [(3, "unsafe-deserialization")]


def test_bare_ignore_silences_every_rule_on_the_statement(tmp_path: Path) -> None:
    code = "import pickle, yaml\nx = (pickle.loads(b''), yaml.load(''))  # secreview: ignore\n"
    assert review(tmp_path, code)["findings"] == []


def test_text_in_a_string_is_not_a_suppression(tmp_path: Path) -> None:
    code = "import pickle\npickle.loads(b'# secreview: ignore')\n"
    assert lines_flagged(review(tmp_path, code)) == [(2, "unsafe-deserialization")]


def test_strict_lists_unused_and_bare_suppressions_in_the_text(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": (
        "import pickle\n"
        "pickle.loads(b'')  # secreview: ignore\n"
        "x = 1  # secreview: ignore[unsafe-deserialization] left over\n"
    )})
    relaxed = scan("mod.py").stdout
    assert "unused suppression" not in relaxed and "without a rule" not in relaxed
    strict = scan("mod.py", "--strict").stdout
    assert "unused suppression, line 3: # secreview: ignore[unsafe-deserialization] left over" in strict
    assert "suppression without a rule or CWE, line 2" in strict


def test_strict_does_not_change_what_is_reported_or_the_exit_code(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')\nx = 1  # secreview: ignore[CWE-502]\n"})
    assert scan("mod.py").code == scan("mod.py", "--strict").code == 1


def test_nosec_is_ignored_unless_asked_for(tmp_path: Path) -> None:
    code = "import pickle\npickle.loads(b'')  # nosec B301\n"
    assert lines_flagged(review(tmp_path, code)) == [(2, "unsafe-deserialization")]
    assert review(tmp_path, code, "--nosec")["findings"] == []


def test_nosec_when_not_honoured_is_not_reported_as_unused(tmp_path: Path) -> None:
    assert review(tmp_path, "x = 1  # nosec\n", "--strict")["unused_suppressions"] == []


def test_honoured_nosec_is_not_called_a_bare_suppression(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')  # nosec\n"})
    assert "without a rule" not in scan("mod.py", "--nosec", "--strict").stdout


def test_suppressed_findings_do_not_fail_the_build(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')  # secreview: ignore[CWE-502] signed\n"})
    assert scan("mod.py").code == 0


def test_json_lists_bare_and_unused_suppressions_by_line(tmp_path: Path) -> None:
    entry = review(tmp_path, (
        "import pickle\n"
        "pickle.loads(b'')  # secreview: ignore\n"
        "x = 1  # secreview: ignore[CWE-502] nothing here\n"
    ))
    assert entry["bare_suppressions"] == [2]
    assert entry["unused_suppressions"] == [{"line": 3, "text": "# secreview: ignore[CWE-502] nothing here"}]
