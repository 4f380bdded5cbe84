"""Input a reviewer meets in real trees: every bad file is listed as "not reviewed: <reason>" in
every format, the rest of the review goes on, the exit code follows the findings, and no
traceback ever reaches the user."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e import (
    assert_valid_review_json,
    assert_valid_sarif,
    cli,
    scan,
    subprocess_cli,
    write,
)

from secreview import rules
from secreview.config import Config
from secreview.discover import SourceFile
from secreview.python.source import NotReviewable, parse
from secreview.review import review_file, review_files

PYTHON = "{}.{}".format(*sys.version_info[:2])  # whose syntax judges the files

ONE_MEGABYTE_LINE = "x = '" + "a" * 1_000_000 + "'\n"
LATIN1 = "# -*- coding: latin-1 -*-\nimport pickle\n\nGREETING = 'déjà vu'\n\n\ndef restore(blob):\n    return pickle.loads(blob)\n"

BAD_TREE: dict[str, str | bytes] = {
    "tree/syntax_error.py": "def broken(:\n    pass\n",
    "tree/binary.py": bytes(range(256)) * 4,
    "tree/latin1.py": LATIN1.encode("latin-1"),
    "tree/empty.py": "",
    "tree/huge_line.py": ONE_MEGABYTE_LINE,
    "tree/nested_parens.py": "x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n",
    "tree/long_sum.py": "x = " + "+".join(["1"] * 100_000) + "\n",
    "tree/bad_utf8.py": b"name = '\xff\xfe caf\xe9'\n",
    "tree/unknown_codec.py": "# -*- coding: no-such-codec -*-\nx = 1\n",
    "tree/good.py": "import json\n\n\ndef load(text):\n    return json.loads(text)\n",
}

EXPECTED_NOT_REVIEWED = {
    "tree/syntax_error.py": "not valid Python",
    "tree/binary.py": "binary file",
    "tree/bad_utf8.py": "cannot be decoded as utf-8",
    "tree/unknown_codec.py": "unknown source encoding",
    "tree/loop.py": "symbolic link loop",
}
EXPECTED_REVIEWED = {"tree/latin1.py", "tree/empty.py", "tree/huge_line.py", "tree/good.py"}
# Whether the parser accepts these depends on the Python version (3.10 takes the long sum):
# either reviewed, or not reviewed with a reason; never a traceback.
VERSION_DEPENDENT = {"tree/nested_parens.py", "tree/long_sum.py"}


@pytest.fixture
def bad_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, BAD_TREE)
    (tmp_path / "tree/loop.py").symlink_to("loop.py")
    (tmp_path / "tree/cycle").mkdir()
    (tmp_path / "tree/cycle/back").symlink_to("..", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_json_lists_every_bad_file_with_a_reason_and_reviews_the_rest(bad_tree: Path) -> None:
    run = scan("tree", "--format", "json")
    assert run.code == 1  # the Latin-1 file's pickle.loads
    assert run.stderr == ""
    document = assert_valid_review_json(run.stdout)
    by_path = {f["path"]: f for f in document["files"]}
    assert set(by_path) == set(EXPECTED_NOT_REVIEWED) | EXPECTED_REVIEWED | VERSION_DEPENDENT
    for path, reason in EXPECTED_NOT_REVIEWED.items():
        assert by_path[path]["reviewed"] is False, path
        assert by_path[path]["not_reviewed_reason"].startswith(reason), path
    for path in EXPECTED_REVIEWED:
        assert by_path[path]["reviewed"] is True, (path, by_path[path]["not_reviewed_reason"])
        assert by_path[path]["incomplete"] == [], path
    for path in VERSION_DEPENDENT:
        entry = by_path[path]
        assert entry["reviewed"] or entry["not_reviewed_reason"], path
        assert entry["findings"] == [], path


def test_latin1_file_with_a_coding_line_is_reviewed_with_its_finding(bad_tree: Path) -> None:
    document = scan("tree/latin1.py", "--format", "json").json()
    [finding] = document["files"][0]["findings"]
    assert (finding["rule"], finding["location"]["line"]) == ("unsafe-deserialization", 8)


def test_text_says_not_reviewed_with_the_reason(bad_tree: Path) -> None:
    run = scan("tree")
    assert run.code == 1 and run.stderr == ""
    assert f"tree/syntax_error.py\n  not reviewed: not valid Python {PYTHON} (invalid syntax, line 1)" in run.stdout
    assert "tree/binary.py\n  not reviewed: binary file" in run.stdout
    assert "tree/loop.py\n  not reviewed: symbolic link loop" in run.stdout
    assert "tree/empty.py" not in run.stdout and "No security defects are detected in the other" in run.stdout
    assert " not reviewed;" in run.stdout.splitlines()[-1]


def test_sarif_carries_not_reviewed_files_as_notifications(bad_tree: Path) -> None:
    run = scan("tree", "--format", "sarif")
    assert run.code == 1 and run.stderr == ""
    [sarif_run] = assert_valid_sarif(run.stdout)["runs"]
    notified = {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n
        for n in sarif_run["invocations"][0]["toolExecutionNotifications"]
    }
    # outside a repository, %SRCROOT% is the reviewed files' common folder: tree/
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (bad_tree / "tree").resolve().as_uri() + "/"
    expected = {path.removeprefix("tree/") for path in EXPECTED_NOT_REVIEWED}
    assert expected <= set(notified) <= expected | {path.removeprefix("tree/") for path in VERSION_DEPENDENT}
    assert all(n["level"] == "error" for n in notified.values())
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_run["results"]] == ["latin1.py"]


def test_exit_code_follows_findings_not_unreviewable_files(bad_tree: Path) -> None:
    (bad_tree / "tree/latin1.py").unlink()
    run = scan("tree")
    assert run.code == 0, run.stdout
    assert "not reviewed" in run.stdout


def test_no_traceback_as_a_separate_process(bad_tree: Path) -> None:
    # the in-process tests check json and sarif; this one sees what a shell user sees
    run = subprocess_cli("scan", "tree", cwd=bad_tree)
    assert run.code == 1
    assert "Traceback" not in run.stderr and run.stderr == ""


def test_one_megabyte_line_over_the_limit_is_not_reviewed_with_the_reason(bad_tree: Path) -> None:
    document = scan("tree/huge_line.py", "--max-file-size", "500000", "--format", "json").json()
    reason = document["files"][0]["not_reviewed_reason"]
    assert reason == f"file too large ({len(ONE_MEGABYTE_LINE)} bytes; limit 500000, see max-file-size)"


def test_one_megabyte_line_under_the_limit_is_reviewed(bad_tree: Path) -> None:
    document = scan("tree/huge_line.py", "--format", "json").json()
    assert document["files"][0]["reviewed"] is True


def test_explicitly_named_bad_file_is_not_reviewed_not_an_error(bad_tree: Path) -> None:
    run = scan("tree/binary.py")
    assert run.code == 0
    assert "not reviewed: binary file" in run.stdout


def test_stdin_holding_invalid_python(bad_tree: Path) -> None:
    run = scan("-", "--format", "json", stdin="def f(:\n")
    assert run.code == 0
    assert run.json()["files"][0]["not_reviewed_reason"].startswith("not valid Python")


# --- the parser front end directly --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"x = 1\x00\n", "binary file"),
        (b"\xef\xbb\xbf# coding: latin-1\n", "unknown source encoding"),  # BOM contradicts the coding line
        (b"x = '\xe9'\n", "cannot be decoded as utf-8"),
        (b"x = 1\n  y = 2\n", f"not valid Python {PYTHON} (unexpected indent, line 2)"),
        (b"x = 'unterminated\n", "not valid Python"),
    ],
)
def test_parse_turns_every_failure_into_not_reviewable(data: bytes, reason: str) -> None:
    with pytest.raises(NotReviewable) as caught:
        parse("mod.py", data)
    assert str(caught.value).startswith(reason)


def test_utf8_bom_and_crlf_are_reviewed() -> None:
    parsed = parse("mod.py", b"\xef\xbb\xbfimport os\r\nx = 1  # secreview: ignore[CWE-502]\r\n")
    assert parsed.line(1) == "import os"
    assert parsed.comments == {2: "# secreview: ignore[CWE-502]"}


# --- deep and large input that parses: reviewed, or stopped with a reason ----------------


def _source(directory: Path, name: str, code: str) -> SourceFile:
    path = directory / name
    path.write_text(code, encoding="utf-8")
    return SourceFile(name, path, False, path.stem)


def deserialization_only(source: SourceFile, data: bytes) -> tuple[list, list[str], str | None]:
    active = [r for r in rules.all_rules() if r.cwe == 502]
    review = review_file(source, data, Config(), active)
    return review.findings, review.incomplete, review.not_reviewed


@pytest.mark.parametrize("depth", [500, 2000])
def test_deep_but_parsable_expression_is_reviewed_or_stopped_with_a_reason(tmp_path: Path, depth: int) -> None:
    code = "import pickle\nx = pickle.loads(" + " + ".join(["blob"] * depth) + ")\n"
    review = review_files([_source(tmp_path, "deep.py", code)], Config()).files[0]
    if review.not_reviewed is None:
        assert [f.rule for f in review.findings] == ["unsafe-deserialization"] or review.incomplete
    else:
        assert review.not_reviewed


def test_rule_that_recurses_too_deep_costs_that_rule_only(tmp_path: Path) -> None:
    def bottomless(ctx):
        raise RecursionError("maximum recursion depth exceeded")

    broken = rules.Rule(id="bottomless", cwe=502, severity=rules.Severity.LOW, confidence=rules.Confidence.LOW,
                        summary="never finishes", check=bottomless)
    active = [broken, *(r for r in rules.all_rules() if r.id == "unsafe-deserialization")]
    source = _source(tmp_path, "mod.py", "import pickle\npickle.loads(b'')\n")
    review = review_file(source, source.absolute.read_bytes(), Config(), active)
    assert [f.rule for f in review.findings] == ["unsafe-deserialization"]
    assert review.incomplete == ["rule bottomless stopped: code nested too deeply"]


def test_many_suppressions_on_one_long_statement_stay_linear() -> None:
    # one comment on every line of a generated 12 000-line statement: quadratic matching took ~1 minute
    lines = ["import pickle", "TABLE = ["]
    lines += [f"    pickle.loads(b'{i}'),  # secreview: ignore[unsafe-deserialization] generated" for i in range(12_000)]
    lines.append("]")
    data = ("\n".join(lines) + "\n").encode()
    source = SourceFile("table.py", None, False, "table")
    started = time.perf_counter()
    findings, incomplete, not_reviewed = deserialization_only(source, data)
    elapsed = time.perf_counter() - started
    assert (findings, incomplete, not_reviewed) == ([], [], None)
    assert elapsed < 15, f"{elapsed:.1f} s"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlink_loop_named_on_the_command_line(bad_tree: Path) -> None:
    run = scan("tree/loop.py", "--format", "json")
    assert run.code == 0
    assert run.json()["files"][0]["not_reviewed_reason"] == "symbolic link loop"


@pytest.mark.skipif(os.name != "posix", reason="file names that are not UTF-8 exist on POSIX file systems")
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_file_names_that_are_not_utf8_or_need_quoting_are_reported_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    defect = b"import pickle\npickle.loads(b'')\n"
    for name in (b"caf\xe9.py", b"sp ace & [x].py", "\u00fcn\u00ef.py".encode()):
        with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
            handle.write(defect)
    run = subprocess_cli("scan", ".", "--format", fmt, cwd=tmp_path)
    assert run.code == 1 and run.stderr == "", run.stderr
    if fmt == "json":
        paths = [f["path"] for f in assert_valid_review_json(run.stdout)["files"]]
        assert paths == ["caf\\xe9.py", "sp ace & [x].py", "\u00fcn\u00ef.py"]
    elif fmt == "sarif":
        results = assert_valid_sarif(run.stdout)["runs"][0]["results"]
        uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
        assert uris == ["%C3%BCn%C3%AF.py", "caf%5Cxe9.py", "sp%20ace%20%26%20%5Bx%5D.py"]
    else:
        assert "caf\\xe9.py\n  HIGH" in run.stdout


def test_form_feed_and_unicode_line_separators_do_not_shift_snippets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Python breaks lines only at \n, \r\n and \r; str.splitlines also breaks at \f and U+2028
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"mod.py": "import pickle\nx = 'a\u2028b'  \f\r\npickle.loads(x)\r"})
    [finding] = scan("mod.py", "--format", "json").json()["files"][0]["findings"]
    assert (finding["location"]["line"], finding["location"]["snippet"]) == (3, "pickle.loads(x)")


def test_columns_count_characters_not_utf8_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ast's col_offset counts UTF-8 bytes; SARIF declares columnKind unicodeCodePoints
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"mod.py": "import pickle\nx = 'd\u00e9j\u00e0 \U0001f512'; y = pickle.loads(x)\n"})
    [finding] = scan("mod.py", "--format", "json").json()["files"][0]["findings"]
    line = "x = 'd\u00e9j\u00e0 \U0001f512'; y = pickle.loads(x)"
    start = line.index("pickle") + 1
    assert (finding["location"]["column"], finding["location"]["end_column"]) == (start, start + len("pickle.loads(x)"))


@pytest.mark.parametrize(
    "expression",
    ['"a" * 10**9', "[0] * 10**9", "10**9 * (1,)", '"%1000000000d" % 1', '"%.1000000000f" % 1.0', "(10**60)**60**60"],
)
def test_constant_folding_never_builds_huge_values(tmp_path: Path, expression: str) -> None:
    # one short line must not make the reviewer allocate gigabytes; the value is simply unknown
    code = f"import subprocess\nCOMMAND = {expression}\nsubprocess.call(COMMAND, shell=True)\n"
    source = _source(tmp_path, "mod.py", code)
    started = time.perf_counter()
    review = review_files([source], Config()).files[0]
    assert review.not_reviewed is None and review.incomplete == []
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    ("error", "reason"),
    [(RecursionError(), "code nested too deeply to analyse"), (KeyError("boom"), "internal error (KeyError: 'boom')")],
)
def test_failure_outside_the_rules_costs_only_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, reason: str,
) -> None:
    from secreview import review as review_module

    real = review_module.ModuleContext

    def fragile(parsed, *args, **kwargs):
        if parsed.path.endswith("fragile.py"):
            raise error
        return real(parsed, *args, **kwargs)

    monkeypatch.setattr(review_module, "ModuleContext", fragile)
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"fragile.py": "x = 1\n", "sound.py": "import pickle\npickle.loads(b'')\n"})
    run = scan(".", "--format", "json")
    assert run.code == 1 and run.stderr == ""
    by_path = {f["path"]: f for f in run.json()["files"]}
    assert by_path["fragile.py"]["not_reviewed_reason"].startswith(reason)
    assert [x["rule"] for x in by_path["sound.py"]["findings"]] == ["unsafe-deserialization"]


def test_a_failing_rule_is_shown_as_not_fully_reviewed_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from secreview import review as review_module

    def broken(ctx):
        raise ValueError("unexpected node")

    failing = rules.Rule(id="broken-rule", cwe=502, severity=rules.Severity.LOW, confidence=rules.Confidence.LOW,
                         summary="always fails", check=broken, docs={h: "-" for h in rules.DOC_HEADINGS})
    real_active = review_module.active_rules
    monkeypatch.setattr(review_module, "active_rules", lambda config: [failing, *real_active(config)])
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"mod.py": "import pickle\npickle.loads(b'')\n"})

    text_run = scan("mod.py")
    assert text_run.code == 1 and text_run.stderr == ""
    assert "  not fully reviewed: rule broken-rule failed: ValueError: unexpected node" in text_run.stdout
    [entry] = assert_valid_review_json(scan("mod.py", "--format", "json").stdout)["files"]
    assert entry["reviewed"] is True
    assert entry["incomplete"] == ["rule broken-rule failed: ValueError: unexpected node"]
    assert [f["rule"] for f in entry["findings"]] == ["unsafe-deserialization"]
    [run] = assert_valid_sarif(scan("mod.py", "--format", "sarif").stdout)["runs"]
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "warning"
    assert "not fully reviewed: rule broken-rule failed" in notification["message"]["text"]


# --- issue 16: bad input that printed tracebacks or misleading messages -------------------------


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")])
def test_a_utf16_file_is_named_for_what_it_is_not_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        codec: str, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    text = "import os\nos.system(input())\n"
    data = ("\ufeff" + text).encode(codec) if codec.endswith("-be") else text.encode(codec)
    (tmp_path / "wide.py").write_bytes(data)
    document = scan("wide.py", "--no-cache", "--format", "json").json()
    (review,) = document["files"]
    assert review["not_reviewed_reason"].startswith(f"{name} encoded (byte order mark): Python cannot run it")
    assert "binary" not in review["not_reviewed_reason"]


def test_nul_bytes_after_a_utf16_mark_that_do_not_decode_are_binary() -> None:
    with pytest.raises(NotReviewable, match="binary file"):
        parse("x.py", b"\xff\xfe\x00\xd8")  # a lone surrogate: not UTF-16 text


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_that_cannot_be_written_names_the_file_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import os\nos.system(input())\n")
    to_file = subprocess_cli("scan", "app.py", "--no-cache", "-o", "/dev/full", cwd=tmp_path)
    assert (to_file.code, to_file.stderr) == (2, "secreview: /dev/full: cannot write the report: No space left on device\n")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "secreview", "scan", "app.py", "--no-cache"], cwd=tmp_path,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (
        2, "secreview: standard output: cannot write the report: No space left on device\n")


def test_a_patch_is_read_only_up_to_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secreview import cli as cli_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_module, "MAX_PATCH_BYTES", 1000)
    (tmp_path / "big.diff").write_bytes(b"x" * 1001)
    run = cli("diff", "--patch", "big.diff", "--no-cache")
    assert (run.code, run.stderr) == (2, "secreview: big.diff: not read: a patch is at most 1000 bytes\n")
    if Path("/dev/zero").exists():  # never ends: read until the bound, not until memory runs out
        run = cli("diff", "--patch", "/dev/zero", "--no-cache")
        assert (run.code, run.stderr) == (2, "secreview: /dev/zero: not read: a patch is at most 1000 bytes\n")
    run = cli("diff", "--patch", ".", "--no-cache")
    assert (run.code, run.stderr) == (2, "secreview: .: Is a directory\n")


@pytest.mark.parametrize(
    ("error", "reason"),
    [(RecursionError(), "nesting too deep"), (MemoryError(), "out of memory while parsing")],
)
def test_a_parser_that_gives_up_names_why(monkeypatch: pytest.MonkeyPatch, error: Exception, reason: str) -> None:
    from secreview.python import frontend, source

    def exhausted(text: str, path: str):
        raise error

    monkeypatch.setattr(frontend, "read", exhausted)
    with pytest.raises(source.NotReviewable, match=reason):
        source.parse("huge.py", b"x = 1\n")
