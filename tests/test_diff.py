"""`secreview diff` on real git repositories: which findings a change reports, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from secreview import rules
from secreview import progress as progress_module
from secreview.cache import Cache
from secreview.changes import commit_change, parse_patch, patch_change, review_change, working_tree_change
from secreview.cli import main
from secreview.config import Config

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True, check=False).returncode != 0,
                                reason="git is not installed")

OLD_PICKLE = """\
import pickle
import yaml


def restore(blob):
    return pickle.loads(blob)


def settings(stream):
    return yaml.safe_load(stream)
"""


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, input: bytes | None = None) -> str:
        env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.org", GIT_COMMITTER_NAME="Dev",
                   GIT_COMMITTER_EMAIL="dev@example.org", GIT_CONFIG_NOSYSTEM="1", HOME=str(self.path.parent))
        done = subprocess.run(["git", *args], cwd=self.path, env=env, input=input, capture_output=True, check=True)
        return done.stdout.decode()

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    made = Repo(tmp_path / "repo")
    made.write("app.py", OLD_PICKLE)
    made.write("gone.py", "import pickle\n\ndef load(b):\n    return pickle.loads(b)\n")
    made.write("legacy.py", "import marshal\n\n\ndef code(data):\n    return marshal.loads(data)\n")
    made.write("README.md", "docs\n")
    made.commit("Initial import")
    monkeypatch.chdir(made.path)
    return made


def secreview(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def reported(capsys: pytest.CaptureFixture, *args: str) -> set[tuple[str, int, str]]:
    code, out, err = secreview(capsys, "diff", "--format", "json", *args)
    assert code in (0, 1), err
    return {(f["location"]["path"], f["location"]["line"], f["rule"]) for file in json.loads(out)["files"] for f in file["findings"]}


def test_working_tree_reports_only_findings_on_changed_lines(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE + "\n\ndef unsafe_settings(stream):\n    return yaml.load(stream)\n")
    repo.write("staged.py", "import dill\n\n\ndef load(data):\n    return dill.loads(data)\n")
    repo.git("add", "staged.py")
    repo.write("untracked.py", "import shelve\n\n\ndef store(path):\n    return shelve.open(path)\n")
    repo.write("notes.txt", "pickle.loads(x)\n")
    (repo.path / "gone.py").unlink()
    repo.git("mv", "legacy.py", "pkg_legacy.py")
    repo.write("pkg_legacy.py", "import marshal\n\n\ndef code(data):\n    return marshal.loads(data)\n\n\nVERSION = 2\n")

    assert reported(capsys, "HEAD") == {
        ("app.py", 14, "yaml-unsafe-load"),
        ("staged.py", 5, "unsafe-deserialization"),
        ("untracked.py", 5, "unsafe-deserialization"),
    }


def test_text_names_the_change_and_skips_deleted_files(repo: Repo, capsys) -> None:
    (repo.path / "gone.py").unlink()
    repo.write("app.py", OLD_PICKLE.replace("safe_load", "load"))
    code, out, _ = secreview(capsys, "diff", "HEAD")
    assert code == 1
    assert out.startswith("Change: working tree against ")
    assert "deleted, not reviewed: gone.py" in out
    assert "line 10: return yaml.load(stream)" in out
    assert "pickle" not in out  # the old defect on an untouched line is not the change's


def test_moving_a_file_keeps_its_history(repo: Repo, capsys) -> None:
    (repo.path / "service").mkdir()
    repo.git("mv", "app.py", "service/app.py")
    repo.commit("Move the app into a package")
    assert reported(capsys, "--commit", "HEAD") == set()
    code, out, _ = secreview(capsys, "diff", "--commit", "HEAD", "--format", "sarif")
    assert code == 0
    assert json.loads(out)["runs"][0]["results"] == []


def test_commit_is_reviewed_as_committed_with_its_message(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE.replace("yaml.safe_load(stream)", "yaml.load(stream)"))
    rev = repo.commit("Read settings with the full loader\n\nThe configuration uses tags.")
    repo.write("app.py", OLD_PICKLE)  # the working tree no longer has the defect; the commit still does
    assert reported(capsys, "--commit", rev) == {("app.py", 10, "yaml-unsafe-load")}
    code, out, _ = secreview(capsys, "diff", "--commit", rev[:8])
    assert code == 1
    assert out.splitlines()[:4] == [f"Change: commit {rev[:12]}", "Commit message:",
                                    "    Read settings with the full loader", ""]


def test_default_base_is_the_upstream_branch(repo: Repo, tmp_path: Path, capsys, monkeypatch) -> None:
    clone = Repo.__new__(Repo)
    clone.path = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone.path)], check=True, capture_output=True)
    monkeypatch.chdir(clone.path)
    clone.write("first.py", "import pickle\n\ndef a(b):\n    return pickle.loads(b)\n")
    clone.commit("First local commit")
    clone.write("second.py", "import yaml\n\ndef b(s):\n    return yaml.load(s)\n")
    clone.commit("Second local commit")
    # HEAD~1 alone would miss first.py: the upstream branch is the base
    assert reported(capsys) == {("first.py", 4, "unsafe-deserialization"), ("second.py", 4, "yaml-unsafe-load")}
    code, out, _ = secreview(capsys, "diff")
    assert code == 1
    assert "First local commit" in out and "Second local commit" in out


def test_first_commit_without_a_parent_is_all_new(tmp_path: Path, capsys, monkeypatch) -> None:
    only = Repo(tmp_path / "only")
    only.write("a.py", "import pickle\n\ndef a(b):\n    return pickle.loads(b)\n")
    only.commit("Start")
    monkeypatch.chdir(only.path)
    assert reported(capsys) == {("a.py", 4, "unsafe-deserialization")}
    assert reported(capsys, "--commit", "HEAD") == {("a.py", 4, "unsafe-deserialization")}


def test_reformatted_line_with_old_defect_is_reported_as_unchanged(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE.replace("pickle.loads(blob)", "pickle.loads( blob )"))
    code, out, _ = secreview(capsys, "diff", "HEAD", "--format", "sarif")
    assert code == 1
    results = json.loads(out)["runs"][0]["results"]
    assert [(r["ruleId"], r["baselineState"]) for r in results] == [("unsafe-deserialization", "unchanged")]


def test_removed_safeguard_beside_an_unchanged_line_is_reported(repo: Repo, capsys) -> None:
    repo.write("loader.py", """\
        import yaml


        def read(stream):
            return yaml.load(
                stream,
                Loader=yaml.SafeLoader,
            )
        """)
    repo.commit("Loader")
    repo.write("loader.py", """\
        import yaml


        def read(stream):
            return yaml.load(
                stream,
            )
        """)
    assert reported(capsys, "HEAD") == {("loader.py", 5, "yaml-unsafe-load")}


def test_deleting_a_line_beside_an_old_defect_does_not_report_it(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE.replace("def restore(blob):\n", "def restore(blob):\n    # trusted input\n"))
    repo.commit("Comment")
    repo.write("app.py", OLD_PICKLE)
    assert reported(capsys, "HEAD") == set()


def test_fixing_a_defect_lists_it_as_fixed(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE.replace("pickle.loads(blob)", "json.loads(blob)").replace("import pickle", "import json"))
    code, out, _ = secreview(capsys, "diff", "HEAD")
    assert code == 0
    assert "Fixed by this change (1):\n  app.py (line 6 before): HIGH CWE-502 unsafe-deserialization: return pickle.loads(blob)" in out
    code, out, _ = secreview(capsys, "diff", "HEAD", "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    assert [(r["ruleId"], r["baselineState"]) for r in results] == [("unsafe-deserialization", "absent")]


def test_claimed_fix_that_leaves_the_defect_is_called_out(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE.replace("def restore(blob):\n", "def restore(blob):\n    blob = bytes(blob)\n"))
    repo.commit("Fix unsafe deserialization of sessions")
    code, out, _ = secreview(capsys, "diff")
    assert code == 0  # the defect is old: it is called out, not blamed on the change
    assert ("Still present after this change, although the commit message speaks of a fix:\n"
            "  app.py line 7: HIGH CWE-502 unsafe-deserialization: return pickle.loads(blob)") in out
    code, out, _ = secreview(capsys, "diff", "--format", "gerrit")
    comments = json.loads(out)["robot_comments"]["app.py"]
    assert len(comments) == 1 and "Still present after this change" in comments[0]["message"]


def test_unrelated_commit_message_calls_nothing_out(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE.replace("def restore(blob):\n", "def restore(blob):\n    blob = bytes(blob)\n"))
    repo.commit("Accept memoryviews")
    code, out, _ = secreview(capsys, "diff")
    assert "Still present" not in out and code == 0


def test_fail_on_counts_only_new_findings(repo: Repo, capsys) -> None:
    repo.write("app.py", OLD_PICKLE + "\n\nimport hashlib\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n")
    code, _, _ = secreview(capsys, "diff", "HEAD", "--fail-on", "high")
    assert code == 0  # old HIGH untouched; the new finding (if any rule reports it) is below high
    repo.write("app.py", OLD_PICKLE + "\n\ndef restore_again(blob):\n    return pickle.loads(blob)\n")
    code, _, _ = secreview(capsys, "diff", "HEAD", "--fail-on", "high")
    assert code == 1


def test_paths_are_relative_to_the_repository_root_from_a_subdirectory(repo: Repo, capsys, monkeypatch) -> None:
    repo.write("pkg/mod.py", "import pickle\n\ndef a(b):\n    return pickle.loads(b)\n")
    monkeypatch.chdir(repo.path / "pkg")
    assert reported(capsys, "HEAD") == {("pkg/mod.py", 4, "unsafe-deserialization")}


# --- patches ---------------------------------------------------------------------------------


def test_patch_reports_what_the_working_tree_diff_reports(repo: Repo, capsys, tmp_path: Path) -> None:
    repo.write("app.py", OLD_PICKLE + "\n\ndef unsafe_settings(stream):\n    return yaml.load(stream)\n")
    repo.write("extra.py", "import dill\n\n\ndef load(data):\n    return dill.loads(data)\n")
    repo.git("add", "-A")
    expected = reported(capsys, "HEAD")
    repo.commit("Add unsafe loaders\n\nThey are needed for the legacy format.")
    patch = tmp_path / "change.patch"
    patch.write_text(repo.git("format-patch", "-1", "--stdout", "HEAD"))
    repo.git("reset", "-q", "--hard", "HEAD~1")
    assert reported(capsys, "--patch", str(patch)) == expected
    code, out, _ = secreview(capsys, "diff", "--patch", str(patch))
    assert code == 1
    assert "Commit message:\n    Add unsafe loaders\n\n    They are needed for the legacy format." in out
    assert (repo.path / "app.py").read_text() == OLD_PICKLE  # the checkout itself is left alone


def test_patch_from_standard_input(repo: Repo, capsys, monkeypatch) -> None:
    import io

    repo.write("app.py", OLD_PICKLE.replace("safe_load", "load"))
    diff = repo.git("diff")
    repo.git("checkout", "--", "app.py")

    class Stdin:
        buffer = io.BytesIO(diff.encode())

    monkeypatch.setattr("sys.stdin", Stdin)
    assert reported(capsys, "--patch", "-") == {("app.py", 10, "yaml-unsafe-load")}


def test_gerrit_base64_patch_is_accepted(repo: Repo, capsys, tmp_path: Path) -> None:
    import base64

    repo.write("app.py", OLD_PICKLE.replace("safe_load", "load"))
    repo.commit("Full loader")
    encoded = base64.b64encode(repo.git("format-patch", "-1", "--stdout").encode()).decode()
    repo.git("reset", "-q", "--hard", "HEAD~1")
    patch = tmp_path / "change.base64"
    patch.write_text(encoded)
    assert reported(capsys, "--patch", str(patch)) == {("app.py", 10, "yaml-unsafe-load")}


def test_parse_patch_understands_renames_deletions_and_quoted_paths() -> None:
    text = textwrap.dedent('''\
        diff --git a/old name.py b/new name.py
        similarity index 90%
        rename from old name.py
        rename to new name.py
        --- a/old name.py
        +++ b/new name.py
        @@ -2,0 +3,2 @@ def f():
        +x = 1
        +y = 2
        @@ -9 +10,0 @@
        -z = 3
        diff --git a/gone.py b/gone.py
        deleted file mode 100644
        --- a/gone.py
        +++ /dev/null
        @@ -1 +0,0 @@
        -import os
        diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"
        --- "a/caf\\303\\251.py"
        +++ "b/caf\\303\\251.py"
        @@ -1 +1 @@
        --- old
        +++ new
        ''')
    renamed, deleted, quoted = parse_patch(text)
    assert (renamed.old_path, renamed.new_path) == ("old name.py", "new name.py")
    assert renamed.changed_lines() == (frozenset({3, 4}), frozenset({10, 11}))
    assert (deleted.old_path, deleted.new_path) == ("gone.py", None)
    assert quoted.new_path == "café.py" and quoted.changed_lines()[0] == frozenset({1})


# --- bad input: one line on standard error, exit code 2 ---------------------------------------


def assert_usage_error(capsys, args: list[str], expected: str) -> None:
    code, out, err = secreview(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and expected in err, err


def test_not_a_git_repository(tmp_path: Path, capsys, monkeypatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert_usage_error(capsys, ["diff"], f"secreview: {plain.resolve()} is not in a git repository")
    assert_usage_error(capsys, ["diff", "--commit", "HEAD"], "is not in a git repository")


def test_base_that_does_not_exist(repo: Repo, capsys) -> None:
    assert_usage_error(capsys, ["diff", "origin/nowhere"], "secreview: base 'origin/nowhere' does not exist in this repository")
    assert_usage_error(capsys, ["diff", "--commit", "deadbeef"], "secreview: commit 'deadbeef' does not exist in this repository")
    assert_usage_error(capsys, ["diff", "--", "--output=x"], "does not exist in this repository")


def test_binary_patch_is_rejected(repo: Repo, capsys, tmp_path: Path) -> None:
    (repo.path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    repo.git("add", "logo.png")
    patch = tmp_path / "binary.patch"
    patch.write_text(repo.git("diff", "--cached", "--binary"))
    assert_usage_error(capsys, ["diff", "--patch", str(patch)],
                       f"secreview: {patch}: binary patch for logo.png: only text changes can be reviewed")


def test_patch_against_other_files(repo: Repo, capsys, tmp_path: Path) -> None:
    patch = tmp_path / "other.patch"
    patch.write_text(textwrap.dedent("""\
        diff --git a/nova/compute/api.py b/nova/compute/api.py
        --- a/nova/compute/api.py
        +++ b/nova/compute/api.py
        @@ -1 +1 @@
        -import os
        +import sys
        """))
    assert_usage_error(capsys, ["diff", "--patch", str(patch)],
                       f"secreview: {patch}: nova/compute/api.py is not in this checkout: the patch was made against other files")


def test_patch_that_does_not_apply_names_file_and_hunk(repo: Repo, capsys, tmp_path: Path) -> None:
    patch = tmp_path / "stale.patch"
    patch.write_text(textwrap.dedent("""\
        diff --git a/app.py b/app.py
        --- a/app.py
        +++ b/app.py
        @@ -1,2 +1,2 @@
         import pickle
        -import yaml
        +import yaml  # config
        @@ -9,2 +9,2 @@ def settings(stream):
         def settings(stream):
        -    return yaml.safe_load(stream, extra=True)
        +    return yaml.load(stream)
        """))
    assert_usage_error(capsys, ["diff", "--patch", str(patch)],
                       f"secreview: {patch}: does not apply to app.py: hunk 2 (@@ -9,2 +9,2 @@) does not match the checkout")


def test_not_a_patch(repo: Repo, capsys, tmp_path: Path) -> None:
    patch = tmp_path / "notes.txt"
    patch.write_text("just some words\n")
    assert_usage_error(capsys, ["diff", "--patch", str(patch)], f"secreview: {patch}: not a unified diff")


def test_patch_and_base_together(repo: Repo, capsys) -> None:
    assert_usage_error(capsys, ["diff", "HEAD", "--commit", "HEAD"], "give at most one of BASE, --commit and --patch")


# --- data flow: a trace that crosses the change (needs the taint engine) -------------------


needs_taint = pytest.mark.skipif(not rules.find("os-command-injection"), reason="the taint engine has not landed")

VIEW_HEAD = """\
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/convert")
def convert():
"""


@needs_taint
def test_old_source_new_sink(repo: Repo, capsys) -> None:
    repo.write("views.py", VIEW_HEAD + '    name = request.args.get("name", "")\n    return name\n')
    repo.commit("View")
    repo.write("views.py", VIEW_HEAD + '    name = request.args.get("name", "")\n'
               '    subprocess.run(f"convert {name} out.png", shell=True)\n    return name\n')
    assert reported(capsys, "HEAD") == {("views.py", 11, "os-command-injection")}


@needs_taint
def test_new_source_old_sink(repo: Repo, capsys) -> None:
    repo.write("views.py", VIEW_HEAD + '    name = "logo"\n'
               '    subprocess.run(f"convert {name} out.png", shell=True)\n    return name\n')
    repo.commit("View")
    repo.write("views.py", VIEW_HEAD + '    name = request.args.get("name", "")\n'
               '    subprocess.run(f"convert {name} out.png", shell=True)\n    return name\n')
    # the new source also makes the unchanged `return name` a reflected XSS
    assert reported(capsys, "HEAD") == {("views.py", 11, "os-command-injection"), ("views.py", 12, "xss")}


def test_excluded_paths_are_not_reviewed(repo: Repo, capsys) -> None:
    repo.write("generated/stubs.py", "import pickle\n\ndef a(b):\n    return pickle.loads(b)\n")
    repo.write("kept.py", "import pickle\n\ndef a(b):\n    return pickle.loads(b)\n")
    assert reported(capsys, "HEAD", "--exclude", "generated/*") == {("kept.py", 4, "unsafe-deserialization")}


def test_repository_without_commits(tmp_path: Path, capsys, monkeypatch) -> None:
    empty = Repo(tmp_path / "empty")
    empty.write("a.py", "import pickle\n\ndef a(b):\n    return pickle.loads(b)\n")
    monkeypatch.chdir(empty.path)
    assert reported(capsys) == {("a.py", 4, "unsafe-deserialization")}


def test_renamed_file_in_a_patch_keeps_its_history(repo: Repo, capsys, tmp_path: Path) -> None:
    repo.git("mv", "legacy.py", "compat.py")
    repo.write("compat.py", "import marshal\n\n\ndef code(data):\n    return marshal.loads(data)\n\n\nimport yaml\nyaml.load(x)\n")
    patch = tmp_path / "rename.patch"
    patch.write_text(repo.git("diff", "-M", "HEAD"))
    repo.git("reset", "-q", "--hard")
    assert reported(capsys, "--patch", str(patch)) == {("compat.py", 9, "yaml-unsafe-load")}


def test_diff_with_a_baseline_reports_only_findings_outside_it(repo: Repo, capsys, tmp_path: Path) -> None:
    repo.write("app.py", OLD_PICKLE.replace("safe_load", "load"))
    baseline_file = tmp_path / "baseline.json"
    assert main(["scan", "app.py", "--write-baseline", str(baseline_file)]) == 0
    capsys.readouterr()
    repo.write("app.py", OLD_PICKLE.replace("safe_load", "load") + "\n\ndef more(blob):\n    return pickle.loads(blob)\n")
    assert reported(capsys, "HEAD") == {("app.py", 10, "yaml-unsafe-load"), ("app.py", 14, "unsafe-deserialization")}
    assert reported(capsys, "HEAD", "--baseline", str(baseline_file)) == {("app.py", 14, "unsafe-deserialization")}


DB = 'import sqlite3\n\n\ndef find(name):\n    return sqlite3.connect("x").execute("SELECT * FROM t WHERE n = \'" + name + "\'")\n\n\nLIMIT = 10\n'
VIEWS = ('from flask import Flask, request\n\nfrom shop.db import find\n\napp = Flask(__name__)\n\n\n@app.route("/s")\n'
         'def search():\n    return str(find(request.args["q"]))\n\n\nVERSION = 1\n')


@needs_taint
def test_trace_lines_count_in_their_own_file(repo: Repo, capsys) -> None:
    repo.write("shop/__init__.py", "")
    repo.write("shop/db.py", DB)
    repo.write("shop/views.py", VIEWS)
    repo.commit("Shop")
    repo.write("shop/db.py", DB + "\nEXTRA = 1\n")  # lines 9-10 of db.py; the trace's source is line 10 of views.py
    repo.write("shop/views.py", VIEWS.replace("VERSION = 1", "VERSION = 2"))
    assert reported(capsys, "HEAD") == set()
    repo.write("shop/views.py", VIEWS.replace('request.args["q"]', 'request.args["query"]'))
    assert reported(capsys, "HEAD") == {("shop/db.py", 5, "sql-injection")}


# --- speed: processes, cache, progress ---------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
APPENDED_DEFECT = "\n\ndef _restore(blob):\n    import pickle\n    return pickle.loads(blob)\n"


@pytest.fixture
def project_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The taint corpus and the multi-module projects, committed, then changed in every file:
    the projects re-indented (their cross-module findings are touched, not new), a defect
    appended to each corpus file.  Enough files that both reviews of the diff use workers."""
    made = Repo(tmp_path / "project")
    shutil.copytree(FIXTURES / "taint_projects", made.path / "projects")
    shutil.copytree(FIXTURES / "taint", made.path / "corpus")
    made.commit("Import the corpus")
    for path in sorted((made.path / "projects").rglob("*.py")):
        path.write_text(path.read_text(encoding="utf-8").replace("\n    ", "\n        "), encoding="utf-8")
    for path in sorted((made.path / "corpus").rglob("*.py")):
        path.write_text(path.read_text(encoding="utf-8") + APPENDED_DEFECT, encoding="utf-8")
    monkeypatch.chdir(made.path)
    return made


def _review_of(result) -> list[tuple[str, list[str], list[str]]]:
    return [(r.path, [f.fingerprint for f in r.findings], sorted(result.baseline_state.get(f.fingerprint, "") for f in r.findings))
            for r in result.files] + [("fixed", sorted(e.fingerprint for e in result.fixed), [])]


@needs_taint
def test_diff_reports_the_same_bytes_for_any_jobs_with_or_without_the_cache(project_repo: Repo, capsys, tmp_path: Path) -> None:
    store = str(tmp_path / "cache")
    expected = secreview(capsys, "diff", "HEAD", "--format", "sarif", "--no-cache", "--jobs", "1")
    assert expected[0] == 1 and len(json.loads(expected[1])["runs"][0]["results"]) > 80
    for speed in (["--jobs", "4", "--cache-dir", store],  # cold: workers on both sides of the change
                  ["--jobs", "2", "--cache-dir", store],  # warm, the before review in a forked process
                  ["--jobs", "1", "--cache-dir", store],  # warm, both reviews in this process
                  ["--jobs", "2", "--no-cache"]):
        assert secreview(capsys, "diff", "HEAD", "--format", "sarif", *speed)[:2] == expected[:2], speed
    cold_text = secreview(capsys, "diff", "HEAD", "--no-cache", "--jobs", "1")
    assert secreview(capsys, "diff", "HEAD", "--cache-dir", store, "--jobs", "2") == cold_text


@needs_taint
def test_a_warm_diff_analyses_nothing_again_wherever_the_files_come_from(project_repo: Repo, tmp_path: Path) -> None:
    """Entries are keyed by content and the path shown, not by where the file lies: the commit's
    files written out of git to a scratch directory, or a patch applied to a scratch copy, find
    the entries the working-tree review wrote."""
    config = Config()
    directory = tmp_path / "cache"
    scratches = iter(tmp_path / f"scratch{n}" for n in range(10))
    change = working_tree_change(project_repo.path, "HEAD", config, next(scratches))
    looked_up = 2 * len(change.files) - sum(f.before is None for f in change.files)
    cold_store = Cache(directory)
    cold = review_change(change, config, jobs=2, cache=cold_store)
    assert (cold_store.hits, cold_store.misses) == (0, looked_up)
    warm_store = Cache(directory)
    assert _review_of(review_change(change, config, jobs=2, cache=warm_store)) == _review_of(cold)
    assert (warm_store.hits, warm_store.misses) == (looked_up, 0)

    patch = project_repo.path.parent / "change.patch"
    patch.write_bytes(subprocess.run(["git", "diff", "HEAD"], cwd=project_repo.path, capture_output=True, check=True).stdout)
    project_repo.commit("Re-indent the projects, add a defect to the corpus")
    committed = commit_change(project_repo.path, "HEAD", config, next(scratches))
    from_git = Cache(directory)
    assert _review_of(review_change(committed, config, jobs=1, cache=from_git)) == _review_of(cold)
    assert (from_git.hits, from_git.misses) == (looked_up, 0)

    project_repo.git("checkout", "-q", "HEAD~1")
    patched = patch_change(project_repo.path, patch.read_bytes(), config, next(scratches))
    from_patch = Cache(directory)
    assert _review_of(review_change(patched, config, jobs=2, cache=from_patch)) == _review_of(cold)
    assert (from_patch.hits, from_patch.misses) == (looked_up, 0)


def test_a_diff_drives_the_progress_display(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(progress_module, "REDRAW_EVERY_S", 0.0)
    repo.write("app.py", OLD_PICKLE.replace("safe_load", "load"))
    repo.write("new.py", "import marshal\n\n\ndef code(data):\n    return marshal.loads(data)\n")
    change = working_tree_change(repo.path, "HEAD", Config(), tmp_path / "scratch")
    terminal = _Terminal()
    review_change(change, Config(), jobs=1, progress=progress_module.Progress(terminal))
    # with one job the two reviews run in turn on the same line: two files after, one before
    assert "2/2 files" in terminal.text and "1/1 files" in terminal.text


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_diff_jobs_must_be_positive(repo: Repo, capsys) -> None:
    code, _, err = secreview(capsys, "diff", "HEAD", "--jobs", "0")
    assert code == 2 and "--jobs" in err
