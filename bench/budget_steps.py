"""How many analysis steps a second of CPU time buys: the calibration of guards.STEPS_PER_SECOND.

The per-file budget (``--time-budget``, seconds) is enforced as a count of interpreted
statements, so that where it cuts does not depend on the machine (see secreview.guards).  This
reviews a project in one process (``--jobs 1``, no cache, no budget) and records, per file, the
steps the engine took and the CPU time of the file's analysis; it prints the files with the most
steps and the steps per CPU second over all files with at least ``--min-steps`` steps.

    .venv/bin/python bench/budget_steps.py bench/.work/src/nova-34.0.0/nova
    .venv/bin/python bench/budget_steps.py PATH --top 15 --min-steps 20000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from secreview import review as review_module  # noqa: E402
from secreview.config import Config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--min-steps", type=int, default=20_000)
    args = parser.parse_args()
    measured: list[tuple[int, float, int, str]] = []  # steps, CPU seconds, bytes, path
    analyse_file = review_module._analyse_file

    def measuring(source_file, data, config, active, project, limits):
        started = time.process_time()
        outcome = analyse_file(source_file, data, config, active, project, limits)
        if project is not None:
            measured.append((project.steps, time.process_time() - started, len(data), source_file.path))
        return outcome

    review_module._analyse_file = measuring
    os.chdir(args.path)
    started = time.process_time()
    review_module.review(["."], Config(time_budget=0, max_memory=0), jobs=1)
    total = time.process_time() - started
    measured.sort(reverse=True)
    print(f"{len(measured)} files, {total:.1f} s CPU in all, {sum(m[0] for m in measured):,} steps")
    print(f"{'steps':>10} {'CPU s':>7} {'steps/s':>9} {'bytes':>8}  path")
    for steps, seconds, size, path in measured[:args.top]:
        print(f"{steps:>10,} {seconds:7.2f} {steps / max(seconds, 1e-9):>9,.0f} {size:>8}  {path}")
    busy = [m for m in measured if m[0] >= args.min_steps]
    if busy:
        rates = [steps / max(seconds, 1e-9) for steps, seconds, _, _ in busy]
        pooled = sum(m[0] for m in busy) / sum(m[1] for m in busy)
        print(f"files with >= {args.min_steps:,} steps: {len(busy)}; steps per CPU second: pooled {pooled:,.0f}, "
              f"median {statistics.median(rates):,.0f}, min {min(rates):,.0f}, max {max(rates):,.0f}")
    slowest = max(measured, key=lambda m: m[1])
    print(f"slowest file: {slowest[3]} {slowest[1]:.2f} s CPU, {slowest[0]:,} steps")


if __name__ == "__main__":
    main()
