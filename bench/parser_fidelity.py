"""Does the front end give the engine the tree CPython gives?  Every ``.py`` file of the host's
standard library, of CPython 3.13's and of the Nova, Django and Flask sdists.

For each file the reference tree is the host's ``ast.parse``; for a file the host rejects it is
CPython 3.13's (run in a subprocess that dumps each tree).  The front end's tree
(:func:`secreview.python.frontend.read`) is compared with it: node types, fields, and line and
column positions.  Two passes:

- ``as used``: the front end as the review calls it (the host's ast first);
- ``forced lowering``: every file through the lowering path, even those the host reads, since a
  file with one 3.12 construct has all its other lines lowered too.

Two host conventions are normalised in both trees and listed, not counted as differences:
3.11 gives every part of an f-string (its literal Constants, FormattedValues and format spec)
the span of the whole string where 3.12+ give each its own, and empty fields (``type_params=[]``)
are left out.  Then it times the three paths in MB/s: host ast, lowering (the forced pass) and
recovery (host-valid files with a syntax error planted in one function, which the front end must
confine to that function).

    .venv/bin/python bench/parser_fidelity.py            # everything (a few minutes)
    .venv/bin/python bench/parser_fidelity.py --quick    # every 10th file
    .venv/bin/python bench/parser_fidelity.py --show 20  # list up to 20 files per kind of difference

The sdists are downloaded with ``pip download --no-deps --no-binary :all: nova django flask``
into bench/.work/sdists when missing (or taken from /tmp/sdists) and unpacked under bench/.work/.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import subprocess
import sys
import sysconfig
import tarfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from secreview.python import frontend, lowering  # noqa: E402
from secreview.python.source import NotReviewable, decode  # noqa: E402

WORK = ROOT / "bench" / ".work"
PY313 = Path("/root/.pyenv/versions/3.13.0/bin/python")
PROJECTS = ("nova", "django", "flask")

# Runs in both interpreters: the tree as JSON, with the conventions above normalised.
DUMPER = r'''
import ast, json, sys

def dump(node, fspan=None):
    # fspan: the span of the outermost f-string, given to its parts (not to their expressions)
    if isinstance(node, list):
        return [dump(n, fspan) for n in node]
    if not isinstance(node, ast.AST):
        if isinstance(node, bytes):
            return ["bytes", node.decode("latin-1")]
        if isinstance(node, (complex, float)):
            return [type(node).__name__, repr(node)]
        if node is Ellipsis:
            return ["Ellipsis"]
        if isinstance(node, str) and any("\ud800" <= c <= "\udfff" for c in node):
            return ["str with surrogates", [ord(c) for c in node]]  # JSON would pair them up
        return node
    if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
        return type(node).__name__
    where = [node.lineno, node.col_offset, node.end_lineno, node.end_col_offset] if "lineno" in node._attributes else None
    parts = None
    if isinstance(node, ast.JoinedStr):
        parts = fspan or where
    elif isinstance(node, ast.FormattedValue):
        parts = fspan or where
    if fspan is not None and isinstance(node, (ast.Constant, ast.FormattedValue, ast.JoinedStr)):
        where = fspan
    fields = {}
    for f in node._fields:
        value = getattr(node, f, None)
        if value is None or value == []:
            continue
        inner = parts if (isinstance(node, ast.JoinedStr) and f == "values") or (isinstance(node, ast.FormattedValue) and f == "format_spec") else None
        fields[f] = dump(value, inner)
    return [type(node).__name__, fields, where]
'''
exec(DUMPER)

REFERENCE_SCRIPT = DUMPER + r'''
for line in sys.stdin:
    path = line.rstrip("\n")
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), filename=path)
        print(json.dumps({"path": path, "tree": dump(tree)}))
    except (SyntaxError, ValueError) as exc:
        print(json.dumps({"path": path, "error": f"{type(exc).__name__}: {exc}"}))
    except RecursionError:
        print(json.dumps({"path": path, "error": "RecursionError"}))
    sys.stdout.flush()
'''

# What the host's node classes cannot hold (no TypeAlias, no type_params field before 3.12).
UNREPRESENTABLE = {"type statement as assignment", "type parameters dropped"}
EXPLAINED = {
    "type statement as assignment": "3.11 has no TypeAlias node: `type X = v` becomes the assignment `X = v` "
                                   "(the value and its positions are exact; the name sits at the keyword's column)",
    "type parameters dropped": "3.11's FunctionDef/ClassDef have no type_params field: the parameters are "
                               "blanked (their bounds and defaults hold no data flow)",
    "position: Tuple": "a tuple without parentheses in an f-string field (f'{3,}'): 3.11's parser, which reads "
                       "the parts of the file no rewrite touched, spans the parentheses it adds; 3.12+ the text",
    "position: With": "forced lowering only: test_print.py writes Python 2's `print >> sys.stderr, x` as Python 3 "
                      "expressions; the lowering, which runs only where the host rejects a file, reads them as "
                      "Python 2 print statements",
    "node type: Tuple read as Call": "as above (test_print.py): `print >>f, x` as a statement",
    "node type: BinOp read as Call": "as above (test_print.py): `print >> f` as a statement",
    "position: Expr": "as above (test_print.py)",
    "column after a rewrite that changes length": "`except A, B:` gains two characters; later tokens on that line "
                                                  "sit two columns to the right",
}


def sources(quick: bool) -> dict[str, list[Path]]:
    sets = {
        f"stdlib {sys.version_info[0]}.{sys.version_info[1]} (host)": sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")),
        "stdlib 3.13": sorted((PY313.parent.parent / "lib" / "python3.13").rglob("*.py")) if PY313.exists() else [],
    }
    for project in PROJECTS:
        sets[project] = sorted(_project_root(project).rglob("*.py"))
    for key, files in sets.items():
        files = [f for f in files if "site-packages" not in f.parts and f.is_file()]
        sets[key] = files[::10] if quick else files
    return sets


def _project_root(project: str) -> Path:
    unpacked = WORK / "src"
    found = sorted(unpacked.glob(f"{project}-*")) if unpacked.exists() else []
    if found:
        return found[-1]
    archives = WORK / "sdists"
    archive = next(iter(sorted(archives.glob(f"{project}-*.tar.gz"))), None) if archives.exists() else None
    if archive is None:
        cached = sorted(Path("/tmp/sdists").glob(f"{project}-*.tar.gz"))
        archive = cached[-1] if cached else None
    if archive is None:
        archives.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        project, "-d", str(archives)], check=True, capture_output=True)
        archive = sorted(archives.glob(f"{project}-*.tar.gz"))[-1]
    unpacked.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    return sorted(unpacked.glob(f"{project}-*"))[-1]


def py313_references(paths: list[Path]) -> dict[str, dict]:
    if not paths or not PY313.exists():
        return {}
    run = subprocess.run([str(PY313), "-c", REFERENCE_SCRIPT], input="\n".join(map(str, paths)) + "\n",
                         capture_output=True, text=True, check=True)
    found = {}
    for line in run.stdout.splitlines():
        record = json.loads(line)
        found[record["path"]] = record
    return found


def compare(mine, ref, kinds: set[str], where: list) -> None:
    """Add the kinds of difference between two dumps to ``kinds``."""
    if isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str) and isinstance(ref[1], dict):
        if not (isinstance(mine, list) and len(mine) == 3 and isinstance(mine[1], dict)):
            kinds.add(f"structure: {ref[0]}")
            return
        if ref[0] == "TypeAlias" and mine[0] == "Assign":
            kinds.add("type statement as assignment")
            compare(mine[1].get("value"), ref[1].get("value"), kinds, where)
            return
        if mine[0] != ref[0]:
            kinds.add(f"node type: {ref[0]} read as {mine[0]}")
            where.append(ref[2])
            return
        fields = set(ref[1]) | set(mine[1])
        if "type_params" in ref[1] and "type_params" not in mine[1]:
            kinds.add("type parameters dropped")
            fields.discard("type_params")
        for f in sorted(fields):
            if f not in mine[1] or f not in ref[1]:
                kinds.add(f"field {ref[0]}.{f}")
                continue
            compare(mine[1][f], ref[1][f], kinds, where)
        if mine[2] != ref[2]:
            kinds.add(f"position: {ref[0]}")
            where.append(ref[2])
        return
    if isinstance(ref, list) and isinstance(mine, list) and len(ref) == len(mine):
        for a, b in zip(mine, ref):
            compare(a, b, kinds, where)
        return
    if mine != ref:
        kinds.add("value")
        where.append(None)


def forced_lowering(text: str, path: str):
    lowered = lowering.lower(text)
    return frontend._patch(frontend.host_parse(lowered.text, path), lowered)


def plant_error(text: str, rng: random.Random):
    """The text with one function's first body line broken, and that function's line span."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.body and n.body[0].lineno > n.lineno and n.body[0].end_lineno == n.body[0].lineno]
    if not functions:
        return None
    target = rng.choice(functions)
    lines = text.splitlines(keepends=True)
    k = target.body[0].lineno - 1
    body_line = lines[k]
    indent = body_line[:len(body_line) - len(body_line.lstrip())]
    lines[k] = indent + "x = = 1  # planted\n"
    first = min([target.lineno] + [d.lineno for d in target.decorator_list])
    return "".join(lines), (first, target.end_lineno), target.body[0].lineno


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 10th file")
    parser.add_argument("--show", type=int, default=5, help="files listed per kind of difference")
    args = parser.parse_args()
    sets = sources(args.quick)
    totals = Counter()
    kinds_as_used: dict[str, list[str]] = defaultdict(list)
    kinds_forced: dict[str, list[str]] = defaultdict(list)
    outcomes_invalid: dict[str, list[str]] = defaultdict(list)
    timing = Counter()
    recovery_misses: list[str] = []
    rng = random.Random(1)
    print(f"host: Python {sys.version.split()[0]}; reference for files the host rejects: {PY313}")
    for label, files in sets.items():
        texts: dict[Path, str] = {}
        for path in files:
            try:
                texts[path] = decode(str(path), path.read_bytes())
            except (NotReviewable, OSError):
                totals["undecodable"] += 1
        host_refs = {}
        rejected = []
        for path, text in texts.items():
            size = len(text.encode("utf-8", "surrogatepass"))
            started = time.perf_counter()
            try:
                tree = frontend.host_parse(text, str(path))
            except (SyntaxError, ValueError, RecursionError):
                tree = None
            elapsed = time.perf_counter() - started
            ref = dump(tree) if tree is not None else None
            if ref is None:
                rejected.append(path)
            else:
                host_refs[path] = ref
                timing["host s"] += elapsed
                timing["host bytes"] += size
        refs313 = py313_references(rejected)
        set_counts = Counter()
        for path, text in texts.items():
            size = len(text.encode("utf-8", "surrogatepass"))
            ref = host_refs.get(path)
            host_valid = ref is not None
            if ref is None:
                record = refs313.get(str(path), {})
                if "tree" not in record:
                    outcome = _outcome(text, str(path))
                    outcomes_invalid[outcome].append(f"{path} ({record.get('error', 'no 3.13 reference')})")
                    set_counts["valid on no reference"] += 1
                    continue
                ref = record["tree"]
            set_counts["compared"] += 1
            try:
                mine = dump(frontend.read(text, str(path)).tree)
            except SyntaxError as exc:
                kinds_as_used[f"not read: {exc.msg}"].append(str(path))
                continue
            kinds: set[str] = set()
            compare(mine, ref, kinds, [])
            if kinds:
                for kind in kinds:
                    kinds_as_used[kind].append(str(path))
                if kinds <= UNREPRESENTABLE:
                    set_counts["identical but for what 3.11's ast lacks"] += 1
            else:
                set_counts["identical"] += 1
            # forced lowering: every file through the rewrite, timed
            started = time.perf_counter()
            try:
                forced_tree = forced_lowering(text, str(path))
            except (SyntaxError, lowering.ScanError, RecursionError) as exc:
                kinds_forced[f"lowering failed: {getattr(exc, 'msg', exc)}"].append(str(path))
                continue
            elapsed = time.perf_counter() - started
            forced = dump(forced_tree)
            timing["lowering s"] += elapsed
            timing["lowering bytes"] += size
            kinds = set()
            compare(forced, ref, kinds, [])
            if kinds:
                for kind in kinds:
                    kinds_forced[kind].append(str(path))
            else:
                set_counts["forced identical"] += 1
            if not host_valid:
                set_counts["host rejects, 3.13 reads"] += 1
        for path, text in list(texts.items())[::5]:
            planted = plant_error(text, rng)
            if planted is None:
                continue
            broken, (first, last), error_line = planted
            size = len(broken.encode("utf-8", "surrogatepass"))
            started = time.perf_counter()
            try:
                read = frontend.read(broken, str(path))
            except SyntaxError:
                set_counts["recovery: not read"] += 1
                continue
            timing["recovery s"] += time.perf_counter() - started
            timing["recovery bytes"] += size
            set_counts["recovery: files"] += 1
            notes = [n for n in read.notes if n.startswith("syntax error")]
            if len(notes) == 1 and f"at line {error_line} " in notes[0] and _within(notes[0], first, last):
                set_counts["recovery: one note, inside the function"] += 1
            else:
                recovery_misses.append(f"{path}: planted at line {error_line} in lines {first}-{last}; {notes[:3]}")
        print(f"\n{label}: {len(files)} files; " + ", ".join(f"{k} {v}" for k, v in sorted(set_counts.items())))
        totals.update(set_counts)
    compared = totals["compared"]
    print("\n== totals ==")
    print(f"files compared: {compared}; identical as used: {totals['identical']} "
          f"({100 * totals['identical'] / max(compared, 1):.3f}%); identical with forced lowering: "
          f"{totals['forced identical']} ({100 * totals['forced identical'] / max(compared, 1):.3f}%)")
    lacking = totals["identical but for what 3.11's ast lacks"]
    if sys.version_info < (3, 12):
        print(f"identical but for type parameters and type statements, which 3.11's ast has no node for: "
              f"{totals['identical'] + lacking} ({100 * (totals['identical'] + lacking) / max(compared, 1):.3f}%)")
    print(f"files the host rejects and 3.13 reads: {totals['host rejects, 3.13 reads']}; "
          f"valid for neither (Python 2, test data): {totals['valid on no reference']}; undecodable: {totals['undecodable']}")
    for title, kinds in (("differences as used", kinds_as_used), ("differences with forced lowering", kinds_forced)):
        print(f"\n{title}:" + ("" if kinds else " none"))
        for kind, paths in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(paths):5d}  {kind}" + (f" -- {EXPLAINED[kind]}" if kind in EXPLAINED else ""))
            for p in paths[:args.show]:
                print(f"           {p}")
    print("\nfiles valid for no reference, as the front end reads them:")
    for outcome, paths in sorted(outcomes_invalid.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(paths):5d}  {outcome}")
        for p in paths[:args.show]:
            print(f"           {p}")
    print(f"\nrecovery: {totals['recovery: files']} files with one planted error; "
          f"{totals['recovery: one note, inside the function']} with exactly one note naming the line, "
          f"its region inside the broken function; not read: {totals['recovery: not read']}")
    for miss in recovery_misses[:args.show]:
        print(f"           {miss}")
    print("\nparse speed:")
    for path in ("host", "lowering", "recovery"):
        seconds, size = timing[f"{path} s"], timing[f"{path} bytes"]
        if seconds:
            print(f"  {path:9s} {size / 1e6 / seconds:7.2f} MB/s  ({size / 1e6:.1f} MB in {seconds:.2f} s)")


def _outcome(text: str, path: str) -> str:
    try:
        read = frontend.read(text, path)
    except SyntaxError:
        return "not reviewed (no part readable)"
    except (RecursionError, ValueError):
        return "not reviewed (too deep / invalid)"
    labels = []
    if any(n.startswith("read as Python 2") for n in read.notes):
        labels.append("read as Python 2")
    if any(n.startswith("syntax error") for n in read.notes):
        labels.append("regions skipped for syntax errors")
    return "reviewed" + (": " + " and ".join(labels) if labels else "")


def _within(note: str, first: int, last: int) -> bool:
    words = note.rsplit(": ", 1)[-1].split()[1]
    a, _, b = words.partition("-")
    return first <= int(a) and int(b or a) <= last


if __name__ == "__main__":
    main()
