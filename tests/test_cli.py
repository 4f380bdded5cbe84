"""The command line as a user meets it: subcommands, exit codes, formats, output files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e import (
    CLEAN_CODE,
    PICKLE_DEFECT,
    assert_valid_review_json,
    assert_valid_sarif,
    cli,
    scan,
    subprocess_cli,
    write,
)

from secreview import rules
from secreview.report.text import CLEAN


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, {"app/loader.py": PICKLE_DEFECT, "app/clean.py": CLEAN_CODE})
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- scan, as a separate process ----------------------------------------------------------


def test_module_entry_point_reviews_a_tree_and_exits_1_on_a_finding(project: Path) -> None:
    run = subprocess_cli("scan", "app", cwd=project)
    assert run.code == 1, run.stderr
    assert "app/loader.py" in run.stdout and "line 5: return pickle.loads(blob)" in run.stdout
    assert "app/clean.py" not in run.stdout  # a tree's clean files are counted, not listed
    assert "No security defects are detected in the other 1 file (--show-clean lists them)." in run.stdout
    assert run.stderr == ""


def test_module_entry_point_exits_0_on_clean_code(project: Path) -> None:
    run = subprocess_cli("scan", "app/clean.py", cwd=project)
    assert (run.code, run.stderr) == (0, "")
    assert CLEAN in run.stdout


def test_module_entry_point_reads_standard_input(project: Path) -> None:
    run = subprocess_cli("scan", "-", "--format", "json", cwd=project, stdin=PICKLE_DEFECT)
    assert run.code == 1, run.stderr
    document = assert_valid_review_json(run.stdout)
    [entry] = document["files"]
    assert entry["path"] == "<stdin>"
    assert [f["rule"] for f in entry["findings"]] == ["unsafe-deserialization"]


def test_module_entry_point_usage_error_exits_2_without_traceback(project: Path) -> None:
    run = subprocess_cli("scan", "app", "--format", "yaml", cwd=project)
    assert run.code == 2
    assert "invalid choice" in run.stderr and "Traceback" not in run.stderr


# --- scan, in process ---------------------------------------------------------------------


def test_scan_of_single_file_reports_only_that_file(project: Path) -> None:
    run = scan("app/loader.py")
    assert run.code == 1
    assert "app/loader.py" in run.stdout and "app/clean.py" not in run.stdout


def test_scan_of_several_paths_merges_them_once(project: Path) -> None:
    document = scan("app", "app/loader.py", "--format", "json").json()
    assert [f["path"] for f in document["files"]] == ["app/clean.py", "app/loader.py"]


def test_standard_input_clean_code_exits_0(project: Path) -> None:
    run = scan("-", stdin=CLEAN_CODE)
    assert run.code == 0
    assert run.stdout.startswith(f"<stdin>\n  {CLEAN}")


def test_missing_path_is_an_input_error_so_a_typo_cannot_pass_ci(project: Path) -> None:
    run = scan("app", "nowhere.py")
    assert run.code == 2
    assert run.stderr.strip() == "secreview: no such file or directory: nowhere.py"
    assert "nowhere.py\n  not reviewed: no such file or directory" in run.stdout
    assert "app/loader.py\n  HIGH" in run.stdout  # the paths that exist are still reviewed


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [("low", 1), ("medium", 1), ("high", 1), ("critical", 0), ("HIGH", 1)],
)
def test_fail_on_threshold_decides_exit_code(project: Path, fail_on: str, expected: int) -> None:
    # the pickle load is a high-severity finding
    assert scan("app", "--fail-on", fail_on).code == expected


def test_fail_on_does_not_hide_findings_below_it(project: Path) -> None:
    run = scan("app", "--fail-on", "critical")
    assert run.code == 0
    assert "unsafe-deserialization" in run.stdout


def test_unknown_fail_on_is_a_usage_error(project: Path) -> None:
    run = scan("app", "--fail-on", "severe")
    assert run.code == 2
    assert "unknown severity 'severe'" in run.stderr
    assert run.stdout == ""


def test_no_paths_is_a_usage_error(project: Path) -> None:
    run = cli("scan")
    assert run.code == 2
    assert "PATH" in run.stderr


def test_unknown_subcommand_is_a_usage_error(project: Path) -> None:
    assert cli("inspect", "app").code == 2


@pytest.mark.parametrize("option", ["--enable", "--disable"])
def test_unknown_rule_selector_is_a_usage_error(project: Path, option: str) -> None:
    run = scan("app", option, "no-such-rule")
    assert run.code == 2
    assert "unknown rule or CWE: no-such-rule" in run.stderr


def test_enable_by_cwe_selects_the_rules_of_that_cwe(project: Path) -> None:
    assert scan("app", "--enable", "CWE-502").code == 1
    assert scan("app", "--disable", "CWE-502").code == 0


def test_disable_by_rule_id_silences_that_rule(project: Path) -> None:
    run = scan("app", "--disable", "unsafe-deserialization")
    assert run.code == 0
    assert "unsafe-deserialization" not in run.stdout


# --- formats and --output -----------------------------------------------------------------


def test_json_format_is_valid_against_its_schema(project: Path) -> None:
    document = assert_valid_review_json(scan("app", "--format", "json").stdout)
    assert document["summary"]["findings"] == 1
    assert document["summary"]["by_severity"]["high"] == 1


def test_sarif_format_is_valid_sarif(project: Path) -> None:
    document = assert_valid_sarif(scan("app", "--format", "sarif").stdout)
    [result] = document["runs"][0]["results"]
    assert result["ruleId"] == "unsafe-deserialization"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_file_receives_the_report_and_stdout_stays_empty(project: Path, fmt: str) -> None:
    target = project / f"report.{fmt}"
    run = scan("app", "--format", fmt, "--output", str(target))
    assert run.code == 1
    assert run.stdout == ""
    written = target.read_text(encoding="utf-8")
    assert written == scan("app", "--format", fmt).stdout


def test_output_to_an_unwritable_place_is_an_input_error(project: Path) -> None:
    run = scan("app", "--output", str(project / "missing-dir" / "report.txt"))
    assert run.code == 2
    assert "report.txt" in run.stderr and "Traceback" not in run.stderr


# --- explain ------------------------------------------------------------------------------


def test_explain_rule_prints_its_documentation_under_fixed_headings(project: Path) -> None:
    run = cli("explain", "yaml-unsafe-load")
    assert run.code == 0
    for heading in rules.DOC_HEADINGS:
        assert f"## {heading}" in run.stdout
    assert "CWE-502 Deserialization of Untrusted Data" in run.stdout


def test_explain_cwe_prints_every_rule_of_that_cwe(project: Path) -> None:
    run = cli("explain", "CWE-502")
    assert run.code == 0
    expected = [r.id for r in rules.all_rules() if r.cwe == 502]
    assert expected, "the deserialization family reports CWE-502"
    for rule_id in expected:
        assert f"# {rule_id}:" in run.stdout


def test_explain_accepts_lower_case_cwe(project: Path) -> None:
    assert cli("explain", "cwe-502").stdout == cli("explain", "CWE-502").stdout


def test_explain_unknown_rule_exits_2_with_a_message(project: Path) -> None:
    run = cli("explain", "no-such-rule")
    assert run.code == 2
    assert run.stderr.strip() == "secreview: no rule named 'no-such-rule' (see 'secreview rules')"


def test_explain_cwe_that_no_rule_reports_exits_2(project: Path) -> None:
    # CWE-1021 (clickjacking) exists in the catalogue but is not a Python code weakness we flag
    assert not rules.find("CWE-1021")
    run = cli("explain", "CWE-1021")
    assert run.code == 2
    assert "no secreview rule reports this CWE" in run.stderr


def test_explain_cwe_missing_from_the_catalogue_exits_2(project: Path) -> None:
    run = cli("explain", "CWE-99999999")
    assert run.code == 2
    assert "99999999" in run.stderr and "Traceback" not in run.stderr


# --- rules --------------------------------------------------------------------------------


def test_rules_lists_every_rule_with_cwe_severity_and_summary(project: Path) -> None:
    run = cli("rules")
    assert run.code == 0
    lines = run.stdout.splitlines()
    registered = rules.all_rules()
    assert len(lines) == len(registered)
    for rule, line in zip(registered, lines):
        assert line.split()[0] == rule.id
        assert f"CWE-{rule.cwe}" in line and rule.severity.label in line and rule.summary in line


def test_rules_json_lists_ids_with_cwe_and_pillar(project: Path) -> None:
    listed = json.loads(cli("rules", "--format", "json").stdout)
    assert [r["id"] for r in listed] == [r.id for r in rules.all_rules()]
    assert all(r["cwe"].startswith("CWE-") and r["pillar"].startswith("CWE-") for r in listed)


def test_version_flag(project: Path) -> None:
    from secreview import __version__

    run = cli("--version")
    assert run.code == 0
    assert run.stdout.strip() == f"secreview {__version__}"


def test_no_subcommand_is_a_usage_error(project: Path) -> None:
    run = cli()
    assert run.code == 2
    assert "usage: secreview" in run.stderr


def test_scan_help_exits_0_and_lists_the_formats(project: Path) -> None:
    run = cli("scan", "--help")
    assert run.code == 0
    from secreview.report import FORMATS

    choices = run.stdout.split("--format", 1)[1].split("}", 1)[0]
    assert all(name in choices for name in FORMATS), choices


@pytest.mark.parametrize("rule", [r.id for r in rules.all_rules()])
def test_every_rule_explains_itself_and_cites_its_cwe(project: Path, rule: str) -> None:
    run = cli("explain", rule)
    assert run.code == 0, run.stderr
    found = rules.get(rule)
    references = run.stdout.split("## References", 1)[1]
    assert f"CWE-{found.cwe}" in references
