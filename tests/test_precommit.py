"""The ``secreview-diff`` pre-commit hook: ``secreview diff --staged`` reviews exactly the staged
change (the index against HEAD), never unstaged edits or untracked files, and works on a
repository's first commit, where there is no HEAD.  Real git repositories in tmp_path."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from e2e import REPO, cli

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True, check=False).returncode != 0,
                                reason="git is not installed")

DEFECT = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
CLEAN = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"
ENV = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "Dev",
       "GIT_COMMITTER_EMAIL": "dev@example.org", "GIT_CONFIG_NOSYSTEM": "1"}


def hook_entry(hook_id: str) -> list[str]:
    """The command line a hook of .pre-commit-hooks.yaml runs (pre-commit appends no file names
    to a hook with pass_filenames: false)."""
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    for block in text.split("\n- id: ")[1:]:
        lines = block.splitlines()
        if lines[0].strip() == hook_id:
            fields = dict(line.strip().split(": ", 1) for line in lines[1:] if ": " in line and not line.startswith("#"))
            assert fields.get("pass_filenames") == "false"
            return shlex.split(fields["entry"])
    raise AssertionError(f"no hook {hook_id} in .pre-commit-hooks.yaml")


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, **ENV, "HOME": str(self.path.parent)}
        return subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=check)

    def write(self, name: str, text: str) -> None:
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text)

    def stage(self, name: str, text: str) -> None:
        self.write(name, text)
        self.git("add", name)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    made = Repo(tmp_path / "repo")
    monkeypatch.chdir(made.path)
    return made


def run_hook(*extra: str) -> tuple[int, dict]:
    command = hook_entry("secreview-diff")
    assert command[:2] == ["secreview", "diff"]
    run = cli(*command[1:], "--format", "json", "--no-cache", *extra)
    assert run.code in (0, 1), run.stderr
    return run.code, run.json()


def reported(report: dict) -> set[tuple[str, int]]:
    return {(f["location"]["path"], f["location"]["line"]) for file in report["files"] for f in file["findings"]}


def test_the_hook_runs_the_staged_review() -> None:
    assert hook_entry("secreview-diff")[:3] == ["secreview", "diff", "--staged"]


def test_first_commit_without_head_reviews_the_staged_files(repo: Repo) -> None:
    repo.stage("app.py", DEFECT)
    code, report = run_hook()
    assert code == 1
    assert reported(report) == {("app.py", 5)}


def test_untracked_files_are_not_reviewed(repo: Repo) -> None:
    repo.stage("app.py", CLEAN)
    repo.write("scratch.py", DEFECT)  # never added
    code, report = run_hook()
    assert code == 0 and reported(report) == set()
    assert [f["path"] for f in report["files"]] == ["app.py"]


def test_unstaged_edits_are_not_reviewed(repo: Repo) -> None:
    repo.stage("app.py", CLEAN)
    repo.git("commit", "-q", "-m", "start")
    repo.stage("app.py", CLEAN + "\n\nVERSION = 2\n")
    repo.write("app.py", DEFECT)  # a defect written after staging is not part of the commit
    code, report = run_hook()
    assert code == 0 and reported(report) == set()


def test_the_staged_content_is_reviewed_even_when_the_working_copy_is_fixed(repo: Repo) -> None:
    repo.stage("app.py", CLEAN)
    repo.git("commit", "-q", "-m", "start")
    repo.stage("app.py", DEFECT)
    repo.write("app.py", CLEAN)  # fixed on disk, but the commit would still record the defect
    code, report = run_hook()
    assert code == 1 and reported(report) == {("app.py", 5)}


def test_only_lines_the_staged_change_touches_are_reported(repo: Repo) -> None:
    repo.stage("old.py", DEFECT)
    repo.git("commit", "-q", "-m", "legacy code")
    repo.stage("old.py", "# a comment at the top\n" + DEFECT.replace("import pickle\n", "import pickle\nimport yaml\n"))
    repo.stage("new.py", "import yaml\n\n\ndef read(stream):\n    return yaml.load(stream)\n")
    code, report = run_hook()
    assert code == 1 and reported(report) == {("new.py", 5)}  # old.py's pickle line is not touched


def test_a_staged_deletion_is_not_an_error(repo: Repo) -> None:
    repo.stage("app.py", DEFECT)
    repo.git("commit", "-q", "-m", "start")
    repo.git("rm", "-q", "app.py")
    code, report = run_hook()
    assert code == 0 and reported(report) == set()


def test_staged_cannot_be_combined_with_a_base(repo: Repo) -> None:
    repo.stage("app.py", CLEAN)
    run = cli("diff", "--staged", "HEAD")
    assert run.code == 2 and "--staged alone" in run.stderr


def test_as_a_git_pre_commit_hook_it_refuses_a_first_commit_with_a_defect(repo: Repo) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m secreview diff --staged --no-cache -q\n")
    hook.chmod(0o755)
    repo.stage("app.py", DEFECT)
    refused = repo.git("commit", "-q", "-m", "first", check=False)
    assert refused.returncode != 0
    assert "pickle.loads" in refused.stdout + refused.stderr
    assert repo.git("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode != 0  # nothing committed
    repo.stage("app.py", CLEAN)
    assert repo.git("commit", "-q", "-m", "first", check=False).returncode == 0
