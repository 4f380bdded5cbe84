"""Configuration: ``[tool.secreview]`` of the nearest ``pyproject.toml``, then CLI flags.

Every key is declared once in :data:`OPTIONS` with its type and a check of its value; an unknown
key or a bad value is a :class:`ConfigError` (exit code 2), never silently ignored, because a
misspelt ``disable`` that is ignored turns into a review the user did not ask for.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from . import reading
from .findings import Confidence, Severity
from .guards import DEFAULT_MAX_MEMORY_MIB, DEFAULT_TIME_BUDGET_S, MIN_MAX_MEMORY_MIB
from .python.source import DEFAULT_MAX_FILE_BYTES

TEST_CODE_POLICIES = ("relevant", "all", "off")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    exclude: tuple[str, ...] = ()
    fail_on: Severity = Severity.LOW
    enable: tuple[str, ...] = ()  # rule ids or CWE-N; empty means every rule
    disable: tuple[str, ...] = ()
    test_code: str = "relevant"  # relevant: only rules that matter in tests; all; off: none
    nosec: bool = False
    noqa: bool = False  # honour Ruff's and flake8's '# noqa: S...' (secreview.policy)
    strict: bool = False
    max_file_size: int = DEFAULT_MAX_FILE_BYTES
    respect_gitignore: bool = True
    models: tuple[str, ...] = ()  # extra model files for the data-flow engine
    time_budget: float = DEFAULT_TIME_BUDGET_S  # CPU seconds of analysis per file; 0: unbounded
    max_memory: int = DEFAULT_MAX_MEMORY_MIB  # MiB for the whole review, all processes; 0: unbounded
    fail_on_incomplete: bool = False  # exit 1 when a file is not (fully) reviewed: a gate that fails closed
    # what a report shows (secreview.display); the findings below them are counted, not shown
    min_severity: Severity = Severity.LOW
    min_confidence: Confidence = Confidence.LOW
    show_clean: bool = False  # the text lists every clean file of a tree, not one line counting them
    # where untrusted data may come from (secreview.rules.THREAT_MODELS); the analysis depends on it
    threat_models: tuple[str, ...] = ("remote",)
    root: Path | None = field(default=None, compare=False)  # directory of the pyproject.toml
    source: str | None = field(default=None, compare=False)

    def with_overrides(self, **overrides: Any) -> "Config":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def rule_enabled(self, rule_id: str, cwe_id: int) -> bool:
        def named(selectors: tuple[str, ...]) -> bool:
            return any(s == rule_id or s.upper() == f"CWE-{cwe_id}" for s in selectors)

        if self.enable and not named(self.enable):
            return False
        return not named(self.disable)


def _string_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings, got {value!r}")
    return tuple(value)


def _level(parse: Callable[[str], Any]) -> Callable[[str, Any], Any]:
    """A checker for a severity or confidence name, parsed by ``parse`` (``Severity.parse``)."""
    def check(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string, got {value!r}")
        try:
            return parse(value)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None

    return check


_severity = _level(Severity.parse)
_confidence = _level(Confidence.parse)


THREAT_MODELS = ("remote", "local", "environment")  # secreview.rules.THREAT_MODEL_OF_KIND names the sources


def _threat_models(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # --threat-models remote,local
        value = [part.strip() for part in value.split(",") if part.strip()]
    models = _string_list(key, value)
    unknown = [m for m in models if m not in THREAT_MODELS]
    if unknown:
        raise ConfigError(f"{key}: unknown threat model {', '.join(map(repr, unknown))} "
                          f"(choose from {', '.join(THREAT_MODELS)})")
    if "remote" not in models:
        raise ConfigError(f"{key}: 'remote' cannot be left out: a web request is always untrusted")
    return tuple(m for m in THREAT_MODELS if m in models)


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    return value


def _test_code(key: str, value: Any) -> str:
    if value not in TEST_CODE_POLICIES:
        raise ConfigError(f"{key} must be one of {', '.join(TEST_CODE_POLICIES)}, got {value!r}")
    return value


def _positive_int(key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    return value


def _seconds(key: str, value: Any) -> float:
    # NaN compares false with everything, so it would pass as "no limit"; infinity is no
    # number of seconds either (0 is the way to lift the limit)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{key} must be a number of seconds (0: no limit), got {value!r}")
    return float(value)


def _memory_mib(key: str, value: Any) -> int:
    floor = MIN_MAX_MEMORY_MIB
    if not isinstance(value, int) or isinstance(value, bool) or (value != 0 and value < floor):
        raise ConfigError(f"{key} must be a number of MiB, at least {floor} (0: no limit), got {value!r}")
    return value


OPTIONS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "exclude": ("exclude", _string_list),
    "fail-on": ("fail_on", _severity),
    "enable": ("enable", _string_list),
    "disable": ("disable", _string_list),
    "test-code": ("test_code", _test_code),
    "nosec": ("nosec", _boolean),
    "noqa": ("noqa", _boolean),
    "strict": ("strict", _boolean),
    "max-file-size": ("max_file_size", _positive_int),
    "respect-gitignore": ("respect_gitignore", _boolean),
    "models": ("models", _string_list),
    "time-budget": ("time_budget", _seconds),
    "max-memory": ("max_memory", _memory_mib),
    "fail-on-incomplete": ("fail_on_incomplete", _boolean),
    "min-severity": ("min_severity", _severity),
    "min-confidence": ("min_confidence", _confidence),
    "show-clean": ("show_clean", _boolean),
    "threat-models": ("threat_models", _threat_models),
}
assert {attr for attr, _ in OPTIONS.values()} == {f.name for f in fields(Config)} - {"root", "source"}


def check_option(key: str, value: Any, prefix: str = "") -> Any:
    """``value`` for the option ``key`` checked as the file's key is (``prefix``: how it was given)."""
    attr, convert = OPTIONS[key]
    return convert(prefix + key, value)


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.secreview]`` table, from ``start`` up to the
    root of its git repository (a directory holding ``.git``, a folder or, for a worktree or
    submodule, a file): a file above the repository belongs to someone else (a parent's
    ``exclude = ["*"]`` would hide the whole project)."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before Python 3.13)
        start = Path(os.path.abspath(start))
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                tables = _read_toml(pyproject)
            except ConfigError:
                return pyproject  # a broken pyproject is reported, not skipped past
            tool = tables.get("tool", {})
            if not isinstance(tool, dict) or "secreview" in tool:
                return pyproject  # a [tool] that is not a table is reported too
        if os.path.lexists(candidate / ".git"):
            break
    return None


class TomlFileError(ValueError):
    """A TOML file that cannot be read or parsed; callers say which file it was meant to be."""


# A pyproject.toml is a few kilobytes; this bounds what a planted one (or --config /dev/zero) costs.
MAX_TOML_BYTES = 4 * 1024 * 1024


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at ``path``: a regular file of at most MAX_TOML_BYTES, UTF-8 (as TOML
    requires), else :class:`TomlFileError` saying which of these it is not."""
    try:
        data = reading.read_regular(path, MAX_TOML_BYTES)
    except reading.NotRegularFile:
        raise TomlFileError("not a regular file") from None
    except reading.TooLarge as exc:
        raise TomlFileError(f"too large ({exc.shown_size} bytes; at most {MAX_TOML_BYTES})") from None
    except OSError as exc:
        raise TomlFileError(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlFileError(f"not valid TOML: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise TomlFileError("not valid TOML: nested too deeply") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path)
    except TomlFileError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load(pyproject: Path | None) -> Config:
    if pyproject is None:
        return Config()
    tool = _read_toml(pyproject).get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{pyproject}: [tool] must be a table, got {tool!r}")
    table = tool.get("secreview", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.secreview] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in OPTIONS:
            known = ", ".join(sorted(OPTIONS))
            raise ConfigError(f"{pyproject}: unknown key {key!r} in [tool.secreview] (known: {known})")
        attr, convert = OPTIONS[key]
        values[attr] = convert(f"{pyproject}: {key}", value)
    if values.get("models"):
        _check_models(pyproject.parent, values["models"])
    return Config(root=pyproject.parent, source=str(pyproject), **values)


def _check_models(base: Path, paths: tuple[str, ...]) -> None:
    """A model file that cannot be used is a configuration error, reported before any review.

    A configuration file travels with the code it configures, so it may name model files inside
    its own project only (the directory of the pyproject.toml, links resolved): a reviewed
    change must not make the review read a file elsewhere on the machine (there is no
    command-line flag for model files, the only way the user could vouch for one)."""
    from . import models

    try:
        project = base.resolve()
    except (OSError, RuntimeError):
        project = Path(os.path.abspath(base))
    for path in paths:
        try:
            (base / path).resolve().relative_to(project)
        except (ValueError, OSError, RuntimeError):
            raise ConfigError(f"models: {path} lies outside the project "
                              f"({project}); a model file must be inside it") from None
    try:
        models.check(tuple(str(base / p) for p in paths))
    except models.ModelError as exc:
        raise ConfigError(str(exc)) from None
