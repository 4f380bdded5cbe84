"""CPU time of one-file reviews of generated degenerate shapes that once made the engine slow or
lose findings: many sequential branches over many live names, and very long sums.

    .venv/bin/python bench/shapes.py            # the default sizes
    .venv/bin/python bench/shapes.py --n 2000   # another size

Each shape is reviewed in a fresh process (``secreview scan FILE --no-cache --jobs 1 --format
json``), best of three; it prints the CPU seconds (user + system, startup included) and the
findings, which must name the planted flow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def branches(n: int) -> str:
    blocks = "".join(f"    if flag:\n        v{i} = v{i - 1} + 'x'\n    else:\n        v{i} = v{i - 1}\n" for i in range(1, n + 1))
    return ("import os\nfrom flask import request\n\ndef view(flag):\n    v0 = request.args['q']\n"
            + blocks + f"    os.system(v{n})\n")


def long_sum(n: int) -> str:
    terms = " + ".join(["a", "b"] * (n // 2)) + ' + request.args["x"]'
    return ("import sqlite3\nfrom flask import request\n\ndef view():\n    a, b = 'x', 'y'\n"
            f"    q = 'SELECT ' + {terms}\n    sqlite3.connect('d').cursor().execute(q)\n")


def review(path: Path) -> tuple[float, list[tuple[str, int]]]:
    best = float("inf")
    findings: list[tuple[str, int]] = []
    env = dict(os.environ, PYTHONPATH=str(SRC))
    for _ in range(3):
        before = os.times()
        out = subprocess.run([sys.executable, "-m", "secreview", "scan", str(path), "--no-cache", "--jobs", "1",
                              "--format", "json"], capture_output=True, text=True, env=env, check=False).stdout
        after = os.times()
        best = min(best, after.children_user - before.children_user + after.children_system - before.children_system)
        findings = [(f["rule"], f["location"]["line"]) for r in json.loads(out)["files"] for f in r["findings"]]
    return best, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="branches, and terms of the sum")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in (("sequential if/else", branches), ("long sum", long_sum)):
            path = Path(tmp) / "shape.py"
            path.write_text(build(args.n))
            seconds, findings = review(path)
            print(f"{name:>20} n={args.n}: {seconds:6.2f} s CPU  findings {findings}", flush=True)


if __name__ == "__main__":
    main()
