"""Hostile file names, code, commit messages and baselines cannot write a line of any report.

The corpus is in ``bench/hostile.py`` (``bench/robustness.py`` runs it too): names and contents
with line breaks, separators, ESC sequences, C1 and bidi controls and CI runner commands, run
through every format of ``scan``, ``scan --baseline`` and ``diff --commit``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from secreview.cli import main
from secreview.report.escape import json_visible, visible, visible_lines

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import hostile  # noqa: E402  (bench/ is not a package)

HUMAN_FORMATS = ("text", "github", "gerrit", "github-review")


# --- the escaping ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("\t\v\f", "\\t\\v\\f"), ("\x00\x07\x1b[2J", "\\x00\\x07\\x1b[2J"),
    ("\x1c\x1d\x1e\x1f\x7f", "\\x1c\\x1d\\x1e\\x1f\\x7f"), ("\x85\x9b", "\\x85\\x9b"),
    ("\u2028\u2029", "\\u2028\\u2029"), ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
    ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"),
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"), ("tag\U000e0041", "tag\\U000e0041"),
    ("name\udcff.py", "name\\xff.py"), ("lone\ud800", "lone\\ud800"),
])
def test_each_character_that_could_act_is_shown_as_an_escape(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize("raw, shown", [
    ("::error file=a.py::FORGED", "\\x3a:error file=a.py::FORGED"),
    ("   ::warning::x", "   \\x3a:warning::x"),
    ("\u3000::notice::x", "\u3000\\x3a:notice::x"),  # the runner trims Unicode white space too
    ("a ##[error]x", "a ##\\x5berror]x"), ("##vso[task.complete]", "##vso\\x5btask.complete]"),
    ("##TeamCity[build]", "##TeamCity\\x5bbuild]"),
])
def test_ci_runner_markers_are_defused(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize("ordinary", [
    "subprocess.run(f\"convert {name} out.png\", shell=True)", "print(\"a\\nb\")  # a backslash stays one",
    "pillar CWE-707 Improper Neutralization · rule os-command-injection", "naïve = 'Grüße, 世界'", "a::b", "# heading",
    "",
])
def test_ordinary_text_is_unchanged(ordinary: str) -> None:
    assert visible(ordinary) == ordinary


def test_a_multi_line_value_splits_on_newline_only() -> None:
    assert visible_lines("one\r\ntwo\u2028three\x85four\n::error::x") == ["one", "two\\u2028three\\x85four", "\\x3a:error::x"]


def test_json_keeps_the_value_and_shows_nothing_raw() -> None:
    value = {"path": "a\x7f\x85\u2028\u2029\u202e\u2066\udcff\U000e0041é中\n##[error]x ##vso[y]", "n": [1, "::x"]}
    document = json.dumps(value, ensure_ascii=False)
    escaped = json_visible(document)
    assert json.loads(escaped) == json.loads(document)
    assert not [c for c in escaped if hostile.is_raw_hidden(c)]
    assert "é中" in escaped and "##[" not in escaped and "##vso[" not in escaped


# --- the count of lines chosen by the reviewed code ---------------------------------------------

def test_the_count_finds_forged_lines_and_raw_characters() -> None:
    output = ("app.py\n::error file=a.py::FORGED\n    ::warning::indented\nterminal \x1b[2J\n"
              "bidi \u202e\nlegacy ##[error]x\nazure ##vso[task.complete]\nfine \\x1b and \\n\n")
    assert hostile.chosen_lines(output, "text") == output.split("\n")[1:7]


def test_the_count_tells_a_genuine_annotation_from_a_forged_one() -> None:
    genuine = ("::error file=app.py,line=3,endLine=3,col=5,endColumn=9,title=os-command-injection (CWE-78%2C critical)::"
               "CRITICAL CWE-78%0AFix: quote it")
    gap = "::warning file=bad.py,title=not reviewed::not valid Python"
    forged = ["::error file=app.py::FORGED", "a stray line the reviewed code broke out"]
    assert hostile.chosen_lines("\n".join([genuine, gap, *forged]) + "\n", "github") == forged


# --- the corpus, every format -------------------------------------------------------------------

LABELS = hostile.case_labels(with_git=hostile.has_git())


def _run_in_process(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    def run(argv: list[str], cwd: Path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        code = main(argv)
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _human_texts(output: str, fmt: str) -> list[str]:
    """The parts of an output that a person reads, decoded from their container."""
    if fmt in ("text", "github"):
        return [output]
    document = json.loads(output)
    if fmt == "gerrit":
        return [document["message"]] + [c["message"] for cs in document.get("robot_comments", {}).values() for c in cs]
    if fmt == "github-review":
        return [document["body"]] + [c["body"] for c in document["comments"]]
    raise AssertionError(fmt)


@pytest.mark.parametrize("label", LABELS)
def test_no_line_of_any_output_is_chosen_by_the_reviewed_code(label: str, tmp_path: Path, capsys, monkeypatch) -> None:
    cases = {c.label: c for c in hostile.build_corpus(tmp_path)}
    assert sorted(cases) == sorted(LABELS)
    case = cases[label]
    code, out, err = _run_in_process(capsys, monkeypatch)(list(case.argv), case.cwd)
    output = hostile.Output(case, code, out, err)
    assert not output.crashed, err
    assert hostile.chosen_lines(out, case.format) == []
    assert hostile.chosen_lines(err) == []
    if label.startswith(("scan ", "diff ")) and "missing" not in label:
        assert code == 1, err  # the corpus is reported, so its text is in the report
    if case.format in HUMAN_FORMATS and code == 1:
        shown = "\n".join(_human_texts(out, case.format))
        assert "\\x1b]" in shown and "\\u202e" in shown  # the masked previews of the corpus' passwords
        assert hostile.MARKER in shown
    if case.format in ("json", "sarif") and code == 1:
        assert "\\u202e" in out and "\u202e" in json.dumps(json.loads(out), ensure_ascii=False)  # exact value, escaped


def test_the_review_text_names_each_hostile_file_on_its_own_line(tmp_path: Path, capsys, monkeypatch) -> None:
    case = {c.label: c for c in hostile.build_corpus(tmp_path)}["scan text"]
    _, out, _ = _run_in_process(capsys, monkeypatch)(list(case.argv), case.cwd)
    headers = [line for line in out.split("\n") if line.endswith(".py") and not line.startswith(" ")]
    assert "nl\\n::error file=app.py,line=1::FORGED-name.py" in headers
    assert "\\x3a:error file=lead.py::FORGED-lead.py" in headers
    assert "esc\\x1b]0;FORGED-title\\x07\\x1b[2J\\x1b[1A.py" in headers
    assert "sep\\u2028::error::FORGED-ls\\u2029::error::FORGED-ps.py" in headers
    assert "  unused suppression, line 18: # secreview: ignore[weak-hash] \\x1b[2J\\v::error::FORGED-comment" in out.split("\n")


@pytest.mark.skipif(not hostile.has_git(), reason="git is not installed")
def test_a_hostile_commit_message_keeps_its_lines_each_indented(tmp_path: Path, capsys, monkeypatch) -> None:
    case = {c.label: c for c in hostile.build_corpus(tmp_path)}["diff --commit text"]
    _, out, _ = _run_in_process(capsys, monkeypatch)(list(case.argv), case.cwd)
    lines = out.split("\n")
    start = lines.index("Commit message:") + 1
    message = lines[start:start + hostile.COMMIT_MESSAGE.rstrip("\n").count("\n") + 1]
    assert message == [f"    {line}".rstrip() for line in visible_lines(hostile.COMMIT_MESSAGE.rstrip("\n"))]
    assert "    \\x3a:error file=app.py,line=1::FORGED-commit" in message
    assert "      \\x3a:warning::FORGED-indented" in message
    assert lines[start + len(message)] == ""  # and nothing of it spills past its block


def test_the_fixed_entries_of_a_hostile_baseline_are_shown_escaped(tmp_path: Path, capsys, monkeypatch) -> None:
    case = {c.label: c for c in hostile.build_corpus(tmp_path)}["scan text against a baseline"]
    _, out, _ = _run_in_process(capsys, monkeypatch)(list(case.argv), case.cwd)
    assert ("  nl\\n::error file=app.py,line=1::FORGED-name.py (line 3 before): CRITICAL CWE-78 os-command-injection: "
            "os.system(\\x1b[2J\\n::error::FORGED-fixed\\u202e)") in out.split("\n")


def test_errors_on_standard_error_show_a_hostile_path_escaped(tmp_path: Path, capsys, monkeypatch) -> None:
    cases = {c.label: c for c in hostile.build_corpus(tmp_path)}
    run = _run_in_process(capsys, monkeypatch)
    _, _, err = run(list(cases["a baseline that does not exist"].argv), tmp_path / "tree")
    assert "none\\n::error::FORGED.json: cannot be read" in err
    _, _, err = run(list(cases["scan of a missing path"].argv), tmp_path / "tree")
    assert "missing\\n::error::FORGED-missing\\x1b[2J.py" in err


@pytest.mark.skipif(not hostile.has_git(), reason="git is not installed")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_undecodable_names_do_not_stop_a_report_written_as_strict_utf8(fmt: str, tmp_path: Path) -> None:
    """git hands over the name with byte 0xff, which Python holds as a lone surrogate."""
    case = {c.label: c for c in hostile.build_corpus(tmp_path)}[f"diff --commit {fmt}"]
    code, out, err = hostile.run_in_subprocess(list(case.argv), case.cwd)
    assert code == 1 and "Traceback" not in err, err
    shown = "undecodable\\xff.py" if fmt == "text" else "undecodable\\udcff.py"  # JSON: the exact value, escaped
    assert shown in out
    assert hostile.chosen_lines(out, fmt) == [] and hostile.chosen_lines(err) == []
