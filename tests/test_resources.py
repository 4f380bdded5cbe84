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


# --- reading: the size is checked before anything is read ------------------------------------------


def test_many_oversized_files_are_not_read_and_the_rest_is_reviewed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app/views.py": "import pickle\n\ndef load(blob):\n    return pickle.loads(blob)\n"})
    for i in range(25):
        with open(tmp_path / f"app/huge_{i}.py", "wb") as handle:
            handle.truncate(4 * 1024 ** 3)  # sparse: read whole, it would cost 4 GB each
    run = scan("app", "--format", "json", "--no-cache")
    files = _files(run)
    assert run.code == 1
    assert [f["rule"] for f in files["app/views.py"]["findings"]] == ["unsafe-deserialization"]
    huge = [entry for path, entry in files.items() if path != "app/views.py"]
    assert len(huge) == 25
    assert all(entry["not_reviewed_reason"].startswith(f"file too large ({4 * 1024 ** 3} bytes") for entry in huge)


def test_a_file_read_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "grows.py"
    path.write_bytes(b"x" * 100)
    assert reading.read_regular(path, 100) == b"x" * 100
    with pytest.raises(reading.TooLarge) as raised:
        reading.read_regular(path, 99)
    assert raised.value.size == 100
    read, write_end = os.pipe()
    os.write(write_end, b"y" * 50)
    os.close(write_end)
    with pytest.raises(reading.TooLarge) as raised:
        reading.read_bounded(read, 10)  # a stream: its size is not known, only that it is over
    os.close(read)
    assert raised.value.size is None


def test_standard_input_is_read_only_up_to_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = scan("-", "--format", "json", "--max-file-size", "100", stdin="x = 1\n" * 100)
    assert _files(run)["<stdin>"]["not_reviewed_reason"] == "file too large (more than 100 bytes; limit 100, see max-file-size)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_never_opened_for_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secreview.discover import SourceFile

    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.py")  # no writer: a blocking open would wait forever
    with pytest.raises(reading.NotRegularFile):
        reading.read_regular(tmp_path / "pipe.py", 1000)
    assert reading.read_head(tmp_path / "pipe.py", 10) == b""
    # a file that became a FIFO after it was discovered
    result = review_files([SourceFile("pipe.py", tmp_path / "pipe.py", False, "pipe")], Config())
    assert [(r.path, r.not_reviewed) for r in result.files] == [("pipe.py", "not a regular file")]


# --- the walk: nothing left out silently -------------------------------------------------------------


def _problems(*paths: str, config: Config | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    from secreview.discover import discover

    files, problems = discover(list(paths), config or Config())
    return [f.path for f in files], [(p.path, p.reason) for p in problems]


SECRET = 'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n'


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_link_to_a_file_outside_the_tree_is_listed_and_never_read(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"outside/credentials.py": SECRET, "proj/app.py": "", "proj/lib/real.py": ""})
    (tmp_path / "proj/leak.py").symlink_to(tmp_path / "outside/credentials.py")
    (tmp_path / "proj/leak_tool").symlink_to(tmp_path / "outside/credentials.py")  # no extension: not Python
    (tmp_path / "proj/alias.py").symlink_to("lib/real.py")  # inside the tree: still reviewed
    files, problems = _problems("proj")
    assert files == ["proj/app.py", "proj/lib/real.py"]
    assert problems == [("proj/leak.py", "symbolic link to a file outside the reviewed tree")]
    run = scan("proj", "--no-cache")
    assert "wJalrXUtnFEMI" not in run.stdout
    assert "proj/leak.py" in run.stdout and "outside the reviewed tree" in run.stdout
    # named on the command line, the link is what the user asked to review
    assert _problems("proj/leak.py") == (["outside/credentials.py"], [])


def test_an_unreadable_directory_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"proj/app.py": "", "proj/locked/secret.py": ""})
    real = os.scandir

    def refusing(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", refusing)
    assert _problems("proj") == (["proj/app.py"], [("proj/locked", "directory cannot be read: Permission denied")])


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() == 0, reason="root reads any directory")
def test_a_directory_without_read_permission_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"proj/app.py": "", "proj/locked/secret.py": ""})
    (tmp_path / "proj/locked").chmod(0)
    try:
        assert _problems("proj") == (["proj/app.py"], [("proj/locked", "directory cannot be read: Permission denied")])
    finally:
        (tmp_path / "proj/locked").chmod(0o755)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_tree_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"proj/app.py": ""})
    os.mkfifo(tmp_path / "proj/pipe.py")
    os.mkfifo(tmp_path / "proj/tool")
    os.mkfifo(tmp_path / "proj/notes.txt")  # could not be Python by its name: not worth a line
    assert _problems("proj") == (["proj/app.py"], [("proj/pipe.py", "not a regular file (a named pipe)"),
                                                    ("proj/tool", "not a regular file (a named pipe)")])


@pytest.mark.parametrize("folder", ["build", "dist", "venv", ".venv", ".env"])
def test_a_skipped_folder_that_holds_python_files_is_listed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  folder: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"proj/app.py": "", f"proj/{folder}/a.py": "", f"proj/{folder}/deep/b.py": ""})
    files, problems = _problems("proj")
    assert files == ["proj/app.py"]
    assert [path for path, _ in problems] == [f"proj/{folder}"]
    assert "name it on the command line to review it, or exclude it" in problems[0][1]
    run = scan("proj", "--format", "json", "--no-cache")
    assert _files(run)[f"proj/{folder}"]["reviewed"] is False
    # the text summary does not count the folder as a file
    assert "Summary: 1 file reviewed, 1 folder not reviewed;" in scan("proj", "--no-cache").stdout


@pytest.mark.parametrize("silencer", [
    {"proj/pyproject.toml": '[tool.secreview]\nexclude = ["build"]\n'},
    {"proj/.gitignore": "build/\n"},
    {"proj/build/readme.txt": ""},  # no Python file in it: nothing to say
])
def test_a_build_folder_is_silent_when_excluded_ignored_or_without_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                         silencer: dict[str, str]) -> None:
    from secreview import config as configuration

    monkeypatch.chdir(tmp_path)
    files = {"proj/app.py": "", **silencer}
    if "proj/build/readme.txt" not in silencer:
        files["proj/build/lib/gen.py"] = ""
    write(tmp_path, files)
    loaded = configuration.load(configuration.find_pyproject(tmp_path / "proj"))
    assert _problems("proj", config=loaded) == (["proj/app.py"], [])


@pytest.mark.parametrize("evidence", ["pyvenv.cfg", "bin/activate", "Scripts/activate.bat", "conda-meta/history"])
def test_a_virtual_environment_is_skipped_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evidence: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"proj/app.py": "", f"proj/venv/{evidence}": "", "proj/venv/lib/site.py": ""})
    assert _problems("proj") == (["proj/app.py"], [])


# --- model files and pyproject.toml: from where they may come ---------------------------------------


def _load_config(project: Path):
    from secreview import config as configuration

    return configuration.load(project / "pyproject.toml")


def _with_models(project: Path, *names: str) -> None:
    listed = ", ".join(json.dumps(n) for n in names)
    write(project, {"pyproject.toml": f"[tool.secreview]\nmodels = [{listed}]\n"})


@pytest.mark.parametrize("outside", ["../secrets.toml", "{tmp}/secrets.toml", "/dev/zero", "link.toml"])
def test_a_model_file_outside_the_project_is_refused_unread(tmp_path: Path, outside: str) -> None:
    from secreview.config import ConfigError

    write(tmp_path, {"secrets.toml": '["password=hunter2"]\nkey = 1\n'})
    project = tmp_path / "proj"
    project.mkdir()
    (project / "link.toml").symlink_to(tmp_path / "secrets.toml")
    _with_models(project, outside.format(tmp=tmp_path))
    with pytest.raises(ConfigError, match="lies outside the project") as raised:
        _load_config(project)
    assert "hunter2" not in str(raised.value)


def test_a_model_file_inside_the_project_is_still_used(tmp_path: Path) -> None:
    write(tmp_path, {"models/mine.toml": '[[sink]]\ncalls = ["acme.run"]\nkind = "shell"\nargs = [0]\n'})
    _with_models(tmp_path, "models/mine.toml")
    assert _load_config(tmp_path).models == ("models/mine.toml",)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_model_file_that_is_a_fifo_or_a_device_is_refused_without_blocking(tmp_path: Path) -> None:
    from secreview import models
    from secreview.config import ConfigError

    os.mkfifo(tmp_path / "pipe.toml")
    _with_models(tmp_path, "pipe.toml")
    with pytest.raises(ConfigError, match="pipe.toml: not a regular file"):
        _load_config(tmp_path)
    with pytest.raises(models.ModelError, match="not a regular file"):
        models.check(("/dev/zero",))  # through the API, where no project encloses it


def test_a_model_file_over_the_size_bound_is_refused(tmp_path: Path) -> None:
    from secreview import models
    from secreview.config import ConfigError

    with open(tmp_path / "huge.toml", "wb") as handle:
        handle.truncate(models.MAX_MODEL_BYTES + 1)
    _with_models(tmp_path, "huge.toml")
    with pytest.raises(ConfigError, match="huge.toml: too large"):
        _load_config(tmp_path)


def test_a_model_error_never_quotes_what_is_not_a_plain_name(tmp_path: Path) -> None:
    from secreview.config import ConfigError

    write(tmp_path, {"m.toml": 'xkey = 1\n["aws_secret=wJalrXUtnFEMI"]\nx = 1\n[sinks]\n'})
    _with_models(tmp_path, "m.toml")
    with pytest.raises(ConfigError) as raised:
        _load_config(tmp_path)
    message = str(raised.value)
    assert "unknown table(s) sinks, xkey, 1 key(s) that are not plain names" in message  # misspelt: still named
    assert "wJalrXUtnFEMI" not in message
    (tmp_path / "m.toml").write_text('[[sink]]\ncalls = ["a.b"]\nkind = "shell"\n"token AKIAIOSFODNN7" = 1\n')
    with pytest.raises(ConfigError) as raised:
        _load_config(tmp_path)
    assert "AKIAIOSFODNN7" not in str(raised.value) and "not plain names" in str(raised.value)


@pytest.mark.parametrize("git", ["folder", "file"])
def test_a_pyproject_above_the_repository_root_is_not_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              git: str) -> None:
    from secreview.config import find_pyproject

    write(tmp_path, {"pyproject.toml": '[tool.secreview]\nexclude = ["*"]\n', "repo/app/views.py": "import pickle\n"
                     "pickle.loads(b'')\n"})
    if git == "folder":
        (tmp_path / "repo/.git").mkdir()
    else:  # a worktree or a submodule
        (tmp_path / "repo/.git").write_text("gitdir: /elsewhere\n")
    assert find_pyproject(tmp_path / "repo/app") is None
    monkeypatch.chdir(tmp_path / "repo")
    run = scan("app", "--format", "json", "--no-cache")
    assert [f["rule"] for f in _files(run)["app/views.py"]["findings"]] == ["unsafe-deserialization"]
    # inside the repository, the nearest one still applies
    write(tmp_path, {"repo/pyproject.toml": '[tool.secreview]\nexclude = ["app"]\n'})
    assert find_pyproject(tmp_path / "repo/app") == (tmp_path / "repo/pyproject.toml").resolve()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_diff_reads_work_tree_files_within_bounds(tmp_path: Path) -> None:
    from secreview import changes

    os.mkfifo(tmp_path / "swapped.py")  # a file checked, then replaced by a FIFO before it is read
    (tmp_path / "grown.py").write_bytes(b"x = 1\n" * 100)
    assert changes._read_bytes(tmp_path / "swapped.py", 1000) == b""
    assert changes._read_bytes(tmp_path / "grown.py", 100) == b""
    assert changes._read_bytes(tmp_path / "grown.py", 600) == b"x = 1\n" * 100


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="the backstop needs the process's size")
def test_the_backstop_holds_in_this_process_too_and_is_lifted_after(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from secreview.discover import discover

    before = resource.getrlimit(resource.RLIMIT_AS)
    parents = os.getpid()
    monkeypatch.setattr(review, "parse", lambda path, data, *args: (bytearray(1 << 30) if path == BOMB and
                                                                    os.getpid() == parents else None,
                                                                    _REAL_PARSE(path, data, *args))[1])
    monkeypatch.setattr(parallel, "_backstop_bytes", lambda share: 256 * 1024 * 1024)
    files, _ = discover(["corpus"], Config())
    result = review_files(files, Config(), jobs=1)
    lost = {r.path: r.not_reviewed for r in result.files if r.not_reviewed}
    assert lost == {BOMB: "out of memory"}
    assert resource.getrlimit(resource.RLIMIT_AS) == before
