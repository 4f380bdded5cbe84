"""Which files a review covers, and which of them are test code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e import scan, write

from secreview.config import Config
from secreview.discover import discover, is_test_path


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def found(*paths: str, config: Config | None = None) -> list[str]:
    files, problems = discover(list(paths), config or Config())
    assert problems == []
    return [f.path for f in files]


def test_walk_finds_python_files_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/b.py": "", "pkg/a.py": "", "pkg/sub/c.py": "", "pkg/readme.txt": "", "pkg/data.pyc": ""})
    assert found("pkg") == ["pkg/a.py", "pkg/b.py", "pkg/sub/c.py"]


def test_walk_finds_extensionless_scripts_with_a_python_shebang(tmp_path: Path) -> None:
    write(tmp_path, {
        "bin/tool": "#!/usr/bin/env python3\nprint(1)\n",
        "bin/legacy": "#!/usr/bin/python2.7\n",
        "bin/shell": "#!/bin/sh\necho python\n",
        "bin/notes": "python is mentioned but there is no shebang\n",
    })
    assert found("bin") == ["bin/legacy", "bin/tool"]


@pytest.mark.parametrize("folder", [".git", "__pycache__", ".tox", "node_modules", ".mypy_cache", "x.egg-info",
                                    "site-packages"])
def test_walk_skips_version_control_cache_and_installed_code_folders_silently(tmp_path: Path, folder: str) -> None:
    write(tmp_path, {f"proj/{folder}/hidden.py": "", "proj/kept.py": ""})
    assert found("proj") == ["proj/kept.py"]


# build/ and dist/ used to be skipped silently too; a change could hide code there from a gate,
# so they are now listed (not walked) when they hold Python files: see test_resources.py
@pytest.mark.parametrize("folder", ["build", "dist"])
def test_walk_does_not_enter_build_folders_but_lists_them(tmp_path: Path, folder: str) -> None:
    write(tmp_path, {f"proj/{folder}/lib/hidden.py": "", "proj/kept.py": ""})
    files, problems = discover(["proj"], Config())
    assert [f.path for f in files] == ["proj/kept.py"]
    assert [p.path for p in problems] == [f"proj/{folder}"]
    assert f"named like build output ({folder})" in problems[0].reason


def test_walk_skips_a_virtual_environment_of_any_name(tmp_path: Path) -> None:
    write(tmp_path, {"proj/myenv/pyvenv.cfg": "home = /usr/bin\n", "proj/myenv/lib/site.py": "", "proj/app.py": ""})
    assert found("proj") == ["proj/app.py"]


def test_explicit_path_inside_a_skipped_folder_is_still_reviewed(tmp_path: Path) -> None:
    write(tmp_path, {"proj/build/gen.py": "", "proj/.gitignore": "ignored.py\n", "proj/ignored.py": ""})
    assert found("proj/build/gen.py", "proj/ignored.py") == ["proj/build/gen.py", "proj/ignored.py"]


def test_explicit_directory_that_is_itself_skipped_by_name_is_walked(tmp_path: Path) -> None:
    # naming build/ on the command line is a request to review it
    write(tmp_path, {"build/gen.py": ""})
    assert found("build") == ["build/gen.py"]


def test_gitignore_patterns_are_honoured(tmp_path: Path) -> None:
    write(tmp_path, {
        "proj/.gitignore": "generated/\n*_pb2.py\n!keep_pb2.py\n",
        "proj/generated/out.py": "",
        "proj/api_pb2.py": "",
        "proj/keep_pb2.py": "",
        "proj/main.py": "",
    })
    assert found("proj") == ["proj/keep_pb2.py", "proj/main.py"]


def test_nested_gitignore_applies_below_its_own_folder_only(tmp_path: Path) -> None:
    write(tmp_path, {
        "proj/sub/.gitignore": "local.py\n",
        "proj/sub/local.py": "",
        "proj/sub/other.py": "",
        "proj/local.py": "",
    })
    assert found("proj") == ["proj/local.py", "proj/sub/other.py"]


def test_gitignore_above_the_scanned_folder_applies(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "vendored/\n", "src/vendored/lib.py": "", "src/app.py": ""})
    assert found("src") == ["src/app.py"]


def test_gitignore_can_be_turned_off(tmp_path: Path) -> None:
    write(tmp_path, {"proj/.gitignore": "*.py\n", "proj/a.py": ""})
    assert found("proj") == []
    assert found("proj", config=Config(respect_gitignore=False)) == ["proj/a.py"]


def test_exclude_globs_match_relative_paths_names_and_folders(tmp_path: Path) -> None:
    write(tmp_path, {"proj/migrations/0001.py": "", "proj/a_gen.py": "", "proj/app/views.py": ""})
    config = Config(exclude=("proj/migrations", "*_gen.py"))
    assert found("proj", config=config) == ["proj/app/views.py"]


def test_exclude_flag_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, {"proj/skip_me.py": "import pickle\npickle.loads(b'')\n", "proj/app.py": ""})
    document = scan("proj", "--exclude", "skip_*.py", "--format", "json").json()
    assert [f["path"] for f in document["files"]] == ["proj/app.py"]


def test_explicit_file_is_reviewed_even_when_an_exclude_matches_it(tmp_path: Path) -> None:
    write(tmp_path, {"proj/skip_me.py": ""})
    assert found("proj/skip_me.py", config=Config(exclude=("skip_*.py",))) == ["proj/skip_me.py"]
    assert found("proj", config=Config(exclude=("skip_*.py",))) == []


def test_missing_path_is_a_problem_not_a_silent_skip(tmp_path: Path) -> None:
    files, problems = discover(["absent.py"], Config())
    assert files == []
    assert [(p.path, p.reason) for p in problems] == [("absent.py", "no such file or directory")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_loop_between_folders_finishes(tmp_path: Path) -> None:
    write(tmp_path, {"proj/a/one.py": "", "proj/b/two.py": ""})
    (tmp_path / "proj/a/to_b").symlink_to(tmp_path / "proj/b", target_is_directory=True)
    (tmp_path / "proj/b/to_a").symlink_to(tmp_path / "proj/a", target_is_directory=True)
    (tmp_path / "proj/a/self").symlink_to(tmp_path / "proj", target_is_directory=True)
    assert found("proj") == ["proj/a/one.py", "proj/b/two.py"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_loop_named_py_is_reported_not_reviewed(tmp_path: Path) -> None:
    write(tmp_path, {"proj/app.py": ""})
    (tmp_path / "proj/loop.py").symlink_to("loop.py")
    files, problems = discover(["proj"], Config())
    assert [f.path for f in files] == ["proj/app.py"]
    assert [(p.path, p.reason) for p in problems] == [("proj/loop.py", "symbolic link loop")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_broken_symlink_named_on_the_command_line_is_reported(tmp_path: Path) -> None:
    (tmp_path / "gone.py").symlink_to("nowhere.py")
    files, problems = discover(["gone.py"], Config())
    assert files == []
    assert [(p.path, p.reason) for p in problems] == [("gone.py", "broken symbolic link")]


# --- test-code classification -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "tests/helpers.py",
        "pkg/tests/unit/views.py",
        "test/support.py",
        "pkg/test_views.py",
        "pkg/views_test.py",
        "conftest.py",
        "pkg/sub/conftest.py",
        "polls/tests.py",
    ],
)
def test_test_code_is_recognised(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize(
    "path",
    ["pkg/views.py", "pkg/testing_utils.py", "pkg/attest.py", "pkg/contest.py", "latest/app.py"],
)
def test_production_code_is_not_test_code(path: str) -> None:
    assert not is_test_path(path)


def test_discovered_files_carry_their_test_classification_and_module(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/views.py": "", "pkg/tests/__init__.py": "", "pkg/tests/test_views.py": ""})
    files, _ = discover(["pkg"], Config())
    classified = {f.path: (f.is_test, f.module) for f in files}
    assert classified == {
        "pkg/__init__.py": (False, "pkg"),
        "pkg/views.py": (False, "pkg.views"),
        "pkg/tests/__init__.py": (True, "pkg.tests"),
        "pkg/tests/test_views.py": (True, "pkg.tests.test_views"),
    }


def test_classification_uses_the_path_below_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a checkout that happens to live under a folder called "tests" is not all test code
    write(tmp_path, {"tests/checkout/app.py": ""})
    monkeypatch.chdir(tmp_path / "tests" / "checkout")
    files, _ = discover(["."], Config())
    assert [(f.path, f.is_test) for f in files] == [("app.py", False)]


def test_a_tree_nested_deeper_than_the_recursion_limit_is_walked(tmp_path: Path) -> None:
    import sys

    depth = sys.getrecursionlimit() + 100
    top = tmp_path / "deep"
    top.mkdir()
    os.chdir(top)  # one level at a time: the full path may exceed PATH_MAX
    try:
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        Path("found.py").write_text("", encoding="utf-8")
        os.chdir(tmp_path)
        files, problems = discover(["deep"], Config(respect_gitignore=False))
        assert problems == []
        assert [f.path.count("/") for f in files] == [depth + 1]
    finally:
        _remove_deep_tree(top, depth)


def _remove_deep_tree(top: Path, depth: int) -> None:
    """shutil.rmtree recurses per level, so pytest could not clean this tree up: remove it here."""
    os.chdir(top)
    for _ in range(depth):
        if not os.path.isdir("d"):
            break
        os.chdir("d")
    if os.path.exists("found.py"):
        os.remove("found.py")
    while Path.cwd() != top:
        os.chdir("..")
        os.rmdir("d")
    os.chdir(top.parent)


def test_nested_gitignore_can_re_include_what_a_parent_ignores(tmp_path: Path) -> None:
    write(tmp_path, {
        "proj/.gitignore": "*_gen.py\n",
        "proj/a_gen.py": "",
        "proj/keep/.gitignore": "!kept_gen.py\n",
        "proj/keep/kept_gen.py": "",
        "proj/keep/other_gen.py": "",
    })
    assert found("proj") == ["proj/keep/kept_gen.py"]


def test_a_directory_named_on_the_command_line_is_reviewed_even_if_gitignored(tmp_path: Path) -> None:
    write(tmp_path, {".git/HEAD": "", ".gitignore": "work/\n*_generated.py\n",
                     "work/tool.py": "", "work/api_generated.py": "", "app.py": ""})
    assert found(".") == ["app.py"]
    # the user asked for work/ itself, so the ignore files above it, which ignore it, do not apply
    assert found("work") == ["work/api_generated.py", "work/tool.py"]


def test_gitignore_files_above_the_repository_root_do_not_apply(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "*.py\n", "repo/.git/HEAD": "", "repo/app.py": ""})
    assert found("repo") == ["repo/app.py"]
