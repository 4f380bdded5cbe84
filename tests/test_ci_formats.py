"""JUnit XML and GitLab's SAST and Code Quality reports: every finding, every file that was not
(fully) reviewed, paths as the repository names them, and nothing the reviewed code can forge."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from e2e import scan, write

FILES = {
    "service/api/views.py": (
        "import subprocess\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n"
        "@app.route('/run')\ndef run():\n    subprocess.call('ls ' + request.args['d'], shell=True)\n"
    ),
    "service/api/clean.py": "VALUE = 1\n",
    "service/api/broken.py": b"\x00\x01binary",
    # a name and a literal that would break XML or forge lines if printed raw
    "service/api/odd\u202e<x>.py": "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)  # \x1b]8;;x\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, FILES)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path / "service")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return tmp_path


def test_junit_has_a_failure_per_finding_an_error_per_gap_and_a_pass_per_clean_file(project: Path) -> None:
    run = scan(".", "--no-cache", "--format", "junit")
    assert run.code == 1
    root = ElementTree.fromstring(run.stdout)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {"api/views.py:9: os-command-injection", "api/odd\\u202e<x>.py:5: unsafe-deserialization",
                          "api/broken.py: reviewed", "api/clean.py: no security defects"}
    failure = cases["api/views.py:9: os-command-injection"].find("failure")
    assert failure.get("type") == "CWE-78" and failure.get("message").startswith("CRITICAL CWE-78 ")
    assert "Fix: Pass the command as a list" in failure.text
    error = cases["api/broken.py: reviewed"].find("error")
    assert error.get("type") == "not reviewed" and "binary" in error.get("message")
    assert list(cases["api/clean.py: no security defects"]) == []
    assert "\x1b" not in run.stdout and "\u202e" not in run.stdout


def test_gitlab_sast_names_each_finding_by_cwe_and_rule_at_its_repository_path(project: Path) -> None:
    run = scan(".", "--no-cache", "--format", "gitlab-sast")
    document = json.loads(run.stdout)
    assert document["version"].startswith("15.")
    scan_info = document["scan"]
    assert scan_info["type"] == "sast" and scan_info["status"] == "success"
    assert scan_info["start_time"] == scan_info["end_time"] == "2023-11-14T22:13:20"
    assert scan_info["analyzer"]["id"] == scan_info["scanner"]["id"] == "secreview"
    assert [m["value"].split(":")[0] for m in scan_info["messages"]] == ["service/api/broken.py"]
    by_rule = {v["identifiers"][1]["value"]: v for v in document["vulnerabilities"]}
    command = by_rule["os-command-injection"]
    assert command["severity"] == "Critical"
    assert command["location"] == {"file": "service/api/views.py", "start_line": 9, "end_line": 9}
    assert command["identifiers"][0] == {"type": "cwe", "name": "CWE-78", "value": "78",
                                         "url": "https://cwe.mitre.org/data/definitions/78.html"}
    fingerprints = {f["fingerprint"] for entry in scan(".", "--no-cache", "--format", "json").json()["files"]
                    for f in entry["findings"]}
    assert {v["id"] for v in document["vulnerabilities"]} == fingerprints
    assert "\\u202e" in run.stdout and "\u202e" not in run.stdout  # written as a JSON escape


def test_gitlab_code_quality_lists_each_finding_with_its_lines_and_severity(project: Path) -> None:
    issues = json.loads(scan(".", "--no-cache", "--format", "gitlab-codequality").stdout)
    assert sorted((i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
                  for i in issues) == [("os-command-injection", "blocker", "service/api/views.py", 9),
                                       ("unsafe-deserialization", "critical", "service/api/odd\u202e<x>.py", 5)]
    assert all(i["type"] == "issue" and i["categories"] == ["Security"] and len(i["fingerprint"]) == 32
               for i in issues)


def test_a_clean_review_is_an_empty_report_in_each_format(project: Path) -> None:
    assert json.loads(scan("api/clean.py", "--no-cache", "--format", "gitlab-codequality").stdout) == []
    assert json.loads(scan("api/clean.py", "--no-cache", "--format", "gitlab-sast").stdout)["vulnerabilities"] == []
    root = ElementTree.fromstring(scan("api/clean.py", "--no-cache", "--format", "junit").stdout)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")


def test_the_gitlab_ci_example_writes_the_reports_it_declares(project: Path) -> None:
    import shlex

    yaml = pytest.importorskip("yaml")
    from e2e import REPO, cli

    job = yaml.safe_load((REPO / "examples/ci/gitlab-ci.yml").read_text())["secreview"]
    reports = job["artifacts"]["reports"]
    commands = [shlex.split(line.split("||")[0]) for line in job["script"] if line.startswith("secreview scan")]
    assert len(commands) == 3
    for command in commands:
        assert cli(*command[1:]).code == 1  # the planted findings; exit 2 would be a bad flag
    assert json.loads(Path(reports["sast"]).read_text())["vulnerabilities"]
    assert json.loads(Path(reports["codequality"]).read_text())
    assert ElementTree.parse(reports["junit"]).getroot().get("failures") == "2"
