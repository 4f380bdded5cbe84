"""`secreview diff` as a CI gate: no change may slip past it with exit code 0 by the way it is
shaped (git attributes, odd file names, odd characters, renames, its own configuration), and
whatever it cannot review is listed, so that ``--fail-on-incomplete`` can refuse it."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from secreview.changes import parse_patch

from test_diff import Repo, reported, secreview

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True, check=False).returncode != 0,
                                reason="git is not installed")

UNSAFE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"  # finding on line 5
SAFE = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    made = Repo(tmp_path / "repo")
    made.write("app.py", SAFE)
    made.write("notes.txt", UNSAFE)
    made.write("README.md", "docs\n")
    made.commit("Initial import")
    monkeypatch.chdir(made.path)
    return made


def files_of(capsys, *args: str) -> dict[str, dict]:
    code, out, err = secreview(capsys, "diff", "--format", "json", *args)
    assert code in (0, 1), err
    return {file["path"]: file for file in json.loads(out)["files"]}


# 1. .gitattributes that make git call a Python file binary


@pytest.mark.parametrize("attribute", ["*.py -diff", "*.py binary"])
@pytest.mark.parametrize("where", ["base", "change"])
def test_python_marked_binary_by_gitattributes_is_still_reviewed(repo: Repo, capsys, attribute: str, where: str) -> None:
    repo.write(".gitattributes", attribute + "\n")
    if where == "base":
        repo.commit("Attributes")
    repo.write("app.py", SAFE + "\nimport pickle\n\n\ndef again(blob):\n    return pickle.loads(blob)\n")
    repo.write("added.py", UNSAFE)
    repo.commit("Change")
    assert reported(capsys, "--commit", "HEAD") == {("app.py", 11, "unsafe-deserialization"),
                                                    ("added.py", 5, "unsafe-deserialization")}
    if where == "change":  # the working tree diff reads the files the same way
        assert reported(capsys, "HEAD~1") == {("app.py", 11, "unsafe-deserialization"),
                                              ("added.py", 5, "unsafe-deserialization")}


# 2. a file name with a newline


@pytest.mark.parametrize("odd", ["evil\n.py", "new\nline/inner.py", " lead.py", "tab\tand \"quote\".py", "bs\\x.py"])
def test_odd_file_names_do_not_shift_contents_between_files(repo: Repo, capsys, odd: str) -> None:
    (repo.path / odd).parent.mkdir(parents=True, exist_ok=True)
    (repo.path / odd).write_text(SAFE)
    repo.write("zz.py", UNSAFE.replace("blob)\n", "blob)  # zz\n"))
    repo.write("app.py", SAFE + "\nVERSION = 2\n")
    repo.commit("Odd names")
    found = files_of(capsys, "--commit", "HEAD")
    assert set(found) == {odd, "zz.py", "app.py"}
    assert [f["location"]["line"] for f in found["zz.py"]["findings"]] == [5]
    assert found[odd]["findings"] == [] and found[odd]["reviewed"]
    assert found["app.py"]["findings"] == []


def test_odd_file_name_in_the_working_tree(repo: Repo, capsys) -> None:
    (repo.path / "evil\n.py").write_text(UNSAFE)
    repo.git("add", "-A")
    (repo.path / "untracked\n.py").write_text(UNSAFE)
    assert reported(capsys, "HEAD") == {("evil\n.py", 5, "unsafe-deserialization"),
                                        ("untracked\n.py", 5, "unsafe-deserialization")}


def test_a_change_read_in_many_git_calls_is_read_whole(repo: Repo, capsys, monkeypatch) -> None:
    from secreview import changes

    repo.write("old.py", UNSAFE)
    repo.commit("Old")
    monkeypatch.setattr(changes, "_PATHS_PER_CALL", 2)
    monkeypatch.setattr(changes, "_BYTES_PER_CALL", 1)  # one file per call
    repo.git("mv", "old.py", "moved.py")  # the rename's two names stay in one call: history is kept
    for name in ("m1.py", "m2.py", "m3.py"):
        repo.write(name, UNSAFE.replace("blob", name[:2]))  # unlike old.py: not renames of it
    repo.write("app.py", SAFE + "\nimport pickle\npickle.loads(b'')\n")
    repo.commit("Many")
    assert reported(capsys, "--commit", "HEAD") == {
        ("m1.py", 5, "unsafe-deserialization"), ("m2.py", 5, "unsafe-deserialization"),
        ("m3.py", 5, "unsafe-deserialization"), ("app.py", 8, "unsafe-deserialization")}


# 3. line separators that str.splitlines() would break at, inside an added line


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85"])
def test_separator_inside_an_added_line_does_not_hide_the_next_one(repo: Repo, capsys, separator: str) -> None:
    # a blank after the separator made the rest of the line look like a context line of the hunk
    repo.write("app.py", SAFE + f'\nimport pickle\nLABEL = "a{separator} b"\npickle.loads(LABEL)\n')
    repo.commit("Label")
    assert reported(capsys, "--commit", "HEAD") == {("app.py", 9, "unsafe-deserialization")}


def test_parse_patch_splits_at_newlines_only() -> None:
    patch = ("diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,0 +2,3 @@\n"
             "+x = 'a\u2028 b'\n+y = '\x0c- c'\n+z = 1\n")
    [file_patch] = parse_patch(patch)
    assert file_patch.changed_lines() == (frozenset({2, 3, 4}), frozenset())


def test_lone_carriage_returns_make_every_line_changed(repo: Repo, capsys) -> None:
    # Python ends a line at a lone CR, git does not: git's line numbers do not name Python's lines
    (repo.path / "app.py").write_bytes(SAFE.encode() + b"X = 1\rimport pickle\rpickle.loads(X)\n")
    repo.commit("Old Mac line ends")
    assert reported(capsys, "--commit", "HEAD") == {("app.py", 8, "unsafe-deserialization")}


# 4. a file that becomes Python


def test_renaming_a_file_to_python_makes_all_its_code_new(repo: Repo, capsys) -> None:
    repo.git("mv", "notes.txt", "notes.py")
    repo.commit("Notes are code now")
    assert reported(capsys, "--commit", "HEAD") == {("notes.py", 5, "unsafe-deserialization")}
    found = files_of(capsys, "--commit", "HEAD")
    assert [f["location"]["line"] for f in found["notes.py"]["findings"]] == [5]


def test_renaming_and_editing_a_file_into_python_in_the_working_tree(repo: Repo, capsys) -> None:
    repo.git("mv", "notes.txt", "notes.py")
    repo.write("notes.py", UNSAFE + "\nVERSION = 1\n")
    assert reported(capsys, "HEAD") == {("notes.py", 5, "unsafe-deserialization")}


def test_a_patch_that_renames_a_file_to_python_makes_all_its_code_new(repo: Repo, capsys, tmp_path: Path) -> None:
    repo.git("mv", "notes.txt", "notes.py")
    patch = tmp_path / "rename.patch"
    patch.write_text(repo.git("diff", "-M", "--cached"))
    repo.git("reset", "-q", "--hard")
    assert reported(capsys, "--patch", str(patch)) == {("notes.py", 5, "unsafe-deserialization")}


def test_a_script_that_becomes_python_in_place(repo: Repo, capsys) -> None:
    repo.write("tool", "#!/bin/sh\n" + UNSAFE)  # not Python by its first line
    repo.commit("A shell tool")
    repo.write("tool", "#!/usr/bin/env python3\n" + UNSAFE)
    repo.commit("Rewrite the tool in Python")
    assert reported(capsys, "--commit", "HEAD") == {("tool", 6, "unsafe-deserialization")}


def test_python_renamed_to_another_name_keeps_its_history(repo: Repo, capsys) -> None:
    repo.write("old.py", UNSAFE)
    repo.commit("Old")
    repo.git("mv", "old.py", "new.py")
    repo.commit("Rename")
    assert reported(capsys, "--commit", "HEAD") == set()


def test_python_renamed_away_from_python_is_listed_as_deleted(repo: Repo, capsys) -> None:
    repo.write("old.py", UNSAFE)
    repo.commit("Old")
    repo.git("mv", "old.py", "old.txt")
    repo.commit("No longer code")
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD")
    assert code == 0
    assert "deleted, not reviewed: old.py" in out


def test_the_users_diff_settings_do_not_change_the_paths_read(repo: Repo, capsys) -> None:
    repo.git("config", "diff.noprefix", "true")
    repo.git("config", "diff.mnemonicPrefix", "true")
    repo.write("a/b.py", UNSAFE)
    repo.commit("In a directory named a")
    assert reported(capsys, "--commit", "HEAD") == {("a/b.py", 5, "unsafe-deserialization")}
    repo.write("a/b.py", UNSAFE + "\nX = 1\n")
    assert reported(capsys, "HEAD~1") == {("a/b.py", 5, "unsafe-deserialization")}


# 7. files a change adds that the review cannot read, or that the change excludes itself


@pytest.mark.parametrize("mode", ["commit", "working tree"])
def test_added_python_with_nul_bytes_is_listed_as_not_reviewed(repo: Repo, capsys, mode: str) -> None:
    (repo.path / "blob.py").write_bytes(b"import pickle\x00\npickle.loads(x)\n")
    repo.git("add", "blob.py")  # known to git, which calls it binary
    if mode == "commit":
        repo.commit("Binary")
    found = files_of(capsys, "--commit", "HEAD") if mode == "commit" else files_of(capsys, "HEAD")
    assert found["blob.py"]["reviewed"] is False
    assert "binary" in found["blob.py"]["not_reviewed_reason"]
    code, out, _ = secreview(capsys, "diff", *(["--commit", "HEAD"] if mode == "commit" else ["HEAD"]))
    assert "blob.py\n  not reviewed: binary file" in out
    assert "No Python files were changed." not in out


@pytest.mark.parametrize("mode", ["commit", "working tree"])
def test_a_change_cannot_exclude_the_code_it_adds(repo: Repo, capsys, mode: str) -> None:
    repo.write("pyproject.toml", '[tool.secreview]\nexclude = ["vendor/*"]\n')
    repo.commit("Configure")
    repo.write("pyproject.toml", '[tool.secreview]\nexclude = ["vendor/*", "generated/*", "sneaky.py"]\n')
    repo.write("generated/evil.py", UNSAFE)
    repo.write("sneaky.py", UNSAFE)
    repo.write("vendor/lib.py", UNSAFE)  # excluded before the change: the project's own decision
    if mode == "commit":
        repo.commit("Add code and hide it")
        args = ["--commit", "HEAD"]
    else:
        args = ["HEAD"]
    assert reported(capsys, *args) == {("generated/evil.py", 5, "unsafe-deserialization"),
                                       ("sneaky.py", 5, "unsafe-deserialization")}


def test_a_new_configuration_cannot_exclude_the_code_it_comes_with(repo: Repo, capsys) -> None:
    repo.write("pyproject.toml", '[tool.secreview]\nexclude = ["*"]\n')
    repo.write("evil.py", UNSAFE)
    repo.commit("Configure and add")
    assert reported(capsys, "--commit", "HEAD") == {("evil.py", 5, "unsafe-deserialization")}
    # the command line's exclusions still count
    assert reported(capsys, "--commit", "HEAD", "--exclude", "evil.py") == set()


def test_symbolic_link_named_python_is_listed_as_not_reviewed(repo: Repo, capsys) -> None:
    (repo.path / "link.py").symlink_to("notes.txt")
    repo.commit("Link")
    found = files_of(capsys, "--commit", "HEAD")
    assert found["link.py"]["reviewed"] is False
    assert "symbolic link" in found["link.py"]["not_reviewed_reason"]
    (repo.path / "untracked_link.py").symlink_to("/etc/passwd")
    found = files_of(capsys, "HEAD~1")
    assert found["untracked_link.py"]["reviewed"] is False
    assert found["link.py"]["reviewed"] is False


def test_oversized_python_in_a_commit_is_listed_without_being_read_whole(repo: Repo, capsys) -> None:
    repo.write("big.py", "X = 1\n" * 400)
    repo.write("LICENSE", "words\n" * 400)  # extension-less but not Python: not listed
    repo.commit("Big")
    found = files_of(capsys, "--commit", "HEAD", "--max-file-size", "1000")
    assert set(found) == {"big.py"}
    assert found["big.py"]["reviewed"] is False
    assert "too large (2400 bytes" in found["big.py"]["not_reviewed_reason"]
    found = files_of(capsys, "HEAD~1", "--max-file-size", "1000")
    assert set(found) == {"big.py"} and found["big.py"]["reviewed"] is False


# 6. --fail-on-incomplete


@pytest.mark.parametrize("how", ["flag", "config"])
def test_fail_on_incomplete_refuses_a_change_with_a_file_not_reviewed(repo: Repo, capsys, how: str) -> None:
    if how == "config":
        repo.write("pyproject.toml", "[tool.secreview]\nfail-on-incomplete = true\n")
        repo.commit("Configure")
    flag = ["--fail-on-incomplete"] if how == "flag" else []
    (repo.path / "blob.py").write_bytes(b"\x00\x01")
    assert secreview(capsys, "diff", "HEAD", *flag)[0] == 1
    repo.commit("Binary")
    assert secreview(capsys, "diff", "--commit", "HEAD", *flag)[0] == 1
    repo.write("app.py", SAFE + "\nVERSION = 2\n")
    assert secreview(capsys, "diff", "HEAD", *flag)[0] == 0


def test_without_fail_on_incomplete_a_file_not_reviewed_passes(repo: Repo, capsys) -> None:
    (repo.path / "blob.py").write_bytes(b"\x00\x01")
    code, out, _ = secreview(capsys, "diff", "HEAD")
    assert code == 0 and "not reviewed: binary file" in out


def test_fail_on_incomplete_in_scan(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.py").write_text(SAFE)
    assert secreview(capsys, "scan", ".", "--fail-on-incomplete")[0] == 0
    (tmp_path / "broken.py").write_text("def (:\n")
    assert secreview(capsys, "scan", ".")[0] == 0
    assert secreview(capsys, "scan", ".", "--fail-on-incomplete")[0] == 1
    (tmp_path / "pyproject.toml").write_text("[tool.secreview]\nfail-on-incomplete = true\n")
    assert secreview(capsys, "scan", ".")[0] == 1


def test_fail_on_incomplete_counts_a_file_not_fully_reviewed(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.py").write_text(SAFE)
    spent = ["--no-cache", "--time-budget", "0.000001"]
    code, out, _ = secreview(capsys, "scan", "good.py", *spent)
    assert code == 0 and "not fully reviewed: time budget" in out
    assert secreview(capsys, "scan", "good.py", *spent, "--fail-on-incomplete")[0] == 1
    assert secreview(capsys, "scan", "good.py", "--no-cache", "--fail-on-incomplete")[0] == 0


def test_fail_on_incomplete_counts_a_changed_file_not_fully_reviewed(repo: Repo, capsys) -> None:
    repo.write("app.py", SAFE + "\nVERSION = 2\n")
    spent = ["--no-cache", "--time-budget", "0.000001"]
    assert secreview(capsys, "diff", "HEAD", *spent)[0] == 0
    assert secreview(capsys, "diff", "HEAD", *spent, "--fail-on-incomplete")[0] == 1


def test_fail_on_incomplete_must_be_a_boolean(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.secreview]\nfail-on-incomplete = "yes"\n')
    (tmp_path / "good.py").write_text(SAFE)
    code, _, err = secreview(capsys, "scan", ".")
    assert code == 2 and "fail-on-incomplete must be true or false" in err
