"""The hostile-input corpus of issue 16: files, trees, changes and settings built to get past a
CI gate, crash the tool, hang it, or make it skip code without saying so.

Each :class:`InputCase` writes its own directory and names the secreview command to run there.
``bench/robustness.py --hostile`` runs every case in a separate process with a timeout and
counts, over all of them:

- **crashes**: a traceback on standard error, or an exit status outside {0, 1, 2};
- **hangs**: the command did not finish within the timeout;
- **silent skips**: a file the case planted (``listed``) that is neither reviewed nor named
  anywhere in the output (standard output or standard error) with a reason;
- **wrong exit codes**: the case says which exit status a fail-closed tool must give
  (``expect``): 1 where a planted critical defect must fail the gate, 2 for an input error;
- **unrepeatable reports**: cases marked ``twice`` are run two times and must print the same;
- **lines chosen by the reviewed code**: counted with :func:`hostile.chosen_lines` (the output
  escaping corpus of bench/hostile.py, which robustness.py runs as well).

The cases need a POSIX system (FIFOs, symbolic links, ``/dev/zero``, ``/dev/full``) and git for
the change cases; a case whose prerequisite is missing is left out and named.  Directories made
unreadable with ``chmod 000`` are still readable by root, so that case is left out under root.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# A defect every run must find: a critical command injection from request data.
DEFECT = ('import os\nfrom flask import Flask, request\n\napp = Flask(__name__)\n\n\n'
          '@app.route("/run")\ndef run():\n    os.system("ls " + request.args["q"])\n')
HARMLESS = "VALUE = 1\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.org", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


@dataclass
class InputCase:
    label: str
    argv: tuple[str, ...]
    cwd: Path
    listed: tuple[str, ...] = ()  # names that must each be reviewed or named with a reason
    expect: int | None = None  # the exit status a fail-closed review gives; None: any of 0, 1, 2
    twice: bool = False  # run two times: the outputs must be identical
    stdout_to: str | None = None  # a file to send standard output to (e.g. /dev/full)


@dataclass
class Built:
    cases: list[InputCase] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (label, why)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, check=True)


def _repo(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    _write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def _scan(label: str, cwd: Path, *extra: str, listed: tuple[str, ...] = (), expect: int | None = None,
          twice: bool = False) -> InputCase:
    return InputCase(label, ("scan", ".", "--no-cache", "--quiet", "--format", "json", *extra), cwd, listed, expect,
                     twice)


def _diff(label: str, cwd: Path, *extra: str, listed: tuple[str, ...] = (), expect: int | None = None) -> InputCase:
    return InputCase(label, ("diff", *extra, "--no-cache", "--quiet", "--format", "json"), cwd, listed, expect)


# --- ways past the gate ---------------------------------------------------------------------------


def gate_cases(root: Path) -> list[InputCase]:
    cases = []
    repo = _repo(root / "gitattributes", {"base.py": HARMLESS, ".gitattributes": "*.py -diff\n"})
    _write(repo, {"app.py": DEFECT})
    _commit(repo)
    cases.append(_diff(".gitattributes marks *.py -diff", repo, "--commit", "HEAD", listed=("app.py",), expect=1))
    cases.append(_diff(".gitattributes -diff, working tree", repo, "HEAD~1", listed=("app.py",), expect=1))

    repo = _repo(root / "newline-names", {"base.py": HARMLESS})
    _write(repo, {"a\nb.py": HARMLESS, "z.py": DEFECT})
    _commit(repo)
    cases.append(_diff("a newline in a changed file's name", repo, "--commit", "HEAD", listed=("z.py",), expect=1))

    before = DEFECT.replace('    os.system("ls " + request.args["q"])\n', "    pass\n")
    for name, char in (("u2028", "\u2028"), ("formfeed", "\f"), ("x1c", "\x1c"), ("x1e", "\x1e"), ("x85", "\x85")):
        # the checkout before the change; the patch replaces `pass` with two lines, the first of
        # which holds a character str.splitlines() would split on
        patch = (f"--- a/app.py\n+++ b/app.py\n@@ -8,2 +8,3 @@\n def run():\n-    pass\n"
                 f"+    note = 'a{char}b'\n"
                 f'+    os.system("ls " + request.args["q"])\n')
        variant = root / "separators" / name
        _write(variant, {"app.py": before, "change.diff": patch.encode("utf-8")})
        cases.append(_diff(f"{name} inside an added line of a patch", variant, "--patch", "change.diff",
                           listed=("app.py",), expect=1))

    repo = _repo(root / "rename-to-py", {"run.txt": DEFECT, "base.py": HARMLESS})
    git(repo, "mv", "run.txt", "run.py")
    _commit(repo)
    cases.append(_diff("a text file already in the base renamed to .py", repo, "--commit", "HEAD",
                       listed=("run.py",), expect=1))

    tree = root / "oversized"
    _write(tree, {"real.py": DEFECT})
    for index in range(4):
        with open(tree / f"huge_{index}.py", "wb") as handle:
            handle.truncate(60 * 1024 * 1024)  # sparse: no disk, and NUL bytes if read
    cases.append(_scan("many oversized files beside a real one", tree,
                       listed=("real.py", "huge_0.py", "huge_3.py"), expect=1))

    tree = root / "budget-edge"
    body = "".join(f'\n\n@app.route("/{i}")\ndef handler_{i}():\n    value = request.args["v"]\n'
                   f'    for part in value.split(","):\n        value = value + part.strip()\n'
                   f'    os.system("ls " + value)\n' for i in range(400))
    _write(tree, {"edge.py": "import os\nfrom flask import Flask, request\n\napp = Flask(__name__)\n" + body})
    cases.append(_scan("a file past its budget, --fail-on-incomplete", tree, "--time-budget", "0.05",
                       "--fail-on-incomplete", "--fail-on", "critical", listed=("edge.py",), expect=1, twice=True))

    repo = _repo(root / "nul-added", {"base.py": HARMLESS})
    _write(repo, {"nul.py": b"import os\x00\nos.system(input())\n", "ok.py": HARMLESS})
    _commit(repo)
    cases.append(_diff("an added Python file with NUL bytes", repo, "--commit", "HEAD", listed=("nul.py",)))

    repo = _repo(root / "self-exclude", {"base.py": HARMLESS, "pyproject.toml": "[tool.secreview]\nexclude = []\n"})
    _write(repo, {"evil.py": DEFECT, "pyproject.toml": '[tool.secreview]\nexclude = ["evil.py"]\n'})
    _commit(repo)
    cases.append(_diff("a change that excludes the file it adds", repo, "--commit", "HEAD", listed=("evil.py",),
                       expect=1))
    return cases


# --- resources and trust --------------------------------------------------------------------------


def resource_cases(root: Path) -> list[InputCase]:
    cases = []
    for label, model in (("models = ['/dev/zero']", "/dev/zero"), ("a model file that is a FIFO", "model.toml")):
        tree = root / ("models-" + ("zero" if model == "/dev/zero" else "fifo"))
        _write(tree, {"app.py": DEFECT, "pyproject.toml": f'[tool.secreview]\nmodels = ["{model}"]\n'})
        if model == "model.toml":
            os.mkfifo(tree / model)
        cases.append(_scan(label, tree, expect=2))
    outside = root / "outside-model.toml"
    outside.write_text('[secret]\napi_key = "hunter2"\n', encoding="utf-8")
    tree = root / "model-outside"
    _write(tree, {"app.py": DEFECT, "pyproject.toml": f'[tool.secreview]\nmodels = ["{outside}"]\n'})
    cases.append(_scan("a model path outside the project", tree, expect=2))

    parent = root / "pyproject-above"
    _write(parent, {"pyproject.toml": '[tool.secreview]\nexclude = ["*"]\n'})
    repo = _repo(parent / "repo", {"app.py": DEFECT})
    cases.append(_scan("pyproject.toml above the repository root", repo, listed=("app.py",), expect=1))

    secret = root / "outside-secret.py"
    secret.write_text('AWS_SECRET = "AKIAIOSFODNN7EXAMPLE"\n', encoding="utf-8")
    tree = root / "link-out"
    _write(tree, {"app.py": DEFECT})
    (tree / "linked.py").symlink_to(secret)
    cases.append(_scan("a symbolic link out of the tree", tree, listed=("linked.py", "app.py"), expect=1))

    tree = root / "fifo-in-tree"
    _write(tree, {"app.py": DEFECT})
    os.mkfifo(tree / "pipe.py")
    cases.append(_scan("a FIFO inside the tree", tree, listed=("pipe.py",), expect=1))

    tree = root / "skipped-folders"
    _write(tree, {"app.py": DEFECT, "build/gen.py": DEFECT, "dist/pkg.py": DEFECT, "venv/lib/mod.py": DEFECT})
    cases.append(_scan("build/, dist/ and a venv-like folder without pyvenv.cfg", tree,
                       listed=("build", "dist", "venv"), expect=1))

    tree = root / "dev-zero-link"
    _write(tree, {"app.py": DEFECT})
    (tree / "zero.py").symlink_to("/dev/zero")
    cases.append(_scan("a file that links to /dev/zero", tree, listed=("zero.py",), expect=1))
    return cases


def unreadable_case(root: Path) -> InputCase:
    tree = root / "unreadable"
    _write(tree, {"app.py": DEFECT, "locked/inner.py": DEFECT})
    os.chmod(tree / "locked", 0)
    return _scan("an unreadable directory", tree, listed=("locked",), expect=1)


# --- bad input that crashed -------------------------------------------------------------------------


def _cache_entry_plants() -> dict[str, Callable[[Path, dict], None]]:
    def nested(path: Path, entry: dict) -> None:
        path.write_text("[" * 200_000 + "]" * 200_000)

    def unknown_cwe(path: Path, entry: dict) -> None:
        own = [{**f, "cwe": 999999} for f in entry["analysis"]["own"]]
        path.write_text(json.dumps({**entry, "analysis": {**entry["analysis"], "own": own}}))

    def fifo(path: Path, entry: dict) -> None:
        path.unlink()
        os.mkfifo(path)

    def zero(path: Path, entry: dict) -> None:
        path.unlink()
        path.symlink_to("/dev/zero")

    return {"nested JSON": nested, "an unknown CWE": unknown_cwe, "a FIFO": fifo, "a link to /dev/zero": zero}


def prepare_cache(tree: Path, plant: Callable[[Path, dict], None], run: Callable[[list[str], Path], object]) -> None:
    """Fill ``tree``'s cache with a first run, then damage every entry with ``plant``."""
    run(["scan", ".", "--cache-dir", "cache", "--quiet", "--format", "json"], tree)
    for path in sorted((tree / "cache" / "entries").glob("*/*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        plant(path, entry)


def bad_input_cases(root: Path, run: Callable[[list[str], Path], object]) -> list[InputCase]:
    cases = []
    for name, plant in _cache_entry_plants().items():
        tree = root / ("cache-" + name.replace(" ", "-").replace("/", ""))
        _write(tree, {"app.py": DEFECT, "helper.py": HARMLESS})
        prepare_cache(tree, plant, run)
        cases.append(InputCase(f"a cache entry holding {name}", ("scan", ".", "--cache-dir", "cache", "--quiet",
                                                                  "--format", "json"), tree, ("app.py",), 1))
    for label, content in (("tool = 5 in pyproject.toml", b"tool = 5\n"),
                           ("non-UTF-8 bytes in pyproject.toml", b"[tool.secreview]\nexclude = ['caf\xe9']\n"),
                           ("TOML nested too deeply", b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n")):
        tree = root / ("pyproject-" + str(len(cases)))
        _write(tree, {"app.py": DEFECT, "pyproject.toml": content})
        cases.append(_scan(label, tree, expect=2))
    tree = root / "baselines"
    _write(tree, {"app.py": DEFECT})
    entry = {"fingerprint": "0" * 16, "rule": "os-command-injection", "cwe": 78, "severity": "critical",
             "path": "app.py", "line": 9, "scope": "run", "snippet": "os.system()", "message": "m"}
    baselines = {
        "nested": '{"schema": "secreview/baseline", "version": 1, "findings": ' + "[" * 200_000 + "]" * 200_000 + "}",
        "severity": json.dumps({"schema": "secreview/baseline", "version": 1,
                                "findings": [{**entry, "severity": "catastrophic"}]}),
        "cwe": json.dumps({"schema": "secreview/baseline", "version": 1, "findings": [{**entry, "cwe": 999999}]}),
    }
    for name, text in baselines.items():
        (tree / f"{name}.json").write_text(text, encoding="utf-8")
        cases.append(_scan(f"a baseline with {'an unknown ' + name if name != 'nested' else 'nested JSON'}", tree,
                           "--baseline", f"{name}.json", expect=2))
    os.mkfifo(tree / "fifo.json")
    cases.append(_scan("a baseline that is a FIFO", tree, "--baseline", "fifo.json", expect=2))
    for value in ("nan", "inf"):
        cases.append(_scan(f"--time-budget {value}", tree, f"--time-budget={value}", expect=2))
    cases.append(_scan("--config /dev/zero", tree, "--config", "/dev/zero", expect=2))
    cases.append(_diff("--patch /dev/zero", tree, "--patch", "/dev/zero", expect=2))
    if Path("/dev/full").exists():
        cases.append(_scan("-o /dev/full", tree, "-o", "/dev/full", expect=2))
        case = _scan("standard output is /dev/full", tree, expect=2)
        case.stdout_to = "/dev/full"
        cases.append(case)
    tree = root / "utf16"
    _write(tree, {"wide.py": "import os\nos.system(input())\n".encode("utf-16"), "app.py": DEFECT})
    cases.append(_scan("a UTF-16 file with a byte order mark", tree, listed=("wide.py",), expect=1))
    return cases


def build(root: Path, run: Callable[[list[str], Path], object]) -> Built:
    """Every case under ``root``; ``run`` runs secreview once (used to fill a cache to damage)."""
    built = Built()
    posix = hasattr(os, "mkfifo")
    have_git = subprocess.run(["git", "--version"], capture_output=True, check=False).returncode == 0
    if have_git:
        built.cases += gate_cases(root / "gate")
    else:
        built.left_out.append(("ways past the gate", "git is not installed"))
    if posix:
        built.cases += resource_cases(root / "resources")
        built.cases += bad_input_cases(root / "bad", run)
    else:
        built.left_out.append(("resources and bad input", "needs FIFOs and /dev/zero"))
    if posix and os.geteuid() != 0:
        built.cases.append(unreadable_case(root / "resources"))
    else:
        built.left_out.append(("an unreadable directory", "root reads any directory"))
    return built
