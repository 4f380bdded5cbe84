"""Per-file budgets (steps, a CPU backstop, memory) and the limits that make the analysis
degrade, not fail.

A spent budget or an approximated expression must show in the report as "not fully reviewed"
with the reason, keep what was found until then, and never be cached as if it were complete.
The time budget is counted in analysis steps, so where it cuts is the same on every run; the
tests of the CPU backstop drive it with a clock that ticks once per look, so where it runs out
does not depend on the machine's speed either.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest
from e2e import scan, subprocess_cli, write

from secreview import guards, models
from secreview.guards import CPU_BACKSTOP, MEMORY_CEILING, STEPS_PER_SECOND, TIME_BUDGET, Budget, Limits, processes_within
from secreview.python import dataflow
from secreview.python.module import ModuleContext
from secreview.python.source import parse

HANDLERS = '''
import os
from flask import Flask, request

app = Flask(__name__)


@app.route("/a")
def first():
    os.system("ls " + request.args["a"])


@app.route("/b")
def second():
    os.system("ls " + request.args["b"])


@app.route("/c")
def third():
    os.system("ls " + request.args["c"])
'''


def _ticking_clock():
    """A clock that advances one second each time it is read."""
    return itertools.count().__next__


def _stopped_clock() -> float:
    """A CPU clock that does not move: only steps can spend the budget."""
    return 0.0


def _steps_of(steps: int) -> Limits:
    """The time budget that allows ``steps`` analysis steps."""
    return Limits(seconds=steps / STEPS_PER_SECOND)


def _engine_steps(code: str) -> int:
    """The steps the engine takes on ``code`` without a budget."""
    project = _analysed(code, None)
    return project.steps


def _flow_lines(code: str, budget: Budget | None) -> list[int]:
    project = _analysed(code, budget)
    return sorted(f.location.line for f in project.found)


def _analysed(code: str, budget: Budget | None) -> dataflow.Project:
    project = dataflow.Project(models=models.load())
    ctx = ModuleContext(parse("app.py", textwrap.dedent(code).encode()), module_name="app")
    ctx.project = project
    project.start_file("app")
    project.register(ctx)
    if budget is not None:
        budget.start()
        project.budget = budget
    project.found = ctx.taint_flows()
    return project


def test_without_a_budget_every_handler_is_analysed() -> None:
    assert _flow_lines(HANDLERS, None) == [10, 15, 20]


class _RecordingBudget(Budget):
    """A budget without limits that records the step count at each check."""

    def __init__(self) -> None:
        super().__init__(Limits(seconds=None), look_every=0)
        self.checked_at: list[int] = []

    def spent(self, steps: int = 0) -> bool:
        self.checked_at.append(steps)
        return super().spent(steps)


def test_a_spent_step_budget_keeps_the_flows_found_before_it() -> None:
    # the engine checks at its first statement, then before each handler: a budget of one step
    # fewer than the count at the check before the second handler is found spent there
    recorder = _RecordingBudget()
    assert _flow_lines(HANDLERS, recorder) == [10, 15, 20]
    before_second = sorted(set(recorder.checked_at))[2]
    limits = _steps_of(before_second - 1)
    for _ in range(3):  # and at the same place on every run
        budget = Budget(limits, clock=_stopped_clock, look_every=0)
        assert _flow_lines(HANDLERS, budget) == [10]
        assert budget.reason == TIME_BUDGET and budget.repeatable
    assert budget.note([]).startswith(f"time budget: the analysis passed its {limits.seconds:g} s limit (")


def test_a_step_budget_that_covers_the_analysis_cuts_nothing() -> None:
    budget = Budget(_steps_of(_engine_steps(HANDLERS)), clock=_stopped_clock, look_every=0)
    assert _flow_lines(HANDLERS, budget) == [10, 15, 20]
    assert budget.reason is None


def test_the_cpu_backstop_stops_what_the_step_budget_allows() -> None:
    # a budget of 0.5 s allows 1.5M steps, far more than these handlers take, and a CPU backstop
    # of 2 s: read at the start, at the first statement and before each handler, the clock
    # passes it before the second handler
    budget = Budget(Limits(seconds=0.5), clock=_ticking_clock(), look_every=0)
    assert guards.BACKSTOP_FACTOR == 4.0
    assert _flow_lines(HANDLERS, budget) == [10]
    assert budget.reason == CPU_BACKSTOP and not budget.repeatable
    assert "2 s of CPU time" in budget.note([]) and "depends on the machine" in budget.note([])


def test_a_budget_too_large_to_count_in_steps_is_no_step_limit() -> None:
    assert Limits(seconds=1e308).steps is None and Limits(seconds=1e308).backstop_seconds == float("inf")
    assert Limits(seconds=1e-12).steps == 1 and Limits(seconds=0).steps is None


def test_steps_are_counted_from_each_file_start() -> None:
    budget = Budget(_steps_of(10), clock=_stopped_clock, look_every=0)
    budget.start()
    assert not budget.spent(10) and budget.spent(11) and budget.spent(0)  # spent stays spent
    budget.start()
    assert not budget.spent(5)


def test_memory_pressure_first_drops_what_can_be_rebuilt() -> None:
    relieved = []
    budget = Budget(Limits(seconds=None, memory_bytes=1000), relieve=lambda: relieved.append(True),
                    measure=lambda: 900, look_every=0)
    budget.start()
    assert not budget.spent()
    assert relieved  # 900 is past 80% of the ceiling


def test_memory_past_the_ceiling_after_relief_spends_the_budget() -> None:
    readings = iter([950, 1200])
    budget = Budget(Limits(seconds=None, memory_bytes=1000), relieve=lambda: None, measure=lambda: next(readings),
                    look_every=0)
    budget.start()
    assert budget.spent() and budget.reason == MEMORY_CEILING
    assert budget.spent()  # stays spent until the next file starts
    assert budget.note([]).startswith("memory ceiling: ")


def test_relief_drops_parsed_modules_but_not_the_reviewed_one(tmp_path: Path) -> None:
    project = dataflow.Project(models=models.load())
    for name in ("helper", "app"):
        ctx = ModuleContext(parse(f"{name}.py", b"x = 1\n"), module_name=name)
        ctx.project = project
        project.register(ctx)
    project.start_file("app")
    project.relieve_memory()
    assert project.cached_context("helper") is None
    assert project.cached_context("app") is not None


def test_the_memory_ceiling_is_shared_by_the_processes() -> None:
    mib = 1024 * 1024
    assert Limits.share(5.0, 2048, processes=2, reserved=48 * mib).memory_bytes == 1000 * mib
    assert Limits.share(5.0, 0, processes=2).memory_bytes is None
    assert Limits.share(5.0, 300, processes=8).memory_bytes == 128 * mib  # never below a working minimum
    # ... which the review ensures by starting fewer processes when the ceiling is low
    assert processes_within(300, 8, reserved=40 * mib) == 2
    assert processes_within(200, 8, reserved=100 * mib) == 0  # then the review runs in its own process
    assert processes_within(0, 8) == 8


# --- the review, end to end -------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app.py": HANDLERS, "keys.py": 'import hashlib\n\ndigest = hashlib.md5(b"x").hexdigest()\n'})
    return tmp_path


def test_a_spent_time_budget_is_reported_in_every_format(app: Path) -> None:
    text = scan(".", "--no-cache", "--time-budget", "0.000001")
    assert "not fully reviewed: time budget: the analysis passed its 1e-06 s limit (3 analysis steps)" in text.stdout
    assert "No security defects are detected in the part of the code that was reviewed." in text.stdout
    assert "No security defects are detected in the code." not in text.stdout
    assert "(2 not fully)" in text.stdout
    document = scan(".", "--no-cache", "--time-budget", "0.000001", "--format", "json").json()
    assert document["summary"]["files_not_fully_reviewed"] == 2
    notes = {f["path"]: f["incomplete"] for f in document["files"]}
    assert all(n and n[0].startswith("time budget") and "weak-hash" in n[0] for n in notes.values())
    sarif = scan(".", "--no-cache", "--time-budget", "0.000001", "--format", "sarif").json()
    messages = [n["message"]["text"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert sum("time budget" in m for m in messages) == 2
    gerrit = scan(".", "--no-cache", "--time-budget", "0.000001", "--format", "gerrit").json()
    assert "Not fully reviewed: app.py, keys.py." in gerrit["message"]
    annotations = scan(".", "--no-cache", "--time-budget", "0.000001", "--format", "github").stdout.splitlines()
    assert sum(a.startswith("::warning file=") and "title=not fully reviewed::time budget" in a for a in annotations) == 2
    body = scan(".", "--no-cache", "--time-budget", "0.000001", "--format", "github-review").json()["body"]
    assert "- `app.py` not fully reviewed: time budget" in body


def test_a_review_cut_short_by_its_budget_is_not_cached(app: Path) -> None:
    cache = str(app / "cache")
    cut = scan(".", "--cache-dir", cache, "--time-budget", "0.000001", "--format", "json").json()
    assert cut["summary"]["findings"] == 0
    full = scan(".", "--cache-dir", cache, "--format", "json").json()
    assert full["summary"]["files_not_fully_reviewed"] == 0
    assert sorted(f["rule"] for file in full["files"] for f in file["findings"]) == [
        "os-command-injection", "os-command-injection", "os-command-injection", "weak-hash"]


def test_the_default_budget_reviews_fully(app: Path) -> None:
    document = scan(".", "--no-cache", "--format", "json", "--time-budget", "0").json()
    assert document["summary"]["files_not_fully_reviewed"] == 0
    assert document == scan(".", "--no-cache", "--format", "json").json()


@pytest.mark.parametrize("flag, value, message", [
    ("--time-budget", "-1", "--time-budget must be a number of seconds (0: no limit)"),
    ("--max-memory", "200", "--max-memory must be a number of MiB, at least 256 (0: no limit)"),
])
def test_bad_limits_are_usage_errors(app: Path, flag: str, value: str, message: str) -> None:
    run = scan(".", flag, value)
    assert run.code == 2 and message in run.stderr


def test_limits_in_pyproject(app: Path) -> None:
    write(app, {"pyproject.toml": "[tool.secreview]\ntime-budget = 0.000001\nmax-memory = 4096\n"})
    assert "time budget" in scan(".", "--no-cache").stdout
    write(app, {"pyproject.toml": "[tool.secreview]\nmax-memory = 'lots'\n"})
    assert scan(".", "--no-cache").code == 2


def test_an_expression_too_deep_to_follow_is_approximated_with_a_note(app: Path) -> None:
    depth = 150  # nested calls: no chain to flatten, and under the parser's limit of 200 brackets
    value = "str(" * depth + 'request.args["q"]' + ")" * depth
    write(app, {"deep.py": f"import os\nfrom flask import request\n\n\ndef view():\n    os.system({value})\n"})
    document = scan("deep.py", "--no-cache", "--format", "json").json()
    (review,) = document["files"]
    assert [f["rule"] for f in review["findings"]] == ["os-command-injection"]
    assert review["incomplete"] == ["expression nested more than 100 deep at line 6: analysed approximately"]


# --- determinism at the budget's edge -----------------------------------------------------------


def _many_handlers(count: int) -> str:
    """Handlers each with a flow, so that a cut anywhere in the file changes the findings."""
    head = "import os\nfrom flask import Flask, request\n\napp = Flask(__name__)\n"
    return head + "".join(
        f'\n\n@app.route("/{i}")\ndef handler_{i}():\n    value = request.args["v"]\n'
        f'    for part in value.split(","):\n        value = value + part.strip()\n    os.system("ls " + value)\n'
        for i in range(count))


def _engine_checks(path: Path) -> list[int]:
    """The step counts at which the engine checked its budget in a review of ``path`` without one."""
    checked: list[int] = []
    real = dataflow.Project.budget_spent

    def recording(project: dataflow.Project) -> bool:
        checked.append(project.steps)
        return real(project)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dataflow.Project, "budget_spent", recording)
        assert scan(str(path), "--no-cache", "--time-budget", "0", "--jobs", "1").code == 1
    return checked


def test_a_file_at_the_edge_of_its_step_budget_gives_the_same_report_every_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"edge.py": _many_handlers(60)})
    checks = _engine_checks(tmp_path / "edge.py")
    # the budget runs out in the middle of the engine's work: some handlers analysed, not all
    seconds = f"{checks[len(checks) // 2] / STEPS_PER_SECOND:.9f}"
    runs = [scan("edge.py", "--no-cache", "--jobs", "1", "--time-budget", seconds, "--format", "json")
            for _ in range(3)]
    runs.append(subprocess_cli("scan", "edge.py", "--no-cache", "--time-budget", seconds, "--format", "json",
                               cwd=tmp_path))
    (review,) = runs[0].json()["files"]
    assert review["incomplete"] and review["incomplete"][0].startswith("time budget: ")
    assert 0 < len(review["findings"]) < 60
    assert all(run.stdout == runs[0].stdout for run in runs)


def test_the_cpu_backstop_still_cuts_a_file_the_steps_do_not(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as if each step cost a thousand times what the calibration measured (the shape of work
    # steps do not count): the step budget is never reached, the CPU time backstop cuts
    monkeypatch.setattr(guards, "STEPS_PER_SECOND", STEPS_PER_SECOND * 1000)
    monkeypatch.setattr(guards, "BACKSTOP_MIN_S", 0.0)
    write(app, {"slow.py": _many_handlers(300)})
    document = scan("slow.py", "--no-cache", "--jobs", "1", "--time-budget", "0.001", "--format", "json").json()
    (review,) = document["files"]
    assert review["incomplete"][0].startswith("time budget: the analysis passed 0.004 s of CPU time, the backstop")
    assert len(review["findings"]) < 300
