"""A corpus of hostile names and contents, and a count of the report lines they manage to write.

The reviewed code chooses text that every report quotes: file names, code lines, decoded
string literals (the masked preview of a secret), comments (an unused suppression), commit
messages and the entries of a baseline.  This module builds a tree, a git repository and a
baseline whose names and contents carry line breaks (``\\n``, ``\\r``, ``\\v``, ``\\f``,
``\\x1c``-``\\x1e``, ``\\x85``, U+2028, U+2029), ESC with CSI and OSC sequences, C1 controls,
bidi controls and CI runner commands (``::error file=...::``, ``##[error]``, ``##vso[``), runs
every format over them, and counts the output lines that the reviewed code chose.

A line is *chosen by the reviewed code* (:func:`chosen_lines`) when

- it holds a raw control character, line or paragraph separator, bidi control or other invisible
  format character, or a lone surrogate (it acts on the terminal, or hides or reorders text);
- it contains a runner marker that acts anywhere in a line: ``##[`` (GitHub's older command
  form), ``##vso[`` (Azure Pipelines) or ``##teamcity[`` (TeamCity); or
- after its leading white space it starts with ``::`` (a GitHub workflow command), unless it is
  a genuine annotation of the ``github`` format.  In that format every line must be one: a
  line that is not is text the reviewed code broke out onto a line of its own.  The payloads
  here never carry the ``title=`` property that every genuine annotation has, so a forged one
  cannot pass as genuine.

The count is the same whether the characters were escaped well or badly elsewhere in the line:
it only asks whether a terminal or a runner would obey something the reviewed code wrote.

Use it from a test (in process, through ``secreview.cli.main``) or from ``bench/robustness.py``
(in a separate process)::

    outputs = run_corpus(Path(scratch), run_in_subprocess)
    crashed = [o for o in outputs if o.crashed]
    chosen = count_chosen_lines(outputs)

It depends on nothing in secreview, so a bug in the escaping cannot hide itself here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

FORMATS = ("text", "json", "sarif", "gerrit", "github", "github-review")
MARKER = "FORGED"  # in every payload, to find them in a report

# Pieces of file names.  Any byte but "/" and NUL may be in a name on Linux; "\udcff" is how
# Python spells the undecodable byte 0xff of a name.
NAME_FRAGMENTS = (
    f"nl\n::error file=app.py,line=1::{MARKER}-name",
    f"cr\r::warning::{MARKER}-cr",
    f"esc\x1b]0;{MARKER}-title\x07\x1b[2J\x1b[1A",
    f"bidi\u202e{MARKER}\u2066x\u2069",
    f"sep\u2028::error::{MARKER}-ls\u2029::error::{MARKER}-ps",
    f"c1\x85::error::{MARKER}-nel\x9b31m\x1c\x1d\x1e\x0b\x0c\x7f",
    f"::error file=lead.py::{MARKER}-lead",
    f"legacy ##[error]{MARKER}-legacy ##vso[task.complete result=Failed]{MARKER}",
    "undecodable\udcff",
)

# A module that several rules report, with the hostile text where each kind of report quotes it:
# escape sequences that decode to hostile characters in the secrets (their masked previews are in
# the messages), raw ones in the code lines (the snippets) and in a suppression comment.
SOURCE = (
    "import hashlib\n"
    "import subprocess\n"
    "from flask import Flask, request\n"
    "\n"
    "app = Flask(__name__)\n"
    'DB_PASSWORD = "\\x1b]0;FORGED\\x07hunter2X9"\n'
    'smtp_pwd = "\\u202eletmein9"\n'
    'ADMIN_PASSWD = "##[error]FORGED-preview"\n'
    "\n"
    "\n"
    '@app.route("/run")\n'
    "def run():\n"
    '    name = request.args["q"]  # \x1b]8;;http://evil.example/\x07link\x1b]8;;\x07 \u202eFORGED\u202c\n'
    '    subprocess.run("echo \x1b[31m\u2028::error file=a.py::FORGED-snippet\x85##[error]FORGED " + name, shell=True)\n'
    "\n"
    "\n"
    "def digest(data):\n"
    "    return len(data)  # secreview: ignore[weak-hash] \x1b[2J\x0b::error::FORGED-comment\u2029\n"
)

COMMIT_MESSAGE = (
    "Fix the shell command\n"
    "\n"
    f"::error file=app.py,line=1::{MARKER}-commit\n"
    f"  ::warning::{MARKER}-indented\n"
    f"carriage\r::error::{MARKER}-cr\n"
    f"sep\u2028::error::{MARKER}-ls and \x85::error::{MARKER}-nel and \x1c\x1d\x1e\x0b\x0c\n"
    f"\x1b]0;{MARKER}-title\x07\x1b[2J \u202e{MARKER} ##[error]{MARKER}-legacy\n"
)

# A file that cannot be reviewed, so its name is in the "not reviewed" lists and notes too.
UNREVIEWABLE_NAME = f"nul\n::error::{MARKER}-unreviewable\x1b[2J.py"
UNREVIEWABLE = b"import os\x00\nos.system('x')\n"

BASELINE_NAME = f"baseline\n::error::{MARKER}-baseline\x1b[2J\u202e.json"


@dataclass(frozen=True)
class Case:
    label: str
    argv: tuple[str, ...]
    cwd: Path
    format: str  # the format of standard output; standard error is always read as text


@dataclass
class Output:
    case: Case
    code: int
    stdout: str
    stderr: str

    @property
    def crashed(self) -> bool:
        return self.code not in (0, 1, 2) or "Traceback (most recent call last)" in self.stderr


Runner = Callable[[list[str], Path], "tuple[int, str, str]"]


def hostile_names() -> list[str]:
    return [f"{fragment}.py" for fragment in NAME_FRAGMENTS]


def _git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.org", GIT_COMMITTER_NAME="Dev",
               GIT_COMMITTER_EMAIL="dev@example.org", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


def _write_tree(tree: Path) -> None:
    tree.mkdir(parents=True, exist_ok=True)
    for name in hostile_names():
        (tree / name).write_text(SOURCE, encoding="utf-8")
    (tree / UNREVIEWABLE_NAME).write_bytes(UNREVIEWABLE)
    (tree / f"dir\n::error::{MARKER}-dir").mkdir(exist_ok=True)
    (tree / f"dir\n::error::{MARKER}-dir" / "inner.py").write_text(SOURCE, encoding="utf-8")


def _hand_written_baseline(path: Path) -> None:
    """Entries that this tree no longer has, so the report lists them as fixed, with their text."""
    entries = [{
        "fingerprint": f"{index:016x}",
        "rule": "os-command-injection",
        "cwe": 78,
        "severity": "critical",
        "path": name,
        "line": 3,
        "scope": "run",
        "snippet": f"os.system(\x1b[2J\n::error::{MARKER}-fixed\u202e)",
        "message": f"gone\n::error::{MARKER}-fixed-message",
    } for index, name in enumerate(hostile_names()[:3])]
    path.write_text(json.dumps({"schema": "secreview/baseline", "version": 1, "findings": entries}), encoding="utf-8")


def case_labels(with_git: bool = True) -> list[str]:
    """The labels of the cases :func:`build_corpus` makes, known before it runs (for test ids)."""
    labels = [f"scan {fmt}" for fmt in FORMATS]
    labels += ["scan of a missing path", "write a baseline"]
    labels += [f"scan {fmt} against a baseline" for fmt in FORMATS]
    labels.append("a baseline that does not exist")
    if with_git:
        labels += [f"diff --commit {fmt}" for fmt in FORMATS]
    return labels


def has_git() -> bool:
    try:
        subprocess.run(["git", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def build_corpus(root: Path) -> list[Case]:
    """Write the hostile tree, repository and baselines under ``root``; return the runs to make.

    Needs git for the repository; without it the ``diff`` cases are left out.
    """
    tree = root / "tree"
    _write_tree(tree)
    cases: list[Case] = []
    for fmt in FORMATS:
        cases.append(Case(f"scan {fmt}", ("scan", ".", "--strict", "--no-cache", "--format", fmt), tree, fmt))
    missing = f"missing\n::error::{MARKER}-missing\x1b[2J.py"
    cases.append(Case("scan of a missing path", ("scan", missing, "--no-cache"), tree, "text"))

    written = root / BASELINE_NAME
    cases.append(Case("write a baseline", ("scan", ".", "--no-cache", "--write-baseline", str(written)), tree, "text"))
    hand_written = root / f"hand\x1b]0;{MARKER}\x07\n::error::{MARKER}.json"
    _hand_written_baseline(hand_written)
    for fmt in FORMATS:
        cases.append(Case(f"scan {fmt} against a baseline", ("scan", ".", "--no-cache", "--format", fmt,
                                                             "--baseline", str(hand_written)), tree, fmt))
    cases.append(Case("a baseline that does not exist", ("scan", ".", "--no-cache", "--baseline",
                                                         str(root / f"none\n::error::{MARKER}.json")), tree, "text"))

    if not has_git():
        return cases
    repo = root / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "base.py").write_text("VALUE = 1\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Initial import")
    for name in hostile_names():
        (repo / name).write_text(SOURCE, encoding="utf-8")
    (repo / UNREVIEWABLE_NAME).write_bytes(UNREVIEWABLE)
    (repo / "base.py").unlink()
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", COMMIT_MESSAGE)
    for fmt in FORMATS:
        cases.append(Case(f"diff --commit {fmt}", ("diff", "--commit", "HEAD", "--no-cache", "--format", fmt), repo, fmt))
    return cases


def run_in_subprocess(argv: list[str], cwd: Path, timeout_s: float = 300) -> tuple[int, str, str]:
    """``python -m secreview ARGV`` in ``cwd``, its output decoded strictly as UTF-8 (as a CI log is)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, "-m", "secreview", *argv], cwd=cwd, env=env, capture_output=True,
                          timeout=timeout_s, check=False)
    return done.returncode, done.stdout.decode("utf-8", "backslashreplace"), done.stderr.decode("utf-8", "backslashreplace")


def run_corpus(root: Path, run: Runner) -> list[Output]:
    return [Output(case, *run(list(case.argv), case.cwd)) for case in build_corpus(root)]


# --- what counts as a line chosen by the reviewed code -------------------------------------

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ANYWHERE_MARKER = re.compile(r"##(?:vso|teamcity)?\[", re.IGNORECASE)
# escape_property leaves neither ',' nor ':' in a value; 'title=' is on every genuine annotation
_GENUINE_ANNOTATION = re.compile(
    r"::(?:error|warning|notice) (?:file=[^,:]*(?:,line=\d+,endLine=\d+(?:,col=\d+,endColumn=\d+)?)?,)?title=[^,:]*::")


def is_raw_hidden(char: str) -> bool:
    """A character that acts on a terminal or hides or reorders text when printed raw."""
    code = ord(char)
    return (code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029" or char in _BIDI
            or unicodedata.category(char) in ("Cf", "Cs"))


def chosen_lines(output: str, fmt: str = "text") -> list[str]:
    """The lines of ``output`` (one format's standard output, or standard error) that the reviewed code chose."""
    chosen = []
    for line in output.split("\n"):
        if not line:
            continue
        if any(is_raw_hidden(c) for c in line) or _ANYWHERE_MARKER.search(line):
            chosen.append(line)
        elif fmt == "github":
            if not _GENUINE_ANNOTATION.match(line):
                chosen.append(line)
        elif line.lstrip().startswith("::"):
            chosen.append(line)
    return chosen


def count_chosen_lines(outputs: Iterable[Output]) -> int:
    """Lines chosen by the reviewed code over every run's standard output and standard error."""
    return sum(len(chosen_lines(o.stdout, o.case.format)) + len(chosen_lines(o.stderr, "text")) for o in outputs)
