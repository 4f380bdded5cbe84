"""Resources and trust: bounded reads, memory backstops, workers that die or lose their parent,
model files and pyproject.toml from where they may come, links out of the reviewed tree."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e import REPO, scan, write

from secreview import parallel, reading, review
from secreview.config import Config
from secreview.review import review_files

FIXTURES = Path(__file__).parent / "fixtures"
BOMB = "corpus/bomb.py"
_PARENT = os.getpid()


def _in_worker() -> bool:
    return os.getpid() != _PARENT


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The taint corpus and one more file, ``corpus/bomb.py``, that the tests make fatal."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "taint", root / "corpus")
    (root / BOMB).write_text("import os\nos.system(os.environ['X'])\n", encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 2)  # a small tree: use workers anyway
    return root


def _files(run) -> dict[str, dict]:
    return {entry["path"]: entry for entry in run.json()["files"]}


def _assert_only_bomb_lost(alone, together, reason: str) -> None:
    before, after = _files(alone), _files(together)
    assert set(before) == set(after)
    assert after[BOMB]["reviewed"] is False
    assert reason in after[BOMB]["not_reviewed_reason"]
    assert {p: e for p, e in after.items() if p != BOMB} == {p: e for p, e in before.items() if p != BOMB}


# --- a worker that dies of one file ---------------------------------------------------------------

_REAL_ANALYSE = review.analyse


def _analyse_killing_on_bomb(source_file, *args, **kwargs):
    if _in_worker() and source_file.path == BOMB:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
    return _REAL_ANALYSE(source_file, *args, **kwargs)


def _analyse_out_of_memory_on_bomb(source_file, *args, **kwargs):
    if _in_worker() and source_file.path == BOMB:
        raise MemoryError  # outside the per-file guard: it reaches the pool
    return _REAL_ANALYSE(source_file, *args, **kwargs)


@pytest.mark.parametrize("fatal", [_analyse_killing_on_bomb, _analyse_out_of_memory_on_bomb])
def test_a_file_that_ends_its_worker_is_not_reviewed_and_the_rest_completes(tree: Path, monkeypatch: pytest.MonkeyPatch,
                                                                            fatal) -> None:
    alone = scan(".", "--format", "json", "--no-cache", "--jobs", "1")
    monkeypatch.setattr(review, "analyse", fatal)  # the forked workers inherit it
    together = scan(".", "--format", "json", "--no-cache", "--jobs", "2")
    assert together.stderr == ""
    _assert_only_bomb_lost(alone, together, parallel.WORKER_DIED)


_REAL_PARSE = review.parse


def _parse_allocating_on_bomb(path, data, *args):
    if _in_worker() and path == BOMB:
        hoard = bytearray(1 << 30)  # untouched pages: only an address-space limit refuses it
        del hoard
    return _REAL_PARSE(path, data, *args)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="the backstop needs the process's size")
def test_the_address_space_backstop_turns_a_runaway_allocation_into_a_note(tree: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    alone = scan(".", "--format", "json", "--no-cache", "--jobs", "1")
    monkeypatch.setattr(review, "parse", _parse_allocating_on_bomb)
    monkeypatch.setattr(parallel, "_backstop_bytes", lambda share: 256 * 1024 * 1024)
    together = scan(".", "--format", "json", "--no-cache", "--jobs", "2")
    _assert_only_bomb_lost(alone, together, "out of memory")


def test_without_a_memory_ceiling_there_is_no_backstop() -> None:
    assert parallel._backstop_bytes(None) is None
    share = 512 * 1024 * 1024
    assert parallel._backstop_bytes(share) >= share + parallel.ADDRESS_SPACE_ROOM


# --- a worker whose parent dies ------------------------------------------------------------------


def test_the_parent_watch_ends_the_worker_when_its_parent_changes() -> None:
    parents = iter([100, 100, 1])
    ended: list[int] = []
    parallel._watch_parent(100, interval=0, getppid=lambda: next(parents), end=ended.append)
    assert ended == [1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status waits to be read


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_when_the_review_is_killed(tmp_path: Path, how: signal.Signals) -> None:
    # enough files, each slow enough, that the workers are busy when the parent is killed
    body = "".join(f"def f{i}(x):\n    if x == {i}:\n        return eval(x)\n" for i in range(300))
    write(tmp_path, {f"pkg/m{i}.py": body for i in range(40)})
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen([sys.executable, "-m", "secreview", "scan", "pkg", "--jobs", "2", "--no-cache",
                                "--time-budget", "0"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            workers = _children(process.pid)
        assert len(workers) >= 2, "the review did not start its workers"
        time.sleep(0.5)
        process.send_signal(how)
        process.wait(10)
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "workers outlived the review"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for worker in workers:  # only when the test failed: leave no process behind
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)
