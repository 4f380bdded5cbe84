"""``# secreview: ignore[rule-or-CWE] reason`` comments, ``--strict`` and Bandit's ``# nosec``."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import scan, write


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def review(tmp_path: Path, code: str, *flags: str) -> dict:
    write(tmp_path, {"mod.py": code})
    run = scan("mod.py", "--format", "json", *flags)
    assert run.code in (0, 1), run.stderr
    [entry] = run.json()["files"]
    return entry


def lines_flagged(entry: dict) -> list[tuple[int, str]]:
    return [(f["location"]["line"], f["rule"]) for f in entry["findings"]]


def test_unsuppressed_finding_is_reported(tmp_path: Path) -> None:
    entry = review(tmp_path, "import pickle\npickle.loads(b'')\n")
    assert lines_flagged(entry) == [(2, "unsafe-deserialization")]


@pytest.mark.parametrize("selector", ["unsafe-deserialization", "CWE-502", "cwe-502", "yaml-unsafe-load, unsafe-deserialization"])
def test_ignore_by_rule_or_cwe_on_the_flagged_line(tmp_path: Path, selector: str) -> None:
    entry = review(tmp_path, f"import pickle\npickle.loads(b'')  # secreview: ignore[{selector}] cache we wrote\n")
    assert entry["findings"] == []
    assert entry["unused_suppressions"] == []


def test_ignore_for_another_rule_does_not_silence_and_is_unused(tmp_path: Path) -> None:
    entry = review(tmp_path, "import pickle\npickle.loads(b'')  # secreview: ignore[yaml-unsafe-load] wrong rule\n")
    assert lines_flagged(entry) == [(2, "unsafe-deserialization")]
    assert [u["line"] for u in entry["unused_suppressions"]] == [2]


MULTI_LINE = """\
import pickle


def restore(blob, hooks):
    state = apply(
        hooks,
        pickle.loads(blob),
        strict=True,
    )
    return state
"""


@pytest.mark.parametrize("line", [5, 6, 7, 8, 9])
def test_ignore_on_any_line_of_a_multi_line_statement(tmp_path: Path, line: int) -> None:
    lines = MULTI_LINE.splitlines()
    lines[line - 1] += "  # secreview: ignore[unsafe-deserialization] blob is signed upstream"
    entry = review(tmp_path, "\n".join(lines) + "\n")
    assert entry["findings"] == [], f"comment on line {line} did not suppress"


@pytest.mark.parametrize("line", [4, 10])
def test_ignore_on_a_neighbouring_statement_does_not_leak(tmp_path: Path, line: int) -> None:
    lines = MULTI_LINE.splitlines()
    lines[line - 1] += "  # secreview: ignore[unsafe-deserialization]"
    entry = review(tmp_path, "\n".join(lines) + "\n")
    assert lines_flagged(entry) == [(7, "unsafe-deserialization")]


def test_ignore_on_a_compound_header_covers_the_header_only(tmp_path: Path) -> None:
    code = (
        "import pickle\n"
        "if pickle.loads(b''):  # secreview: ignore[unsafe-deserialization] header\n"
        "    pickle.loads(b'')\n"
    )
    assert lines_flagged(review(tmp_path, code)) == [(3, "unsafe-deserialization")]


def test_bare_ignore_silences_every_rule_on_the_statement(tmp_path: Path) -> None:
    code = "import pickle, yaml\nx = (pickle.loads(b''), yaml.load(''))  # secreview: ignore\n"
    assert review(tmp_path, code)["findings"] == []


def test_text_in_a_string_is_not_a_suppression(tmp_path: Path) -> None:
    code = "import pickle\npickle.loads(b'# secreview: ignore')\n"
    assert lines_flagged(review(tmp_path, code)) == [(2, "unsafe-deserialization")]


def test_strict_lists_unused_and_bare_suppressions_in_the_text(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": (
        "import pickle\n"
        "pickle.loads(b'')  # secreview: ignore\n"
        "x = 1  # secreview: ignore[unsafe-deserialization] left over\n"
    )})
    relaxed = scan("mod.py").stdout
    assert "unused suppression" not in relaxed and "without a rule" not in relaxed
    strict = scan("mod.py", "--strict").stdout
    assert "unused suppression, line 3: # secreview: ignore[unsafe-deserialization] left over" in strict
    assert "suppression without a rule or CWE, line 2" in strict


def test_strict_does_not_change_what_is_reported_or_the_exit_code(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')\nx = 1  # secreview: ignore[CWE-502]\n"})
    assert scan("mod.py").code == scan("mod.py", "--strict").code == 1


def test_nosec_is_ignored_unless_asked_for(tmp_path: Path) -> None:
    code = "import pickle\npickle.loads(b'')  # nosec B301\n"
    assert lines_flagged(review(tmp_path, code)) == [(2, "unsafe-deserialization")]
    assert review(tmp_path, code, "--nosec")["findings"] == []


def test_nosec_when_not_honoured_is_not_reported_as_unused(tmp_path: Path) -> None:
    assert review(tmp_path, "x = 1  # nosec\n", "--strict")["unused_suppressions"] == []


def test_honoured_nosec_is_not_called_a_bare_suppression(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')  # nosec\n"})
    assert "without a rule" not in scan("mod.py", "--nosec", "--strict").stdout


def test_suppressed_findings_do_not_fail_the_build(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')  # secreview: ignore[CWE-502] signed\n"})
    assert scan("mod.py").code == 0


def test_json_lists_bare_and_unused_suppressions_by_line(tmp_path: Path) -> None:
    entry = review(tmp_path, (
        "import pickle\n"
        "pickle.loads(b'')  # secreview: ignore\n"
        "x = 1  # secreview: ignore[CWE-502] nothing here\n"
    ))
    assert entry["bare_suppressions"] == [2]
    assert entry["unused_suppressions"] == [{"line": 3, "text": "# secreview: ignore[CWE-502] nothing here"}]


# --- Bandit's '# nosec' and Ruff's '# noqa', by code -----------------------------------------

TWO_DEFECTS = "import hashlib, subprocess\nsubprocess.run(cmd, shell=True); h = hashlib.md5(data)  {comment}\n"


def rules_flagged(entry: dict) -> set[str]:
    return {f["rule"] for f in entry["findings"]}


def test_both_defects_are_found_without_a_comment(tmp_path: Path) -> None:
    assert rules_flagged(review(tmp_path, TWO_DEFECTS.format(comment=""))) == {"os-command-injection", "weak-hash"}


@pytest.mark.parametrize("comment", ["# nosec B602", "# nosec: B602", "# nosec B602 reviewed by ops",
                                     "# nosec subprocess_popen_with_shell_equals_true", "#nosec b602"])
def test_nosec_with_a_bandit_id_silences_only_the_mapped_rule(tmp_path: Path, comment: str) -> None:
    entry = review(tmp_path, TWO_DEFECTS.format(comment=comment), "--nosec")
    assert rules_flagged(entry) == {"weak-hash"}


def test_nosec_naming_both_ids_silences_both(tmp_path: Path) -> None:
    assert review(tmp_path, TWO_DEFECTS.format(comment="# nosec B602, B324"), "--nosec")["findings"] == []


@pytest.mark.parametrize("comment", ["# nosec", "# nosec - checked by hand"])
def test_bare_nosec_silences_every_rule(tmp_path: Path, comment: str) -> None:
    assert review(tmp_path, TWO_DEFECTS.format(comment=comment), "--nosec")["findings"] == []


def test_nosec_with_an_id_no_rule_maps_silences_nothing(tmp_path: Path) -> None:
    entry = review(tmp_path, TWO_DEFECTS.format(comment="# nosec B110"), "--nosec", "--strict")
    assert rules_flagged(entry) == {"os-command-injection", "weak-hash"}
    assert entry["unused_suppressions"] == []  # B110 is Bandit's try/except/pass: not secreview's to judge


def test_a_word_that_only_mentions_nosec_is_not_a_nosec(tmp_path: Path) -> None:
    code = "import pickle\npickle.loads(b'')  # see the nosec policy\n"
    assert lines_flagged(review(tmp_path, code, "--nosec")) == [(2, "unsafe-deserialization")]


@pytest.mark.parametrize("comment", ["# noqa: S324", "# noqa:S324", "# NOQA: E501, S324", "# noqa: S324,S101"])
def test_noqa_with_a_ruff_code_silences_only_the_mapped_rule(tmp_path: Path, comment: str) -> None:
    entry = review(tmp_path, TWO_DEFECTS.format(comment=comment), "--noqa")
    assert rules_flagged(entry) == {"os-command-injection"}


def test_noqa_is_ignored_unless_asked_for(tmp_path: Path) -> None:
    entry = review(tmp_path, TWO_DEFECTS.format(comment="# noqa: S324"))
    assert rules_flagged(entry) == {"os-command-injection", "weak-hash"}


def test_noqa_key_in_the_configuration(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.secreview]\nnoqa = true\n"})
    entry = review(tmp_path, TWO_DEFECTS.format(comment="# noqa: S602"))
    assert rules_flagged(entry) == {"weak-hash"}


def test_noqa_key_must_be_a_boolean(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.secreview]\nnoqa = \"yes\"\n", "mod.py": "x = 1\n"})
    run = scan("mod.py")
    assert run.code == 2 and "noqa must be true or false" in run.stderr


@pytest.mark.parametrize("comment", ["# noqa", "# noqa E501"])  # no colon: a bare noqa to flake8 and Ruff
def test_bare_noqa_silences_every_rule(tmp_path: Path, comment: str) -> None:
    assert review(tmp_path, TWO_DEFECTS.format(comment=comment), "--noqa")["findings"] == []


def test_noqa_of_another_linter_silences_nothing(tmp_path: Path) -> None:
    entry = review(tmp_path, TWO_DEFECTS.format(comment="# noqa: E501"), "--noqa", "--strict")
    assert rules_flagged(entry) == {"os-command-injection", "weak-hash"}
    assert entry["unused_suppressions"] == []


def test_nosec_and_noqa_in_one_comment_each_count(tmp_path: Path) -> None:
    code = TWO_DEFECTS.format(comment="# nosec B602  # noqa: S324")
    assert rules_flagged(review(tmp_path, code, "--nosec")) == {"weak-hash"}
    assert rules_flagged(review(tmp_path, code, "--noqa")) == {"os-command-injection"}
    assert review(tmp_path, code, "--nosec", "--noqa")["findings"] == []


def test_nosec_on_another_line_of_the_statement(tmp_path: Path) -> None:
    code = "import subprocess\nsubprocess.run(\n    cmd,\n    shell=True,  # nosec B602\n)\n"
    assert review(tmp_path, code, "--nosec")["findings"] == []


def test_strict_lists_unused_suppressions_of_every_kind(tmp_path: Path) -> None:
    entry = review(tmp_path, (
        "import pickle\n"
        "pickle.loads(b'')  # nosec B301\n"
        "a = 1  # secreview: ignore[weak-hash] gone\n"
        "b = 2  # nosec B602\n"
        "c = 3  # nosec\n"
        "d = 4  # noqa: S324\n"
        "e = 5  # noqa\n"
    ), "--nosec", "--noqa", "--strict")
    assert entry["findings"] == []
    assert entry["unused_suppressions"] == [
        {"line": 3, "text": "# secreview: ignore[weak-hash] gone"},
        {"line": 4, "text": "# nosec B602"},
        {"line": 5, "text": "# nosec"},
        {"line": 6, "text": "# noqa: S324"},
    ]  # line 7: a bare noqa serves every linter, so it is not secreview's to call unused


def test_strict_text_names_an_unused_noqa(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": "x = 1  # noqa: S602\n"})
    assert "unused suppression, line 1: # noqa: S602" in scan("mod.py", "--noqa", "--strict").stdout


def test_cached_analysis_keeps_the_kind_and_codes_of_each_mark(tmp_path: Path) -> None:
    write(tmp_path, {"mod.py": TWO_DEFECTS.format(comment="# nosec B602  # noqa: S324")})
    cache = str(tmp_path / "cache")
    for _ in range(2):  # the second run reads the marks back from the cache
        nosec = scan("mod.py", "--format", "json", "--cache-dir", cache, "--nosec").json()["files"][0]
        noqa = scan("mod.py", "--format", "json", "--cache-dir", cache, "--noqa").json()["files"][0]
        assert rules_flagged(nosec) == {"weak-hash"}
        assert rules_flagged(noqa) == {"os-command-injection"}
    assert list((tmp_path / "cache").rglob("*.json"))


# --- finding the directive comments: the tree's string spans agree with the tokenizer ---------

_TRICKY_COMMENTS = [
    'x = "# nosec"\n',
    'x = "# nosec"  # noqa: S105\n',
    "x = f'{a:#x} # secreview: ignore'  # nosec B105\n",
    'DOC = """\n# nosec inside a docstring\n"""\n',
    'x = ("a"  # nosec\n     "b")\n',
    'x = ("a" "b"  # noqa\n     )\n',
    '@route("/#noqa")\ndef view():\n    pass\n',
    '@route("/a")  # secreview: ignore[CWE-79]\nclass View:\n    pass\n',
    'x = "caf\u00e9 # x"  # NOSEC\n',
    'x = 1  # nosec\r\ny = "#noqa"\r\n',
    'x = 1  # nosec\ry = 2  # noqa\n',
    "x = 'a\\\n# nosec'\n",
    'x = b"#nosec" + "#" # Noqa\n',
]


@pytest.mark.parametrize("code", _TRICKY_COMMENTS)
def test_directive_comments_are_those_the_tokenizer_finds(code: str) -> None:
    import ast

    from secreview.python import source

    assert source._comments(code, ast.parse(code)) == source._comments(code, None)


def test_every_fixture_s_directive_comments_are_those_the_tokenizer_finds() -> None:
    import ast

    from secreview.python import source

    fixtures = Path(__file__).parent / "fixtures"
    compared = 0
    for path in sorted(fixtures.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue  # the front end tokenizes what the host cannot parse
        assert source._comments(text, tree) == source._comments(text, None), path
        compared += 1
    assert compared > 100
