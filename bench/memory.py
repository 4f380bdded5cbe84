"""The memory ceiling, honoured: one large tree reviewed under several ``--max-memory`` values.

The default tree is the standard library of the Python running this script, tests included
(about 1,800 files, 860k lines: large modules that import one another, the heaviest real input
we know for the engine's memory).  For each ceiling it prints wall and CPU time, the peak memory of the largest
process and of the whole process tree (proportional set size, sampled every 20 ms: see
``speed.py``), whether the peak stayed under the ceiling, and how many files the ceiling (or the
time budget) left not fully reviewed.

    .venv/bin/python bench/memory.py                        # stdlib; ceilings 0 (none), 1024, 512, 256
    .venv/bin/python bench/memory.py --tree DIR --ceilings 0,768 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import measure  # noqa: E402  (a sibling script, not a package)


def stdlib_copy(scratch: Path) -> Path:
    """The standard library without site-packages, copied under ``scratch`` (outside any
    repository, so no .gitignore hides part of it; its test packages are test code)."""
    source = Path(sysconfig.get_paths()["stdlib"])
    target = scratch / "stdlib"
    skip = shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc")
    shutil.copytree(source, target, ignore=skip, symlinks=True)
    return target


def notes(stdout: str) -> tuple[int, int, int]:
    """(files reviewed, not fully reviewed for memory, for time) in a JSON report."""
    try:
        files = json.loads(stdout)["files"]
    except (ValueError, KeyError, TypeError):
        return 0, 0, 0
    memory = sum(1 for f in files if any(n.startswith("memory ceiling") for n in f["incomplete"]))
    time = sum(1 for f in files if any(n.startswith("time budget") for n in f["incomplete"]))
    return sum(1 for f in files if f["reviewed"]), memory, time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="the tree to review (default: a copy of this Python's standard library)")
    parser.add_argument("--ceilings", default="0,1024,512,256", help="--max-memory values in MiB (0: none)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="secreview-memory-") as scratch:
        tree = Path(args.tree).resolve() if args.tree else stdlib_copy(Path(scratch))
        files = list(tree.rglob("*.py"))
        lines = sum(p.read_bytes().count(b"\n") for p in files)
        print(f"tree {tree}: {len(files)} Python files, {lines:,} lines; --jobs {args.jobs}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'--max-memory':>12} {'wall s':>8} {'CPU s':>8} {'max proc MiB':>13} {'tree MiB':>9}  "
              f"{'under':>5}  files: reviewed / memory ceiling / time budget")
        for ceiling in (int(c) for c in args.ceilings.split(",")):
            command = [sys.executable, "-m", "secreview", "scan", ".", "--no-cache", "--quiet", "--format", "json",
                       "--jobs", str(args.jobs), "--max-memory", str(ceiling)]
            result, stdout = measure(f"max-memory {ceiling}", command, tree)
            reviewed, memory, time = notes(stdout)
            under = "-" if not ceiling else ("yes" if result.tree_mib < ceiling else "NO")
            print(f"{ceiling or 'none':>12} {result.wall:8.2f} {result.cpu:8.2f} {result.max_process_mib:13.0f} "
                  f"{result.tree_mib:9.0f}  {under:>5}  {reviewed} / {memory} / {time}  {result.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
