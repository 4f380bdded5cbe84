"""Helpers for the end-to-end tests: run the CLI, and check its machine outputs against their schemas.

The SARIF schema is the official OASIS one kept in ``shared/schemas`` beside the repository
(CI clones the repository with ``shared/`` next to it); the JSON schema ships in the package.
"""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from secreview.cli import main

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def scan(*args: str, stdin: str | None = None) -> Run:
    """``secreview scan ARGS`` in this process, output captured."""
    return cli("scan", *args, stdin=stdin)


def cli(*args: str, stdin: str | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors and --version exit this way
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved_stdin
    return Run(code, out.getvalue(), err.getvalue())


def subprocess_cli(*args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
    """``python -m secreview ARGS`` as a separate process, as a user would run it."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "secreview", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _validator(schema: dict) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def review_schema() -> dict:
    return json.loads((resources.files("secreview") / "report" / "review.schema.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _review_validator() -> jsonschema.protocols.Validator:
    return _validator(review_schema())


def review_json_errors(text: str) -> list[str]:
    """Where ``text`` breaks the published review schema (empty when it is valid)."""
    errors = sorted(_review_validator().iter_errors(json.loads(text)), key=lambda e: list(e.absolute_path))
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors[:10]]


def assert_valid_review_json(text: str) -> dict:
    errors = review_json_errors(text)
    assert not errors, "\n".join(errors)
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _sarif_validator() -> jsonschema.protocols.Validator | None:
    if not SARIF_SCHEMA.is_file():
        return None
    return _validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


_NO_SARIF_SCHEMA = (f"the official SARIF schema is not at {SARIF_SCHEMA}: clone shared/ beside the repository "
                    "(the SARIF tests fail rather than skip without it)")


def sarif_errors(text: str) -> list[str]:
    """Where ``text`` breaks the official SARIF 2.1.0 schema (empty when it is valid); without the
    schema, that it is missing: no SARIF passes unchecked."""
    validator = _sarif_validator()
    if validator is None:
        return [_NO_SARIF_SCHEMA]
    errors = sorted(validator.iter_errors(json.loads(text)), key=lambda e: list(e.absolute_path))
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors[:10]]


def assert_valid_sarif(text: str) -> dict:
    errors = sarif_errors(text)
    assert not errors, "\n".join(errors)
    return json.loads(text)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> content) under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


PICKLE_DEFECT = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
CLEAN_CODE = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"
