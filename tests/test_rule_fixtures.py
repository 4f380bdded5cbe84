"""Every fixture under tests/fixtures/rules yields exactly the findings its comments declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from secreview import rules
from secreview.config import Config
from secreview.discover import SourceFile
from secreview.review import review_files

from expectations import read

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
FILES = sorted(FIXTURES.rglob("*.py"))


@pytest.mark.parametrize("fixture", FILES, ids=[str(f.relative_to(FIXTURES)) for f in FILES])
def test_fixture_findings_match_inline_expectations(fixture: Path) -> None:
    expectations = read(fixture)
    known = {r.id for r in rules.all_rules()}
    named = {rule for _, rule in expectations.expected | expectations.clean}
    assert named <= known, f"fixture names unknown rules: {sorted(named - known)}"

    config = Config()
    source = SourceFile(path=fixture.name, absolute=fixture, is_test=expectations.is_test_code)
    [review] = review_files([source], config).files

    assert review.not_reviewed is None, review.not_reviewed
    assert review.incomplete == []
    actual = {(f.location.line, f.rule) for f in review.findings}
    missing = sorted(expectations.expected - actual)
    unexpected = sorted(actual - expectations.expected)
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}"


def test_fixture_corpus_is_substantial() -> None:
    total = sum(read(f).count for f in FILES)
    assert total >= 150, total
