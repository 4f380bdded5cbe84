"""Review the sources of real projects and count what did not go right.

For each project the latest source distribution is fetched from the package registry with
``pip download --no-deps --no-binary NAME`` (cached under ``bench/.work/``), unpacked, and
reviewed in a separate process with ``secreview scan <tree> --format json --test-code all``.
Per project it prints: files reviewed, files not reviewed (reasons grouped), files not fully
reviewed (a rule failed: each one is a bug; the front end's notes on Python 2 files and syntax errors
are listed apart), crashes (an exit status other than 0/1, a
traceback, or a timeout: must be 0), findings, wall and CPU time and peak memory; then the
totals.  With ``--twice`` each project is reviewed again in one process (``--jobs 1``) under
another ``PYTHONHASHSEED``, and the two reports must be identical byte for byte.

    .venv/bin/python bench/robustness.py                 # the default project list
    .venv/bin/python bench/robustness.py flask requests  # a subset
    .venv/bin/python bench/robustness.py --json out.json # also keep the figures

The exit status is 1 when any project crashed or any file was not fully reviewed, so the script
can gate CI; projects that cannot be downloaded are listed and skipped, not counted as crashes.

With ``--hostile`` it runs, instead, the hostile-input corpus of issue 16 in a temporary
directory: the cases of bench/hostile_inputs.py (ways past a CI gate, FIFOs, links out of the
tree, oversized and NUL files, damaged cache entries, bad pyproject.toml files and baselines,
nan budgets, unwritable output, ...) and the output-escaping corpus of bench/hostile.py (hostile
file names, code, literals and commit messages in every format).  Each run is a separate process
with a timeout (``--timeout``, default 120 s here).  It prints each case that went wrong and the
figures: cases tried, crashes, hangs, silent skips, wrong exit codes, unrepeatable reports and
output lines chosen by the reviewed code (counted by ``hostile.chosen_lines``).  Exit status 1
when any figure but the first is not 0.

    .venv/bin/python bench/robustness.py --hostile
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
ARCHIVES = WORK / "sdists"
TREES = WORK / "trees"

# Registry names; chosen for size, age and security-relevant code (web frameworks, crypto,
# remote execution, parsers).  Ordered small to large so early problems show early.
PROJECTS = (
    "requests", "flask", "werkzeug", "jinja2", "pyyaml", "paramiko", "tornado", "scrapy",
    "aiohttp", "celery", "pillow", "sqlalchemy", "twisted", "keystone", "ansible-core",
    "botocore", "django", "neutron", "nova", "salt",
)

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
_NORMALISE = re.compile(r"[-_.]+")


_INPUT_NOTES = ("syntax error at line ", "read as Python 2 (", "merge-conflict marker lines ")


@dataclass
class ProjectRun:
    name: str
    archive: str = ""
    files_reviewed: int = 0
    not_reviewed: Counter = field(default_factory=Counter)  # reason (numbers blanked) -> files
    incomplete: list[tuple[str, str]] = field(default_factory=list)  # (path, what failed)
    input_notes: list[tuple[str, str]] = field(default_factory=list)  # (path, what the file is: not failures)
    crash: str = ""  # why the process did not finish normally; empty when it did
    findings: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_mib: float = 0.0
    lines: int = 0
    deterministic: bool | None = None  # None: not checked (no --twice)

    @property
    def not_reviewed_total(self) -> int:
        return sum(self.not_reviewed.values())


def _canonical(name: str) -> str:
    return _NORMALISE.sub("-", name).lower()


def _cached_archive(name: str) -> Path | None:
    wanted = _canonical(name)
    if not ARCHIVES.is_dir():
        return None
    for candidate in sorted(ARCHIVES.iterdir()):
        if not candidate.name.endswith(_ARCHIVE_SUFFIXES):
            continue
        stem = _strip_suffix(candidate.name)
        project = stem.rsplit("-", 1)[0]
        if _canonical(project) == wanted:
            return candidate
    return None


def _strip_suffix(filename: str) -> str:
    for suffix in _ARCHIVE_SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def fetch(name: str) -> tuple[Path | None, str]:
    """The project's sdist, downloaded once; (None, why) when the registry does not give one."""
    cached = _cached_archive(name)
    if cached is not None:
        return cached, ""
    ARCHIVES.mkdir(parents=True, exist_ok=True)
    # --no-binary names only the project: with ":all:" pip would also build every build
    # dependency (Cython, setuptools-rust, ...) from source just to read the metadata.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name,
               "--disable-pip-version-check", "-q", "-d", str(ARCHIVES), name]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return None, "download timed out"
    cached = _cached_archive(name)
    if cached is None:
        last = (done.stderr.strip().splitlines() or ["no archive saved"])[-1]
        return None, f"download failed: {last[:200]}"
    return cached, ""


def unpack(archive: Path) -> Path:
    """Extract once; only regular files and directories, never outside the target."""
    target = TREES / _strip_suffix(archive.name)
    if (target / ".unpacked").is_file():
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                destination = (target / member.filename).resolve()
                if target.resolve() in destination.parents and not member.is_dir():
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    destination.write_bytes(bundle.read(member))
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(target, filter="data")
    (target / ".unpacked").write_text("")
    return target


def _count_lines(tree: Path, paths: list[str], cwd: Path) -> int:
    total = 0
    for path in paths:
        try:
            with open(cwd / path, "rb") as handle:
                total += sum(1 for _ in handle)
        except OSError:
            pass
    return total


_NUMBERS = re.compile(r"\d+")


@dataclass
class _Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    peak_mib: float
    timed_out: bool


def _run_measured(command: list[str], cwd: Path, timeout: float, hash_seed: str = "0") -> _Finished:
    """Run ``command``, with its own CPU time and peak memory (``wait4``), killed after ``timeout``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        environment = dict(os.environ, PYTHONHASHSEED=hash_seed)
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=environment)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        out.seek(0)
        err.seek(0)
        return _Finished(
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_mib=usage.ru_maxrss / 1024,  # kilobytes on Linux
            timed_out=seconds >= timeout and process.returncode < 0,
        )


def scan(name: str, tree: Path, timeout: float, twice: bool = False) -> ProjectRun:
    run = ProjectRun(name=name, archive=tree.name)
    # The tree's own directory is the working directory, so paths in the report are relative
    # to the project, as a user running the tool there would see them.
    # --no-gitignore: the trees live under bench/.work/, which this repository's .gitignore
    # ignores, and secreview honours the .gitignore files of every directory above the scan.
    # --no-cache: every run analyses every file (a warm cache would replay an earlier run).
    command = [sys.executable, "-m", "secreview", "scan", ".", "--format", "json", "--test-code", "all", "--no-gitignore",
               "--no-cache", "--quiet"]
    finished = _run_measured(command, tree, timeout)
    run.seconds, run.cpu_seconds, run.peak_mib = finished.seconds, finished.cpu_seconds, finished.peak_mib
    if finished.timed_out:
        run.crash = f"timed out after {timeout:.0f} s"
        return run
    if finished.returncode not in (0, 1) or "Traceback (most recent call last)" in finished.stderr:
        tail = finished.stderr.strip().splitlines()[-1:] or ["(no message)"]
        run.crash = f"exit {finished.returncode}: {tail[0][:300]}"
        return run
    if twice:
        # string hashing, and with it set order, changes with the seed, and worker processes
        # finish in any order; the report must not change with either
        again = _run_measured([*command, "--jobs", "1"], tree, timeout, hash_seed="12345")
        run.deterministic = again.stdout == finished.stdout
    try:
        report = json.loads(finished.stdout)
    except json.JSONDecodeError as exc:
        run.crash = f"output is not JSON: {exc}"
        return run
    reviewed_paths = []
    for entry in report["files"]:
        if entry["reviewed"]:
            run.files_reviewed += 1
            reviewed_paths.append(entry["path"])
        else:
            run.not_reviewed[_NUMBERS.sub("N", entry["not_reviewed_reason"] or "(no reason)")] += 1
        for note in entry["incomplete"]:
            # the front end's notes say what the file is (Python 2, a syntax error, conflict
            # markers): the file is read as far as it can be, which is no failure of secreview
            kind = run.input_notes if note.startswith(_INPUT_NOTES) else run.incomplete
            kind.append((entry["path"], note))
        run.findings += len(entry["findings"])
    run.lines = _count_lines(tree, reviewed_paths, tree)
    return run


def _row(cells: list[object], widths: list[int]) -> str:
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def print_table(runs: list[ProjectRun], skipped: list[tuple[str, str]]) -> None:
    headers = ["project", "files", "lines", "not reviewed", "incomplete", "crash", "findings", "wall s", "cpu s", "peak MiB"]
    rows = [
        [r.archive or r.name, r.files_reviewed, r.lines, r.not_reviewed_total, len(r.incomplete),
         1 if r.crash else 0, r.findings, f"{r.seconds:.1f}", f"{r.cpu_seconds:.1f}", f"{r.peak_mib:.0f}"]
        for r in runs
    ]
    totals = ["TOTAL", sum(r.files_reviewed for r in runs), sum(r.lines for r in runs),
              sum(r.not_reviewed_total for r in runs), sum(len(r.incomplete) for r in runs),
              sum(1 for r in runs if r.crash), sum(r.findings for r in runs), f"{sum(r.seconds for r in runs):.1f}",
              f"{sum(r.cpu_seconds for r in runs):.1f}", f"{max((r.peak_mib for r in runs), default=0):.0f}"]
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, totals)]
    print(_row(headers, widths))
    for row in rows:
        print(_row(row, widths))
    print(_row(totals, widths))
    reasons: Counter = Counter()
    for r in runs:
        reasons.update(r.not_reviewed)
    if reasons:
        print("\nnot reviewed, by reason (numbers blanked):")
        for reason, count in reasons.most_common():
            print(f"  {count:6}  {reason}")
    for r in runs:
        if r.crash:
            print(f"\nCRASH {r.name}: {r.crash}")
        if r.deterministic is False:
            print(f"\nNOT DETERMINISTIC {r.name}: the reports under two hash seeds differ")
    checked = [r for r in runs if r.deterministic is not None]
    if checked:
        same = sum(1 for r in checked if r.deterministic)
        print(f"\nidentical reports under two hash seeds: {same} of {len(checked)} projects")
    read_as_far_as_possible = [(r.name, path, note) for r in runs for path, note in r.input_notes]
    if read_as_far_as_possible:
        print("\nread as far as the file allows (Python 2, syntax errors, conflict markers; not failures):")
        for name, path, note in read_as_far_as_possible:
            print(f"  {name}: {path}: {note}")
    incomplete = [(r.name, path, note) for r in runs for path, note in r.incomplete]
    if incomplete:
        print("\nnot fully reviewed (each is a bug in a rule or the engine):")
        for name, path, note in incomplete:
            print(f"  {name}: {path}: {note}")
    for name, why in skipped:
        print(f"\nskipped {name}: {why}")


@dataclass
class _HostileRun:
    code: int
    stdout: str
    stderr: str
    timed_out: bool = False


def _run_hostile_command(argv: list[str], cwd: Path, timeout: float, environment: dict[str, str],
                         stdout_to: str | None = None) -> _HostileRun:
    command = [sys.executable, "-m", "secreview", *argv]
    sink = open(stdout_to, "wb") if stdout_to else None  # noqa: SIM115 - closed below
    try:
        done = subprocess.run(command, cwd=cwd, env=environment, stdout=sink or subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return _HostileRun(-1, (exc.stdout or b"").decode("utf-8", "backslashreplace"),
                           (exc.stderr or b"").decode("utf-8", "backslashreplace"), timed_out=True)
    finally:
        if sink is not None:
            sink.close()
    return _HostileRun(done.returncode, (done.stdout or b"").decode("utf-8", "backslashreplace"),
                       done.stderr.decode("utf-8", "backslashreplace"))


def _crashed(run: _HostileRun) -> bool:
    return not run.timed_out and (run.code not in (0, 1, 2) or "Traceback (most recent call last)" in run.stderr)


def run_hostile(timeout: float) -> int:
    """The hostile-input corpus (see the module's docstring); 1 when anything went wrong."""
    sys.path.insert(0, str(HERE))
    import hostile
    import hostile_inputs

    problems: list[str] = []
    passed: list[str] = []
    figures: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="secreview-hostile-") as scratch:
        root = Path(scratch)
        environment = dict(os.environ, PYTHONIOENCODING="utf-8", XDG_CACHE_HOME=str(root / "xdg-cache"),
                           **hostile_inputs.GIT_ENV)

        def run(argv: list[str], cwd: Path, stdout_to: str | None = None) -> _HostileRun:
            return _run_hostile_command(argv, cwd, timeout, environment, stdout_to)

        built = hostile_inputs.build(root / "inputs", run)
        for case in built.cases:
            figures["cases"] += 1
            first = run(list(case.argv), case.cwd, case.stdout_to)
            runs = [first] + ([run(list(case.argv), case.cwd, case.stdout_to)] if case.twice else [])
            what: list[str] = []
            if any(r.timed_out for r in runs):
                figures["hangs"] += 1
                what.append(f"hang (no exit within {timeout:.0f} s)")
            elif any(_crashed(r) for r in runs):
                figures["crashes"] += 1
                tail = (first.stderr.strip().splitlines() or ["(no message)"])[-1]
                what.append(f"crash (exit {first.code}: {tail[:200]})")
            else:
                shown = first.stdout + first.stderr
                silent = [name for name in case.listed if name not in shown]
                if silent:
                    figures["silent skips"] += len(silent)
                    what.append(f"silent skip of {', '.join(silent)}")
                if case.expect is not None and first.code != case.expect:
                    figures["wrong exit codes"] += 1
                    tail = (first.stderr.strip().splitlines() or [""])[-1]
                    what.append(f"exit {first.code}, a fail-closed review gives {case.expect}"
                                + (f" ({tail[:160]})" if tail else ""))
                if case.twice and runs[1].stdout != first.stdout:
                    figures["unrepeatable reports"] += 1
                    what.append("two runs printed different reports")
            chosen = sum(len(hostile.chosen_lines(r.stdout, "json")) + len(hostile.chosen_lines(r.stderr)) for r in runs)
            if chosen:
                figures["chosen lines"] += chosen
                what.append(f"{chosen} output line(s) chosen by the reviewed code")
            if what:
                problems.append(f"{case.label}: {'; '.join(what)}")
            else:
                passed.append(f"{case.label} (exit {first.code})")

        def escape_runner(argv: list[str], cwd: Path) -> tuple[int, str, str]:
            done = run(argv, cwd)
            if done.timed_out:
                return 124, done.stdout, done.stderr + "\n(timed out)"
            return done.code, done.stdout, done.stderr

        outputs = hostile.run_corpus(root / "escaping", escape_runner)
        for output in outputs:
            figures["cases"] += 1
            what = []
            if output.code == 124 and output.stderr.endswith("(timed out)"):
                figures["hangs"] += 1
                what.append("hang")
            elif output.crashed:
                figures["crashes"] += 1
                tail = (output.stderr.strip().splitlines() or ["(no message)"])[-1]
                what.append(f"crash (exit {output.code}: {tail[:200]})")
            chosen = len(hostile.chosen_lines(output.stdout, output.case.format)) + len(hostile.chosen_lines(output.stderr))
            if chosen:
                figures["chosen lines"] += chosen
                what.append(f"{chosen} output line(s) chosen by the reviewed code")
            if what:
                problems.append(f"output escaping, {output.case.label}: {'; '.join(what)}")
            else:
                passed.append(f"output escaping, {output.case.label} (exit {output.code})")

    for line in passed:
        print(f"ok      {line}")
    for line in problems:
        print(f"FAILED  {line}")
    for label, why in built.left_out:
        print(f"left out  {label}: {why}")
    names = ("cases", "crashes", "hangs", "silent skips", "wrong exit codes", "unrepeatable reports", "chosen lines")
    shown = {"cases": "cases tried", "chosen lines": "output lines chosen by the reviewed code"}
    print()
    for name in names:
        print(f"{shown.get(name, name):>42}: {figures[name]}")
    return 1 if any(figures[name] for name in names[1:]) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="*", help=f"registry names (default: {len(PROJECTS)} projects)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per project before it counts as a hang")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--fetch-only", action="store_true", help="download and unpack, do not review")
    parser.add_argument("--twice", action="store_true",
                        help="review each project a second time under another PYTHONHASHSEED and compare the reports")
    parser.add_argument("--hostile", action="store_true",
                        help="run the hostile-input corpus of issue 16 instead of the projects (see above)")
    args = parser.parse_args(argv)
    if args.hostile:
        return run_hostile(args.timeout if args.timeout != 600 else 120)

    runs: list[ProjectRun] = []
    skipped: list[tuple[str, str]] = []
    for name in args.projects or PROJECTS:
        archive, why = fetch(name)
        if archive is None:
            skipped.append((name, why))
            print(f"skipped {name}: {why}", file=sys.stderr)
            continue
        tree = unpack(archive)
        if args.fetch_only:
            print(f"fetched {archive.name}", file=sys.stderr)
            continue
        run = scan(name, tree, args.timeout, args.twice)
        runs.append(run)
        print(f"{run.archive}: {run.files_reviewed} reviewed, {run.not_reviewed_total} not, "
              f"{len(run.incomplete)} incomplete, crash={run.crash or 'none'}, {run.seconds:.1f} s, "
              f"{run.cpu_seconds:.1f} s CPU, {run.peak_mib:.0f} MiB",
              file=sys.stderr, flush=True)
    if args.fetch_only:
        return 0
    print_table(runs, skipped)
    if args.json:
        Path(args.json).write_text(json.dumps([
            {"project": r.archive or r.name, "files_reviewed": r.files_reviewed, "lines": r.lines,
             "not_reviewed": dict(r.not_reviewed), "incomplete": r.incomplete, "input_notes": r.input_notes,
             "crash": r.crash,
             "findings": r.findings, "seconds": round(r.seconds, 2), "cpu_seconds": round(r.cpu_seconds, 2),
             "peak_mib": round(r.peak_mib), "deterministic": r.deterministic}
            for r in runs
        ], indent=2) + "\n")
    failed = any(r.crash or r.incomplete or r.deterministic is False for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
