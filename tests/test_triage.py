"""Triage that lasts: a baseline entry with a status and a reason is reported as suppressed with
them in every format, does not fail the gate, survives --write-baseline, and --strict lists
entries that no longer match."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from e2e import assert_valid_review_json, assert_valid_sarif, scan, write

LOADER = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
CACHE = "import marshal\n\n\ndef cached(data):\n    return marshal.loads(data)\n"


@pytest.fixture
def triaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A baseline of two findings, the pickle one triaged by hand as a false positive."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app/loader.py": LOADER, "app/cache.py": CACHE})
    assert scan("app", "--no-cache", "--write-baseline", "baseline.json").code == 0
    document = json.loads((tmp_path / "baseline.json").read_text())
    for entry in document["findings"]:
        if entry["path"] == "app/loader.py":
            entry.update(status="false-positive", reason="blob is signed by the caller")
    (tmp_path / "baseline.json").write_text(json.dumps(document))
    return tmp_path


def test_a_triaged_finding_is_reported_as_suppressed_with_its_reason_and_does_not_fail(triaged: Path) -> None:
    run = scan("app", "--no-cache", "--baseline", "baseline.json")
    assert run.code == 0
    assert ("Triaged in the baseline, not counted (1):\n  app/loader.py line 5: HIGH CWE-502 unsafe-deserialization: "
            "false positive: blob is signed by the caller") in run.stdout
    assert run.stdout.rstrip().endswith("0 findings (critical 0, high 0, medium 0, low 0); 1 triaged in the baseline.")
    assert "marshal" not in run.stdout  # an untriaged baseline entry stays silent, as before


def test_every_format_carries_the_triage(triaged: Path) -> None:
    flags = ("app", "--no-cache", "--baseline", "baseline.json", "--format")
    document = assert_valid_review_json(scan(*flags, "json").stdout)
    [entry] = document["triaged"]
    assert (entry["status"], entry["reason"], entry["finding"]["rule"]) == (
        "false-positive", "blob is signed by the caller", "unsafe-deserialization")
    assert document["summary"]["triaged"] == 1 and document["summary"]["findings"] == 0
    [run] = assert_valid_sarif(scan(*flags, "sarif").stdout)["runs"]
    [suppressed] = [r for r in run["results"] if "suppressions" in r]
    assert suppressed["suppressions"] == [{"kind": "external", "status": "accepted",
                                           "justification": "false positive: blob is signed by the caller"}]
    assert suppressed["baselineState"] == "unchanged"
    root = ElementTree.fromstring(scan(*flags, "junit").stdout)
    [skipped] = root.iter("skipped")
    assert skipped.get("message") == "triaged in the baseline as false positive: blob is signed by the caller"
    assert root.get("skipped") == "1" and root.get("failures") == "0"
    assert "1 triaged in the baseline." in json.loads(scan(*flags, "github-review").stdout)["body"]
    assert "1 triaged in the baseline." in json.loads(scan(*flags, "gerrit").stdout)["message"]


def test_rewriting_the_baseline_keeps_the_triage(triaged: Path) -> None:
    assert scan("app", "--no-cache", "--write-baseline", "baseline.json").code == 0
    entries = {e["path"]: e for e in json.loads((triaged / "baseline.json").read_text())["findings"]}
    assert (entries["app/loader.py"]["status"], entries["app/loader.py"]["reason"]) == (
        "false-positive", "blob is signed by the caller")
    assert "status" not in entries["app/cache.py"]


def test_strict_lists_triage_that_no_longer_matches(triaged: Path) -> None:
    (triaged / "app/loader.py").write_text("import json\n\n\ndef load(blob):\n    return json.loads(blob)\n")
    run = scan("app", "--no-cache", "--baseline", "baseline.json", "--strict")
    assert ("Triage entries that no longer match a finding (1):\n  app/loader.py (line 5 before): "
            "unsafe-deserialization: false-positive: blob is signed by the caller") in run.stdout
    assert "Triage entries" not in scan("app", "--no-cache", "--baseline", "baseline.json").stdout


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "wontfix"}, "unknown status 'wontfix' (one of false-positive, accepted-risk, will-fix)"),
    ({"reason": "looks fine"}, "a reason without a status"),
    ({"status": 3}, "status must be a string"),
])
def test_a_bad_triage_entry_is_a_clear_error(triaged: Path, change: dict, message: str) -> None:
    document = json.loads((triaged / "baseline.json").read_text())
    entry = next(e for e in document["findings"] if e["path"] == "app/cache.py")
    entry.update(change)
    (triaged / "baseline.json").write_text(json.dumps(document))
    run = scan("app", "--no-cache", "--baseline", "baseline.json")
    assert run.code == 2 and message in run.stderr
