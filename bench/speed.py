"""Speed and memory on OpenStack Nova: secreview cold, warm and after a one-file change, beside
Bandit, Ruff (its flake8-bandit "S" rules) and Semgrep.

Every tool runs as a user runs it, in a fresh process, on a private copy of the Nova sdist's
``nova/`` package (about 1,500 files, 600k lines).  For each run it prints:

- wall time;
- CPU time: user + system of the command and all its processes (RUSAGE_CHILDREN);
- peak memory, two ways: the largest single process (ru_maxrss), and the peak of the whole
  process tree sampled every 20 ms (the sum of each process's proportional set size, so pages
  that forked workers share with their parent are counted once).

secreview runs: ``cold`` (an empty --cache-dir: it analyses everything and fills the cache),
``warm`` (nothing changed), ``one file`` (a function appended to nova/utils.py, which many
modules import: a real content change).  Targets on a 2-core machine: cold at most 10 s and
under 1 GiB, warm at most 1 s, one-file change at most 2 s.  Wall time depends on what else the
machine does, so the load average is printed; CPU time is the steadier figure.

    .venv/bin/python bench/speed.py                 # everything
    .venv/bin/python bench/speed.py --skip semgrep  # without the slow one
    .venv/bin/python bench/speed.py --profile       # and where a cold --jobs 1 run spends its time
    .venv/bin/python bench/speed.py --skip bandit --skip ruff --skip semgrep --against ../old --repeat 3

``--against DIR`` also times an earlier revision's source (a checkout, e.g. ``git worktree add
../old 2ce4aa3``, run as ``PYTHONPATH=DIR/src``) beside this one: cold runs without a cache,
alternating, the least CPU time of ``--repeat`` runs each, and whether the two reports hold the
same findings.  That is how a change to the engine shows its cost on a real tree.

The sdist comes from /tmp/nova_src (extracted) or /tmp/nova_dl (the archive), else it is fetched
with ``pip download --no-deps --no-binary :all: nova`` into bench/.work/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
VENV_BIN = Path(sys.executable).parent
TARGETS = {"secreview cold": (10.0, 1024), "secreview warm": (1.0, None), "secreview one file": (2.0, None)}


def nova_source() -> Path:
    """The directory holding the sdist's ``nova/`` package."""
    for root in (Path("/tmp/nova_src"), WORK / "nova_src"):
        trees = sorted(root.glob("nova-*/nova"))
        if trees:
            return trees[-1].parent
    archives = sorted(Path("/tmp/nova_dl").glob("nova-*.tar.gz")) + sorted((WORK / "nova_dl").glob("nova-*.tar.gz"))
    if not archives:
        (WORK / "nova_dl").mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "nova",
                        "-d", str(WORK / "nova_dl")], check=True)
        archives = sorted((WORK / "nova_dl").glob("nova-*.tar.gz"))
    target = WORK / "nova_src"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archives[-1]) as archive:
        archive.extractall(target, filter="data")
    return sorted(target.glob("nova-*/nova"))[-1].parent


# --- measuring one run ------------------------------------------------------------------------


def _children_of(pid: int, parents: dict[int, int]) -> set[int]:
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def _process_parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _memory_kib(pid: int) -> int:
    """Proportional set size where the kernel gives it, else resident set size."""
    for name, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(name, encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


class TreeMemory(threading.Thread):
    """Samples the memory of a process and its descendants until it ends; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self._stop_event = pid, 0, threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self._stop_event.is_set():
            tree = _children_of(self.pid, _process_parents())
            self.peak_kib = max(self.peak_kib, sum(_memory_kib(p) for p in tree))
            self._stop_event.wait(0.02)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Measure:
    name: str
    wall: float = 0.0
    cpu: float = 0.0
    max_process_mib: float = 0.0
    tree_mib: float = 0.0
    note: str = ""
    ran: bool = True


# Each run happens inside a fresh wrapper process, so that RUSAGE_CHILDREN there holds exactly
# this run's processes (ru_maxrss of earlier, bigger runs would otherwise mask it).
WRAPPER = r"""
import json, os, resource, signal, subprocess, sys, time
limit = float(sys.argv[2])
start = time.perf_counter()
child = subprocess.Popen(sys.argv[3:], cwd=sys.argv[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
try:
    out, err = child.communicate(timeout=limit)
    timed_out = False
except subprocess.TimeoutExpired:
    os.killpg(child.pid, signal.SIGKILL)  # the tool and every process it started
    out, err = child.communicate()
    timed_out = True
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.buffer.write(err[-2000:])
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss,
                  "code": child.returncode, "timed_out": timed_out, "stdout": out.decode("utf-8", "replace")}))
"""
LIMIT = {"seconds": 1200.0}  # per run (--time-limit): a tool that takes longer is reported as not finished


def measure(name: str, command: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0, 1)) -> tuple[Measure, str]:
    wrapper = subprocess.Popen([sys.executable, "-c", WRAPPER, str(cwd), str(LIMIT["seconds"]), *command],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeMemory(wrapper.pid)
    sampler.start()
    out, err = wrapper.communicate()
    sampler.stop()
    data = json.loads(out)
    result = Measure(name, data["wall"], data["cpu"], data["maxrss_kib"] / 1024,
                     max(0, sampler.peak_kib - _wrapper_kib()) / 1024)
    if data["timed_out"]:
        result.note = f"NOT FINISHED: stopped after {LIMIT['seconds']:.0f} s (--time-limit)"
        return result, ""
    if data["code"] not in ok_codes:
        result.note = f"exit {data['code']}: {err.decode('utf-8', 'replace').strip()[-300:]}"
    return result, data["stdout"]


_WRAPPER_KIB: int | None = None


def _wrapper_kib() -> int:
    """The wrapper's own memory, taken off the tree's peak (it is the bench, not the tool)."""
    global _WRAPPER_KIB
    if _WRAPPER_KIB is None:
        idle = subprocess.Popen([sys.executable, "-c", WRAPPER.replace("child = subprocess.Popen", "time.sleep(0.3); child = subprocess.Popen"),
                                 "/", "60", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.15)
        _WRAPPER_KIB = _memory_kib(idle.pid)
        idle.communicate()
    return _WRAPPER_KIB


# --- the tools ------------------------------------------------------------------------------------


def _findings(stdout: str) -> str:
    try:
        summary = json.loads(stdout)["summary"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f"{summary['files_reviewed']} files reviewed, {summary['findings']} findings"


def run_secreview(tree: Path, jobs: int | None) -> list[Measure]:
    cache = Path(tempfile.mkdtemp(prefix="secreview-bench-cache-"))
    base = [sys.executable, "-m", "secreview", "scan", "nova", "--format", "json", "--quiet"]
    if jobs is not None:
        base += ["--jobs", str(jobs)]
    command = [*base, "--cache-dir", str(cache)]
    results = []
    try:
        cold, cold_out = measure("secreview cold", command, tree)
        cold.note = cold.note or _findings(cold_out)
        results.append(cold)
        warm, warm_out = measure("secreview warm", command, tree)
        warm.note = warm.note or ("same report as cold" if warm_out == cold_out else "REPORT DIFFERS FROM COLD")
        results.append(warm)
        helper = tree / "nova" / "utils.py"
        original = helper.read_bytes()
        helper.write_bytes(original + b"\n\ndef _bench_passthrough(value):\n    return value\n")
        try:
            changed, changed_out = measure("secreview one file", command, tree)
            _, fresh_out = measure("(check: cold after the change)", [*base, "--no-cache"], tree)
            agrees = changed_out == fresh_out
            changed.note = changed.note or ("nova/utils.py changed; same report as a cold run" if agrees
                                            else "nova/utils.py changed; REPORT DIFFERS FROM A COLD RUN")
        finally:
            helper.write_bytes(original)
        results.append(changed)
        size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
        results[0].note += f"; cache {size / 1e6:.1f} MB"
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return results


def _report_findings(stdout: str) -> list | None:
    try:
        return [(f["path"], f["findings"]) for f in json.loads(stdout)["files"]]
    except (ValueError, KeyError, TypeError):
        return None


def compare_revision(tree: Path, against: Path, jobs: int | None, repeat: int) -> None:
    """This source and ``against``'s, timed alternately on the same tree without a cache."""
    base = ["-m", "secreview", "scan", "nova", "--format", "json", "--quiet", "--no-cache"]
    if jobs is not None:
        base += ["--jobs", str(jobs)]
    runs: dict[str, list[Measure]] = {"this source": [], f"{against}": []}
    reports: dict[str, str] = {}
    for _ in range(repeat):
        for name, command in (("this source", [sys.executable, *base]),
                              (f"{against}", ["env", f"PYTHONPATH={against / 'src'}", sys.executable, *base])):
            result, out = measure(f"secreview cold, {name}", command, tree)
            runs[name].append(result)
            reports[name] = out
    print(f"\nThis source against {against} (no cache, least CPU of {repeat} alternating runs):")
    best = {name: min(measures, key=lambda m: m.cpu) for name, measures in runs.items()}
    for name, result in best.items():
        result.note = result.note or _findings(reports[name])
        show(result)
    now, then = best["this source"].cpu, best[f"{against}"].cpu
    print(f"CPU time ratio this/earlier: {now / then:.3f} ({(now / then - 1) * 100:+.1f}%)")
    same = _report_findings(reports["this source"]) == _report_findings(reports[f"{against}"])
    print("findings: " + ("identical in both reports" if same else "THE REPORTS' FINDINGS DIFFER"))


def _tool(name: str) -> str | None:
    found = VENV_BIN / name
    return str(found) if found.exists() else shutil.which(name)


def _counted(result: Measure, out: str, count, noun: str) -> Measure:
    """``result`` noting how many findings a peer's JSON report ``out`` holds, unless it already
    says why the run failed; a report that cannot be read adds nothing."""
    try:
        result.note = result.note or f"{count(json.loads(out))} {noun}"
    except (ValueError, KeyError, TypeError):
        pass
    return result


def run_bandit(tree: Path) -> Measure:
    exe = _tool("bandit")
    if exe is None:
        return Measure("bandit -r", ran=False, note="not run: bandit is not installed")
    result, out = measure("bandit -r", [exe, "-r", "-q", "-f", "json", "nova"], tree)
    return _counted(result, out, lambda report: len(report["results"]), "issues")


def run_ruff(tree: Path) -> Measure:
    exe = _tool("ruff")
    if exe is None:
        return Measure("ruff check --select S", ran=False, note="not run: ruff is not installed")
    result, out = measure("ruff check --select S",
                          [exe, "check", "--select", "S", "--output-format", "json", "--no-cache", "--exit-zero", "nova"], tree)
    return _counted(result, out, len, "issues")


def run_semgrep(tree: Path) -> Measure:
    """With the local rule set that bench/compare_peers.py prepares (see bench/README.md)."""
    name = "semgrep"
    try:
        sys.path.insert(0, str(HERE))
        import compare_peers  # optional: only for its Semgrep set-up
    except Exception as exc:  # noqa: BLE001 - any failure only means Semgrep is not measured
        return Measure(name, ran=False, note=f"not run: cannot use bench/compare_peers.py ({exc})")
    exe = compare_peers._semgrep_exe()
    if exe is None:
        return Measure(name, ran=False, note="not run: semgrep is not installed (see bench/README.md)")
    rules_dir = compare_peers._semgrep_rules_dir()
    if rules_dir is None:
        return Measure(name, ran=False, note="not run: no local Python rule set (see bench/README.md)")
    files = compare_peers.semgrep_rule_files(exe, rules_dir)
    if not files:
        return Measure(name, ran=False, note="not run: no valid local Python rules")
    configs = [arg for f in files for arg in ("--config", str(f))]
    os.environ.update({"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"})
    result, out = measure(f"semgrep ({len(files)} local rule files)",
                          [str(exe), "--metrics=off", "--disable-version-check", "--json", "--quiet", "--no-git-ignore",
                           *configs, "nova"], tree)
    return _counted(result, out, lambda report: len(report["results"]), "results")


def profile(tree: Path) -> None:
    """Where a cold --jobs 1 run spends its CPU time: the top of cProfile's cumulative listing."""
    print("\nProfile of a cold run with --jobs 1 (cProfile, cumulative time, top 30):")
    done = subprocess.run([sys.executable, "-m", "cProfile", "-s", "cumulative", "-m", "secreview", "scan", "nova",
                           "--format", "json", "--no-cache", "--jobs", "1", "--output", os.devnull],
                          cwd=tree, capture_output=True, text=True, check=False)
    lines = done.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    print("\n".join(lines[start:start + 31]))


def show(r: Measure) -> int:
    """Print one row as soon as it is measured (a slow tool later must not cost the figures);
    1 when it missed its target."""
    if not r.ran:
        print(f"{r.name:<34} {'':>7} {'':>7} {'':>12} {'':>9}  {r.note}", flush=True)
        return 0
    verdict, missed = "", 0
    if r.name in TARGETS:
        wall_target, memory_target = TARGETS[r.name]
        met = r.wall <= wall_target and (memory_target is None or r.tree_mib < memory_target)
        missed = int(not met)
        verdict = f"[{'met' if met else 'MISSED'}: wall <= {wall_target:g} s" + (
            f", memory < {memory_target} MiB] " if memory_target else "] ")
    print(f"{r.name:<34} {r.wall:7.2f} {r.cpu:7.2f} {r.max_process_mib:12.0f} {r.tree_mib:9.0f}  {verdict}{r.note}", flush=True)
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, help="secreview --jobs (default: its own, one per core)")
    parser.add_argument("--skip", action="append", default=[], choices=("bandit", "ruff", "semgrep"))
    parser.add_argument("--profile", action="store_true", help="also profile a cold --jobs 1 run")
    parser.add_argument("--against", type=Path, help="an earlier revision's source checkout to time beside this one")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each revision for --against")
    parser.add_argument("--time-limit", type=float, default=LIMIT["seconds"], help="seconds per run before it is stopped")
    args = parser.parse_args()
    LIMIT["seconds"] = args.time_limit

    source = nova_source()
    with tempfile.TemporaryDirectory(prefix="secreview-speed-") as scratch:
        tree = Path(scratch)
        shutil.copytree(source / "nova", tree / "nova", symlinks=True)
        files = list((tree / "nova").rglob("*.py"))
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        print(f"Nova sdist {source.name}: {len(files)} Python files, {lines:,} lines under nova/")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start, Python {sys.version.split()[0]}")
        print(f"\n{'run':<34} {'wall s':>7} {'CPU s':>7} {'max proc MiB':>12} {'tree MiB':>9}  target / note", flush=True)
        missed = 0
        for r in run_secreview(tree, args.jobs):
            missed += show(r)
        for tool, runner in (("bandit", run_bandit), ("ruff", run_ruff), ("semgrep", run_semgrep)):
            if tool not in args.skip:
                show(runner(tree))
        if args.against is not None:
            compare_revision(tree, args.against.resolve(), args.jobs, args.repeat)
        print(f"load average {os.getloadavg()[0]:.1f} at end")
        if args.profile:
            profile(tree)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
