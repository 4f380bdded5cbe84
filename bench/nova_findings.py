"""What secreview reports on OpenStack Nova, and how long the whole review takes.

Fetches the Nova source distribution if it is not there yet (``pip download --no-deps
--no-binary :all: nova``), unpacks it, reviews the ``nova`` package in a separate process with
``secreview scan nova --test-code all --format json --no-cache`` and prints:

- files reviewed, files not reviewed (with reasons), files not fully reviewed;
- findings in non-test code and in test code, with each rule's count for both;
- the wall and CPU time of a first review (no cache);
- a check that ``nova/tests/functional/notification_sample_tests/test_instance.py``, reviewed
  under the default policy, yields "No security defects are detected in the code.";
- with ``--sample N``: N non-test findings spread evenly over the list, to judge by hand.

    .venv/bin/python bench/nova_findings.py
    .venv/bin/python bench/nova_findings.py --sample 15 --json /tmp/nova.json

Exit status 1 when the seed file is not clean or the review crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

DOWNLOADS = Path(os.environ.get("NOVA_DOWNLOADS", "/tmp/nova_dl"))
SOURCES = Path(os.environ.get("NOVA_SOURCES", "/tmp/nova_src"))
SEED = "nova/tests/functional/notification_sample_tests/test_instance.py"
CLEAN = "No security defects are detected in the code."


def sdist() -> Path:
    archives = sorted(DOWNLOADS.glob("nova-*.tar.gz"))
    if not archives:
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "nova", "-d", str(DOWNLOADS)],
            check=True,
        )
        archives = sorted(DOWNLOADS.glob("nova-*.tar.gz"))
    return archives[-1]


def source_tree(archive: Path) -> Path:
    tree = SOURCES / archive.name.removesuffix(".tar.gz")
    if not (tree / "nova").is_dir():
        SOURCES.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as bundle:
            bundle.extractall(SOURCES, filter="data")
    return tree


def secreview(tree: Path, *args: str) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a scan; returns the process, its wall time and its CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "secreview", "scan", *args],
        cwd=tree, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def table(counts: Counter) -> str:
    width = max((len(rule) for rule in counts), default=0)
    return "\n".join(f"    {rule:<{width}}  {n:>5}" for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def stratified_sample(files: list[dict], size: int) -> list[tuple[str, dict]]:
    """Non-test findings, one rule at a time in turn, so a frequent rule does not hide the rest."""
    by_rule: dict[str, list[tuple[str, dict]]] = {}
    for f in files:
        if not f["test_code"]:
            for x in f["findings"]:
                by_rule.setdefault(x["rule"], []).append((f["path"], x))
    queues = []
    for rule in sorted(by_rule):
        found = by_rule[rule]
        step = max(1, len(found) // size)  # spread picks from a long list over its whole length
        queues.append(found[::step] + [x for i, x in enumerate(found) if i % step])
    sample: list[tuple[str, dict]] = []
    taken = 0
    while len(sample) < size and any(taken < len(q) for q in queues):
        for queue in queues:
            if taken < len(queue) and len(sample) < size:
                sample.append(queue[taken])
        taken += 1
    return sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=0, metavar="N", help="print N non-test findings to judge")
    parser.add_argument("--json", metavar="FILE", help="also write the full review to FILE")
    args = parser.parse_args()

    archive = sdist()
    tree = source_tree(archive)
    print(f"Nova: {archive.name}, reviewed in {tree}")

    # --no-cache: the time of a first review, not of a re-review of unchanged files
    done, wall, cpu = secreview(tree, "nova", "--test-code", "all", "--format", "json", "--no-cache")
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        print(f"review crashed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        return 1
    if args.json:
        Path(args.json).write_text(done.stdout, encoding="utf-8")
    document = json.loads(done.stdout)
    files = document["files"]
    not_reviewed = [f for f in files if not f["reviewed"]]
    incomplete = [f for f in files if f["incomplete"]]
    lines = 0
    for f in files:
        if f["reviewed"]:
            with open(tree / f["path"], "rb") as handle:
                lines += sum(1 for _ in handle)

    print(f"time: {wall:.1f} s wall, {cpu:.1f} s CPU (no cache, default --jobs, --test-code all, JSON; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"files reviewed: {len(files) - len(not_reviewed)} ({lines} lines); not reviewed: {len(not_reviewed)}; "
          f"not fully reviewed: {len(incomplete)}")
    for f in not_reviewed:
        print(f"    not reviewed: {f['path']}: {f['not_reviewed_reason']}")
    for f in incomplete:
        print(f"    not fully reviewed: {f['path']}: {'; '.join(f['incomplete'])}")

    production = Counter(x["rule"] for f in files if not f["test_code"] for x in f["findings"])
    tests = Counter(x["rule"] for f in files if f["test_code"] for x in f["findings"])
    print(f"findings in non-test code: {sum(production.values())} "
          f"(in {sum(1 for f in files if not f['test_code'] and f['findings'])} of "
          f"{sum(1 for f in files if not f['test_code'])} files)")
    print(table(production))
    print(f"findings in test code (--test-code all): {sum(tests.values())} "
          f"(in {sum(1 for f in files if f['test_code'] and f['findings'])} of {sum(1 for f in files if f['test_code'])} files)")
    print(table(tests))

    done_default, _, _ = secreview(tree, "nova", "--format", "json")
    default_tests = Counter(
        x["rule"] for f in json.loads(done_default.stdout)["files"] if f["test_code"] for x in f["findings"]
    )
    print(f"findings in test code under the default policy (relevant): {sum(default_tests.values())}")
    print(table(default_tests))

    seed, _, _ = secreview(tree, SEED)
    seed_clean = seed.returncode == 0 and f"{SEED}\n  {CLEAN}\n" in seed.stdout
    print(f"seed {SEED} (default policy): {'CLEAN' if seed_clean else 'NOT CLEAN'} (exit {seed.returncode})")
    if not seed_clean:
        print(seed.stdout)

    if args.sample:
        print(f"\nsample of non-test findings, taken from each rule in turn ({args.sample} at most):")
        for path, x in stratified_sample(files, args.sample):
            print(f"  {path}:{x['location']['line']}  {x['rule']} ({x['severity']}/{x['confidence']})")
            print(f"      {x['location']['snippet'][:150]}")
            print(f"      {x['message'][:220]}")
    return 0 if seed_clean else 1


if __name__ == "__main__":
    sys.exit(main())
