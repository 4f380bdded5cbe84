"""Display filters: --min-severity and --min-confidence choose what every format shows, and every
summary counts what they hid, so a filtered report is never taken for a clean one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e import assert_valid_review_json, assert_valid_sarif, scan, write

# one critical, high-confidence injection and two low, low-confidence weak hashes
APP = '''\
import hashlib
import subprocess
from flask import Flask, request

app = Flask(__name__)


@app.route("/run")
def run():
    subprocess.call("ls " + request.args["d"], shell=True)
    return hashlib.md5(b"x").hexdigest()
'''
OTHER = 'import hashlib\nprint(hashlib.md5(b"x").hexdigest())\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write(tmp_path, {"app.py": APP, "other.py": OTHER})


def test_without_thresholds_everything_is_shown(project: Path) -> None:
    run = scan(".", "--no-cache", "--format", "json")
    document = assert_valid_review_json(run.stdout)
    assert document["summary"]["findings"] == 3 and document["summary"]["hidden"] == 0


def test_min_severity_hides_lower_findings_and_the_text_counts_them(project: Path) -> None:
    run = scan(".", "--no-cache", "--min-severity", "high")
    assert run.code == 1  # the critical finding is shown and fails the gate
    assert "CWE-78" in run.stdout and "CWE-328" not in run.stdout
    assert run.stdout.splitlines()[-1] == ("Summary: 2 files reviewed, 0 not reviewed; 1 finding (critical 1, high 0, "
                                           "medium 0, low 0); 2 findings hidden (min-severity high).")
    # a file whose only findings are hidden is not called clean
    other = run.stdout.split("other.py\n", 1)[1]
    assert other.startswith("  1 finding hidden (min-severity high)\n")
    assert "No security defects are detected" not in run.stdout


def test_what_is_hidden_does_not_fail_the_gate(project: Path) -> None:
    (project / "app.py").write_text(APP.replace('subprocess.call("ls " + request.args["d"], shell=True)\n    ', ""))
    assert scan(".", "--no-cache").code == 1
    run = scan(".", "--no-cache", "--min-confidence", "medium")
    assert run.code == 0
    assert "0 findings (critical 0, high 0, medium 0, low 0); 2 findings hidden (min-confidence medium)." in run.stdout


def test_every_machine_format_counts_what_was_hidden(project: Path) -> None:
    flags = ("--no-cache", "--min-severity", "medium", "--min-confidence", "high")
    document = assert_valid_review_json(scan(".", *flags, "--format", "json").stdout)
    assert document["summary"]["findings"] == 1 and document["summary"]["hidden"] == 2
    assert [f["rule"] for file in document["files"] for f in file["findings"]] == ["os-command-injection"]
    sarif = assert_valid_sarif(scan(".", *flags, "--format", "sarif").stdout)
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["os-command-injection"]
    assert sarif["runs"][0]["properties"] == {"hiddenFindings": 2, "hiddenBy": "min-severity medium, min-confidence high"}
    github = scan(".", *flags, "--format", "github").stdout
    assert "::notice title=findings hidden::2 findings hidden (min-severity medium, min-confidence high)" in github
    review = json.loads(scan(".", *flags, "--format", "github-review").stdout)
    assert review["body"].startswith("secreview: 1 security finding in the reviewed code. 2 findings hidden")
    gerrit = json.loads(scan(".", *flags, "--format", "gerrit").stdout)
    assert "2 findings hidden (min-severity medium, min-confidence high)." in gerrit["message"]


def test_a_review_with_only_hidden_findings_never_says_no_defects(project: Path) -> None:
    (project / "app.py").write_text(OTHER)
    for form in ("github-review", "gerrit"):
        out = scan(".", "--no-cache", "--min-severity", "critical", "--format", form).stdout
        assert "No security defects" not in out and "no findings to show" in out


def test_the_thresholds_come_from_the_configuration_too(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.secreview]\nmin-severity = "critical"\n')
    assert "2 findings hidden (min-severity critical)" in scan(".", "--no-cache").stdout
    # the command line overrides the file
    assert "hidden" not in scan(".", "--no-cache", "--min-severity", "low").stdout.splitlines()[-1]


@pytest.mark.parametrize(("args", "message"), [
    (("--min-severity", "severe"), "--min-severity: unknown severity 'severe'"),
    (("--min-confidence", "sure"), "--min-confidence: unknown confidence 'sure' (choose from low, medium, high)"),
])
def test_an_unknown_threshold_is_a_usage_error(project: Path, args: tuple[str, str], message: str) -> None:
    run = scan(".", "--no-cache", *args)
    assert run.code == 2 and message in run.stderr


def test_the_baseline_written_holds_every_finding_hidden_or_not(project: Path) -> None:
    scan(".", "--no-cache", "--min-severity", "critical", "--write-baseline", "baseline.json")
    entries = json.loads((project / "baseline.json").read_text())
    assert len(entries["findings"]) == 3
