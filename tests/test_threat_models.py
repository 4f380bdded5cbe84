"""Threat models: which sources are untrusted.  ``remote`` always; ``local`` (command line,
standard input) and ``environment`` only when chosen, and then reported one severity lower, at
medium confidence, naming the threat model."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import scan, write

TOOL = '''\
import os
import sys
import subprocess


def main():
    os.system("ls " + input())
    subprocess.call("echo " + sys.argv[1], shell=True)
    os.system("tar " + os.environ["ARCHIVE"])


main()
'''


@pytest.fixture
def tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"tool.py": TOOL})
    return tmp_path


def _findings(*flags: str) -> list[tuple[int, str, str, str]]:
    document = scan("tool.py", "--format", "json", *flags).json()
    return [(f["location"]["line"], f["rule"], f["severity"], f["confidence"])
            for file in document["files"] for f in file["findings"]]


def test_by_default_only_remote_input_is_untrusted(tool: Path) -> None:
    assert _findings("--no-cache") == []


def test_the_local_threat_model_reports_command_line_and_standard_input_lower(tool: Path) -> None:
    assert _findings("--no-cache", "--threat-models", "remote,local") == [
        (7, "os-command-injection", "high", "medium"),  # critical for a web request
        (8, "os-command-injection", "high", "medium"),
    ]
    message = scan("tool.py", "--no-cache", "--threat-models", "remote,local").stdout
    assert ("from the command line (sys.argv, line 8) reaches a shell command run with shell=True "
            "(threat model `local`: input from whoever runs the program).") in message


def test_the_environment_threat_model_is_its_own_choice(tool: Path) -> None:
    assert _findings("--no-cache", "--threat-models", "remote,environment") == [
        (9, "os-command-injection", "high", "medium")]
    assert [line for line, *_ in _findings("--no-cache", "--threat-models", "remote,local,environment")] == [7, 8, 9]


def test_threat_models_come_from_the_configuration_and_key_the_cache(tool: Path) -> None:
    cache = ("--cache-dir", str(tool / "cache"))
    assert _findings(*cache) == []
    (tool / "pyproject.toml").write_text('[tool.secreview]\nthreat-models = ["remote", "local"]\n')
    assert [line for line, *_ in _findings(*cache)] == [7, 8]  # not the cached analysis of the first run


@pytest.mark.parametrize(("value", "message"), [
    ("remote,network", "unknown threat model 'network' (choose from remote, local, environment)"),
    ("local", "'remote' cannot be left out"),
])
def test_a_bad_threat_model_is_a_usage_error(tool: Path, value: str, message: str) -> None:
    run = scan("tool.py", "--no-cache", "--threat-models", value)
    assert run.code == 2 and message in run.stderr
