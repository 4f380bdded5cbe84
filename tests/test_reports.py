"""The three report formats: schema validity, SARIF's CWE and fingerprint fields, the golden text,
byte-for-byte determinism, and fingerprints that survive unrelated edits."""

from __future__ import annotations

import sys
import json
import os
from pathlib import Path

import pytest
from e2e import (
    PICKLE_DEFECT,
    assert_valid_review_json,
    assert_valid_sarif,
    review_schema,
    scan,
    subprocess_cli,
    write,
)

from secreview import rules
from secreview.config import Config
from secreview.findings import (
    Confidence,
    FileReview,
    Finding,
    Location,
    Severity,
    TraceStep,
)
from secreview.report import json_report, sarif, text
from secreview.review import ReviewResult

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("SECREVIEW_UPDATE_GOLDEN") == "1"

# Only the deserialization rules: other families may grow without churning the golden file.
DESERIALIZATION_ONLY = ("--enable", "unsafe-deserialization", "--enable", "yaml-unsafe-load")

# A small project touching every part of the review text: findings of two rules, one spanning
# several lines, a suppressed and an unused suppression, a clean file, test code, a file that
# is not valid Python and one in Latin-1.
TREE: dict[str, str | bytes] = {
    "service/__init__.py": "",
    "service/cache.py": (
        "import pickle\n"
        "\n"
        "\n"
        "class Cache:\n"
        "    def get(self, key):\n"
        "        blob = self.store.get(key)\n"
        "        return pickle.loads(\n"
        "            blob,\n"
        "        )\n"
        "\n"
        "    def trusted(self, blob):\n"
        "        return pickle.loads(blob)  # secreview: ignore[CWE-502] written by this process only\n"
    ),
    "service/config.py": (
        "import yaml\n"
        "from yaml import Loader\n"
        "\n"
        "\n"
        "def read(stream):\n"
        "    settings = yaml.load(stream, Loader=Loader)\n"
        "    defaults = yaml.safe_load(stream)\n"
        "    return settings, defaults\n"
    ),
    "service/views.py": "import json\n\n\ndef show(body):\n    return json.loads(body)  # secreview: ignore[yaml-unsafe-load]\n",
    "service/broken.py": "def oops(:\n    pass\n",
    "service/legacy.py": b"# -*- coding: latin-1 -*-\nimport marshal\n\nGREETING = 'd\xe9j\xe0 vu'\ncode = marshal.loads(GREETING)\n",
    "tests/test_cache.py": "import pickle\n\n\ndef test_roundtrip():\n    assert pickle.loads(pickle.dumps(1)) == 1\n",
}


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def render(fmt: str, *extra: str) -> str:
    run = scan(".", "--format", fmt, *DESERIALIZATION_ONLY, *extra)
    assert run.code == 1, run.stderr
    assert run.stderr == ""
    return run.stdout


# --- text ---------------------------------------------------------------------------------


def test_text_review_matches_the_golden_file(tree: Path) -> None:
    golden = GOLDEN / "review.txt"
    # the syntax of the running interpreter judges the broken file; the golden file says "X.Y"
    running = "Python {}.{} (".format(*sys.version_info[:2])
    produced = render("text", "--strict").replace(running, "Python X.Y (")
    if UPDATE_GOLDEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    assert golden.is_file(), "no golden file yet: run with SECREVIEW_UPDATE_GOLDEN=1"
    assert produced == golden.read_text(encoding="utf-8"), (
        "the review text changed; if intended, regenerate with SECREVIEW_UPDATE_GOLDEN=1 and review the diff"
    )


def test_text_lists_files_in_path_order_and_ends_with_the_summary(tree: Path) -> None:
    blocks = render("text").rstrip("\n").split("\n\n")
    headers = [block.splitlines()[0] for block in blocks if block.splitlines()[0].endswith(".py")]
    assert headers == sorted(headers) == ["service/broken.py", "service/cache.py", "service/config.py",
                                          "service/legacy.py"]
    # the clean files are counted on one line, then the table, then the summary
    assert blocks[-3] == "No security defects are detected in the other 3 files (--show-clean lists them)."
    assert blocks[-2].splitlines()[:1] == ["Findings by rule:"]
    assert blocks[-1] == "Summary: 6 files reviewed, 1 not reviewed; 3 findings (critical 0, high 3, medium 0, low 0)."


def test_show_clean_lists_every_clean_file_of_a_tree(tree: Path) -> None:
    output = render("text", "--show-clean")
    for path in ("service/__init__.py", "service/views.py", "tests/test_cache.py"):
        assert f"{path}\n  No security defects are detected in the code.\n" in output
    assert "--show-clean lists them" not in output


def test_a_clean_tree_says_so_in_one_statement(tree: Path) -> None:
    run = scan("service/__init__.py", "service/views.py", "--no-cache")
    assert run.code == 0
    assert run.stdout.startswith("No security defects are detected in the code.\n  (2 files; --show-clean lists them)\n")
    assert "Findings by rule" not in run.stdout


def test_the_table_counts_findings_per_rule_and_severity(tree: Path) -> None:
    table = render("text").split("Findings by rule:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split() for line in table] == [["rule", "critical", "high", "medium", "low"],
                                                 ["unsafe-deserialization", "0", "2", "0", "0"],
                                                 ["yaml-unsafe-load", "0", "1", "0", "0"]]


# --- JSON ---------------------------------------------------------------------------------


def test_json_review_is_valid_against_the_published_schema(tree: Path) -> None:
    document = assert_valid_review_json(render("json"))
    assert (document["schema"], document["version"]) == (json_report.SCHEMA_ID, json_report.SCHEMA_VERSION)
    by_path = {f["path"]: f for f in document["files"]}
    assert by_path["service/broken.py"]["reviewed"] is False
    assert by_path["service/broken.py"]["not_reviewed_reason"].startswith("not valid Python")
    assert by_path["tests/test_cache.py"]["test_code"] is True
    assert [u["line"] for u in by_path["service/views.py"]["unused_suppressions"]] == [5]


def test_json_schema_is_draft_2020_12_and_names_the_document_schema_and_version() -> None:
    schema = review_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"]["const"] == json_report.SCHEMA_ID
    assert schema["properties"]["version"]["const"] == json_report.SCHEMA_VERSION
    assert "review.schema.json" in (json_report.__doc__ or "")


def test_json_schema_rejects_a_document_missing_a_field(tree: Path) -> None:
    document = json.loads(render("json"))
    del document["files"][0]["test_code"]
    with pytest.raises(AssertionError, match="test_code"):
        assert_valid_review_json(json.dumps(document))


def test_json_schema_rejects_an_undocumented_field(tree: Path) -> None:
    document = json.loads(render("json"))
    finding = next(f for entry in document["files"] for f in entry["findings"])
    finding["remediation"] = "undocumented"
    with pytest.raises(AssertionError, match="remediation"):
        assert_valid_review_json(json.dumps(document))


# --- SARIF --------------------------------------------------------------------------------


def test_sarif_review_is_valid_and_relates_rules_to_cwe(tree: Path) -> None:
    document = assert_valid_sarif(render("sarif"))
    [run] = document["runs"]
    descriptors = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(descriptors) == {"unsafe-deserialization", "yaml-unsafe-load"}
    [taxonomy] = run["taxonomies"]
    assert taxonomy["name"] == "CWE"
    taxa_ids = [t["id"] for t in taxonomy["taxa"]]
    for descriptor in descriptors.values():
        assert "external/cwe/cwe-502" in descriptor["properties"]["tags"]
        [relationship] = descriptor["relationships"]
        assert relationship["target"]["id"] == "502"
        assert relationship["target"]["toolComponent"]["name"] == "CWE"
        assert relationship["target"]["id"] in taxa_ids
    assert run["tool"]["driver"]["supportedTaxonomies"] == [{"name": "CWE", "index": 0}]


def test_sarif_results_use_srcroot_relative_uris_and_fingerprints(tree: Path) -> None:
    sarif_doc = assert_valid_sarif(render("sarif"))
    json_doc = json.loads(render("json"))
    [run] = sarif_doc["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.resolve().as_uri() + "/"
    expected = sorted(
        (f["location"]["path"], f["location"]["line"], f["fingerprint"])
        for entry in json_doc["files"] for f in entry["findings"]
    )
    actual = []
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not physical["artifactLocation"]["uri"].startswith(("/", "file:"))
        actual.append((physical["artifactLocation"]["uri"], physical["region"]["startLine"],
                       result["partialFingerprints"][sarif.FINGERPRINT_KEY]))
        assert "codeFlows" not in result  # pattern rules have no trace
    assert sorted(actual) == expected


def test_sarif_reports_files_not_reviewed_as_notifications(tree: Path) -> None:
    [run] = assert_valid_sarif(render("sarif"))["runs"]
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("service/broken.py: not valid Python")
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "service/broken.py"


def traced_result(root: Path) -> ReviewResult:
    def at(line: int, snippet: str) -> Location:
        return Location("app/views.py", line, 5, line, 5 + len(snippet), snippet)

    finding = Finding(
        rule="unsafe-deserialization", cwe=502, severity=Severity.HIGH, confidence=Confidence.HIGH,
        location=at(9, "pickle.loads(blob)"),
        message="`blob` comes from the request body (request.data, line 7) and reaches `pickle.loads`.",
        fix="Parse the body with `json.loads(blob)`.",
        scope="restore",
        trace=(
            TraceStep(at(7, "raw = request.data"), "source: request body"),
            TraceStep(at(8, "blob = raw.strip()"), "propagates through str.strip"),
            TraceStep(at(9, "pickle.loads(blob)"), "sink: deserialization"),
        ),
        fingerprint="0123456789abcdef0123456789abcdef",
    )
    review = FileReview(path="app/views.py", findings=[finding])
    return ReviewResult(files=[review], config=Config(), rules=[rules.get("unsafe-deserialization")], root=root)


def test_sarif_has_code_flows_for_a_traced_finding(tmp_path: Path) -> None:
    document = assert_valid_sarif(sarif.render(traced_result(tmp_path)))
    [result] = document["runs"][0]["results"]
    [flow] = result["codeFlows"]
    [thread] = flow["threadFlows"]
    steps = [(s["location"]["physicalLocation"]["region"]["startLine"], s["location"]["message"]["text"]) for s in thread["locations"]]
    assert steps == [(7, "source: request body"), (8, "propagates through str.strip"), (9, "sink: deserialization")]


FLASK_HANDLER = """\
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/convert")
def convert():
    name = request.args["name"]
    command = "convert " + name + " out.png"
    return str(subprocess.call(command, shell=True))
"""


def test_every_traced_finding_of_a_real_review_has_a_code_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"web.py": FLASK_HANDLER})
    json_doc = assert_valid_review_json(scan("web.py", "--format", "json").stdout)
    [run] = assert_valid_sarif(scan("web.py", "--format", "sarif").stdout)["runs"]
    traces = {(f["rule"], f["location"]["line"]): len(f["trace"]) for f in json_doc["files"][0]["findings"]}
    flows = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]):
            len(r["codeFlows"][0]["threadFlows"][0]["locations"]) if "codeFlows" in r else 0
        for r in run["results"]
    }
    assert any(traces.values()), f"the request-to-shell flow should carry a trace: {traces}"
    assert flows == traces


def test_traced_finding_in_json_and_text(tmp_path: Path) -> None:
    result = traced_result(tmp_path)
    document = assert_valid_review_json(json_report.render(result))
    assert [s["location"]["line"] for s in document["files"][0]["findings"][0]["trace"]] == [7, 8, 9]
    rendered = text.render(result)
    assert "Evidence:" in rendered
    assert "line 7: source: request body: raw = request.data" in rendered


# --- determinism --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_same_tree_reviewed_twice_gives_identical_bytes(tree: Path, fmt: str) -> None:
    first = scan(".", "--format", fmt).stdout.encode("utf-8")
    second = scan(".", "--format", fmt).stdout.encode("utf-8")
    assert first == second


# Several values from one request reach one log call through helpers: which of them the finding
# names must not depend on the order Python happens to iterate a set in.
HANDLER_WITH_SHARED_ORIGIN = """\
import logging

import webob.dec

LOG = logging.getLogger(__name__)


class MetadataHandler:
    @webob.dec.wsgify
    def __call__(self, req):
        return self._from_proxy(req)

    def _from_proxy(self, req):
        remote = req.headers.get("X-Forwarded-For")
        provider = req.headers.get("X-Provider")
        address = remote.split(",")[0]
        signature = req.headers.get("X-Signature")
        self._validate(provider, signature, address)
        return self._lookup(provider, address)

    def _validate(self, requestor, signature, address):
        if signature != requestor:
            LOG.warning("bad signature %(signature)s for %(requestor)s from %(address)s",
                        {"signature": signature, "requestor": requestor, "address": address})

    def _lookup(self, provider, address):
        try:
            return provider + address
        except Exception as e:
            LOG.error("lookup failed %(provider)s %(requester)s %(error)s",
                      {"provider": provider, "requester": address, "error": e})
"""


# One request body passed as several arguments down three calls to one sink: each level maps
# the parameters it got to its caller's arguments, and all of them meet as one origin at the top.
BODY_THROUGH_THREE_CALLS = """
import logging
from flask import request

LOG = logging.getLogger(__name__)


def handler():
    body = request.get_json()
    return create(body["zone"], body["host"], body["meta"], body["name"])


def create(zone, host, meta, name):
    return _create_instance(zone, host, meta, name)


def _create_instance(zone, host, meta, name):
    return _build(zone, host, meta, name)


def _build(zone, host, meta, name):
    LOG.info("building %s %s %s %s", zone, host, meta, name)
"""


def test_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    # SARIF carries everything the text does (messages, fixes, traces) and more
    write(tmp_path, {"handler.py": HANDLER_WITH_SHARED_ORIGIN, "service/cache.py": TREE["service/cache.py"],
                     "compute.py": BODY_THROUGH_THREE_CALLS})
    outputs = set()
    for seed in ("1", "2", "3", "4", "5"):
        run = subprocess_cli("scan", ".", "--format", "sarif", cwd=tmp_path, env={"PYTHONHASHSEED": seed})
        assert run.code == 1, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1, "the review differs between runs with different PYTHONHASHSEED values"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_order_of_paths_on_the_command_line_does_not_matter(tree: Path, fmt: str) -> None:
    assert scan("tests", "service", "--format", fmt).stdout == scan("service", "tests", "--format", fmt).stdout


# --- fingerprints -------------------------------------------------------------------------


def fingerprints(path: str) -> list[tuple[int, str]]:
    document = scan(path, "--format", "json").json()
    return [(f["location"]["line"], f["fingerprint"]) for entry in document["files"] for f in entry["findings"]]


def test_fingerprint_is_stable_when_lines_are_inserted_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"mod.py": PICKLE_DEFECT})
    [(line_before, before)] = fingerprints("mod.py")
    padding = "".join(f"# note {i}\n" for i in range(10)) + "".join(f"CONSTANT_{i} = {i}\n" for i in range(10))
    write(tmp_path, {"mod.py": padding + PICKLE_DEFECT})
    [(line_after, after)] = fingerprints("mod.py")
    assert line_after == line_before + 20
    assert after == before


def test_fingerprint_changes_when_the_flagged_code_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"mod.py": PICKLE_DEFECT})
    [(_, before)] = fingerprints("mod.py")
    write(tmp_path, {"mod.py": PICKLE_DEFECT.replace("loads(blob)", "loads(payload)").replace("(blob)", "(payload)")})
    [(_, after)] = fingerprints("mod.py")
    assert after != before


def test_identical_defects_in_one_function_have_different_fingerprints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"mod.py": "import pickle\n\n\ndef load(blob):\n    pickle.loads(blob)\n    pickle.loads(blob)\n"})
    found = fingerprints("mod.py")
    assert [line for line, _ in found] == [5, 6]
    assert found[0][1] != found[1][1]


def test_sarif_srcroot_is_the_repository_root_whichever_folder_the_review_ran_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess

    repo = tmp_path / "repo"
    write(repo, {"service/api/loader.py": "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"})
    write(tmp_path, {"elsewhere/tool.py": "import pickle\nprint(pickle.loads(open(0, 'rb').read()))\n"})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo / "service")
    run = scan(".", str(tmp_path / "elsewhere"), "--format", "sarif", "--no-cache", *DESERIALIZATION_ONLY)
    [sarif_run] = assert_valid_sarif(run.stdout)["runs"]
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    locations = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_run["results"])
    # inside the repository: relative to its root; outside it: an absolute file URI
    assert locations == sorted(["service/api/loader.py", (tmp_path / "elsewhere/tool.py").resolve().as_uri()])
