"""The taint engine on small programs: semantics one at a time, models, projects, robustness."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from secreview import models
from secreview.config import Config, ConfigError, load
from secreview.discover import SourceFile
from secreview.python import dataflow
from secreview.python.module import ModuleContext
from secreview.python.source import parse
from secreview.review import review_files


def flows(code: str, module: str = "app") -> set[tuple[int, str, str]]:
    """(line, sink kind, source kind) of every flow found in ``code``."""
    text = textwrap.dedent(code)
    ctx = ModuleContext(parse(f"{module}.py", text.encode()), module_name=module)
    return {(f.location.line, f.kind, f.source_kind) for f in dataflow.module_flows(ctx)}


def http(code: str) -> set[tuple[int, str]]:
    return {(line, kind) for line, kind, source in flows(code) if source == "http"}


FLASK = """
import os, subprocess, shlex, re
from flask import Flask, request, redirect
import requests
app = Flask(__name__)
ALLOWED = {"a", "b"}
DEBUG = False
"""


def test_source_to_shell_through_assignment_and_fstring() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    name = request.args["name"]
    cmd = f"convert {name} out.png"
    subprocess.run(cmd, shell=True)
""") == {(13, "shell")}


def test_constant_commands_and_code_are_not_flows() -> None:
    assert flows(FLASK + """
def run():
    subprocess.run("ls -l", shell=True)
    eval("1+2")
    os.system("echo " + ("a" if DEBUG else "b"))
""") == set()


def test_pruned_branch_does_not_reach_the_sink() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    value = request.args["v"]
    if DEBUG:
        os.system(value)
    cmd = value if False else "ls"
    os.system(cmd)
""") == set()


def test_sanitizers_are_per_kind() -> None:
    found = http(FLASK + """
@app.route("/x")
def view():
    quoted = shlex.quote(request.args["v"])
    os.system("echo " + quoted)
    return "<p>" + quoted + "</p>"
""")
    assert found == {(13, "html")}


def test_conversion_to_number_cleans_every_kind() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    n = int(request.args["n"])
    os.system("sleep %s" % n)
""") == set()


def test_container_elements_keep_their_own_taint() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    parts = {"safe": "ls", "user": request.args["u"]}
    os.system(parts["safe"])
    os.system(parts["user"])
    pair = ("date", request.args["u"])
    os.system(pair[0])
""") == {(13, "shell")}


def test_validation_that_ends_the_path_cleans_the_value() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    choice = request.args["c"]
    if choice not in ALLOWED:
        return "no"
    os.system("run " + choice)
    other = request.args["o"]
    if not re.fullmatch(r"[a-z]+", other):
        raise ValueError(other)
    os.system("run " + other)
""") == set()


def test_parameterised_query_is_safe_and_formatted_query_is_not() -> None:
    assert http(FLASK + """
import sqlite3
@app.route("/x/<uid>")
def view(uid):
    cur = sqlite3.connect("db").cursor()
    cur.execute("SELECT * FROM t WHERE id = ?", (uid,))
    cur.execute("SELECT * FROM t WHERE id = '%s'" % uid)
""") == {(14, "sql")}


def test_host_fixed_by_a_constant_prefix_is_not_ssrf() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    uid = request.args["id"]
    requests.get(f"https://api.example.com/users/{uid}")
    requests.get("https://" + uid + "/status")
""") == {(13, "url")}


def test_summary_carries_a_parameter_to_a_sink_and_sanitisation_back() -> None:
    found = http(FLASK + """
def run(cmd):
    subprocess.run(cmd, shell=True)

def quoted(value):
    return shlex.quote(value)

@app.route("/x")
def view():
    run("echo " + request.args["a"])
    run("echo " + quoted(request.args["b"]))
""")
    assert found == {(10, "shell")}


def test_flow_trace_goes_from_source_through_the_call_to_the_sink() -> None:
    text = textwrap.dedent(FLASK + """
def run(cmd):
    subprocess.run(cmd, shell=True)

@app.route("/x")
def view():
    name = request.args["a"]
    run(name)
""")
    ctx = ModuleContext(parse("app.py", text.encode()), module_name="app")
    [flow] = [f for f in dataflow.module_flows(ctx) if f.source_kind == "http"]
    lines = [step.location.line for step in flow.trace]
    assert lines[0] == 14 and lines[-1] == 10
    assert any("passed to `run` as `cmd`" in step.label for step in flow.trace)


def test_unknown_value_reaches_a_shell_at_low_trust_only_without_callers() -> None:
    found = flows("""
import os
def library_entry(cmd):
    os.system(cmd)
""")
    assert found == {(4, "shell", "param")}


def test_fields_of_objects_built_from_input() -> None:
    assert http(FLASK + """
class Job:
    def __init__(self, target):
        self.target = target
        self.fixed = "/srv"
    def run(self):
        os.system("tar " + self.target)
    def run_fixed(self):
        os.system("tar " + self.fixed)

@app.route("/x")
def view():
    job = Job(request.args["p"])
    job.run()
    job.run_fixed()
""") == {(14, "shell")}


def test_loops_reach_a_fixed_point() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    cmd = "ls"
    for part in request.args.getlist("p"):
        cmd = cmd + " " + part
    os.system(cmd)
""") == {(14, "shell")}


def test_cross_module_flow_is_reported_at_the_sink_in_the_other_file(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "db.py").write_text("import sqlite3\n\ndef find(name):\n"
                                   "    return sqlite3.connect('x').execute(\"SELECT * FROM t WHERE n = '\" + name + \"'\")\n")
    (package / "views.py").write_text("from flask import Flask, request\nfrom shop.db import find\n"
                                      "app = Flask(__name__)\n\n@app.route('/s')\ndef search():\n"
                                      "    return str(find(request.args['q']))\n")
    files = [SourceFile(f"shop/{name}", package / name, False, f"shop.{name[:-3]}".replace(".__init__", ""))
             for name in ("__init__.py", "db.py", "views.py")]
    result = review_files(files, Config())
    by_path = {r.path: [(f.rule, f.location.line) for f in r.findings] for r in result.files}
    assert ("sql-injection", 4) in by_path["shop/db.py"]
    [finding] = [f for r in result.files for f in r.findings if f.rule == "sql-injection"]
    assert [s.location.path for s in finding.trace][0] == "shop/views.py"


def test_deep_nesting_degrades_instead_of_failing() -> None:
    depth = 150
    code = "from flask import request\nimport os\ndef f():\n    x = " + "(" * depth + "request.args['a']" + ")" * depth + "\n    os.system(x)\n"
    ctx = ModuleContext(parse("deep.py", code.encode()), module_name="deep")
    dataflow.module_flows(ctx)  # no exception


def test_enclosing_function_and_statement_are_found_from_any_node_in_any_order() -> None:
    import ast

    code = textwrap.dedent("""\
        x = len([1, 2])
        class C:
            def method(self):
                handler = lambda value: str(value)
                def inner():
                    return run(a + b + c)
                return inner
        """)
    ctx = ModuleContext(parse("scopes.py", code.encode()), module_name="scopes")
    functions = {f.name: f for f in ctx.nodes(ast.FunctionDef)}
    calls = {c.func.id if isinstance(c.func, ast.Name) else c.func.attr: c for c in ctx.nodes(ast.Call)}
    names = {n.id: n for n in ctx.nodes(ast.Name)}
    # asked innermost first, then outermost, so answers remembered from one walk serve the next
    for _ in range(2):
        assert ctx.enclosing_function(names["c"]) is functions["inner"]
        assert ctx.enclosing_function(calls["run"]) is functions["inner"]
        assert ctx.enclosing_function(functions["inner"]) is functions["method"]
        assert ctx.enclosing_function(calls["str"]) is functions["method"]  # a lambda is no function here
        assert ctx.enclosing_function(calls["len"]) is None
        assert ctx.statement(names["a"]) is ctx.statement(calls["run"]) is functions["inner"].body[0]
        assert ctx.statement(calls["len"]) is ctx.tree.body[0]
        assert ctx.statement(functions["inner"]) is functions["inner"]


def test_a_bad_model_file_is_a_clear_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[[sink]]\ncalls = ['x.run']\n")
    (tmp_path / "pyproject.toml").write_text("[tool.secreview]\nmodels = ['bad.toml']\n")
    with pytest.raises(ConfigError, match="bad.toml: sink #1: kind"):
        load(tmp_path / "pyproject.toml")


def test_user_model_file_adds_a_sink(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('[[sink]]\ncalls = ["acme.shell.run"]\nkind = "shell"\nargs = [0]\n')
    extended = models.load((str(tmp_path / "mine.toml"),))
    assert "acme.shell.run" in extended.call_sinks
    assert "acme.shell.run" not in models.load().call_sinks


def test_request_args_converted_by_type_keyword_are_clean() -> None:
    assert http(FLASK + """
@app.route("/x")
def view():
    os.system("seq %s" % request.args.get("n", type=int))
    os.system("seq %s" % request.args.get("m"))
""") == {(12, "shell")}


def test_a_sink_armed_by_an_option_set_on_its_receiver() -> None:
    assert http(FLASK + """
import xml.sax
from xml.sax.handler import feature_external_ges
@app.route("/x", methods=["POST"])
def view():
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    parser.parse(request.stream)
    default = xml.sax.make_parser()
    default.parse(request.stream)
""") == {(15, "xml")}


def test_anchored_regular_expression_checks_validate() -> None:
    assert http(FLASK + """
WORD = re.compile(r"^[a-z]+$")
@app.route("/x")
def view():
    a = request.args["a"]
    if not re.match(r"[a-z]+$", a):
        return "no"
    b = request.args["b"]
    if not WORD.match(b):
        return "no"
    c = request.args["c"]
    if not re.match(r"[a-z]+", c):
        return "no"
    os.system(a + b)
    os.system(c)
""") == {(22, "shell")}


def test_a_validation_helper_of_the_project_cleans_what_it_validates() -> None:
    assert http(FLASK + """
from urllib.parse import urlparse, urljoin
def is_safe_url(target):
    test_url = urlparse(urljoin(request.host_url, target))
    return test_url.scheme in ("http", "https") and urlparse(request.host_url).netloc == test_url.netloc

@app.route("/login")
def login():
    nxt = request.args["next"]
    if not is_safe_url(nxt):
        return "no"
    other = request.args["other"]
    return redirect(nxt) if other == "a" else redirect(other)
""") == {(20, "redirect")}


def test_a_validator_that_raises_cleans_its_argument_in_the_caller() -> None:
    assert http(FLASK + """
def check_name(name):
    if not re.fullmatch(r"[a-z]+", name):
        raise ValueError(name)

def note(name):
    print(name)

@app.route("/x")
def view():
    a = request.args["a"]
    check_name(a)
    os.system("echo " + a)
    b = request.args["b"]
    note(b)
    os.system("echo " + b)
""") == {(23, "shell")}


def test_thousands_of_sequential_branches_keep_the_flow_through_them() -> None:
    # each if/else writes a new name from the last: every join sees thousands of live names
    blocks = "".join(f"    if flag:\n        v{i} = v{i - 1} + 'x'\n    else:\n        v{i} = v{i - 1}\n"
                     for i in range(1, 3001))
    code = FLASK + "@app.route('/x')\ndef view(flag):\n    v0 = request.args['q']\n" + blocks + "    os.system(v3000)\n"
    line = code.count("\n")
    assert http(code) == {(line, "shell")}


def _review_one(tmp_path: Path, code: str):
    path = tmp_path / "views.py"
    path.write_text(code)
    [review] = review_files([SourceFile("views.py", path, False, "views")], Config()).files
    return review


SUM_VIEW = """import sqlite3
from flask import request

def view():
    cursor = sqlite3.connect("app.db").cursor()
    a, b = "x", "y"
    q = "SELECT " + {terms}
    cursor.execute(q)
"""


def test_a_sum_of_thousands_of_terms_keeps_its_tainted_term(tmp_path: Path) -> None:
    terms = " + ".join(["a", "b"] * 2500) + ' + request.args["x"]'
    review = _review_one(tmp_path, SUM_VIEW.format(terms=terms))
    assert (review.not_reviewed, review.incomplete) == (None, [])
    assert [(f.rule, f.location.line) for f in review.findings] == [("sql-injection", 8)]


def test_a_sum_of_thousands_of_constants_stays_clean(tmp_path: Path) -> None:
    terms = " + ".join(f"'t{i}'" for i in range(5000))
    review = _review_one(tmp_path, SUM_VIEW.format(terms=terms))
    assert (review.not_reviewed, review.incomplete, review.findings) == (None, [], [])
