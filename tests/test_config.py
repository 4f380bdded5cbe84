"""``[tool.secreview]`` in the nearest pyproject.toml, overridden by command-line flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e import PICKLE_DEFECT, scan, write

YAML_DEFECT = "import yaml\n\n\ndef read(stream):\n    return yaml.load(stream, Loader=yaml.Loader)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, {
        "app/loader.py": PICKLE_DEFECT,
        "app/settings.py": YAML_DEFECT,
        "app/tests/test_loader.py": PICKLE_DEFECT,
    })
    monkeypatch.chdir(tmp_path)
    return tmp_path


def configure(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text(f"[project]\nname = 'demo'\n\n[tool.secreview]\n{body}\n", encoding="utf-8")


def rules_by_file(*args: str) -> dict[str, list[str]]:
    run = scan(*args, "--format", "json")
    assert run.code in (0, 1), run.stderr
    return {f["path"]: [x["rule"] for x in f["findings"]] for f in run.json()["files"]}


def one_line_error(run) -> str:
    assert run.code == 2
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_without_configuration_the_defaults_apply(project: Path) -> None:
    assert rules_by_file("app") == {
        "app/loader.py": ["unsafe-deserialization"],
        "app/settings.py": ["yaml-unsafe-load"],
        "app/tests/test_loader.py": [],  # unsafe deserialization is not reported in test code by default
    }


def test_exclude_from_configuration_is_relative_to_the_pyproject(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(project, 'exclude = ["app/settings.py"]')
    monkeypatch.chdir(project / "app")
    assert list(rules_by_file(".")) == ["loader.py", "tests/test_loader.py"]


def test_exclude_flag_adds_to_configured_excludes(project: Path) -> None:
    configure(project, 'exclude = ["app/settings.py"]')
    assert list(rules_by_file("app", "--exclude", "app/tests")) == ["app/loader.py"]


def test_fail_on_from_configuration_and_overridden_by_flag(project: Path) -> None:
    configure(project, 'fail-on = "critical"')
    assert scan("app").code == 0
    assert scan("app", "--fail-on", "high").code == 1


def test_disable_from_configuration(project: Path) -> None:
    configure(project, 'disable = ["yaml-unsafe-load"]')
    assert rules_by_file("app")["app/settings.py"] == []
    assert rules_by_file("app")["app/loader.py"] == ["unsafe-deserialization"]


def test_disable_flag_adds_to_configured_disable(project: Path) -> None:
    configure(project, 'disable = ["yaml-unsafe-load"]')
    assert rules_by_file("app", "--disable", "unsafe-deserialization") == {
        "app/loader.py": [], "app/settings.py": [], "app/tests/test_loader.py": [],
    }


def test_enable_from_configuration_limits_the_rules(project: Path) -> None:
    configure(project, 'enable = ["yaml-unsafe-load"]')
    assert rules_by_file("app")["app/loader.py"] == []
    assert rules_by_file("app")["app/settings.py"] == ["yaml-unsafe-load"]


def test_enable_flag_replaces_configured_enable(project: Path) -> None:
    configure(project, 'enable = ["yaml-unsafe-load"]')
    found = rules_by_file("app", "--enable", "unsafe-deserialization")
    assert found["app/loader.py"] == ["unsafe-deserialization"]
    assert found["app/settings.py"] == []


@pytest.mark.parametrize(("policy", "reported_in_tests"), [("all", ["unsafe-deserialization"]), ("relevant", []), ("off", [])])
def test_test_code_policy_from_configuration(project: Path, policy: str, reported_in_tests: list[str]) -> None:
    configure(project, f'test-code = "{policy}"')
    assert rules_by_file("app")["app/tests/test_loader.py"] == reported_in_tests


def test_test_code_flag_overrides_configuration(project: Path) -> None:
    configure(project, 'test-code = "off"')
    assert rules_by_file("app", "--test-code", "all")["app/tests/test_loader.py"] == ["unsafe-deserialization"]


def test_nosec_is_honoured_only_when_configured(project: Path) -> None:
    write(project, {"app/loader.py": PICKLE_DEFECT.replace("loads(blob)", "loads(blob)  # nosec B301")})
    assert rules_by_file("app")["app/loader.py"] == ["unsafe-deserialization"]
    configure(project, "nosec = true")
    assert rules_by_file("app")["app/loader.py"] == []


def test_strict_from_configuration_lists_unused_suppressions(project: Path) -> None:
    write(project, {"app/clean.py": "x = 1  # secreview: ignore[unsafe-deserialization] not needed\n"})
    assert "unused suppression" not in scan("app/clean.py").stdout
    configure(project, "strict = true")
    assert "unused suppression, line 1" in scan("app/clean.py").stdout


def test_max_file_size_from_configuration_and_flag(project: Path) -> None:
    size = (project / "app/loader.py").stat().st_size
    configure(project, f"max-file-size = {size - 1}")
    reason = scan("app/loader.py", "--format", "json").json()["files"][0]["not_reviewed_reason"]
    assert reason.startswith("file too large")
    assert scan("app/loader.py", "--max-file-size", str(size)).code == 1


def test_nearest_pyproject_wins(project: Path) -> None:
    configure(project, 'disable = ["unsafe-deserialization"]')
    configure(project / "app", 'disable = ["yaml-unsafe-load"]')
    found = rules_by_file("app")
    assert found["app/loader.py"] == ["unsafe-deserialization"]
    assert found["app/settings.py"] == []


def test_pyproject_without_a_secreview_table_is_passed_over(project: Path) -> None:
    configure(project, 'disable = ["unsafe-deserialization"]')
    (project / "app" / "pyproject.toml").write_text("[project]\nname = 'inner'\n", encoding="utf-8")
    assert rules_by_file("app")["app/loader.py"] == []


def test_explicit_config_file_is_used(project: Path) -> None:
    (project / "custom.toml").write_text('[tool.secreview]\ndisable = ["CWE-502"]\n', encoding="utf-8")
    assert scan("app", "--config", "custom.toml").code == 0


def test_explicit_config_file_that_does_not_exist_is_an_error(project: Path) -> None:
    assert "missing.toml: no such file" in one_line_error(scan("app", "--config", "missing.toml"))


# --- errors: exit 2, one line, naming the key ----------------------------------------------


def test_unknown_key_is_an_error_naming_it(project: Path) -> None:
    configure(project, 'disabled = ["yaml-unsafe-load"]')
    message = one_line_error(scan("app"))
    assert "unknown key 'disabled'" in message and "pyproject.toml" in message


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('fail-on = "severe"', "fail-on"),
        ("fail-on = 3", "fail-on"),
        ('exclude = "build"', "exclude"),
        ("enable = [1]", "enable"),
        ('test-code = "some"', "test-code"),
        ('nosec = "yes"', "nosec"),
        ("strict = 1", "strict"),
        ("max-file-size = 0", "max-file-size"),
        ("max-file-size = true", "max-file-size"),
        ('max-file-size = "1MB"', "max-file-size"),
    ],
)
def test_bad_value_is_an_error_naming_the_key(project: Path, body: str, key: str) -> None:
    configure(project, body)
    assert f"pyproject.toml: {key}" in one_line_error(scan("app"))


@pytest.mark.parametrize("key", ["enable", "disable"])
def test_unknown_rule_in_configuration_is_an_error_naming_the_key(project: Path, key: str) -> None:
    # a misspelt rule that is silently ignored would quietly change what is reviewed
    configure(project, f'{key} = ["yaml-unsafe-lod"]')
    message = one_line_error(scan("app"))
    assert key in message and "yaml-unsafe-lod" in message


def test_invalid_toml_is_an_error(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.secreview\nfail-on = 'high'\n", encoding="utf-8")
    assert "not valid TOML" in one_line_error(scan("app"))


def test_secreview_table_that_is_not_a_table_is_an_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool]\nsecreview = "on"\n', encoding="utf-8")
    assert "must be a table" in one_line_error(scan("app"))


def test_bad_max_file_size_flag_is_an_error(project: Path) -> None:
    assert "max-file-size" in one_line_error(scan("app", "--max-file-size", "0"))


# --- files that are not what a pyproject.toml is -------------------------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (b"tool = 5\n", "pyproject.toml: [tool] must be a table, got 5"),
    (b"[tool.secreview]\nexclude = ['caf\xe9']\n", "pyproject.toml: not valid TOML: not UTF-8 (byte 0xe9 at offset 32)"),
    (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "pyproject.toml: not valid TOML"),
    (b" " * (4 * 1024 * 1024 + 1), "pyproject.toml: too large (4194305 bytes; at most 4194304)"),
])
def test_a_pyproject_that_is_not_valid_is_a_one_line_error(project: Path, content: bytes, message: str) -> None:
    (project / "pyproject.toml").write_bytes(content)
    for run in (scan("app"), scan("app", "--config", "pyproject.toml")):
        assert message in one_line_error(run)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory", "link to /dev/zero"])
def test_a_config_file_that_is_not_a_regular_file_is_named_as_such(project: Path, kind: str) -> None:
    named = {"/dev/zero": "/dev/zero", "fifo": "fifo.toml", "directory": "app", "link to /dev/zero": "zero.toml"}[kind]
    if kind == "fifo":
        os.mkfifo(project / named)  # must not wait for a writer
    elif kind == "link to /dev/zero":
        (project / named).symlink_to("/dev/zero")
    assert one_line_error(scan("app", "--config", named)).endswith(f"{named}: not a regular file")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_time_budget_that_is_not_a_number_of_seconds_is_an_error(project: Path, value: str) -> None:
    configure(project, f"time-budget = {value}")
    assert f"pyproject.toml: time-budget must be a number of seconds (0: no limit), got {value}" in one_line_error(
        scan("app"))
    (project / "pyproject.toml").unlink()
    flag = one_line_error(scan("app", f"--time-budget={value}"))
    assert f"--time-budget must be a number of seconds (0: no limit), got {value}" in flag
