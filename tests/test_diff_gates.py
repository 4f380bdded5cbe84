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
from test_review_outputs import validate_gerrit

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


# A change cannot switch off its own review: the base's [tool.secreview] decides, not the change's

GATE_ARGS = {"commit": ["--commit", "HEAD"], "working tree": ["HEAD"], "staged": ["--staged"]}
SWITCHES_OFF = {  # what a change could write into its own [tool.secreview] to pass its own review
    "disable": 'disable = ["unsafe-deserialization"]',
    "disable by CWE": 'disable = ["CWE-502"]',
    "enable": 'enable = ["weak-hash"]',
    "fail-on": 'fail-on = "critical"',
    "max-file-size": "max-file-size = 10",
    "exclude": 'exclude = ["*.py"]',
    "nosec": "nosec = true",
    "models": 'models = ["no-such-model.toml"]',
}


def _change_with_own_config(repo: Repo, mode: str, setting: str, base_config: str | None = None) -> list[str]:
    if base_config is not None:
        repo.write("pyproject.toml", base_config)
        repo.commit("Configure")
    repo.write("pyproject.toml", (base_config or "[tool.secreview]\n") + setting + "\n")
    repo.write("evil.py", UNSAFE.replace("blob)\n", "blob)  # nosec\n"))
    if mode == "commit":
        repo.commit("Add code and switch its review off")
    elif mode == "staged":
        repo.git("add", "-A")
    return GATE_ARGS[mode]


@pytest.mark.parametrize("mode", list(GATE_ARGS))
@pytest.mark.parametrize("key", list(SWITCHES_OFF))
def test_a_change_cannot_switch_off_its_own_review(repo: Repo, capsys, mode: str, key: str) -> None:
    args = _change_with_own_config(repo, mode, SWITCHES_OFF[key], base_config="[tool.secreview]\nstrict = false\n")
    code, out, err = secreview(capsys, "diff", "--format", "json", *args)
    assert code == 1, err  # the finding is reported, and fails the gate at the base's fail-on (low)
    document = json.loads(out)
    findings = [(f["location"]["path"], f["location"]["line"]) for file in document["files"] for f in file["findings"]]
    assert findings == [("evil.py", 5)]
    assert document["change"]["notes"] == [
        "this %s modifies [tool.secreview] in pyproject.toml; the base revision's configuration was applied"
        % ("commit" if mode == "commit" else "change")]


@pytest.mark.parametrize("mode", list(GATE_ARGS))
def test_a_change_that_adds_the_first_configuration_is_reviewed_without_it(repo: Repo, capsys, mode: str) -> None:
    args = _change_with_own_config(repo, mode, 'disable = ["unsafe-deserialization"]')
    code, out, _ = secreview(capsys, "diff", *args)
    assert code == 1
    assert "evil.py\n  HIGH" in out
    assert ("note: this %s modifies [tool.secreview] in pyproject.toml; the base revision has no "
            "[tool.secreview], so none was applied" % ("commit" if mode == "commit" else "change")) in out


def test_removing_the_configuration_does_not_remove_its_settings(repo: Repo, capsys) -> None:
    repo.write("pyproject.toml", '[tool.secreview]\ntest-code = "all"\nfail-on-incomplete = true\n')
    repo.commit("Review test code in full")
    (repo.path / "pyproject.toml").unlink()
    repo.write("tests/test_weak.py", "import hashlib\n\n\ndef test_it():\n    hashlib.md5(b'x').hexdigest()\n")
    (repo.path / "blob.py").write_bytes(b"\x00\x01")  # not reviewed: fails the base's fail-on-incomplete
    repo.commit("Drop the configuration")
    found = files_of(capsys, "--commit", "HEAD")
    assert [f["rule"] for f in found["tests/test_weak.py"]["findings"]] == ["weak-hash"]
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD", "--fail-on", "critical")
    assert code == 1 and "modifies [tool.secreview] in pyproject.toml" in out


def test_a_closer_configuration_added_by_the_change_is_not_used(repo: Repo, capsys, monkeypatch) -> None:
    repo.write("pyproject.toml", "[tool.secreview]\nstrict = false\n")
    repo.write("sub/keep.py", SAFE)
    repo.commit("Configure")
    repo.write("sub/pyproject.toml", '[tool.secreview]\ndisable = ["unsafe-deserialization"]\n')
    repo.write("sub/evil.py", UNSAFE)
    repo.commit("A closer configuration")
    monkeypatch.chdir(repo.path / "sub")
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD")
    assert code == 1 and "sub/evil.py\n  HIGH" in out
    assert "modifies [tool.secreview] in sub/pyproject.toml; the base revision's configuration was applied" in out


def test_the_command_line_still_applies_over_the_base_configuration(repo: Repo, capsys) -> None:
    args = _change_with_own_config(repo, "commit", 'disable = ["unsafe-deserialization"]',
                                   base_config='[tool.secreview]\nfail-on = "low"\n')
    assert secreview(capsys, "diff", *args, "--disable", "unsafe-deserialization")[0] == 0
    assert secreview(capsys, "diff", *args, "--fail-on", "critical")[0] == 0
    assert secreview(capsys, "diff", *args)[0] == 1


def test_a_named_configuration_in_the_repository_is_read_as_the_base_has_it(repo: Repo, capsys) -> None:
    repo.write("ci/secreview.toml", "[tool.secreview]\nstrict = false\n")
    repo.commit("CI configuration")
    repo.write("ci/secreview.toml", '[tool.secreview]\ndisable = ["unsafe-deserialization"]\n')
    repo.write("evil.py", UNSAFE)
    repo.commit("Loosen it")
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD", "--config", "ci/secreview.toml")
    assert code == 1 and "evil.py\n  HIGH" in out


def test_a_named_configuration_outside_the_repository_is_used_as_it_is(repo: Repo, capsys, tmp_path: Path) -> None:
    outside = tmp_path / "ci.toml"
    outside.write_text('[tool.secreview]\ndisable = ["unsafe-deserialization"]\n')
    repo.write("evil.py", UNSAFE)
    repo.commit("Code")
    assert secreview(capsys, "diff", "--commit", "HEAD", "--config", str(outside))[0] == 0


def test_model_files_are_read_as_the_base_has_them(repo: Repo, capsys) -> None:
    repo.write("pyproject.toml", '[tool.secreview]\nmodels = ["models/extra.toml"]\n')
    repo.write("models/extra.toml", "# no models yet\n")
    repo.commit("Models")
    repo.write("models/extra.toml", "[[sink]\nbroken\n")  # read from the checkout, this would be an error
    repo.write("evil.py", UNSAFE)
    repo.commit("Edit the models")
    code, out, err = secreview(capsys, "diff", "--commit", "HEAD")
    assert code == 1 and "evil.py\n  HIGH" in out, err
    assert "modifies [tool.secreview]" not in out  # the table itself is unchanged
    code, _, err = secreview(capsys, "scan", "evil.py")  # scan reads the checkout's, and says what is wrong
    assert code == 2 and "extra.toml" in err


def test_an_invalid_base_configuration_is_an_error_that_names_the_revision(repo: Repo, capsys) -> None:
    repo.write("pyproject.toml", '[tool.secreview]\ndisable = ["no-such-rule"]\n')
    base = repo.commit("Broken configuration")
    repo.write("pyproject.toml", "[tool.secreview]\n")
    repo.write("evil.py", UNSAFE)
    repo.commit("Fix it and add code")
    code, _, err = secreview(capsys, "diff", "--commit", "HEAD")
    assert code == 2
    assert f"{base[:12]}:pyproject.toml" in err and "no-such-rule" in err and "secreview-" not in err


def test_a_patch_is_reviewed_with_the_checkouts_configuration_and_says_it_edits_it(
        repo: Repo, capsys, tmp_path: Path) -> None:
    repo.write("pyproject.toml", "[tool.secreview]\nstrict = false\n")
    repo.commit("Configure")
    repo.write("pyproject.toml", '[tool.secreview]\ndisable = ["unsafe-deserialization"]\n')
    repo.write("evil.py", UNSAFE)
    repo.git("add", "-A")
    patch = tmp_path / "change.patch"
    patch.write_text(repo.git("diff", "--cached"))
    repo.git("reset", "-q", "--hard")
    code, out, _ = secreview(capsys, "diff", "--patch", str(patch), "--format", "json")
    assert code == 1
    assert json.loads(out)["change"]["notes"] == [
        "this patch modifies [tool.secreview] in pyproject.toml; the checkout's configuration, as before the "
        "patch, was applied"]


def test_editing_pyproject_outside_tool_secreview_adds_no_note(repo: Repo, capsys) -> None:
    repo.write("pyproject.toml", '[project]\nname = "app"\n\n[tool.secreview]\nstrict = false\n')
    repo.commit("Configure")
    repo.write("pyproject.toml", '[project]\nname = "app"\nversion = "2"\n\n[tool.secreview]\nstrict = false\n')
    repo.commit("Version")
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD", "--format", "json")
    assert json.loads(out)["change"] == {"notes": [], "added_suppressions": []}


def test_the_configuration_note_is_in_every_format(repo: Repo, capsys) -> None:
    args = _change_with_own_config(repo, "commit", 'disable = ["unsafe-deserialization"]',
                                   base_config="[tool.secreview]\nstrict = false\n")
    note = "modifies [tool.secreview] in pyproject.toml; the base revision's configuration was applied"
    outputs = {fmt: secreview(capsys, "diff", *args, "--format", fmt)[1]
               for fmt in ("text", "json", "sarif", "gerrit", "github", "github-review")}
    assert f"  note: this commit {note}" in outputs["text"]
    assert any(note in n["message"]["text"] and n["level"] == "warning"
               for n in json.loads(outputs["sarif"])["runs"][0]["invocations"][0]["toolExecutionNotifications"])
    assert note in json.loads(outputs["gerrit"])["message"]
    assert f"::warning title=configuration::this commit {note}" in outputs["github"].splitlines()
    # Markdown: the brackets of [tool.secreview] are escaped, so they cannot start a link
    markdown_note = note.replace("[", "\\[").replace("]", "\\]")
    assert f"**Note:** this commit {markdown_note}" in json.loads(outputs["github-review"])["body"]


# the suppressions a change adds are legitimate, but a reviewer must see them

SUPPRESSED = ("import pickle\nimport hashlib\n\n\ndef load(blob):\n"
              "    return pickle.loads(blob)  # secreview: ignore[unsafe-deserialization] blobs are signed\n"
              "\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()  # secreview: ignore\n")


def test_the_suppressions_a_change_adds_are_listed_in_every_format(repo: Repo, capsys) -> None:
    repo.write("old.py", "import pickle\npickle.loads(b'')  # secreview: ignore[unsafe-deserialization] old\n")
    repo.commit("An old, accepted suppression")
    repo.write("old.py", "import pickle\npickle.loads(b'')  # secreview: ignore[unsafe-deserialization] old\nX = 1\n")
    repo.write("added.py", SUPPRESSED)
    repo.commit("Suppress")
    args = ["diff", "--commit", "HEAD"]
    code, text, _ = secreview(capsys, *args)
    assert code == 0  # suppressing is legitimate: the gate passes
    assert ("Suppressions on the code this change writes (2):\n"
            "  added.py line 6: ignore[unsafe-deserialization]: blobs are signed\n"
            "  added.py line 10: ignore (every rule): no reason given\n") in text
    assert "old.py line" not in text  # not added by this change
    document = json.loads(secreview(capsys, *args, "--format", "json")[1])
    assert document["change"]["added_suppressions"] == [
        {"path": "added.py", "line": 6, "kind": "secreview", "rules": ["unsafe-deserialization"],
         "reason": "blobs are signed", "comment": "# secreview: ignore[unsafe-deserialization] blobs are signed",
         "covers": []},
        {"path": "added.py", "line": 10, "kind": "secreview", "rules": [], "reason": "",
         "comment": "# secreview: ignore", "covers": []}]
    sarif = json.loads(secreview(capsys, *args, "--format", "sarif")[1])
    notes = [n for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"] if n["level"] == "note"]
    assert [(n["locations"][0]["physicalLocation"]["region"]["startLine"], n["properties"]["reason"]) for n in notes] == [
        (6, "blobs are signed"), (10, "")]
    gerrit = json.loads(secreview(capsys, *args, "--format", "gerrit")[1])
    validate_gerrit(gerrit)
    assert [(c["line"], c["message"].splitlines()[0]) for c in gerrit["robot_comments"]["added.py"]] == [
        (6, "This change adds a suppression: ignore[unsafe-deserialization]"),
        (10, "This change adds a suppression: ignore (every rule)")]
    github = secreview(capsys, *args, "--format", "github")[1].splitlines()
    assert [line.split("::")[1] for line in github] == [
        "notice file=added.py,line=6,endLine=6,title=suppression added",
        "notice file=added.py,line=10,endLine=10,title=suppression added"]
    review = json.loads(secreview(capsys, *args, "--format", "github-review")[1])
    assert [(c["path"], c["line"]) for c in review["comments"]] == [("added.py", 6), ("added.py", 10)]
    assert "Suppressions on the code this change writes:" in review["body"]


@pytest.mark.parametrize("nosec", [False, True])
def test_an_added_nosec_is_listed_when_it_is_honoured(repo: Repo, capsys, nosec: bool) -> None:
    repo.write("app.py", SAFE + "\nimport pickle\npickle.loads(b'')  # nosec\n")
    flags = ["--nosec"] if nosec else []
    code, out, _ = secreview(capsys, "diff", "HEAD", "--format", "json", *flags)
    added = json.loads(out)["change"]["added_suppressions"]
    assert code == (0 if nosec else 1)
    assert [(s["line"], s["kind"]) for s in added] == ([(8, "nosec")] if nosec else [])


def test_a_suppression_on_a_line_the_change_edits_is_listed(repo: Repo, capsys) -> None:
    # the edited code is new under the old comment: keeping the suppression is the change's choice again
    repo.write("app.py", "import pickle\n\npickle.loads(b'')  # secreview: ignore[unsafe-deserialization] ok\n")
    repo.commit("Accepted")

    def added() -> list[int]:
        document = json.loads(secreview(capsys, "diff", "HEAD", "--format", "json")[1])
        return [s["line"] for s in document["change"]["added_suppressions"]]

    repo.write("app.py", "import pickle\n\npickle.loads(b'')  # secreview: ignore[unsafe-deserialization] ok\nX = 1\n")
    assert added() == []
    repo.write("app.py", "import pickle\n\npickle.loads(input())  # secreview: ignore[unsafe-deserialization] ok\n")
    assert added() == [3]


def test_a_suppression_reason_cannot_write_a_line_of_the_report(repo: Repo, capsys) -> None:
    repo.write("app.py", SAFE + "\nimport pickle\npickle.loads(b'')  # secreview: ignore[x] \u2028::error::FORGED \x1b[2J\n")
    code, out, _ = secreview(capsys, "diff", "HEAD")
    line = next(line for line in out.splitlines() if "app.py line 8" in line)
    assert line == "  app.py line 8: ignore[x]: \\u2028::error::FORGED \\x1b[2J"
    assert not any(line.lstrip().startswith("::") for line in out.splitlines())


def _stage(repo: Repo, mode: str, message: str) -> None:
    if mode == "commit":
        repo.commit(message)
    elif mode == "staged":
        repo.git("add", "-A")


@pytest.mark.parametrize("mode", list(GATE_ARGS))
def test_the_base_baseline_still_accepts_what_it_lists(repo: Repo, capsys, mode: str) -> None:
    repo.write("evil.py", UNSAFE)
    assert secreview(capsys, "scan", ".", "--write-baseline", "accepted.json")[0] == 0
    (repo.path / "evil.py").unlink()
    repo.commit("A baseline")  # evil.py's finding is in it, but evil.py is not in the base
    repo.write("evil.py", UNSAFE)
    _stage(repo, mode, "Add code that the baseline already accepts")
    code, out, _ = secreview(capsys, "diff", *GATE_ARGS[mode], "--baseline", "accepted.json")
    assert code == 0 and "modifies the baseline" not in out


@pytest.mark.parametrize("mode", list(GATE_ARGS))
def test_a_change_cannot_accept_its_own_findings_into_the_baseline(repo: Repo, capsys, mode: str) -> None:
    assert secreview(capsys, "scan", ".", "--write-baseline", "accepted.json")[0] == 0
    repo.commit("A baseline")
    repo.write("evil.py", UNSAFE)
    assert secreview(capsys, "scan", ".", "--write-baseline", "accepted.json")[0] == 0  # the change accepts it
    _stage(repo, mode, "Add code and accept its finding")
    assert secreview(capsys, "scan", "evil.py", "--baseline", "accepted.json")[0] == 0  # the change's baseline hides it
    code, out, _ = secreview(capsys, "diff", *GATE_ARGS[mode], "--baseline", "accepted.json")
    assert code == 1 and "evil.py\n  HIGH" in out
    assert "note: this change modifies the baseline accepted.json; the base revision's baseline was applied" in out


def test_a_baseline_the_base_lacks_is_empty(repo: Repo, capsys) -> None:
    repo.write("evil.py", UNSAFE)
    assert secreview(capsys, "scan", "evil.py", "--write-baseline", "accepted.json")[0] == 0
    repo.commit("Code and its baseline together")
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD", "--baseline", "accepted.json")
    assert code == 1 and "evil.py\n  HIGH" in out
    assert "modifies the baseline accepted.json; the base revision has none, so every finding counts as new" in out


def test_a_suppression_already_there_that_covers_lines_the_change_writes_is_listed(repo: Repo, capsys) -> None:
    # a comment on the first line of a call silences the whole call: what the change writes into it too
    repo.write("app.py", "import pickle\n\nVALUE = pickle.loads(  # secreview: ignore[unsafe-deserialization] constant\n"
                         "    b'constant',\n)\n")
    repo.commit("Accepted for a constant")
    repo.write("app.py", "import pickle\n\nVALUE = pickle.loads(  # secreview: ignore[unsafe-deserialization] constant\n"
                         "    input().encode(),\n)\n")
    code, out, _ = secreview(capsys, "diff", "HEAD")
    assert code == 0
    assert ("  app.py line 3: ignore[unsafe-deserialization]: constant (already there, now covers the changed line 4)"
            in out.splitlines())
    [listed] = json.loads(secreview(capsys, "diff", "HEAD", "--format", "json")[1])["change"]["added_suppressions"]
    assert (listed["line"], listed["covers"]) == (3, [4])
    [comment] = json.loads(secreview(capsys, "diff", "HEAD", "--format", "github-review")[1])["comments"]
    assert comment["line"] == 4 and comment["body"].startswith("A suppression already there, now covers")
    repo.write("app.py", "import pickle\n\nVALUE = pickle.loads(  # secreview: ignore[unsafe-deserialization] constant\n"
                         "    b'constant',\n)\nOTHER = 1\n")
    assert json.loads(secreview(capsys, "diff", "HEAD", "--format", "json")[1])["change"]["added_suppressions"] == []
