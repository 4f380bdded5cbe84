"""Time `secreview diff` for a one-file change in OpenStack Nova against a full scan of the tree.

The Nova source distribution is made into a git repository in a temporary directory, one file is
changed (a small function with a defect inserted in the middle: first the largest module,
nova/compute/api.py, then an ordinary one), and both commands run as a user runs them, in a
fresh process: the figures include interpreter start.  Wall time depends on what else the
machine is doing, so CPU time (user + system) is printed beside it, and the load average
before and after.

Each diff is timed with a cold analysis cache (an empty cache directory for every run: what a
first review of a change costs, writing the entries included) and warm (the same diff again
on the cache the cold run filled: what re-running it costs, e.g. in a pre-commit hook after
an unrelated edit); the warm report must be byte-identical to the cold one.  Full scans run on
an empty cache directory each, never on the user's own cache.

    .venv/bin/python bench/diff_speed.py            # 5 diff runs per changed file, 1 full scan
    .venv/bin/python bench/diff_speed.py --runs 9 --scans 2

The sdist is taken from /tmp/nova_src (extracted) or /tmp/nova_dl (the archive), and fetched
with ``pip download --no-deps --no-binary :all: nova`` into /tmp/nova_dl when neither exists.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

DOWNLOADS = Path("/tmp/nova_dl")
EXTRACTED = Path("/tmp/nova_src")
# the largest module of Nova (the worst case for a one-file change) and a module of ordinary size
CHANGED_FILES = ("nova/compute/api.py", "nova/utils.py")
TARGET_MS = 2000


def nova_tree() -> Path:
    trees = sorted(EXTRACTED.glob("nova-*/nova"))
    if trees:
        return trees[-1].parent
    archives = sorted(DOWNLOADS.glob("nova-*.tar.gz"))
    if not archives:
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "nova",
                        "-d", str(DOWNLOADS)], check=True)
        archives = sorted(DOWNLOADS.glob("nova-*.tar.gz"))
    EXTRACTED.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archives[-1]) as archive:
        archive.extractall(EXTRACTED, filter="data")
    return max(EXTRACTED.glob("nova-*/nova")).parent


def git(repo: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.org")
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def make_repository(source: Path, destination: Path) -> None:
    shutil.copytree(source, destination, symlinks=True)
    git(destination, "init", "-q", "-b", "master")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "Nova sdist")


def change_one_file(repo: Path, name: str) -> int:
    """Insert a small function with a defect in the middle of a module; return its sink line."""
    path = repo / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith("def ") or lines[i].startswith("class "))
    added = ["def _restore_cached_request(blob):\n", "    import pickle\n", "    return pickle.loads(blob)\n", "\n", "\n"]
    path.write_text("".join(lines[:middle] + added + lines[middle:]), encoding="utf-8")
    return middle + 3


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall time and CPU time (user + system, the command and its children) of one run."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed, _children_cpu() - cpu_before, done


def _ms(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.0f} ms (min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f})"


def _diffs(secreview: list[str], repo: Path, caches: Path, runs: int) -> tuple[list[float], list[float], bytes]:
    """``runs`` timed diffs, each on a cache directory of its own under ``caches`` (empty
    when it does not exist yet); the wall and CPU times and the last report."""
    walls, cpus = [], []
    done = None
    for run in range(runs):
        wall, cpu, done = timed([*secreview, "diff", "HEAD", "--format", "json",
                                 "--cache-dir", str(caches / f"run{run}")], repo)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="diff runs, cold and warm each (the median is reported)")
    parser.add_argument("--scans", type=int, default=1, help="full-scan runs")
    args = parser.parse_args()

    source = nova_tree()
    python_files = sum(1 for _ in (source / "nova").rglob("*.py"))
    secreview = [sys.executable, "-m", "secreview"]
    print(f"Nova sdist: {source.name}, {python_files} Python files under nova/")
    print(f"machine: {os.cpu_count()} CPUs, load average {_load()} at the start, Python {sys.version.split()[0]}")
    verdict = 0
    with tempfile.TemporaryDirectory(prefix="secreview-bench-") as scratch:
        repo = Path(scratch) / "nova"
        make_repository(source, repo)
        for number, name in enumerate(CHANGED_FILES):
            git(repo, "checkout", "-q", "--", ".")
            sink_line = change_one_file(repo, name)
            lines = sum(1 for _ in (repo / name).open(encoding="utf-8"))
            caches = Path(scratch) / f"diff-caches-{number}"
            cold_walls, cold_cpus, cold = _diffs(secreview, repo, caches, args.runs)
            warm_walls, warm_cpus, warm = _diffs(secreview, repo, caches, args.runs)  # the same directories, now filled
            reported = [(f["location"]["path"], f["location"]["line"], f["rule"])
                        for file in json.loads(cold)["files"] for f in file["findings"]]
            expected = [(name, sink_line, "unsafe-deserialization")]
            print(f"secreview diff HEAD, 5 lines added to {name} ({lines} lines), {args.runs} runs each:")
            print(f"  cold cache: wall {_ms(cold_walls)}; CPU {_ms(cold_cpus)}; target: wall under {TARGET_MS} ms")
            print(f"  warm cache: wall {_ms(warm_walls)}; CPU {_ms(warm_cpus)}")
            print(f"  reported {reported}: {'as expected' if reported == expected else f'EXPECTED {expected}'}; "
                  f"warm report {'identical to' if warm == cold else 'DIFFERENT FROM'} the cold one")
            if statistics.median(cold_walls) * 1000 >= TARGET_MS or reported != expected or warm != cold:
                verdict = 1

        walls, cpus = [], []
        for run in range(args.scans):
            wall, cpu, done = timed([*secreview, "scan", "nova", "--format", "json",
                                     "--cache-dir", str(Path(scratch) / f"scan-cache-{run}")], repo)
            walls.append(wall)
            cpus.append(cpu)
        scanned = json.loads(done.stdout)["summary"]
    print(f"secreview scan nova (cold cache), {args.scans} runs: wall median {statistics.median(walls):.1f} s, "
          f"CPU median {statistics.median(cpus):.1f} s; {scanned['files_reviewed']} files reviewed, {scanned['findings']} findings")
    print(f"load average {_load()} at the end")
    return verdict


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
