"""The review cache: a warm run reports exactly what a cold one does, whatever happened between."""

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
from e2e import scan, write

from secreview import cache as cache_module
from secreview import parallel
from secreview import review as review_module
from secreview.findings import Severity

FIXTURES = Path(__file__).parent / "fixtures"

HANDLER = '''import os

from flask import Flask, request

import helpers

app = Flask(__name__)


@app.route("/run")
def run():
    os.system(helpers.passthrough(request.args["cmd"]))
    return "ok"
'''
PASSING_HELPER = "def passthrough(value):\n    return value\n"
BLOCKING_HELPER = 'def passthrough(value):\n    return "true"\n'


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in (directory / "entries").glob("*/*.json") if not p.name.startswith(".tmp-"))


def _count_analyses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    analysed: list[str] = []
    real = review_module.analyse

    def counted(source_file, *args, **kwargs):
        analysed.append(source_file.path)
        return real(source_file, *args, **kwargs)

    monkeypatch.setattr(review_module, "analyse", counted)
    return analysed


def _rules(run) -> list[tuple[str, int, str]]:
    return sorted((f["location"]["path"], f["location"]["line"], f["rule"])
                  for entry in run.json()["files"] for f in entry["findings"])


@pytest.fixture()
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES / "taint_projects", tree / "projects")
    shutil.copytree(FIXTURES / "taint", tree / "corpus")
    monkeypatch.chdir(tree)
    return tree


@pytest.mark.parametrize("output_format", ["json", "text", "sarif"])
def test_a_warm_run_reports_what_a_cold_run_does(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 output_format: str) -> None:
    store = tmp_path / "cache"
    cold = scan(".", "--format", output_format, "--no-cache", "--jobs", "1")
    filling = scan(".", "--format", output_format, "--cache-dir", str(store), "--jobs", "1")
    assert _entries(store), "nothing was cached"
    analysed = _count_analyses(monkeypatch)
    warm = scan(".", "--format", output_format, "--cache-dir", str(store), "--jobs", "1")
    assert analysed == [], "a warm run analysed files again"
    assert cold.stdout == filling.stdout == warm.stdout
    assert cold.code == filling.code == warm.code == 1


def test_no_cache_neither_reads_nor_writes(corpus: Path, tmp_path: Path) -> None:
    scan(".", "--format", "json", "--no-cache")
    assert not any(Path(os.environ["XDG_CACHE_HOME"]).rglob("*.json"))


def test_the_default_directory_follows_xdg_cache_home(corpus: Path) -> None:
    scan(".", "--format", "json", "--jobs", "1")
    assert _entries(Path(os.environ["XDG_CACHE_HOME"]) / "secreview")


def test_changing_a_helper_re_reviews_its_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write(tmp_path / "app", {"views.py": HANDLER, "helpers.py": PASSING_HELPER})
    monkeypatch.chdir(project)
    store = str(tmp_path / "cache")
    first = scan(".", "--format", "json", "--cache-dir", store)
    assert ("views.py", 12, "os-command-injection") in _rules(first)

    (project / "helpers.py").write_text(BLOCKING_HELPER, encoding="utf-8")
    analysed = _count_analyses(monkeypatch)
    second = scan(".", "--format", "json", "--cache-dir", store)
    assert sorted(analysed) == ["helpers.py", "views.py"], "the caller of the changed helper was not analysed again"
    assert _rules(second) == []

    (project / "helpers.py").write_text(PASSING_HELPER, encoding="utf-8")
    third = scan(".", "--format", "json", "--cache-dir", store)
    assert third.stdout == first.stdout


def test_a_new_caller_elsewhere_changes_a_cached_file_s_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a function is referred to anywhere in the project decides how its parameters are
    judged: a file's cached analysis depends on the text of every other file."""
    project = write(tmp_path / "app", {
        "tool.py": "import subprocess\n\n\ndef launch(command):\n    subprocess.run(command, shell=True)\n",
        "other.py": "x = 1\n",
    })
    monkeypatch.chdir(project)
    store = str(tmp_path / "cache")
    for other in ("x = 1\n", "import tool\n\ntool.launch(input())\n", "x = 1\n"):
        (project / "other.py").write_text(other, encoding="utf-8")
        cold = scan(".", "--format", "json", "--no-cache")
        warm = scan(".", "--format", "json", "--cache-dir", store)
        assert warm.stdout == cold.stdout, f"stale cache with other.py = {other!r}"


def test_a_changed_setting_is_not_served_from_the_cache(corpus: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "cache")
    scan(".", "--format", "json", "--cache-dir", store)
    narrowed = scan(".", "--format", "json", "--cache-dir", store, "--test-code", "off", "--disable", "log-injection")
    expected = scan(".", "--format", "json", "--no-cache", "--test-code", "off", "--disable", "log-injection")
    assert narrowed.stdout == expected.stdout


@pytest.mark.parametrize("damage", ["truncated", "not json", "another key", "another format", "wrong types", "empty"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rewritten(corpus: Path, tmp_path: Path, damage: str) -> None:
    store = tmp_path / "cache"
    cold = scan(".", "--format", "json", "--cache-dir", str(store), "--jobs", "1")
    entries = _entries(store)
    for path in entries:
        text = path.read_text(encoding="utf-8")
        entry = json.loads(text)
        if damage == "truncated":
            path.write_text(text[: len(text) // 2], encoding="utf-8")
        elif damage == "not json":
            path.write_bytes(b"\x80\x81 garbage")
        elif damage == "another key":
            other = json.loads(entries[0].read_text(encoding="utf-8")) if path != entries[0] else entry
            path.write_text(json.dumps({**other, "key": "0" * 64}), encoding="utf-8")
        elif damage == "another format":
            path.write_text(json.dumps({**entry, "format": "secreview-cache-0"}), encoding="utf-8")
        elif damage == "wrong types":
            path.write_text(json.dumps({**entry, "analysis": {"review": [1, 2]}, "consulted": {}}), encoding="utf-8")
        else:
            path.write_bytes(b"")
    again = scan(".", "--format", "json", "--cache-dir", str(store), "--jobs", "1")
    assert again.stdout == cold.stdout
    rewritten = scan(".", "--format", "json", "--cache-dir", str(store), "--jobs", "1")
    assert rewritten.stdout == cold.stdout
    assert all(json.loads(p.read_text(encoding="utf-8"))["format"] == cache_module.FORMAT for p in _entries(store))


def test_the_cache_is_bounded(corpus: Path, tmp_path: Path) -> None:
    store = cache_module.Cache(tmp_path / "cache", max_bytes=20_000)
    from secreview.config import Config

    review_module.review(["."], Config(), cache=store)
    size = sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*") if p.is_file() and "entries" in p.parts)
    assert 0 < size <= 20_000


def _big_tree(root: Path, copies: int) -> Path:
    """Enough files that a review takes a few seconds: copies of the taint corpus."""
    for n in range(copies):
        shutil.copytree(FIXTURES / "taint", root / f"copy{n}")
    shutil.copytree(FIXTURES / "taint_projects", root / "projects")
    return root


def _cli(args: list[str], cwd: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen([sys.executable, "-m", "secreview", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kwargs)


def test_a_run_killed_while_writing_leaves_a_usable_cache(tmp_path: Path) -> None:
    tree = _big_tree(tmp_path / "tree", copies=8)
    store = tmp_path / "cache"
    cold = _cli(["scan", ".", "--format", "json", "--no-cache", "--jobs", "1"], tree).communicate(timeout=300)[0]
    victim = _cli(["scan", ".", "--format", "json", "--cache-dir", str(store), "--jobs", "2"], tree)
    deadline = time.monotonic() + 120
    while not _entries(store) and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    killed_in_the_middle = victim.poll() is None
    os.killpg(victim.pid, signal.SIGKILL)  # the run and its workers, as kill -9 would
    victim.communicate(timeout=60)
    if not killed_in_the_middle:
        pytest.skip("the review finished before it could be killed")
    partial = len(_entries(store))
    # a temporary file cut short, as a kill between writing and renaming leaves it
    shard = next((store / "entries").iterdir())
    (shard / ".tmp-killed.json").write_text('{"format": "secreview-ca', encoding="utf-8")
    again = _cli(["scan", ".", "--format", "json", "--cache-dir", str(store), "--jobs", "2"], tree)
    assert again.communicate(timeout=300)[0] == cold
    assert 0 < partial < len(_entries(store))
    warm = _cli(["scan", ".", "--format", "json", "--cache-dir", str(store), "--jobs", "2"], tree)
    assert warm.communicate(timeout=300)[0] == cold


def test_two_runs_at_once_on_one_cache_both_report_correctly(tmp_path: Path) -> None:
    tree = _big_tree(tmp_path / "tree", copies=2)
    store = tmp_path / "cache"
    cold = _cli(["scan", ".", "--format", "json", "--no-cache", "--jobs", "1"], tree).communicate(timeout=300)[0]
    runs = [_cli(["scan", ".", "--format", "json", "--cache-dir", str(store), "--jobs", "2"], tree) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert outputs == [cold, cold]
    warm = _cli(["scan", ".", "--format", "json", "--cache-dir", str(store), "--jobs", "1"], tree)
    assert warm.communicate(timeout=300)[0] == cold


def test_an_unwritable_cache_costs_the_cache_not_the_review(corpus: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    cold = scan(".", "--format", "json", "--no-cache")
    run = scan(".", "--format", "json", "--cache-dir", str(blocker / "cache"))
    assert run.stdout == cold.stdout and run.stderr == ""


def test_parallel_and_cached_runs_agree(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 2)
    store = str(tmp_path / "cache")
    cold = scan(".", "--format", "sarif", "--no-cache", "--jobs", "1")
    assert scan(".", "--format", "sarif", "--cache-dir", store, "--jobs", "2").stdout == cold.stdout
    assert scan(".", "--format", "sarif", "--cache-dir", store, "--jobs", "2").stdout == cold.stdout


POLICY_SENSITIVE = {
    "legacy.py": "import pickle\nimport subprocess\n\n\ndef restore(blob):\n    return pickle.loads(blob)  # nosec\n\n\n"
                 "def run(command):\n    subprocess.run(command,  # secreview: ignore\n                   shell=True)\n",
    "tests/test_legacy.py": "import pickle\n\n\ndef test_restore(blob):\n    assert pickle.loads(blob)\n",
}


def _policy_tree(root: Path) -> Path:
    shutil.copytree(FIXTURES / "taint_projects", root / "projects")
    shutil.copytree(FIXTURES / "taint", root / "corpus")
    return write(root, POLICY_SENSITIVE)


def _rendered(result) -> tuple[str, str, int]:
    from secreview.report import FORMATS

    return FORMATS["text"](result), FORMATS["json"](result), result.exit_code()


@pytest.mark.parametrize(("setting", "analysed_again"), [
    ({"nosec": True}, "none"),
    ({"strict": True}, "none"),
    ({"fail_on": Severity.CRITICAL}, "none"),
    ({"exclude": ("corpus/xml/*",)}, "none"),
    ({"enable": ()}, "none"),  # the same selection spelt otherwise: every rule by name, below
    ({"test_code": "all"}, "test code"),  # more rules run on test files, the same on the rest
    # not run on test files under the default test-code policy: their entries still serve
    ({"disable": ("unsafe-deserialization",)}, "all but test code"),
])
def test_only_settings_that_change_an_analysis_miss_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               setting: dict, analysed_again: str) -> None:
    from secreview.config import Config
    from secreview.rules import all_rules

    monkeypatch.chdir(_policy_tree(tmp_path / "tree"))
    if "enable" in setting:
        setting = {"enable": tuple(r.id for r in all_rules())}
    directory = tmp_path / "cache"
    review_module.review(["."], Config(), cache=cache_module.Cache(directory))
    changed = Config().with_overrides(**setting)
    warm_store = cache_module.Cache(directory)
    warm = review_module.review(["."], changed, cache=warm_store)
    cold = review_module.review(["."], changed)
    assert _rendered(warm) == _rendered(cold)
    reviewed = [r for r in cold.files if r.not_reviewed is None]
    tests = sum(r.is_test for r in reviewed)
    expected_misses = {"none": 0, "test code": tests, "all but test code": len(reviewed) - tests}[analysed_again]
    assert 0 < tests < len(reviewed)
    assert (warm_store.hits, warm_store.misses) == (len(reviewed) - expected_misses, expected_misses)


def test_nosec_toggled_on_a_warm_cache_gives_the_report_of_a_cold_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_policy_tree(tmp_path / "tree"))
    store = str(tmp_path / "cache")
    without = scan(".", "--format", "json", "--cache-dir", store, "--strict")
    assert ("legacy.py", 6, "unsafe-deserialization") in _rules(without)
    with_nosec = scan(".", "--format", "json", "--cache-dir", store, "--strict", "--nosec")
    assert with_nosec.stdout == scan(".", "--format", "json", "--no-cache", "--strict", "--nosec").stdout
    assert ("legacy.py", 6, "unsafe-deserialization") not in _rules(with_nosec)
    assert scan(".", "--format", "json", "--cache-dir", store, "--strict").stdout == without.stdout


def _plant(path: Path, entry: dict, damage: str) -> None:
    """Replace a cache entry with what a hostile or broken cache directory may hold."""
    findings = entry["analysis"]["own"]
    if damage == "nested too deeply":
        path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    elif damage == "nested in the analysis":
        path.write_text(json.dumps({**entry, "analysis": "@"}).replace('"@"', "[" * 50_000 + "]" * 50_000),
                        encoding="utf-8")
    elif damage == "unknown CWE":
        path.write_text(json.dumps({**entry, "analysis": {**entry["analysis"], "own": [
            {**f, "cwe": 999999} for f in findings]}}), encoding="utf-8")
    elif damage == "unknown rule":
        path.write_text(json.dumps({**entry, "analysis": {**entry["analysis"], "own": [
            {**f, "rule": "no-such-rule"} for f in findings]}}), encoding="utf-8")
    elif damage == "infinite line":
        text = json.dumps({**entry, "analysis": {**entry["analysis"], "own": [
            {**f, "location": [f["location"][0], "@"] + f["location"][2:]} for f in findings]}})
        path.write_text(text.replace('"@"', 'Infinity'), encoding="utf-8")
    elif damage == "path not a string":
        path.write_text(json.dumps({**entry, "analysis": {**entry["analysis"], "own": [
            {**f, "location": [["app.py"]] + f["location"][1:]} for f in findings]}}), encoding="utf-8")
    elif damage == "unknown severity":
        path.write_text(json.dumps({**entry, "analysis": {**entry["analysis"], "own": [
            {**f, "severity": 9} for f in findings]}}), encoding="utf-8")
    elif damage == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif damage == "link to /dev/zero":
        path.unlink()
        path.symlink_to("/dev/zero")
    elif damage == "directory":
        path.unlink()
        path.mkdir()
    elif damage == "too large":
        path.write_bytes(b" " * (cache_module.MAX_ENTRY_BYTES + 1))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("damage", ["nested too deeply", "nested in the analysis", "unknown CWE", "unknown rule",
                                    "infinite line", "path not a string", "unknown severity", "fifo", "link to /dev/zero", "directory",
                                    "too large"])
def test_a_planted_entry_is_a_miss_not_a_crash_or_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         damage: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app.py": HANDLER, "helpers.py": PASSING_HELPER})
    store = tmp_path / "cache"
    cold = scan(".", "--format", "json", "--cache-dir", str(store), "--jobs", "1")
    assert cold.code == 1 and _rules(cold) == [("app.py", 12, "os-command-injection")]
    (app_entry,) = [p for p in _entries(store) if json.loads(p.read_text(encoding="utf-8"))["path"] == "app.py"]
    _plant(app_entry, json.loads(app_entry.read_text(encoding="utf-8")), damage)
    analysed = _count_analyses(monkeypatch)
    again = scan(".", "--format", "json", "--cache-dir", str(store), "--jobs", "1")
    assert (again.code, again.stdout, again.stderr) == (cold.code, cold.stdout, cold.stderr)
    assert analysed == ["app.py"]  # the planted entry was a miss; helpers.py's was used
    if damage != "directory":  # a directory cannot be replaced by a file; it stays a miss
        assert json.loads(app_entry.read_text(encoding="utf-8"))["format"] == cache_module.FORMAT


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("damage", ["nested too deeply", "fifo", "wrong types"])
def test_planted_name_counts_are_recomputed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    from secreview.config import Config
    from secreview.discover import discover

    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app.py": HANDLER, "helpers.py": PASSING_HELPER})
    files, _ = discover(["."], Config())
    contents = {f.path: f.absolute.read_bytes() for f in files}
    expected = cache_module.Cache(tmp_path / "fresh").begin(files, contents, Config()).references()
    store = tmp_path / "cache"
    run = cache_module.Cache(store).begin(files, contents, Config())
    references = store / "references" / f"{run.project}.json"
    references.parent.mkdir(parents=True)
    if damage == "nested too deeply":
        references.write_text("{" + '"a":{' * 50_000 + "}" * 50_001, encoding="utf-8")
    elif damage == "fifo":
        os.mkfifo(references)
    else:
        references.write_text(json.dumps({"format": cache_module.FORMAT, "mentions": {"x": "many"},
                                          "definitions": {}}), encoding="utf-8")
    assert run.references() == expected
    assert json.loads(references.read_text(encoding="utf-8"))["format"] == cache_module.FORMAT  # rewritten


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_the_cache_key_reads_no_model_that_is_not_a_regular_small_file(tmp_path: Path) -> None:
    # the review refuses such a model with a clear error; keying the cache must not hang on it first
    from secreview.config import Config

    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "big.toml").write_bytes(b"#" * (cache_module.MAX_MODEL_BYTES + 1))
    config = Config(models=("pipe.toml", "big.toml"), root=tmp_path)
    digest = cache_module.analysis_settings_digest(config)
    assert digest == cache_module.analysis_settings_digest(config)
    (tmp_path / "big.toml").write_bytes(b"# a model")
    assert cache_module.analysis_settings_digest(config) != digest
