"""The labelled taint corpus: every file yields exactly the data-flow findings its comments declare.

Each file under tests/fixtures/taint/ is reviewed as a project of its own; each directory under
tests/fixtures/taint_projects/ is reviewed as one multi-module project (a flow from a handler in
one file into a sink in another is expected at the sink).  Only the rules the corpus speaks
about (the taint rules and the deserialization rules the engine informs) are compared, so a
pattern rule firing on a handler does not make a taint fixture fail.

Run with ``-s`` to see precision and recall per CWE (also printed by ``python -m
tests.test_taint_fixtures`` through :func:`scores`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from expectations import read

from secreview import rules
from secreview.config import Config
from secreview.discover import SourceFile
from secreview.review import review_files

HERE = Path(__file__).parent
CORPUS = HERE / "fixtures" / "taint"
PROJECTS = HERE / "fixtures" / "taint_projects"
FILES = sorted(CORPUS.rglob("*.py"))
PROJECT_DIRS = sorted(p for p in PROJECTS.iterdir() if p.is_dir()) if PROJECTS.is_dir() else []


def compared_rules() -> set[str]:
    ids = {r.id for r in rules.all_rules() if r.family == "injection"}
    return ids | {"unsafe-deserialization", "yaml-unsafe-load"}


def _review(files: list[tuple[Path, Path]]) -> dict[Path, set[tuple[int, str]]]:
    """Review ``(file, package_root)`` pairs as one project; findings per file."""
    sources = []
    by_display: dict[str, Path] = {}
    for path, root in files:
        relative = path.relative_to(root)
        module = ".".join(relative.with_suffix("").parts)
        module = module.removesuffix(".__init__")
        display = str(path.relative_to(HERE))
        by_display[display] = path
        sources.append(SourceFile(path=display, absolute=path, is_test=read(path).is_test_code, module=module))
    result = review_files(sources, Config(test_code="all"))
    wanted = compared_rules()
    found: dict[Path, set[tuple[int, str]]] = {p: set() for p, _ in files}
    for review in result.files:
        assert review.not_reviewed is None, (review.path, review.not_reviewed)
        assert review.incomplete == [], (review.path, review.incomplete)
        for finding in review.findings:
            if finding.rule in wanted:
                found[by_display[finding.location.path]].add((finding.location.line, finding.rule))
    return found


def _check(found: dict[Path, set[tuple[int, str]]]) -> None:
    problems = []
    known = {r.id for r in rules.all_rules()}
    for path, actual in sorted(found.items()):
        expectations = read(path)
        named = {rule for _, rule in expectations.expected | expectations.clean}
        assert named <= known, f"{path}: fixture names unknown rules: {sorted(named - known)}"
        missing = sorted(expectations.expected - actual)
        unexpected = sorted(actual - expectations.expected)
        if missing or unexpected:
            problems.append(f"{path.relative_to(HERE)}\n  missing: {missing}\n  unexpected: {unexpected}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("fixture", FILES, ids=[str(f.relative_to(CORPUS)) for f in FILES])
def test_taint_fixture_matches_inline_expectations(fixture: Path) -> None:
    _check(_review([(fixture, fixture.parent)]))


@pytest.mark.parametrize("project", PROJECT_DIRS, ids=[p.name for p in PROJECT_DIRS])
def test_taint_project_matches_inline_expectations(project: Path) -> None:
    files = sorted(project.rglob("*.py"))
    _check(_review([(f, project) for f in files]))


def scores() -> dict[int, dict[str, float]]:
    """Precision and recall per CWE over the whole corpus (files and projects)."""
    by_rule = {r.id: r.cwe for r in rules.all_rules()}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    batches = [[(f, f.parent)] for f in FILES] + [[(f, p) for f in sorted(p.rglob("*.py"))] for p in PROJECT_DIRS]
    for batch in batches:
        for path, actual in _review(batch).items():
            expected = read(path).expected
            for line, rule in actual | expected:
                cwe = by_rule.get(rule, 0)
                if (line, rule) in actual and (line, rule) in expected:
                    counts[cwe]["tp"] += 1
                elif (line, rule) in actual:
                    counts[cwe]["fp"] += 1
                else:
                    counts[cwe]["fn"] += 1
    table = {}
    for cwe, c in sorted(counts.items()):
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        table[cwe] = {"tp": c["tp"], "fp": c["fp"], "fn": c["fn"], "precision": precision, "recall": recall}
    return table


def format_scores(table: dict[int, dict[str, float]]) -> str:
    lines = [f"{'CWE':>8} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}"]
    totals = {"tp": 0, "fp": 0, "fn": 0}
    for cwe, row in table.items():
        lines.append(f"{'CWE-' + str(cwe):>8} {row['tp']:>4} {row['fp']:>4} {row['fn']:>4} {row['precision']:>9.2f} {row['recall']:>7.2f}")
        for k in totals:
            totals[k] += row[k]
    p = totals["tp"] / max(1, totals["tp"] + totals["fp"])
    r = totals["tp"] / max(1, totals["tp"] + totals["fn"])
    lines.append(f"{'all':>8} {totals['tp']:>4} {totals['fp']:>4} {totals['fn']:>4} {p:>9.2f} {r:>7.2f}")
    return "\n".join(lines)


def test_corpus_scores_are_printed(capsys) -> None:
    table = scores()
    with capsys.disabled():
        print("\n" + format_scores(table))
    assert table


if __name__ == "__main__":
    print(format_scores(scores()))
