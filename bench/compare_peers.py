"""Run secreview, Bandit and Semgrep side by side on the labelled taint corpus and score them.

The corpus is ``tests/fixtures/taint/<family>/*.py``: every line that must carry a finding says
``# expect: rule-id``; every other line must stay clean.  Each expected rule id stands for one CWE
(table ``RULE_CWE``); every tool is scored on the CWEs it reports, so the three tools are judged
by the same yardstick:

* line level: a finding counts when its CWE is expected on the line where it starts;
* function level: a finding counts when its CWE is expected anywhere in the same innermost
  function (fair to a tool that reports the source line, or the call rather than the argument).

Findings whose CWE is not one the corpus labels (Bandit's ``import subprocess``, a missing
timeout, ...) are counted apart and do not enter precision or recall.  A small table of
parent/child CWEs (``EQUIVALENT``) maps, e.g., CWE-77 to CWE-78 and CWE-80 to CWE-79.

Semgrep's registry cannot be reached offline, so Semgrep runs with the Python rules of a rule set
shipped in a PyPI package (rowan-sast, MIT), installed with Semgrep into ``bench/.work/`` (see
bench/README.md).  Without them Semgrep is reported as not run.

    python bench/compare_peers.py              # all tools, one run each over the corpus
    python bench/compare_peers.py --per-file   # one run per file and tool (slower)
    python bench/compare_peers.py --counts     # corpus counts per family and rule, no tools
    python bench/compare_peers.py --json out.json

This is a benchmark that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "taint"
# Labelled files the engine does not pass yet: kept out of the fixture runner, scored here.
HELDOUT = ROOT / "tests" / "fixtures" / "taint_heldout"
WORK = ROOT / "bench" / ".work"
VENV_BIN = Path(sys.executable).parent

RULE_CWE = {
    "os-command-injection": 78,
    "argument-injection": 88,
    "sql-injection": 89,
    "code-injection": 94,
    "unsafe-reflection": 470,
    "template-injection": 1336,
    "xss": 79,
    "path-traversal": 22,
    "open-redirect": 601,
    "ssrf": 918,
    "xml-external-entity-injection": 611,
    "xpath-injection": 643,
    "ldap-injection": 90,
    "log-injection": 117,
    "header-injection": 113,
    "trust-boundary-violation": 501,
    "nosql-injection": 943,
    "regex-injection": 1333,
    "unsafe-deserialization": 502,
    "yaml-unsafe-load": 502,
}
CWE_NAMES = {
    78: "OS command", 88: "argument", 89: "SQL", 94: "code", 470: "reflection",
    1336: "template", 79: "XSS", 22: "path", 601: "redirect", 918: "SSRF", 611: "XXE",
    643: "XPath", 90: "LDAP", 117: "log", 113: "header", 501: "trust boundary",
    943: "NoSQL", 1333: "regex", 502: "deserialization",
}
# A reported CWE that is a parent or child of a labelled one, in the CWE-1000 view.
EQUIVALENT = {77: 78, 80: 79, 83: 79, 95: 94, 96: 94, 564: 89, 23: 22, 36: 22, 73: 22, 93: 113, 644: 113}

_EXPECT = re.compile(r"#\s*expect:\s*([a-z0-9, -]+)")
_OK = re.compile(r"#\s*ok:\s*([a-z0-9, -]+)")
_CWE_NUM = re.compile(r"(?:CWE-)?(\d+)")


# ---------------------------------------------------------------- corpus


@dataclass
class CorpusFile:
    rel: str  # family/file.py
    expected: set[tuple[int, str]] = field(default_factory=set)  # (line, rule)
    clean: set[tuple[int, str]] = field(default_factory=set)
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # innermost-first lookup
    handlers: Counter = field(default_factory=Counter)

    def function_of(self, line: int) -> str:
        best = None
        for start, end, name in self.spans:
            if start <= line <= end and (best is None or end - start < best[1] - best[0]):
                best = (start, end, name)
        return best[2] if best else "<module>"


def _rules(text: str) -> list[str]:
    return [r.strip() for r in text.split(",") if r.strip()]


def read_corpus(roots: list[Path]) -> list[CorpusFile]:
    """Files of every root, named ``<root name>/<family>/<file>.py``."""
    files = []
    for root, path in sorted((r, p) for r in roots for p in r.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        cf = CorpusFile(rel=f"{root.name}/{path.relative_to(root).as_posix()}")
        for number, line in enumerate(lines, start=1):
            if m := _EXPECT.search(line):
                cf.expected.update((number, r) for r in _rules(m.group(1)))
            if m := _OK.search(line):
                cf.clean.update((number, r) for r in _rules(m.group(1)))
        tree = ast.parse(text, filename=str(path))
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in funcs:
            cf.spans.append((node.lineno, node.end_lineno or node.lineno, f"{node.name}@{node.lineno}"))
        # A handler is a function whose own lines (not those of nested functions) carry a label.
        for node in funcs:
            nested = [m for m in ast.walk(node) if m is not node and isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            own = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            for m in nested:
                own -= set(range(m.lineno, (m.end_lineno or m.lineno) + 1))
            if any(line in own for line, _ in cf.expected):
                cf.handlers["positive"] += 1
            elif any(line in own for line, _ in cf.clean):
                cf.handlers["safe"] += 1
        files.append(cf)
    return files


def print_counts(files: list[CorpusFile]) -> None:
    fam = defaultdict(Counter)
    rules = defaultdict(Counter)
    for cf in files:
        corpus, family = cf.rel.split("/")[:2]
        family = family if corpus == "taint" else f"{corpus}/{family}"
        fam[family]["files"] += 1
        fam[family].update(cf.handlers)
        for _, rule in cf.expected:
            rules[rule]["expect"] += 1
        for _, rule in cf.clean:
            rules[rule]["ok"] += 1
    print(f"{'family':18} {'files':>5} {'handlers':>8} {'positive':>8} {'safe':>5}")
    total = Counter()
    for family in sorted(fam):
        c = fam[family]
        total.update(c)
        print(f"{family:18} {c['files']:5} {c['positive'] + c['safe']:8} {c['positive']:8} {c['safe']:5}")
    handlers = total["positive"] + total["safe"]
    share = total["safe"] / handlers if handlers else 0.0
    print(f"{'total':18} {total['files']:5} {handlers:8} {total['positive']:8} {total['safe']:5}  ({share:.0%} safe)")
    print()
    print(f"{'rule':32} {'CWE':>9} {'expect':>6} {'ok':>4}")
    for rule in sorted(rules, key=lambda r: (RULE_CWE.get(r, 0), r)):
        c = rules[rule]
        print(f"{rule:32} {'CWE-' + str(RULE_CWE.get(rule, '?')):>9} {c['expect']:6} {c['ok']:4}")


# ---------------------------------------------------------------- tools


@dataclass
class ToolRun:
    name: str
    ran: bool
    note: str = ""
    seconds: float = 0.0
    cpu: float = 0.0  # user + system seconds of the tool's processes
    version: str = ""
    findings: list[tuple[str, int, int | None, str]] = field(default_factory=list)  # (rel, line, cwe, id)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cwe_ints(value) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return _cwe_ints(value.get("id"))
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _cwe_ints(v)]
    m = _CWE_NUM.search(str(value))
    return [int(m.group(1))] if m else []


def _rel(path: str, base: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = (base / p)
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def _targets(base: Path, per_file: bool, rels: list[str]) -> list[list[str]]:
    return [[rel] for rel in rels] if per_file else [["."]]


def run_secreview(base: Path, per_file: bool, rels: list[str]) -> ToolRun:
    exe = shutil.which("secreview", path=str(VENV_BIN)) or shutil.which("secreview")
    if not exe:
        return ToolRun("secreview", False, "not run: secreview is not installed")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    # A cold review every time: the analysis cache would make a second run of the bench faster.
    helptext = subprocess.run([exe, "scan", "--help"], capture_output=True, text=True, check=False).stdout
    cold = ["--no-cache"] if "--no-cache" in helptext else []
    run = ToolRun("secreview", True, version=version + (", --no-cache" if cold else ""))
    start, cpu_start = time.perf_counter(), _child_cpu()
    for target in _targets(base, per_file, rels):
        proc = subprocess.run([exe, "scan", *target, "--format", "json", "--test-code", "all", *cold],
                              cwd=base, capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 1):
            run.note = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            continue
        for f in data.get("files", []):
            for finding in f.get("findings", []):
                loc = finding["location"]
                cwes = _cwe_ints(finding.get("cwe")) or [None]
                run.findings.append((_rel(loc["path"], base), loc["line"], cwes[0], finding["rule"]))
    run.seconds, run.cpu = time.perf_counter() - start, _child_cpu() - cpu_start
    return run


def run_bandit(base: Path, per_file: bool, rels: list[str]) -> ToolRun:
    exe = shutil.which("bandit", path=str(VENV_BIN)) or shutil.which("bandit")
    if not exe:
        return ToolRun("bandit", False, "not run: bandit is not installed")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    run = ToolRun("bandit", True, version=version)
    start, cpu_start = time.perf_counter(), _child_cpu()
    for target in _targets(base, per_file, rels):
        proc = subprocess.run([exe, "-f", "json", "-q", "-r", *target], cwd=base, capture_output=True, text=True, check=False)
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            run.note = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
            continue
        for r in data.get("results", []):
            cwes = _cwe_ints(r.get("issue_cwe")) or [None]
            run.findings.append((_rel(r["filename"], base), r["line_number"], cwes[0], r["test_id"]))
    run.seconds, run.cpu = time.perf_counter() - start, _child_cpu() - cpu_start
    return run


SEMGREP_ENV = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def _semgrep_exe() -> Path | None:
    exe = WORK / "semgrep-venv" / "bin" / "semgrep"
    return exe if exe.exists() else (Path(p) if (p := shutil.which("semgrep")) else None)


def _semgrep_rules_dir() -> Path | None:
    for site in sorted((WORK / "semgrep-venv" / "lib").glob("python3*/site-packages")):
        if (site / "rowan").is_dir() and (site / "rules").is_dir():
            return site / "rules"
    return None


def semgrep_rule_files(exe: Path, rules_dir: Path) -> list[Path]:
    """Rule files with at least one Python rule that Semgrep itself accepts (cached)."""
    cache = WORK / "semgrep-valid-rules.json"
    candidates = sorted(p for p in rules_dir.rglob("*.y*ml") if re.search(r"languages:.*python", p.read_text(errors="replace")))
    key = {str(p): p.stat().st_mtime for p in candidates}
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return [Path(p) for p in saved["valid"]]
    probe_dir = Path(tempfile.mkdtemp(prefix="semgrep-probe-"))
    (probe_dir / "probe.py").write_text("import os\n")

    def valid(path: Path) -> bool:
        proc = subprocess.run([str(exe), "--metrics=off", "--disable-version-check", "--json", "--config", str(path),
                               str(probe_dir / "probe.py")], capture_output=True, text=True, timeout=300, check=False,
                              env=SEMGREP_ENV)
        try:
            return not json.loads(proc.stdout).get("errors")
        except json.JSONDecodeError:
            return False

    with ThreadPoolExecutor(max_workers=4) as pool:
        ok = list(pool.map(valid, candidates))
    shutil.rmtree(probe_dir, ignore_errors=True)
    # A converted/ copy replaces the original of the same name when both are valid.
    chosen: dict[str, Path] = {}
    for path, good in zip(candidates, ok):
        if good and (path.name not in chosen or path.parent.name == "converted"):
            chosen[path.name] = path
    result = sorted(chosen.values())
    WORK.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "valid": [str(p) for p in result]}))
    return result


SEMGREP_CONFIGS: list[Path] = []  # --semgrep-config: replaces the rowan-sast rule files


def run_semgrep(base: Path, per_file: bool, rels: list[str]) -> ToolRun:
    exe = _semgrep_exe()
    if exe is None:
        return ToolRun("semgrep", False, "not run: semgrep is not installed (see bench/README.md)")
    if SEMGREP_CONFIGS:
        files, origin = [p.resolve() for p in SEMGREP_CONFIGS], "local"
    else:
        rules_dir = _semgrep_rules_dir()
        if rules_dir is None:
            return ToolRun("semgrep", False, "not run: no local rule set (see bench/README.md)")
        files, origin = semgrep_rule_files(exe, rules_dir), "rowan-sast"
    if not files:
        return ToolRun("semgrep", False, "not run: no valid local Python rules")
    # `semgrep --version` waits on a version check that cannot reach the network: read the wheel.
    dist = sorted(exe.parent.parent.glob("lib/python3*/site-packages/semgrep-*.dist-info"))
    version = dist[-1].name[len("semgrep-"):-len(".dist-info")] if dist else "version unknown"
    configs = [arg for f in files for arg in ("--config", str(f))]
    run = ToolRun("semgrep", True, version=f"{version} with {len(files)} {origin} rule files")
    start, cpu_start = time.perf_counter(), _child_cpu()
    for target in _targets(base, per_file, rels):
        proc = subprocess.run([str(exe), "--metrics=off", "--disable-version-check", "--json", "--quiet",
                               "--no-git-ignore", *configs, *target], cwd=base, capture_output=True, text=True, check=False,
                              env=SEMGREP_ENV)
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            run.note = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
            continue
        for r in data.get("results", []):
            cwes = _cwe_ints(r.get("extra", {}).get("metadata", {}).get("cwe")) or [None]
            for cwe in cwes:
                run.findings.append((_rel(r["path"], base), r["start"]["line"], cwe, r["check_id"].rsplit(".", 1)[-1]))
    run.seconds, run.cpu = time.perf_counter() - start, _child_cpu() - cpu_start
    return run


# ---------------------------------------------------------------- scoring


def labelled(cwe: int | None) -> int | None:
    if cwe is None:
        return None
    cwe = EQUIVALENT.get(cwe, cwe)
    return cwe if cwe in CWE_NAMES else None


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: set, reported: set) -> None:
        self.tp += len(expected & reported)
        self.fp += len(reported - expected)
        self.fn += len(expected - reported)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(run: ToolRun, files: list[CorpusFile]) -> dict:
    by_file = defaultdict(list)
    other = Counter()
    for rel, line, cwe, ident in run.findings:
        mapped = labelled(cwe)
        if mapped is None:
            other[f"{ident} (CWE-{cwe})"] += 1
        else:
            by_file[rel].append((line, mapped))
    result = {"line": defaultdict(Score), "function": defaultdict(Score), "other": other}
    for cf in files:
        expected_line = {(line, RULE_CWE[rule]) for line, rule in cf.expected if rule in RULE_CWE}
        reported_line = set(by_file.get(cf.rel, []))
        expected_fn = {(cf.function_of(line), cwe) for line, cwe in expected_line}
        reported_fn = {(cf.function_of(line), cwe) for line, cwe in reported_line}
        for cwe in CWE_NAMES:
            result["line"][cwe].add({x for x in expected_line if x[1] == cwe}, {x for x in reported_line if x[1] == cwe})
            result["function"][cwe].add({x for x in expected_fn if x[1] == cwe}, {x for x in reported_fn if x[1] == cwe})
    for level in ("line", "function"):
        total = Score()
        for s in result[level].values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        result[level]["all"] = total
    if run.name == "secreview":
        exact = Score()
        for cf in files:
            reported = {(line, rule) for rel, line, _, rule in run.findings if rel == cf.rel}
            exact.add(cf.expected, {x for x in reported if x[1] in RULE_CWE})
        result["exact"] = exact
    return result


def _fmt(s: Score) -> str:
    return f"{s.precision:5.2f} {s.recall:5.2f} {s.f1:5.2f}"


def report(runs: list[ToolRun], files: list[CorpusFile]) -> dict:
    n_expected = sum(len(cf.expected) for cf in files)
    print(f"corpus: {len(files)} files, {sum(sum(cf.handlers.values()) for cf in files)} handlers, "
          f"{n_expected} expected findings, {sum(len(cf.clean) for cf in files)} labelled safe lines")
    scores = {}
    print()
    print(f"{'tool':10} {'line P     R    F1':>19}   {'function P R    F1':>19}   {'TP/FP/FN (line)':>16}  {'other':>5}  {'wall':>7} {'cpu':>7}")
    for run in runs:
        if not run.ran:
            print(f"{run.name:10} {run.note}")
            continue
        sc = scores[run.name] = score(run, files)
        line, fn = sc["line"]["all"], sc["function"]["all"]
        print(f"{run.name:10} {_fmt(line):>19}   {_fmt(fn):>19}   {f'{line.tp}/{line.fp}/{line.fn}':>16}  "
              f"{sum(sc['other'].values()):5}  {run.seconds:6.1f}s {run.cpu:6.1f}s")
    for run in runs:
        if run.ran:
            extra = f"  note: {run.note}" if run.note else ""
            print(f"  {run.name}: {run.version}{extra}")
    if "secreview" in scores:
        ex = scores["secreview"]["exact"]
        print(f"  secreview, exact (line, rule id) as the fixture runner checks: P {ex.precision:.2f} R {ex.recall:.2f} "
              f"F1 {ex.f1:.2f} (TP {ex.tp}, FP {ex.fp}, FN {ex.fn})")
    ran = [r.name for r in runs if r.ran]
    for level in ("line", "function"):
        print()
        print(f"per CWE, {level} level: precision recall F1 (support)")
        header = f"{'CWE':22} {'n':>3}" + "".join(f"  {name:^17}" for name in ran)
        print(header)
        for cwe in sorted(CWE_NAMES, key=lambda c: (c not in (78, 89), c)):
            support = scores[ran[0]][level][cwe].tp + scores[ran[0]][level][cwe].fn if ran else 0
            row = f"{f'CWE-{cwe} {CWE_NAMES[cwe]}':22} {support:3}"
            for name in ran:
                row += f"  {_fmt(scores[name][level][cwe])}"
            print(row)
    for name in ran:
        other = scores[name]["other"]
        if other:
            top = ", ".join(f"{k} x{v}" for k, v in other.most_common(6))
            print(f"\n{name}: {sum(other.values())} findings outside the labelled CWEs, e.g. {top}")
    return {
        name: {
            "seconds": next(r.seconds for r in runs if r.name == name),
            "cpu_seconds": next(r.cpu for r in runs if r.name == name),
            **{level: {str(c): vars(s) for c, s in sc[level].items()} for level in ("line", "function")},
        }
        for name, sc in scores.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="a corpus directory (repeatable; default: tests/fixtures/taint and taint_heldout)")
    parser.add_argument("--per-file", action="store_true", help="one run per corpus file and tool")
    parser.add_argument("--counts", action="store_true", help="print corpus counts and stop")
    parser.add_argument("--tools", default="secreview,bandit,semgrep")
    parser.add_argument("--json", type=Path, help="also write the scores as JSON")
    parser.add_argument("--semgrep-config", type=Path, action="append", default=[],
                        help="a local Semgrep rule file or directory to use instead of rowan-sast's (repeatable)")
    args = parser.parse_args(argv)
    SEMGREP_CONFIGS.extend(args.semgrep_config)

    roots = args.corpus or [p for p in (CORPUS, HELDOUT) if p.is_dir()]
    if len({r.name for r in roots}) != len(roots):
        parser.error("corpus directories need distinct names")
    files = read_corpus(roots)
    if args.counts:
        print_counts(files)
        return 0
    # Tools see a copy outside the repository: a path under tests/ would make the corpus test
    # code for secreview, and the repository's ignore files would hide a copy under bench/.work.
    base = Path(tempfile.mkdtemp(prefix="secreview-corpus-")) / "corpus"
    for root in roots:
        shutil.copytree(root, base / root.name)
    rels = [cf.rel for cf in files]
    runners = {"secreview": run_secreview, "bandit": run_bandit, "semgrep": run_semgrep}
    runs = [runners[name](base, args.per_file, rels) for name in args.tools.split(",") if name in runners]
    shutil.rmtree(base.parent, ignore_errors=True)
    data = report(runs, files)
    if args.json:
        args.json.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
