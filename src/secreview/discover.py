"""Which files a review covers, and which of them are test code.

Directories are walked for ``*.py`` files and extension-less files with a Python shebang.
Files named explicitly on the command line are always reviewed, and so is a directory named
there, whatever its name.  A path that does not exist is reported, not skipped.

What the walk leaves out, and whether it says so (a gate must be able to refuse what was not
reviewed, so nothing the user may take for reviewed code is left out silently):

- silently: version-control and cache folders (``.git``, ``__pycache__``, ...), folders of
  installed third-party code (``site-packages``, ``node_modules``, ``.tox``, ``*.egg-info``), a
  virtual environment (a folder holding ``pyvenv.cfg``, or a ``venv``/``.venv``/``.env`` holding
  an activation script or ``conda-meta``), and whatever ``exclude`` or the ``.gitignore`` files
  leave out: the user's or the environment's own decisions;
- listed once as not reviewed, with the reason: a ``build``/``dist`` folder, or a folder named
  like a virtual environment without the evidence of one, that holds Python files (not walked:
  usually generated or installed code, but nothing proves it; naming it reviews it, excluding
  it silences it); a directory that cannot be read; a FIFO, socket or device where a Python
  file could be (named ``*.py`` or without an extension); a symbolic link named ``*.py`` that
  leads nowhere or loops; and a symbolic link to a file outside the reviewed tree (the
  directory walked), which is never read: a link must not make the review read, and print
  lines of, a file the user did not ask to review.

Symbolic links to files inside the tree are followed (the file is reviewed once, under its
real path).  Symbolic links to directories are not followed, so a link loop cannot make the
walk run forever.  Only regular files are opened, without blocking, so a FIFO cannot hang the
walk (:mod:`secreview.reading`).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

from . import reading
from .config import Config

# skipped silently: nobody takes what these hold for the project's own code
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".tox", ".nox",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
    "node_modules", "site-packages", ".eggs", "__pypackages__",
})
# not walked, but listed when they hold Python files: generated or installed code, usually
BUILD_DIRS = frozenset({"build", "dist"})
VENV_NAMES = frozenset({".venv", "venv", ".env"})
# what makes a folder a virtual environment, besides pyvenv.cfg (virtualenv before 20, conda)
_VENV_EVIDENCE = ("bin/activate", "Scripts/activate.bat", "conda-meta")
HOLDS_PYTHON_LOOK = 10_000  # entries looked at to tell whether a skipped folder holds Python files
OUTSIDE_TREE = "symbolic link to a file outside the reviewed tree"
STDIN = "-"
_TEST_DIRS = frozenset({"tests", "test", "testing", "fixtures", "functional_tests", "unit_tests"})
_SHEBANG = re.compile(rb"^#![^\n]*\bpython[0-9.]*\b")


@dataclass(frozen=True)
class SourceFile:
    path: str  # as shown to the user: relative to the working directory where possible
    absolute: Path | None  # None for standard input
    is_test: bool
    module: str = ""


@dataclass(frozen=True)
class Unreadable:
    path: str
    reason: str
    is_folder: bool = False  # a folder not walked, so a summary does not count it as a file


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path.replace(os.sep, "/")).parts
    name = parts[-1] if parts else ""
    # tests.py is Django's conventional test module of an application
    if name in ("conftest.py", "tests.py") or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in _TEST_DIRS for part in parts[:-1])


def module_name(path: Path) -> str:
    """Dotted module name, climbing while the parent directory is a package."""
    parts = [path.stem] if path.name != "__init__.py" else []
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts))


def printable(name: str) -> str:
    """A file name as valid Unicode: bytes that are not UTF-8 (kept as surrogates by the file
    system encoding) are written as ``\\xNN``, so every report stays encodable; files are read
    through ``SourceFile.absolute``, never through this name."""
    if name.isprintable() or not any("\udc80" <= ch <= "\udcff" for ch in name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _display(path: Path) -> str:
    try:
        return printable(str(path.resolve().relative_to(Path.cwd().resolve())))
    except ValueError:
        return printable(str(path))


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file(follow_symlinks=True)
    except OSError:  # a link loop raises here rather than answering False
        return False


def _display_link(path: Path) -> str:
    """Like :func:`_display`, without resolving the link itself (it may lead nowhere)."""
    try:
        return printable(str(path.parent.resolve().relative_to(Path.cwd().resolve()) / path.name))
    except ValueError:
        return printable(str(path))


def _link_problem(path: Path) -> str:
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.ENOENT:
            return "broken symbolic link"
        return f"cannot be read: {exc.strerror}"
    return "not a regular file"


def has_python_shebang(path: Path) -> bool:
    return bool(_SHEBANG.match(reading.read_head(path, 200)))


def _is_venv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def _looks_like_venv(directory: Path) -> bool:
    return _is_venv(directory) or any((directory / evidence).exists() for evidence in _VENV_EVIDENCE)


def _holds_python(directory: Path) -> bool:
    """Whether a folder the walk does not enter holds a ``*.py`` file, looking at a bounded
    number of entries (beyond them: assumed so, as a gate must)."""
    pending, looked = [directory], 0
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    looked += 1
                    if looked > HOLDS_PYTHON_LOOK or entry.name.endswith(".py"):
                        return True
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
        except OSError:
            continue
    return False


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _is_inside(path: Path, tree: Path) -> bool:
    try:
        path.resolve().relative_to(tree)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


class _Ignores:
    """The .gitignore files met on the way down, each applying below its own directory."""

    def __init__(self) -> None:
        self._specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []

    def push(self, directory: Path) -> None:
        gitignore = directory / ".gitignore"
        if gitignore.is_file():
            try:
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            self._specs.append((directory, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        # As git decides: the deepest .gitignore with a pattern for the path wins, so a nested
        # "!keep.py" re-includes what a parent's "*.py" ignores.  Folders are met parent first,
        # so the later a file was pushed, the deeper it lies.
        for base, spec in reversed(self._specs):
            try:
                relative = path.relative_to(base).as_posix()
            except ValueError:
                continue
            verdict = spec.check_file(relative + ("/" if is_dir else "")).include
            if verdict is not None:
                return verdict
        return False


def is_excluded(path: Path, root: Path, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return False
    try:
        # absolute first: a walk started at "." yields "./x.py", which is not below any root
        relative = Path(os.path.abspath(path)).relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(
        fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(relative, p.rstrip("/") + "/*")
        for p in patterns
    )


def discover(paths: list[str], config: Config) -> tuple[list[SourceFile], list[Unreadable]]:
    files: dict[str, SourceFile] = {}
    problems: list[Unreadable] = []
    for given in paths:
        if given == STDIN:
            files["<stdin>"] = SourceFile("<stdin>", None, False, "")
            continue
        path = Path(given)
        if path.is_symlink() and not path.exists():
            problems.append(Unreadable(printable(given), _link_problem(path)))
        elif path.is_dir():
            for found in _walk(path, config, problems):
                display = _display(found)
                files.setdefault(display, SourceFile(display, found, is_test_path(display), module_name(found)))
        elif path.is_file():
            display = _display(path)
            files.setdefault(display, SourceFile(display, path, is_test_path(display), module_name(path)))
        elif path.exists():
            problems.append(Unreadable(printable(given), "not a regular file or directory"))
        else:
            problems.append(Unreadable(printable(given), "no such file or directory"))
    return sorted(files.values(), key=lambda f: f.path), problems


def _walk(top: Path, config: Config, problems: list[Unreadable]) -> list[Path]:
    found: list[Path] = []
    ignores = _Ignores()
    root = config.root or Path.cwd()
    if config.respect_gitignore:
        # .gitignore files above the starting directory, up to the repository root, apply too,
        # unless they ignore the starting directory itself: a directory the user names is reviewed.
        start = top.resolve()
        above: list[Path] = []
        for ancestor in [start, *start.parents]:
            above.append(ancestor)
            if (ancestor / ".git").exists():
                break
        for ancestor in reversed(above):
            ignores.push(ancestor)
        if start != above[-1] and ignores.ignored(start, is_dir=True):
            ignores = _Ignores()
            ignores.push(start)
    tree = top.resolve()
    seen_dirs: set[tuple[int, int]] = set()

    # an explicit stack, not recursion: a tree nested a thousand folders deep must not crash
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            status = directory.stat()
        except OSError as exc:
            problems.append(Unreadable(_display(directory), f"directory cannot be read: {exc.strerror}", is_folder=True))
            continue
        key = (status.st_dev, status.st_ino)
        if key in seen_dirs:
            continue
        seen_dirs.add(key)
        if config.respect_gitignore and directory != top:
            # resolved, like the paths matched against it: a relative base would never match
            ignores.push(directory.resolve())
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            problems.append(Unreadable(_display(directory), f"directory cannot be read: {exc.strerror}", is_folder=True))
            continue
        for entry in entries:
            child = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIPPED_DIRS or entry.name.endswith(".egg-info") or _is_venv(child):
                        continue
                    if entry.name in VENV_NAMES and _looks_like_venv(child):
                        continue
                    if is_excluded(child, root, config.exclude):
                        continue
                    if config.respect_gitignore and ignores.ignored(child.resolve(), is_dir=True):
                        continue
                    if entry.name in BUILD_DIRS or entry.name in VENV_NAMES:
                        if _holds_python(child):
                            problems.append(Unreadable(_display(child), _not_walked(entry.name), is_folder=True))
                        continue
                    pending.append(child)
                elif _is_file(entry):
                    if not (entry.name.endswith(".py") or ("." not in entry.name and has_python_shebang(child))):
                        continue
                    if is_excluded(child, root, config.exclude):
                        continue
                    if config.respect_gitignore and ignores.ignored(child.resolve(), is_dir=False):
                        continue
                    if entry.is_symlink() and not _is_inside(child, tree):
                        problems.append(Unreadable(_display_link(child), OUTSIDE_TREE))
                        continue
                    found.append(child)
                elif entry.is_symlink():
                    if entry.name.endswith(".py"):
                        # a Python file the user would expect reviewed, whose link leads nowhere
                        problems.append(Unreadable(_display_link(child), _link_problem(child)))
                elif entry.name.endswith(".py") or "." not in entry.name:
                    if is_excluded(child, root, config.exclude):
                        continue
                    if config.respect_gitignore and ignores.ignored(child.resolve(), is_dir=False):
                        continue
                    kind = _special_kind(entry.stat(follow_symlinks=False).st_mode)
                    problems.append(Unreadable(_display(child), f"not a regular file ({kind})"))
            except OSError as exc:
                problems.append(Unreadable(_display_link(child), f"cannot be read: {exc.strerror}"))
                continue

    return found


def _not_walked(name: str) -> str:
    if name in BUILD_DIRS:
        what = f"a folder named like build output ({name})"
    else:
        what = f"a folder named like a virtual environment ({name}) without pyvenv.cfg"
    return (f"{what} that holds Python files, not walked: name it on the command line to review it, "
            "or exclude it")
