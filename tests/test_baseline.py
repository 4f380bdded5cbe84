"""Baselines: written by `scan --write-baseline`, read by `--baseline`; only new findings are reported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from secreview import baseline
from secreview.cli import main

SERVICE = """\
import pickle
import yaml


def restore(blob):
    session = pickle.loads(blob)
    return session


def settings(stream):
    return yaml.load(stream)


def unrelated(a, b):
    return a + b
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "service.py").write_text(SERVICE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys, *args: str) -> set[tuple[int, str]]:
    code, out, err = run(capsys, "scan", "service.py", "--format", "json", *args)
    assert code in (0, 1), err
    return {(f["location"]["line"], f["rule"]) for file in json.loads(out)["files"] for f in file["findings"]}


def test_write_baseline_records_every_finding_and_accepts_them(project: Path, capsys) -> None:
    code, out, err = run(capsys, "scan", "service.py", "--write-baseline", "baseline.json")
    assert code == 0
    assert "HIGH" in out  # the review is still shown
    assert err == "secreview: 2 findings written to the baseline baseline.json\n"
    document = json.loads((project / "baseline.json").read_text())
    assert (document["schema"], document["version"]) == ("secreview/baseline", 1)
    assert [(e["path"], e["line"], e["rule"]) for e in document["findings"]] == [
        ("service.py", 6, "unsafe-deserialization"), ("service.py", 11, "yaml-unsafe-load")]
    assert all(len(e["fingerprint"]) == 32 for e in document["findings"])


def test_baseline_survives_twenty_lines_inserted_above_and_reformatting(project: Path, capsys) -> None:
    run(capsys, "scan", "service.py", "--write-baseline", "baseline.json")
    header = "".join(f"# licence line {i}\n" for i in range(20))
    edited = header + SERVICE.replace("def unrelated(a, b):\n    return a + b", "def unrelated(a,\n              b):\n    return (a +\n            b)")
    (project / "service.py").write_text(edited)
    assert findings(capsys) == {(26, "unsafe-deserialization"), (31, "yaml-unsafe-load")}  # still found, moved
    assert findings(capsys, "--baseline", "baseline.json") == set()
    code, out, _ = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert code == 0
    assert "No security defects beyond the baseline are detected in the code." in out
    assert "Fixed" not in out


def test_second_identical_defect_in_the_same_function_is_new(project: Path, capsys) -> None:
    run(capsys, "scan", "service.py", "--write-baseline", "baseline.json")
    header = "".join(f"# line {i}\n" for i in range(20))
    twice = SERVICE.replace("    return session\n", "    again = pickle.loads(blob)\n    return session, again\n")
    (project / "service.py").write_text(header + twice)
    assert findings(capsys, "--baseline", "baseline.json") == {(27, "unsafe-deserialization")}
    code, _, _ = run(capsys, "scan", "service.py", "--baseline", "baseline.json", "--fail-on", "high")
    assert code == 1


def test_fixed_entries_are_listed(project: Path, capsys) -> None:
    run(capsys, "scan", "service.py", "--write-baseline", "baseline.json")
    (project / "service.py").write_text(SERVICE.replace("yaml.load(stream)", "yaml.safe_load(stream)"))
    code, out, _ = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert code == 0
    assert "Fixed since the baseline (1):\n  service.py (line 11 before): HIGH CWE-502 yaml-unsafe-load: return yaml.load(stream)" in out


def test_entries_of_files_outside_the_review_are_not_called_fixed(project: Path, capsys) -> None:
    (project / "other.py").write_text("import marshal\n\ndef f(d):\n    return marshal.loads(d)\n")
    run(capsys, "scan", ".", "--write-baseline", "baseline.json")
    code, out, _ = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert "Fixed" not in out
    (project / "other.py").unlink()
    code, out, _ = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert code == 0
    assert "Fixed since the baseline (1):\n  other.py (line 4 before)" in out


def test_rewriting_the_baseline_compares_with_the_old_one_first(project: Path, capsys) -> None:
    run(capsys, "scan", "service.py", "--write-baseline", "baseline.json")
    (project / "service.py").write_text(SERVICE + "\n\ndef more(b):\n    return pickle.loads(b)\n")
    code, out, _ = run(capsys, "scan", "service.py", "--baseline", "baseline.json", "--write-baseline", "baseline.json")
    assert code == 0 and "line 19: return pickle.loads(b)" in out
    assert len(baseline.read(project / "baseline.json")) == 3


@pytest.mark.parametrize("content, message", [
    ("not json", "not a baseline file (invalid JSON"),
    ('{"schema": "secreview/review", "version": 1}', "not a baseline file (written by 'secreview scan --write-baseline')"),
    ('{"schema": "secreview/baseline", "version": 99, "findings": []}', "baseline version 99 is not supported"),
    ('{"schema": "secreview/baseline", "version": 1, "findings": [{"fingerprint": 3}]}', "finding 1: missing rule"),
])
def test_bad_baseline_is_a_one_line_error(project: Path, capsys, content: str, message: str) -> None:
    (project / "baseline.json").write_text(content)
    code, out, err = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert code == 2 and out == ""
    assert err.startswith("secreview: baseline.json: ") and message in err and err.count("\n") == 1, err


def _with_entry(project: Path, capsys, **changes: object) -> str:
    """A baseline of service.py's findings, its first entry changed."""
    assert run(capsys, "scan", "service.py", "--write-baseline", "baseline.json")[0] == 0
    document = json.loads((project / "baseline.json").read_text())
    document["findings"][0].update(changes)
    return json.dumps(document)


@pytest.mark.parametrize("planted, message", [
    ("nested", "not a baseline file (JSON nested too deeply)"),
    ("severity", "finding 1: unknown severity 'catastrophic' (one of low, medium, high, critical)"),
    ("cwe", "finding 1: CWE-999999 is not in the CWE-1000 research view"),
    ("not utf-8", "not a baseline file (invalid JSON"),
])
def test_a_baseline_secreview_did_not_write_is_a_one_line_error(project: Path, capsys, planted: str,
                                                                message: str) -> None:
    content = {
        "nested": '{"schema": "secreview/baseline", "version": 1, "findings": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "severity": _with_entry(project, capsys, severity="catastrophic"),
        "cwe": _with_entry(project, capsys, cwe=999999),
        "not utf-8": '{"schema": "secreview/baseline\xff"}',
    }[planted]
    (project / "baseline.json").write_bytes(content.encode("latin-1") if planted == "not utf-8" else content.encode())
    code, out, err = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert code == 2 and out == ""
    assert err.startswith("secreview: baseline.json: ") and message in err and err.count("\n") == 1, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory"])
def test_a_baseline_that_is_not_a_regular_file_is_an_error_not_a_hang(project: Path, capsys, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(project / "baseline.json")
    elif kind == "directory":
        (project / "baseline.json").mkdir()
    else:
        (project / "baseline.json").symlink_to("/dev/zero")
    code, out, err = run(capsys, "scan", "service.py", "--baseline", "baseline.json")
    assert (code, out) == (2, "")
    assert err == "secreview: baseline.json: not a baseline file (not a regular file)\n"


def test_missing_baseline_file(project: Path, capsys) -> None:
    code, _, err = run(capsys, "scan", "service.py", "--baseline", "nowhere.json")
    assert code == 2 and err == "secreview: nowhere.json: cannot be read: No such file or directory\n"


def test_baseline_file_is_deterministic(project: Path, capsys) -> None:
    run(capsys, "scan", "service.py", "--write-baseline", "one.json")
    run(capsys, "scan", "service.py", "--write-baseline", "two.json")
    assert (project / "one.json").read_bytes() == (project / "two.json").read_bytes()
