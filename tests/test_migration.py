"""Coming from Bandit or Ruff: each rule names its counterparts, ``explain`` finds a rule by them,
and ``# nosec <id>`` / ``# noqa: <code>`` silence exactly the rules that name the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e import cli, scan, write

from secreview import __version__, rules


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


VIEW = "from flask import Flask, request\napp = Flask(__name__)\n@app.route('/')\ndef view():\n"

# Code that Bandit and Ruff report under the given id and code, on the last line.
REPORTED_BY_ALL_THREE = [
    (f"import subprocess\n{VIEW}    subprocess.run(request.args['c'], shell=True)", "B602", "S602",
     "os-command-injection"),
    (f"import os\n{VIEW}    os.system(request.args['c'])", "B605", "S605", "os-command-injection"),
    ("import hashlib\ndef digest(data):\n    return hashlib.md5(data).hexdigest()", "B324", "S324", "weak-hash"),
    ("import pickle\ndef load(blob):\n    return pickle.loads(blob)", "B301", "S301", "unsafe-deserialization"),
    ("import yaml\ndef read(stream):\n    return yaml.load(stream)", "B506", "S506", "yaml-unsafe-load"),
    ("import requests\ndef fetch(url):\n    return requests.get(url, verify=False)", "B501", "S501",
     "tls-verification-disabled"),
    ("import tempfile\ndef scratch():\n    return tempfile.mktemp()", "B306", "S306", "insecure-temp-file"),
    ("import os\ndef share(path):\n    os.chmod(path, 0o777)", "B103", "S103", "permissive-file-permissions"),
    ("def check(user):\n    assert user.is_admin", "B101", "S101", "assert-used-for-security"),
    (f"{VIEW}    eval(request.args['e'])", "B307", "S307", "code-injection"),
]


def rules_on(tmp_path: Path, code: str, *flags: str) -> set[str]:
    write(tmp_path, {"mod.py": code + "\n"})
    run = scan("mod.py", "--format", "json", *flags)
    assert run.code in (0, 1), run.stderr
    return {f["rule"] for f in run.json()["files"][0]["findings"]}


@pytest.mark.parametrize("code, bandit, ruff, rule_id", REPORTED_BY_ALL_THREE)
def test_the_rule_reporting_bandits_finding_names_its_id(code: str, bandit: str, ruff: str, rule_id: str,
                                                         tmp_path: Path) -> None:
    assert rule_id in rules_on(tmp_path, code)
    assert bandit in rules.get(rule_id).bandit and ruff in rules.get(rule_id).ruff


@pytest.mark.parametrize("code, bandit, ruff, rule_id", REPORTED_BY_ALL_THREE)
def test_a_bandit_nosec_written_for_that_finding_silences_it(code: str, bandit: str, ruff: str, rule_id: str,
                                                             tmp_path: Path) -> None:
    assert rule_id not in rules_on(tmp_path, f"{code}  # nosec {bandit}", "--nosec")
    assert rule_id not in rules_on(tmp_path, f"{code}  # noqa: {ruff}", "--noqa")


@pytest.mark.parametrize("code, bandit, ruff, rule_id", REPORTED_BY_ALL_THREE)
def test_a_nosec_for_another_bandit_test_leaves_it(code: str, bandit: str, ruff: str, rule_id: str,
                                                  tmp_path: Path) -> None:
    other_bandit, other_ruff = ("B311", "S311") if bandit != "B311" else ("B101", "S101")
    assert rule_id in rules_on(tmp_path, f"{code}  # nosec {other_bandit}", "--nosec")
    assert rule_id in rules_on(tmp_path, f"{code}  # noqa: {other_ruff}", "--noqa")


@pytest.mark.parametrize("code", ["B602", "S602", "b602", "s602"])
def test_explain_a_bandit_or_ruff_code_names_the_rule(code: str) -> None:
    run = cli("explain", code)
    assert run.code == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert first == f"{'Bandit' if code[0] in 'Bb' else 'Ruff'} {code.upper()} is reported by secreview's rule os-command-injection."
    assert "# os-command-injection:" in run.stdout


def test_explain_a_code_two_rules_report_names_both() -> None:
    run = cli("explain", "B324")
    assert run.stdout.splitlines()[0] == "Bandit B324 is reported by secreview's rules password-hash-without-kdf, weak-hash."
    assert "# weak-hash:" in run.stdout and "# password-hash-without-kdf:" in run.stdout


@pytest.mark.parametrize("code", ["B110", "S113"])  # try/except/pass; requests without a timeout
def test_explain_a_code_no_rule_covers_says_so(code: str) -> None:
    run = cli("explain", code)
    assert run.code == 2 and run.stdout == ""
    assert f"no secreview rule reports what" in run.stderr and code in run.stderr


def test_explain_of_a_rule_lists_its_counterparts() -> None:
    assert "Counterparts: Bandit B506; Ruff S506." in cli("explain", "yaml-unsafe-load").stdout


def test_rules_json_lists_counterparts() -> None:
    listed = {r["id"]: r for r in json.loads(cli("rules", "--format", "json").stdout)}
    assert listed["ssh-host-key-not-verified"]["bandit"] == ["B507"]
    assert listed["ssh-host-key-not-verified"]["ruff"] == ["S507"]
    assert listed["log-injection"]["bandit"] == [] and listed["log-injection"]["ruff"] == []


def test_counterparts_are_well_formed_and_ruff_codes_follow_bandit_numbers() -> None:
    # Ruff's flake8-bandit codes reuse Bandit's numbers: S602 is B602 (Ruff lacks some, never invents)
    for rule in rules.all_rules():
        assert all(code.startswith("B") for code in rule.bandit)
        assert {c[1:] for c in rule.ruff} <= {c[1:] for c in rule.bandit}, rule.id


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_flag(flag: str) -> None:
    run = cli(flag)
    assert run.code == 0 and run.stdout.strip() == f"secreview {__version__}"
