"""The front end reads every Python file the same way on any host: newer syntax (3.12 to 3.14),
Python 2, and files with syntax errors (see secreview.python.frontend)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secreview.config import Config
from secreview.discover import SourceFile
from secreview.python import frontend, lowering
from secreview.review import review_files

from expectations import read as read_expectations

FIXTURES = Path(__file__).parent / "fixtures" / "syntax"
FILES = sorted(FIXTURES.glob("*.py"))
PYENV = Path("/root/.pyenv/versions")
PYTHON2 = PYENV / "2.7.18" / "bin" / "python"
PYTHON313 = PYENV / "3.13.0" / "bin" / "python"
# which Python first reads each fixture; py2_* are Python 2, broken_* are read by none
NEWEST = {"pep701_fstrings.py": (3, 12), "pep695_type_params.py": (3, 13), "match_statement.py": (3, 12),
          "pep758_except.py": (3, 14), "pep750_templates.py": (3, 14)}


def review_one(path: Path):
    expectations = read_expectations(path)
    source = SourceFile(path=path.name, absolute=path, is_test=expectations.is_test_code)
    [review] = review_files([source], Config()).files
    return expectations, review


@pytest.mark.parametrize("fixture", FILES, ids=[f.name for f in FILES])
def test_syntax_fixture_findings_match_inline_expectations(fixture: Path) -> None:
    expectations, review = review_one(fixture)
    assert review.not_reviewed is None, review.not_reviewed
    actual = {(f.location.line, f.rule) for f in review.findings}
    missing = sorted(expectations.expected - actual)
    unexpected = sorted(actual - expectations.expected)
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}"
    python2 = [n for n in review.incomplete if n.startswith("read as Python 2")]
    errors = [n for n in review.incomplete if n.startswith("syntax error")]
    assert bool(python2) == fixture.name.startswith("py2_"), review.incomplete
    assert bool(errors) == fixture.name.startswith("broken_"), review.incomplete


@pytest.mark.parametrize("name", sorted(NEWEST))
def test_new_syntax_fixture_needs_the_new_reader_on_older_hosts(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    if sys.version_info >= NEWEST[name]:
        pytest.skip("the host reads this syntax itself")
    with pytest.raises(SyntaxError):
        ast.parse(text)
    assert frontend.read(text).way == "lowered"


@pytest.mark.skipif(not PYTHON313.exists(), reason="no CPython 3.13 here")
@pytest.mark.parametrize("name", sorted(n for n, v in NEWEST.items() if v <= (3, 13)))
def test_new_syntax_fixture_is_valid_for_python_3_13(name: str) -> None:
    check = subprocess.run([str(PYTHON313), "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                            str(FIXTURES / name)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.skipif(not PYTHON2.exists(), reason="no CPython 2.7 here")
@pytest.mark.parametrize("fixture", [f for f in FILES if f.name.startswith("py2_")], ids=lambda f: f.name)
def test_python2_fixture_is_valid_python2(fixture: Path) -> None:
    # compiled, never run
    check = subprocess.run([str(PYTHON2), "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                            str(fixture)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


# --- positions -----------------------------------------------------------------------------

def dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the host reads PEP 701 itself")
def test_pep701_quotes_swapped_keep_every_column() -> None:
    tree = frontend.read('x = f"{d["k"]}" + y\n').tree
    assert dump(tree) == dump(ast.parse("x = f'{d[\"k\"]}' + y\n"))


def test_python2_rewrites_keep_lines_and_the_columns_of_what_they_keep() -> None:
    text = 'print "a", b\nif a <> b: os.chmod(p, 0755)\nraise E, msg\nexec code in ns\nx = ur"q"\n'
    tree = frontend.read(text).tree
    call = tree.body[0].value
    assert (call.func.id, [a.col_offset for a in call.args]) == ("print", [6, 11])
    compare = tree.body[1].test
    assert isinstance(compare.ops[0], ast.NotEq) and (compare.comparators[0].col_offset == 8)
    mode = tree.body[1].body[0].value.args[1]
    assert (mode.value, mode.lineno, mode.col_offset) == (0o755, 2, 23)
    raised = tree.body[2].exc
    assert (raised.func.id, raised.args[0].id, raised.args[0].col_offset) == ("E", "msg", 9)
    executed = tree.body[3].value
    assert [a.id for a in executed.args] == ["code", "ns"] and executed.args[1].col_offset == 13
    assert tree.body[4].value.value == "q" and tree.body[4].lineno == 5


def test_except_comma_reads_a_binding_in_python2_and_a_tuple_in_python_3_14() -> None:
    py2 = frontend.read("try:\n    pass\nexcept ValueError, error:\n    print error\n")
    assert py2.tree.body[0].handlers[0].name == "error" and py2.notes[0].startswith("read as Python 2")
    pep758 = frontend.read("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n")
    handler = pep758.tree.body[0].handlers[0]
    assert handler.name is None and [e.id for e in handler.type.elts] == ["ValueError", "TypeError"]
    assert pep758.notes == []


def test_template_string_is_a_call_whose_arguments_are_its_parts() -> None:
    tree = frontend.read('x = t"ls {cmd!r:>{w}} now"\n').tree
    call = tree.body[0].value
    assert isinstance(call, ast.Call) and call.func.id == lowering.TEMPLATE_FUNCTION
    assert [ast.unparse(a) for a in call.args] == ["'ls '", "cmd", "w", "' now'"]
    assert (call.args[1].lineno, call.args[1].col_offset) == (1, 10)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the host reads PEP 701 itself")
def test_built_fstring_matches_what_the_host_builds_for_the_same_string() -> None:
    # a backslash in a field: no quote swap can make 3.11 read it, so the tree is built
    built = frontend.read('x = f"a{"-".join(b)!r:>{w}} {c=}"\n').tree
    host = ast.parse("x = f'a{\"-\".join(b)!r:>{w}} {c=}'\n")
    assert dump(built) == dump(host)
    backslash = frontend.read('x = f"{"\\n".join(lines)}"\n').tree
    value = backslash.body[0].value
    assert isinstance(value, ast.JoinedStr) and value.values[0].value.func.value.value == "\n"


# --- recovery ------------------------------------------------------------------------------

def test_one_broken_function_costs_only_that_function() -> None:
    text = ("import os\n\n\ndef good(a):\n    return os.system(a)\n\n\n"
            "def broken(b):\n    x = = b\n    return x\n\n\ndef later(c):\n    return os.system(c)\n")
    read = frontend.read(text)
    # the smallest region that makes the rest readable: the broken statement
    assert [n.name for n in read.tree.body if isinstance(n, ast.FunctionDef)] == ["good", "broken", "later"]
    assert read.notes == ["syntax error at line 9 (invalid syntax): line 9 not reviewed"]
    assert isinstance(read.tree.body[2].body[0], ast.Pass) and read.tree.body[2].body[1].lineno == 10
    assert read.tree.body[-1].lineno == 13


def test_merge_conflict_markers_are_skipped_and_both_sides_read() -> None:
    text = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\nz = 4\n"
    read = frontend.read(text)
    assert [n.lineno for n in read.tree.body] == [1, 3, 5, 7]
    assert read.notes == ["merge-conflict marker lines 2, 4, 6 skipped; both sides reviewed"]


def test_errors_in_several_places_each_get_a_note_and_the_rest_is_read() -> None:
    text = ("def a():\n    return 1 +\n\n"
            "def b():\n    return 2\n\n"
            "def c(:\n    return 3\n\n"
            "value = [1, 2\n\n"
            "def d():\n    return 4\n")
    read = frontend.read(text)
    names = [n.name for n in read.tree.body if isinstance(n, ast.FunctionDef)]
    assert "b" in names and "d" in names and "c" not in names
    notes = [n for n in read.notes if n.startswith("syntax error")]
    assert [int(n.split()[4]) for n in notes] == [2, 7, 10]


def test_a_file_with_nothing_readable_is_still_a_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        frontend.read("def broken(:\n    pass\n")


def test_recovery_is_bounded_on_a_file_of_errors() -> None:
    text = "".join(f"def f{k}(:\n    pass\nx{k} = {k}\n" for k in range(40))
    started = time.process_time()
    read = frontend.read(text)
    assert time.process_time() - started < 20
    assert any(isinstance(n, ast.Assign) for n in read.tree.body)


# --- a mixed tree, end to end --------------------------------------------------------------

BROKEN = '''import os

from flask import Flask, request

app = Flask(__name__)


@app.route("/a")
def first():
    os.system("ls " + request.args["a"])
    return "a"


@app.route("/b")
def half_written():
    name = request.args["b"
    os.system("ls " + name)
    return "b"


@app.route("/c")
def third():
    os.system("cat " + request.args["c"])
    return "c"
'''


def test_mixed_tree_is_reviewed_whole_in_every_format(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for fixture in FILES:
        shutil.copy(fixture, tree / fixture.name)
    (tree / "half_edited.py").write_text(BROKEN, encoding="utf-8")
    command = [sys.executable, "-m", "secreview", "scan", "tree", "--no-cache", "-q"]
    run = subprocess.run(command + ["--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)
    files = {f["path"]: f for f in document["files"]}
    assert all(f["reviewed"] for f in files.values()), [f["not_reviewed_reason"] for f in files.values()]
    found = {(Path(path).name, finding["location"]["line"], finding["rule"])
             for path, f in files.items() for finding in f["findings"]}
    for fixture in FILES:
        for line, rule in read_expectations(fixture).expected:
            assert (fixture.name, line, rule) in found
    broken = files["tree/half_edited.py"]
    assert broken["incomplete"] == ["syntax error at line 16 ('[' was never closed): line 16 not reviewed"]
    # line 17 uses `name`, whose broken assignment was skipped: a value of unknown origin
    assert {(f["location"]["line"], f["rule"]) for f in broken["findings"]} == {
        (10, "os-command-injection"), (17, "os-command-injection"), (23, "os-command-injection")}
    syntax_notes = [n for f in files.values() for n in f["incomplete"] if n.startswith("syntax error")]
    assert len(syntax_notes) == 1
    for fmt in ("text", "sarif", "gerrit", "github"):
        output = subprocess.run(command + ["--format", fmt], cwd=tmp_path, capture_output=True, text=True).stdout
        if fmt == "gerrit":  # the review message lists files; the notes' words are the other formats'
            message = json.loads(output)["message"]
            assert "Read as Python 2: tree/py2_flask_handlers.py." in message
            assert "Syntax errors: tree/half_edited.py line 16." in message
            continue
        assert "read as Python 2" in output, fmt
        assert "syntax error at line 16" in output, fmt
