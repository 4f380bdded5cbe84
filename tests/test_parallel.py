"""--jobs N: the same report, byte for byte, as --jobs 1, whoever analysed which file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from e2e import scan

from secreview import parallel

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def project_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two multi-module projects with flows across modules, and the taint corpus beside them:
    enough files for several chunks per worker."""
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "taint_projects", tree / "projects")
    shutil.copytree(FIXTURES / "taint", tree / "corpus")
    monkeypatch.chdir(tree)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 2)  # the tree is small: use workers anyway
    return tree


def _spy_on_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    started: list[int] = []
    real = parallel._in_workers

    def counted(*args, **kwargs):
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "_in_workers", counted)
    return started


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_any_number_of_jobs_gives_the_same_bytes(project_tree: Path, monkeypatch: pytest.MonkeyPatch,
                                                 output_format: str) -> None:
    alone = scan(".", "--format", output_format, "--no-cache", "--jobs", "1")
    started = _spy_on_workers(monkeypatch)
    for jobs in ("2", "3"):
        together = scan(".", "--format", output_format, "--no-cache", "--jobs", jobs)
        assert together.code == alone.code == 1
        assert together.stdout == alone.stdout, f"--jobs {jobs} differs from --jobs 1"
        assert together.stderr == alone.stderr == ""
    assert len(started) == 2, "the review did not go through worker processes"


def test_flows_across_modules_survive_the_split(project_tree: Path) -> None:
    report = scan(".", "--format", "json", "--no-cache", "--jobs", "2").json()
    crossing = [
        finding for entry in report["files"] for finding in entry["findings"]
        if any(step["location"]["path"] != finding["location"]["path"] for step in finding.get("trace", []))
    ]
    assert crossing, "no finding whose trace starts in another module: the fixture no longer tests regrouping"


_PARENT = os.getpid()
_REAL_CHUNK = parallel._analyse_chunk


def _dying_chunk(indices):
    if os.getpid() != _PARENT and 0 in indices:
        os._exit(9)  # as if killed by the out-of-memory killer
    return _REAL_CHUNK(indices)


def test_a_worker_that_dies_costs_nothing(project_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = scan(".", "--format", "json", "--no-cache", "--jobs", "1")
    monkeypatch.setattr(parallel, "_analyse_chunk", _dying_chunk)
    together = scan(".", "--format", "json", "--no-cache", "--jobs", "2")
    assert together.stdout == alone.stdout


def test_small_reviews_stay_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "one.py").write_text("import pickle\npickle.loads(b'')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    started = _spy_on_workers(monkeypatch)
    run = scan(".", "--format", "json", "--jobs", "4", "--no-cache")
    assert run.code == 1 and started == []
    assert [f["rule"] for e in run.json()["files"] for f in e["findings"]] == ["unsafe-deserialization"]


def test_order_of_review_does_not_change_findings(project_tree: Path) -> None:
    """The premise of the split: a file's findings do not depend on which files were analysed
    before it in the same process."""
    from secreview.config import Config
    from secreview.discover import discover
    from secreview.review import review_files

    files, _ = discover(["."], Config())
    forward = review_files(files, Config())
    backward = review_files(list(reversed(files)), Config())
    as_json = lambda result: json.dumps([(r.path, [f.fingerprint for f in r.findings]) for r in result.files])
    assert as_json(forward) == as_json(backward)


def test_jobs_must_be_positive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = scan(".", "--jobs", "0")
    assert run.code == 2 and "--jobs" in run.stderr


# --- progress ---------------------------------------------------------------------------------


class _Terminal:
    def __init__(self, tty: bool = True):
        self.text = ""
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_shows_files_and_time_left_after_a_second() -> None:
    from secreview.progress import Progress

    now = [0.0]
    terminal = _Terminal()
    progress = Progress(terminal, clock=lambda: now[0])
    progress.start(10)
    progress.advance(2)
    assert terminal.text == "", "a quick review shows nothing"
    now[0] = 2.0
    progress.advance(2)
    assert "4/10 files, ETA 0:03" in terminal.text
    assert "finding" not in terminal.text  # policy at the end decides what counts as a finding
    now[0] = 2.01
    progress.advance(1)
    assert "5/10" not in terminal.text, "redrawn more than ten times a second"
    now[0] = 3.0
    progress.advance(5)
    assert "10/10 files" in terminal.text
    progress.finish()
    assert terminal.text.endswith("\r"), "the line is erased before the report"


def test_the_time_left_comes_from_the_files_analysed_not_those_from_the_cache() -> None:
    from secreview.progress import Progress

    now = [0.0]
    terminal = _Terminal()
    progress = Progress(terminal, clock=lambda: now[0])
    progress.start(100, from_cache=90)  # 90 done at once from the cache: 10 to analyse
    now[0] = 2.0
    progress.advance(2)  # two files in two seconds: eight more take eight
    assert "92/100 files, ETA 0:08" in terminal.text


def test_progress_only_on_a_terminal_and_not_when_quiet() -> None:
    from secreview.progress import Progress

    assert Progress.for_terminal(_Terminal(tty=False), quiet=False) is None
    assert Progress.for_terminal(_Terminal(tty=True), quiet=True) is None
    assert Progress.for_terminal(_Terminal(tty=True), quiet=False) is not None


def test_a_review_drives_the_progress_display(project_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secreview import progress as progress_module
    from secreview.config import Config
    from secreview.review import review

    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(progress_module, "REDRAW_EVERY_S", 0.0)
    terminal = _Terminal()
    result = review(["."], Config(), jobs=2, progress=progress_module.Progress(terminal))
    total = len([r for r in result.files if r.not_reviewed is None])
    assert f"{total}/{total} files" in terminal.text
