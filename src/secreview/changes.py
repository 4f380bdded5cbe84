"""Reviewing a change: what changed (git or a patch), and which findings the change touches.

A change is read from git (the working tree against a merge base, or one commit) or from a
unified diff applied to a scratch copy of the files it touches.  Only the changed Python files
are reviewed, each as a whole file, so data flow keeps its context while the cost stays
proportional to the change.  The same files are also reviewed as they were before the change,
which tells a finding the change introduced from one it only touched, and which findings the
change removed.

Both reviews use the machinery of ``scan``: worker processes, the analysis cache and the
progress line.  The cache needs nothing special for files that git or a patch wrote to a
scratch directory: an entry is keyed by the path shown (relative to the checkout), the module
name and the content, never by where the file lies, and the project facts it checks
(Cache.begin) come from the contents handed to the review, not from reading the checkout.  So
the entries of a working-tree diff serve ``diff --commit`` once the change is committed, and
the "before" entries serve a later diff whose base is the same.

A gate must fail closed, so a changed Python file that is not reviewed is listed, with the
reason, never dropped: a symbolic link, a file over ``max-file-size``, one that cannot be read;
a binary file or one that does not parse is listed by the review itself.  ``--fail-on-incomplete``
turns any such entry into exit code 1.  A file that becomes Python (renamed to ``.py``, or a
script given a Python first line) is new code: every line counts as changed.

A change cannot switch off its own review: the configuration that decides is the base's
(:func:`_base_configuration`; for a patch, the checkout's, which the patch has not touched),
merged with the command line's flags, and so is a ``--baseline`` file in the repository
(:func:`base_baseline`).  A change that edits ``[tool.secreview]`` or the baseline gets a note on
its review (``Change.notes``).  The suppression comments on the code it writes stay honoured but
are listed (:class:`AddedSuppression`), for the reviewer to accept or refuse; they do not fail
the gate.

Seam for project-wide analysis: :func:`review_change` hands :func:`~secreview.review.review_files`
only the changed files; a cross-module phase that needs other modules reads them from
``Change.root`` (the checkout), which holds the rest of the project as it stands.

git is run as a subprocess with argument lists, never through a shell.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import multiprocessing
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from . import reading
if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from . import policy
from . import baseline
from .baseline import BaselineEntry
from .config import Config, ConfigError, find_pyproject, load
from .discover import (
    SourceFile,
    is_excluded,
    has_python_shebang,
    is_test_path,
    module_name,
)
from .findings import FileReview, Finding
from .python.source import NotReviewable, decode, parse
from .review import ReviewResult, review_files

if TYPE_CHECKING:
    from .cache import Cache
    from .progress import Progress

# git's object id of the empty tree: the "before" of a repository's first commit
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# words by which a commit message claims to fix a defect
FIX_CLAIM = re.compile(
    r"\b(fix(e[sd])?|fixing|cve-\d{4}-\d+|cve|security|secur(e|ing)|saniti[sz](e[sd]?|ing|ation)|vulnerab\w*"
    r"|injection|escap(e|es|ed|ing)|harden(s|ed|ing)?)\b",
    re.IGNORECASE,
)
# how far (in lines) from a changed line a finding still counts as "in the code the change fixes"
NEAR_CHANGE = 5
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_PATCH_FAILED = re.compile(r"^error: patch failed: (.+):(\d+)$", re.MULTILINE)


class ChangeError(Exception):
    """A change that cannot be reviewed: the message is one line for the user (exit code 2)."""


# --- unified diffs --------------------------------------------------------------------------


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    header: str
    lines: list[str] = field(default_factory=list)
    _old_seen: int = field(default=0, repr=False, compare=False)
    _new_seen: int = field(default=0, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return self._old_seen >= self.old_count and self._new_seen >= self.new_count

    def add(self, line: str) -> None:
        self.lines.append(line)
        kind = line[:1]
        self._old_seen += kind != "+"
        self._new_seen += kind != "-"


@dataclass
class FilePatch:
    old_path: str | None  # None: the patch creates the file
    new_path: str | None  # None: the patch deletes the file
    binary: bool = False
    symlink: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    def changed_lines(self) -> tuple[frozenset[int], frozenset[int]]:
        """Added or modified lines of the new file, and the lines on either side of a pure deletion."""
        added: set[int] = set()
        beside_deletion: set[int] = set()
        for hunk in self.hunks:
            line = hunk.new_start
            deleting = False
            for text in hunk.lines:
                kind = text[:1]
                if kind == "+":
                    added.add(line)
                    line += 1
                    deleting = False
                elif kind == "-":
                    deleting = True
                elif kind == " " or text == "":
                    if deleting:
                        beside_deletion.update((line - 1, line))
                    deleting = False
                    line += 1
            if deleting:
                # without a line after it in the hunk; a hunk that adds nothing names the line before it
                beside_deletion.update((line, line + 1) if hunk.new_count == 0 else (line - 1, line))
        return frozenset(added), frozenset(beside_deletion - added - {0})


def _unquote(path: str) -> str:
    """git quotes unusual paths C-style ("a/\\303\\251.py"); undo it."""
    if not (len(path) >= 2 and path.startswith('"') and path.endswith('"')):
        return path
    raw = bytearray()
    body = path[1:-1]
    escapes = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 4 <= len(body):
                raw.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            raw.append(escapes.get(nxt, ord(nxt)))
            i += 2
            continue
        raw.extend(char.encode("utf-8"))
        i += 1
    return raw.decode("utf-8", "surrogateescape")


def _strip_prefix(path: str) -> str | None:
    path = _unquote(path.split("\t", 1)[0].rstrip())
    if path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def _paths_from_git_header(line: str) -> tuple[str | None, str | None]:
    rest = line[len("diff --git "):]
    if rest.startswith('"'):
        end = rest.index('"', 1) + 1
        while rest[end - 2] == "\\":
            end = rest.index('"', end) + 1
        return _strip_prefix(rest[:end]), _strip_prefix(rest[end:].strip())
    old, sep, new = rest.partition(" b/")
    return (_strip_prefix(old), _strip_prefix("b/" + new)) if sep else (None, None)


def parse_patch(text: str) -> list[FilePatch]:
    """The files of a unified diff (git's extended headers understood); text before the first diff is ignored."""
    patches: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    # only at '\n', as git ends a patch's lines: str.splitlines() would also break an added
    # line at a form feed, U+2028 or \x1c-\x1e and miscount the hunk (see source.physical_lines)
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            old, new = _paths_from_git_header(line)
            current = FilePatch(old, new)
            patches.append(current)
            hunk = None
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ") and (hunk is None or hunk.complete):
            old, new = _strip_prefix(line[4:]), _strip_prefix(lines[i + 1][4:])
            if current is None or current.hunks:
                current = FilePatch(old, new)
                patches.append(current)
            else:
                current.old_path, current.new_path = old, new
            hunk = None
            i += 1
        elif current is not None and (match := _HUNK.match(line)):
            old_count, new_count = (int(n) if n is not None else 1 for n in (match.group(2), match.group(4)))
            header = line.split(" @@", 1)[0] + " @@"
            hunk = Hunk(int(match.group(1)), old_count, int(match.group(3)), new_count, header)
            current.hunks.append(hunk)
        elif hunk is not None and not hunk.complete and line[:1] in ("+", "-", " ", ""):
            hunk.add(line)
        elif current is not None and hunk is None:
            if line.startswith("new file mode"):
                current.old_path = None
                current.symlink = line.endswith("120000")
            elif line.startswith("deleted file mode"):
                current.new_path = None
            elif line.startswith(("new mode", "old mode", "index ")) and line.endswith(" 120000"):
                current.symlink = True
            elif line.startswith(("rename from ", "copy from ")):
                current.old_path = _unquote(line.split(" from ", 1)[1])
            elif line.startswith(("rename to ", "copy to ")):
                current.new_path = _unquote(line.split(" to ", 1)[1])
            elif line.startswith("GIT binary patch") or (line.startswith("Binary files ") and line.endswith(" differ")):
                current.binary = True
        i += 1
    return patches


def patch_message(text: str) -> str:
    """The commit message of a ``git format-patch`` mail (Subject and body), or ''."""
    head, _, _ = text.partition("\ndiff --git ")
    if not head.startswith("From "):
        return ""
    headers, _, body = head.partition("\n\n")
    subject = ""
    for line in re.sub(r"\n[ \t]+", " ", headers).splitlines():
        if line.lower().startswith("subject:"):
            subject = re.sub(r"^\s*(\[[^\]]*\]\s*)*", "", line[len("subject:"):]).strip()
    message_body = re.split(r"^---\s*$", body, maxsplit=1, flags=re.MULTILINE)[0].strip()
    return "\n\n".join(part for part in (subject, message_body) if part)


# --- the change -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where the reviewed code comes from, for SARIF ``versionControlProvenance``."""

    repository_uri: str
    revision: str | None
    branch: str | None


@dataclass(frozen=True)
class ChangedFile:
    path: str  # relative to the checkout root, after the change (a rename's new name)
    old_path: str | None  # before the change; None for a new file
    added: frozenset[int]  # added or modified lines
    beside_deletion: frozenset[int]  # lines next to removed code
    source: Path  # the file's content after the change
    before: Path | None  # its content before the change, None for a new file


@dataclass(frozen=True)
class AddedSuppression:
    """A suppression comment that the review honours on code the change adds or modifies.

    Either the change wrote the comment (it is on a line the change adds or modifies), or the
    comment was there and its statement now holds lines the change wrote (``covers``): a
    suppression on a multi-line call also silences what a change puts into the call's other
    lines.  Suppressing is legitimate, so it does not fail the gate, but a reviewer must see
    what a change chooses not to be told about: every format lists these.
    """

    path: str
    line: int
    kind: str  # "secreview" (# secreview: ignore[...]), "nosec" or "noqa"
    rules: tuple[str, ...]  # what it names (rule ids, CWE-N, Bandit or Ruff codes); empty: every rule
    reason: str  # the words after an ignore's selectors; "" when none are given
    comment: str  # the directive as written
    covers: tuple[int, ...] = ()  # a comment already there: the lines of its statement the change wrote

    @property
    def what(self) -> str:
        """One line: the kind and what it silences."""
        named = f"[{', '.join(self.rules)}]" if self.rules else " (every rule)"
        return f"{'ignore' if self.kind == 'secreview' else self.kind}{named}"

    @property
    def how(self) -> str:
        """How the change comes to it: "added by this change", or which changed lines it covers."""
        if not self.covers:
            return "added by this change"
        lines = ", ".join(map(str, self.covers))
        return f"already there, now covers the changed line{'s' if len(self.covers) > 1 else ''} {lines}"


@dataclass(frozen=True)
class Change:
    root: Path  # the checkout the change applies to
    description: str  # one line: what was compared with what
    message: str = ""  # the commit message(s), or a patch mail's message
    files: tuple[ChangedFile, ...] = ()
    deleted: tuple[str, ...] = ()
    provenance: Provenance | None = None
    not_reviewed: tuple[tuple[str, str], ...] = ()  # (path, why): changed Python files that cannot be reviewed
    config: Config | None = None  # the configuration that decides the review: the base's, with the flags
    notes: tuple[str, ...] = ()  # on the review as a whole: the change edits [tool.secreview]
    added_suppressions: tuple[AddedSuppression, ...] = ()  # set by review_change
    base_revision: str | None = None  # the commit (or EMPTY_TREE) it is compared with; None: a patch
    revisions: tuple[str, ...] = ()  # what ``git diff`` is given to show the change

    @property
    def claims_fix(self) -> bool:
        return bool(FIX_CLAIM.search(self.message))


def _may_be_python(path: str) -> bool:
    """By name alone: a module, or an extension-less file that may be a script."""
    name = PurePosixPath(path).name
    return name.endswith(".py") or "." not in name


def _is_python(path: str, content: Path | None) -> bool:
    if path.endswith(".py"):
        return True
    return _may_be_python(path) and content is not None and has_python_shebang(content)


# --- reading a change from git --------------------------------------------------------------
#
# Everything git prints about files is read NUL-separated (``-z``) and every file's content is
# fetched by object id, never by "REV:path" on a line of input, so no file name (a newline in
# it, leading blanks, quotes) can shift one file's content onto another.  Which files changed
# comes from ``git diff --raw``, which reads no content; the text of the hunks is then asked
# only for the files that may be Python, with ``--text``, so that no .gitattributes (``-diff``,
# ``binary``, a diff driver) can turn a Python file into "Binary files differ".  Content is
# read as a stream and only up to ``max-file-size``: a larger file is listed as not reviewed
# without being read whole.


@dataclass(frozen=True)
class _RawChange:
    """One file of ``git diff --raw -z``."""

    status: str  # A, M, D, R, C, T (type change) or U (unmerged)
    old_mode: str
    new_mode: str
    old_id: str  # all zeros: none, or (new side) the working tree's file
    new_id: str
    old_path: str | None
    new_path: str | None


@dataclass
class _Touched:
    """A file the change touches, before it is decided whether, and how, it is reviewed."""

    old_path: str | None
    new_path: str | None
    source: Path | None = None  # the content after the change (a large file's first bytes)
    before: Path | None = None
    patch: FilePatch | None = None  # its hunks; None: every line is new
    unreadable: str | None = None  # why its content after the change cannot be reviewed


@dataclass(frozen=True)
class _Blob:
    path: Path | None  # None: larger than the limit, not written
    size: int
    head: Path | None = None  # a large blob's first bytes, to tell a script by its first line


_SYMLINK_MODE, _GITLINK_MODE = "120000", "160000"
_HEAD_BYTES = 200


def _git(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(
            ["git", "--literal-pathspecs", "-c", "core.quotePath=false", *args], cwd=root, input=input,
            capture_output=True, check=False,
        )
    except FileNotFoundError:
        raise ChangeError("git is not installed or not on PATH") from None
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangeError(f"git {args[0]} failed: {detail[0] if detail else 'exit code ' + str(done.returncode)}")
    return done


def _out(done: subprocess.CompletedProcess) -> str:
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def _decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _absent(object_id: str) -> bool:
    return not object_id or set(object_id) == {"0"}


def repository_root(start: Path) -> Path:
    done = _git(start, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise ChangeError(f"{start.resolve()} is not in a git repository")
    return Path(_decode_path(done.stdout.removesuffix(b"\n")))  # not stripped: a name may end in a blank


def _commit(root: Path, rev: str, what: str) -> str:
    done = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False)
    if done.returncode != 0:
        raise ChangeError(f"{what} {rev!r} does not exist in this repository")
    return _out(done)


def _public_uri(url: str) -> str:
    """A remote's URL as an absolute URI without credentials (scp-like git@host:path becomes ssh://)."""
    scp_like = re.fullmatch(r"([^@/:]+@)?([^/:]+):(?!//)(.+)", url)
    if scp_like:
        url = f"ssh://{scp_like.group(2)}/{scp_like.group(3).lstrip('/')}"
    parts = urlsplit(url)
    if not parts.scheme or len(parts.scheme) == 1:  # a local path (or a Windows drive letter)
        return Path(url).resolve().as_uri()
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def provenance(root: Path, revision: str | None = None) -> Provenance | None:
    """The repository, commit and branch of a checkout; None outside git (or without git)."""
    try:
        if _git(root, "rev-parse", "--git-dir", check=False).returncode != 0:
            return None
    except ChangeError:
        return None
    remote = _git(root, "remote", "get-url", "origin", check=False)
    uri = _public_uri(_out(remote)) if remote.returncode == 0 and _out(remote) else Path(root).resolve().as_uri()
    if revision is None:
        head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
        revision = _out(head) if head.returncode == 0 else None
    branch_done = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    branch = _out(branch_done) if branch_done.returncode == 0 else None
    return Provenance(uri, revision, branch)


def _raw_diff(root: Path, *revisions: str) -> list[_RawChange]:
    done = _git(root, "diff", "--raw", "-z", "-M", "--no-abbrev", *revisions, "--")
    fields = done.stdout.split(b"\x00")
    found: list[_RawChange] = []
    i = 0
    while i + 1 < len(fields) and fields[i].startswith(b":"):
        old_mode, new_mode, old_id, new_id, status = fields[i][1:].decode("ascii", "replace").split()[:5]
        letter = status[:1]
        if letter in ("R", "C") and i + 2 < len(fields):
            old, new = _decode_path(fields[i + 1]), _decode_path(fields[i + 2])
            i += 3
        else:
            old = new = _decode_path(fields[i + 1])
            i += 2
        found.append(_RawChange(letter, old_mode, new_mode, old_id, new_id,
                                None if letter == "A" else old, None if letter == "D" else new))
    return found


# per git call: pathspecs far below any system's limit on the length of a command line, and
# contents (before and after) whose diff is held in memory at once
_PATHS_PER_CALL = 500
_BYTES_PER_CALL = 64 << 20


def _text_patches(root: Path, revisions: tuple[str, ...], groups: list[tuple[tuple[str, ...], int]]
                  ) -> dict[str, FilePatch]:
    """The hunks of the named files (each group: a file's names and the size of its contents),
    by path after the change, read as text whatever git's attributes say; a rename's two names
    stay in one call, so git pairs them as it did before."""
    found: dict[str, FilePatch] = {}
    start = 0
    while start < len(groups):
        chunk: list[str] = []
        size = 0
        while start < len(groups) and (not chunk or (len(chunk) + len(groups[start][0]) <= _PATHS_PER_CALL
                                                     and size + groups[start][1] <= _BYTES_PER_CALL)):
            chunk.extend(groups[start][0])
            size += groups[start][1]
            start += 1
        done = _git(root, "diff", "--text", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--unified=0",
                    "--src-prefix=a/", "--dst-prefix=b/", *revisions, "--", *chunk)
        for patch in parse_patch(done.stdout.decode("utf-8", "surrogateescape")):
            if patch.new_path is not None:
                found[patch.new_path] = patch
    return found


def _write_blobs(root: Path, object_ids: set[str], scratch: Path, limit: int) -> dict[str, _Blob]:
    """Write each blob named by its object id to ``scratch/<id>``, in one git call read as a
    stream; a blob over ``limit`` bytes is not written, only its first bytes."""
    wanted = sorted(i for i in object_ids if not _absent(i))
    if not wanted:
        return {}
    scratch.mkdir(parents=True, exist_ok=True)
    request = scratch / "objects.txt"
    request.write_text("".join(f"{i}\n" for i in wanted), encoding="ascii")
    found: dict[str, _Blob] = {}
    try:
        with request.open("rb") as stdin, subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=root, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        ) as process:
            out = process.stdout
            assert out is not None
            for _ in wanted:
                header = out.readline().split()
                if len(header) < 2:
                    break
                object_id = header[0].decode("ascii", "replace")
                if len(header) < 3:  # "<id> missing"
                    continue
                size = int(header[2])
                if header[1] != b"blob":
                    _copy(out, None, size + 1)
                    continue
                if size <= limit:
                    destination = scratch / object_id
                    with destination.open("wb") as sink:
                        _copy(out, sink, size)
                    _copy(out, None, 1)
                    found[object_id] = _Blob(destination, size)
                else:
                    head = scratch / f"{object_id}.head"
                    with head.open("wb") as sink:
                        _copy(out, sink, _HEAD_BYTES)
                    _copy(out, None, size - _HEAD_BYTES + 1)
                    found[object_id] = _Blob(None, size, head)
            while out.read(1 << 20):
                pass  # whatever git still says, so that it is not left blocked on a full pipe
    except FileNotFoundError:
        raise ChangeError("git is not installed or not on PATH") from None
    return found


def _copy(stream, sink, count: int) -> None:
    while count > 0:
        piece = stream.read(min(count, 1 << 20))
        if not piece:
            return
        if sink is not None:
            sink.write(piece)
        count -= len(piece)


def _too_large(size: int, limit: int) -> str:
    return f"file too large ({size} bytes; limit {limit}, see max-file-size)"


def _touched_in_git(root: Path, raw: list[_RawChange], revisions: tuple[str, ...], after_blobs: bool,
                    scratch: Path, limit: int) -> list[_Touched]:
    """The files of a ``git diff`` between ``revisions`` (the working tree when ``after_blobs``
    is false), each with its content before and after and its hunks."""
    before_ids = {c.old_id for c in raw if c.old_path and _may_be_python(c.old_path) and c.new_path
                  and _may_be_python(c.new_path) and c.old_mode not in (_SYMLINK_MODE, _GITLINK_MODE)}
    readable = [c for c in raw if c.new_path and _may_be_python(c.new_path)
                and c.new_mode not in (_SYMLINK_MODE, _GITLINK_MODE)]
    before = _write_blobs(root, before_ids, scratch / "before", limit)
    after = _write_blobs(root, {c.new_id for c in readable}, scratch / "after", limit) if after_blobs else {}
    touched: list[_Touched] = []
    wanted: list[tuple[tuple[str, ...], int]] = []
    for change in raw:
        item = _Touched(change.old_path, change.new_path)
        old_blob = before.get(change.old_id)
        item.before = old_blob.path if old_blob else None
        touched.append(item)
        if change.new_path is None or not _may_be_python(change.new_path) or change.new_mode == _GITLINK_MODE:
            continue
        if change.new_mode == _SYMLINK_MODE:
            item.unreadable = "symbolic link (not followed)"
            continue
        if after_blobs:
            blob = after.get(change.new_id)
            if blob is None:
                item.unreadable = "its content cannot be read from git"
                continue
            item.source = blob.path or blob.head
            if blob.path is None:
                item.unreadable = _too_large(blob.size, limit)
                continue
            size = blob.size
        else:
            item.source, item.unreadable = _working_file(root, change.new_path, limit)
            if item.unreadable:
                continue
            size = _size(item.source)
        size += old_blob.size if old_blob else 0
        wanted.append((tuple(p for p in (change.old_path, change.new_path) if p is not None), size))
    patches = _text_patches(root, revisions, wanted)
    for item in touched:
        if item.new_path is not None and item.unreadable is None:
            item.patch = patches.get(item.new_path) or FilePatch(item.old_path, item.new_path)
    return touched


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


def _working_file(root: Path, path: str, limit: int) -> tuple[Path | None, str | None]:
    """A file of the working tree, and why it cannot be reviewed (None: it can)."""
    location = root / path
    try:
        status = location.lstat()
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror}"
    if stat.S_ISLNK(status.st_mode):
        return None, "symbolic link (not followed)"
    if not stat.S_ISREG(status.st_mode):
        return None, "not a regular file"
    if status.st_size > limit:
        return location, _too_large(status.st_size, limit)
    return location, None


def _messages(root: Path, range_or_rev: str, single: bool) -> str:
    args = ["log", "--format=%B%x00"]
    if single:
        args.append("-1")
    done = _git(root, *args, range_or_rev, "--")
    return "\n\n".join(m.strip() for m in _out(done).split("\x00") if m.strip())


def _default_base(root: Path) -> str:
    upstream = _git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", check=False)
    if upstream.returncode == 0 and _out(upstream):
        return _out(upstream)
    if _git(root, "rev-parse", "--verify", "--quiet", "HEAD~1", check=False).returncode == 0:
        return "HEAD~1"
    return ""  # a single commit, or none yet: everything is new


# --- which touched files are reviewed, and how ----------------------------------------------

_LINE_END = re.compile(rb"\r\n|\r|\n")
_LONE_CR = re.compile(rb"\r(?!\n)")


def _read_bytes(path: Path | None, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file (reading.read_regular: a work-tree file replaced
    by a FIFO or a huge file since it was checked costs nothing); b"" when it cannot be read."""
    if path is None:
        return b""
    try:
        return reading.read_regular(path, limit)
    except OSError:  # reading's TooLarge and NotRegularFile too
        return b""


def _all_lines(data: bytes) -> frozenset[int]:
    """Every line of the file, as Python numbers them."""
    return frozenset(range(1, len(_LINE_END.findall(data)) + 2))


def _changed_files(touched: list[_Touched], config: Config, root: Path
                   ) -> tuple[tuple[ChangedFile, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The changed Python files to review, the Python files deleted, and the changed Python
    files that cannot be reviewed, each with the reason.

    A file is reviewed with every line counted as changed when it was not Python before the
    change (renamed to ``.py``, or a script that gained a Python first line): its code is new
    to the review.  So is a file with a lone carriage return, where Python's line numbers and
    git's part ways.  ``config`` is the configuration that decides (see :func:`_base_configuration`).
    """
    files: list[ChangedFile] = []
    deleted: list[str] = []
    not_reviewed: list[tuple[str, str]] = []
    for item in touched:
        was_python = item.old_path is not None and _is_python(item.old_path, item.before)
        new_path = item.new_path
        if new_path is None or not _may_be_python(new_path):
            if was_python:
                deleted.append(item.old_path)
            continue
        if is_excluded(root / new_path, config.root or root, config.exclude):
            continue
        if item.unreadable is not None or item.source is None:
            if _is_python(new_path, item.source):
                not_reviewed.append((new_path, item.unreadable or "its content cannot be read"))
            elif was_python:
                deleted.append(item.old_path)
            continue
        if not _is_python(new_path, item.source):
            if was_python:
                deleted.append(item.old_path)
            continue
        data = _read_bytes(item.source, config.max_file_size)
        patch = item.patch
        if (patch is None or (item.old_path is not None and not was_python) or patch.old_path != item.old_path
                or _LONE_CR.search(data) or _LONE_CR.search(_read_bytes(item.before, config.max_file_size))):
            files.append(ChangedFile(new_path, None, _all_lines(data), frozenset(), item.source, None))
            continue
        added, beside = patch.changed_lines()
        if not added and not beside and item.old_path == new_path:
            continue  # a mode change only
        files.append(ChangedFile(new_path, item.old_path, added, beside, item.source, item.before))
    return (tuple(sorted(files, key=lambda f: f.path)), tuple(sorted(deleted)),
            tuple(sorted(not_reviewed)))


# --- the configuration that decides ---------------------------------------------------------
#
# A change must not switch off its own review: not by excluding its code, nor by disabling the
# rules it would trip, turning test code off, honouring '# nosec', raising the size limit or
# the time budget, or pointing ``models`` at files it writes.  So the pyproject.toml that
# decides a diff is the base revision's: found as scan finds one, but in the base's tree (from
# the working directory up to the repository root, or the file named with --config), read from
# git, never from the checkout, with the model files it names as the base has them too.  The
# command line's flags are merged over it as usual.  A configuration outside the repository is
# part of no change and is used as it is.  A patch is not applied to the checkout, so for a
# patch the checkout's configuration is the base's already.  Whatever the change does to
# ``[tool.secreview]`` of any pyproject.toml is said on the review (``Change.notes``).

CONFIG_FILE = "pyproject.toml"
_CONFIG_BYTES = 16 << 20  # far above any real configuration or model file; a larger one is not read whole
_REGULAR_MODES = ("100644", "100755")

Configure = Callable[[Path | None], Config]


@dataclass(frozen=True)
class Settings:
    """How ``diff`` makes its configuration out of a pyproject.toml.

    ``configure`` turns a pyproject.toml (None: there is none) into the review's configuration,
    the command line's flags merged over the file's (the CLI passes its own); ``named`` is the
    file given with ``--config``, else the nearest one to the working directory decides.
    """

    configure: Configure = load
    named: Path | None = None


def _inside(root: Path, path: Path) -> str | None:
    """``path`` relative to the repository root, in git's spelling, or None outside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


def _directories_up(root: Path, start: Path) -> list[str]:
    """The directories from ``start`` up to the root, relative to the root ("" is the root)."""
    relative = _inside(root, start if start.is_dir() else start.parent)
    parts = PurePosixPath(relative).parts if relative not in (None, ".") else ()
    return ["/".join(parts[:count]) for count in range(len(parts), -1, -1)]


def _files_at(root: Path, revision: str, paths: list[str], scratch: Path) -> dict[str, bytes]:
    """The content of each of ``paths`` (relative to the root) that is a regular file in ``revision``."""
    if revision == EMPTY_TREE or not paths:
        return {}
    done = _git(root, "ls-tree", "-z", "--full-tree", revision, "--", *paths, check=False)
    ids: dict[str, str] = {}
    for entry in done.stdout.split(b"\x00"):
        meta, tab, name = entry.partition(b"\t")
        fields = meta.decode("ascii", "replace").split()
        if tab and len(fields) == 3 and fields[1] == "blob" and fields[0] in _REGULAR_MODES:
            ids[_decode_path(name)] = fields[2]
    blobs = _write_blobs(root, set(ids.values()), scratch, _CONFIG_BYTES)
    found: dict[str, bytes] = {}
    for path, object_id in ids.items():
        blob = blobs.get(object_id)
        if blob is None:
            continue
        if blob.path is None:
            raise ChangeError(f"{path} in {revision[:12]} is too large to be read as configuration "
                              f"({blob.size} bytes; limit {_CONFIG_BYTES})")
        found[path] = blob.path.read_bytes()
    return found


def _secreview_table(data: bytes | None) -> object:
    """What of a pyproject.toml's content can decide a review: its ``[tool.secreview]`` (None: no
    file, or no such table).  Content that is not readable TOML stands for itself, so any edit
    of it counts as an edit of the table."""
    if data is None:
        return None
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        return data
    tool = document.get("tool")
    return tool.get("secreview") if isinstance(tool, dict) else None


_FROM_BASE = "the base revision's configuration was applied"
_NONE_IN_BASE = "the base revision has no [tool.secreview], so none was applied"


def _base_configuration(root: Path, start: Path, settings: Settings, revision: str, scratch: Path
                        ) -> tuple[Config, str]:
    """The configuration of the base ``revision`` (EMPTY_TREE: nothing is in it) with the flags
    merged over it, and how to say which one was applied."""
    named = settings.named
    if named is not None:
        relative = _inside(root, named)
        if relative is None:
            return settings.configure(named), f"the configuration {named}, outside the repository, was applied"
        candidates = [relative]
    else:
        current = find_pyproject(start)
        if current is not None and _inside(root, current) is None:
            return settings.configure(current), f"the configuration {current}, outside the repository, was applied"
        candidates = [f"{d}/{CONFIG_FILE}" if d else CONFIG_FILE for d in _directories_up(root, start)]
    contents = _files_at(root, revision, candidates, scratch / "base-config-blobs")
    for relative in candidates:
        data = contents.get(relative)
        if data is not None and (named is not None or _secreview_table(data) is not None):
            return _load_from_base(root, relative, data, settings, revision, scratch), _FROM_BASE
    return settings.configure(None), _NONE_IN_BASE


def _load_from_base(root: Path, relative: str, data: bytes, settings: Settings, revision: str, scratch: Path) -> Config:
    """Load the base's ``relative`` (its content ``data``) from a copy, with the model files it
    names in the repository as the base has them.

    The copy lies in a mirror of the repository's layout, so that the models' relative paths
    resolve, and are checked, as in the base.  A model file whose content in the checkout is
    the base's is then read from the checkout (the cache key stays that of a scan); one that
    the change modified is read from the mirror.  A model path that leaves the repository
    cannot be in the mirror: such a configuration is an error here.
    """
    mirror = scratch / "base-config"
    copy = mirror / relative
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(data)
    directory = PurePosixPath(relative).parent
    table = _secreview_table(data)
    written = table.get("models") if isinstance(table, dict) else None
    in_repository: dict[str, str] = {}  # a model as written -> its path in the repository
    for model in written if isinstance(written, list) else ():
        if isinstance(model, str) and not PurePosixPath(model).is_absolute():
            path = os.path.normpath(str(directory / model))
            if path != ".." and not path.startswith("../"):
                in_repository[model] = PurePosixPath(path).as_posix()
    base_models = _files_at(root, revision, sorted(set(in_repository.values())), scratch / "base-model-blobs")
    for path, content in base_models.items():
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path).write_bytes(content)
    try:
        config = settings.configure(copy)
    except ConfigError as exc:  # name the file as git does, not by its scratch copy
        raise ConfigError(str(exc).replace(str(mirror) + os.sep, f"{revision[:12]}:")) from None
    models = []
    for model in config.models:
        path = in_repository.get(model)
        if path is not None and path in base_models and _checkout_bytes(root / path) != base_models[path]:
            models.append(str(mirror / path))
        else:
            models.append(model)
    return dataclasses.replace(config, root=root / directory, source=f"{relative} as in {revision[:12]}",
                               models=tuple(models))


def _checkout_bytes(path: Path) -> bytes | None:
    try:
        return reading.read_regular(path, _CONFIG_BYTES)
    except OSError:  # reading's TooLarge and NotRegularFile too
        return None


def _configured(root: Path, start: Path, config: Config | Settings, revision: str, scratch: Path
                ) -> tuple[Config, str]:
    """The configuration that decides a change from git: a :class:`Settings` is resolved
    against the base; a ready :class:`Config` is the caller's decision and is used as it is."""
    if isinstance(config, Config):
        return config, "the configuration given was applied"
    return _base_configuration(root, start, config, revision, scratch)


def _configuration_notes(edits: list[tuple[str, bytes | None, bytes | None]], change: str, applied: str
                         ) -> tuple[str, ...]:
    """A note for each pyproject.toml whose ``[tool.secreview]`` the change edits, adds or removes."""
    notes = {f"{change} modifies [tool.secreview] in {path}; {applied}"
             for path, before, after in edits if _secreview_table(before) != _secreview_table(after)}
    return tuple(sorted(notes))


def _is_config_file(path: str | None) -> bool:
    return path is not None and PurePosixPath(path).name == CONFIG_FILE


def _git_configuration_edits(root: Path, raw: list[_RawChange], untracked: list[str], after_blobs: bool,
                             scratch: Path) -> list[tuple[str, bytes | None, bytes | None]]:
    """(path, content before, content after) of each pyproject.toml the change touches; None:
    absent on that side.  Content that cannot be compared (a link, too large) is a stand-in
    that differs from any other."""
    sides: list[tuple[str, str | None, str | None]] = []  # path, object id before, after ("" : the work tree)
    for change in raw:
        old = change.old_id if change.old_mode in _REGULAR_MODES else f"mode {change.old_mode}"
        new = (change.new_id if after_blobs else "") if change.new_mode in _REGULAR_MODES else f"mode {change.new_mode}"
        if change.old_path == change.new_path:
            if _is_config_file(change.new_path):
                sides.append((change.new_path, old, new))
            continue
        if _is_config_file(change.old_path):
            sides.append((change.old_path, old, None))
        if _is_config_file(change.new_path):
            sides.append((change.new_path, None, new))
    sides.extend((path, None, "") for path in untracked if _is_config_file(path))
    ids = {i for _, *pair in sides for i in pair if i and not i.startswith("mode ")}
    blobs = _write_blobs(root, ids, scratch / "config-edits", _CONFIG_BYTES)

    def content(path: str, side: str | None) -> bytes | None:
        if side is None:
            return None
        if side == "":
            try:
                return reading.read_regular(root / path, _CONFIG_BYTES)
            except OSError as exc:
                return f"\x00{path}: {exc}".encode("utf-8", "surrogateescape")
        blob = blobs.get(side)
        if blob is None or blob.path is None:
            return f"\x00{side}".encode()
        return blob.path.read_bytes()

    return [(path, content(path, old), content(path, new)) for path, old, new in sides]


def working_tree_change(start: Path, base: str | None, config: Config | Settings, scratch: Path) -> Change:
    """The working tree (staged, unstaged and untracked files) against the merge base of ``base`` and HEAD.

    ``config``: :class:`Settings` to configure the review as the base is configured (what the
    command line does), or a ready :class:`Config`, used as it is.
    """
    root = repository_root(start)
    has_head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0
    base_name = base if base is not None else _default_base(root)
    if base_name:
        base_commit = _commit(root, base_name, "base")
        if has_head:
            merge = _git(root, "merge-base", base_commit, "HEAD", check=False)
            if merge.returncode != 0:
                raise ChangeError(f"base {base_name!r} has no common history with HEAD")
            base_commit = _out(merge)
        message = _messages(root, f"{base_commit}..HEAD", single=False) if has_head else ""
        description = f"working tree against {base_commit[:12]} (merge base with {base_name})"
    else:
        base_commit = EMPTY_TREE
        message = _messages(root, "HEAD", single=True) if has_head else ""
        description = "working tree of a repository without a parent commit (all code is new)"
    decided, applied = _configured(root, start, config, base_commit, scratch)
    limit = decided.max_file_size
    raw = _raw_diff(root, base_commit)
    touched = _touched_in_git(root, raw, (base_commit,), False, scratch, limit)
    listed = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    untracked = [name for name in map(_decode_path, listed.stdout.split(b"\x00")) if name]
    for name in untracked:
        if _may_be_python(name):
            source, unreadable = _working_file(root, name, limit)
            touched.append(_Touched(None, name, source=source, unreadable=unreadable))  # no patch: all lines new
    files, deleted, not_reviewed = _changed_files(touched, decided, root)
    notes = _configuration_notes(_git_configuration_edits(root, raw, untracked, False, scratch), "this change", applied)
    return Change(root, description, message, files, deleted, provenance(root), not_reviewed, decided, notes,
                  base_revision=base_commit, revisions=(base_commit,))


def staged_change(start: Path, config: Config | Settings, scratch: Path) -> Change:
    """The index against HEAD: exactly what ``git commit`` would record, for a pre-commit hook
    (``config`` as for :func:`working_tree_change`).

    Contents come from the index, never from the working tree, so unstaged edits and untracked
    files are not reviewed; a repository's first commit (no HEAD yet) is reviewed against the
    empty tree, every line new.
    """
    root = repository_root(start)
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    base = _out(head) if head.returncode == 0 else EMPTY_TREE
    decided, applied = _configured(root, start, config, base, scratch)
    revisions = ("--cached", base)
    raw = _raw_diff(root, *revisions)
    touched = _touched_in_git(root, raw, revisions, True, scratch, decided.max_file_size)
    files, deleted, not_reviewed = _changed_files(touched, decided, root)
    notes = _configuration_notes(_git_configuration_edits(root, raw, [], True, scratch), "this change", applied)
    description = (f"staged change against HEAD ({base[:12]})" if base != EMPTY_TREE
                   else "staged change of a repository's first commit (all code is new)")
    return Change(root, description, "", files, deleted, provenance(root), not_reviewed, decided, notes,
                  base_revision=base, revisions=revisions)


def commit_change(start: Path, rev: str, config: Config | Settings, scratch: Path) -> Change:
    """One commit against its first parent, with its message (``config`` as for :func:`working_tree_change`)."""
    root = repository_root(start)
    commit = _commit(root, rev, "commit")
    parent_done = _git(root, "rev-parse", "--verify", "--quiet", f"{commit}^1", check=False)
    parent = _out(parent_done) if parent_done.returncode == 0 else EMPTY_TREE
    decided, applied = _configured(root, start, config, parent, scratch)
    raw = _raw_diff(root, parent, commit)
    touched = _touched_in_git(root, raw, (parent, commit), True, scratch, decided.max_file_size)
    files, deleted, not_reviewed = _changed_files(touched, decided, root)
    message = _messages(root, commit, single=True)
    notes = _configuration_notes(_git_configuration_edits(root, raw, [], True, scratch), "this commit", applied)
    return Change(root, f"commit {commit[:12]}", message, files, deleted, provenance(root, commit), not_reviewed,
                  decided, notes, base_revision=parent, revisions=(parent, commit))


def _decode_patch(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape")
    if "\n@@ " in text or text.startswith(("diff ", "--- ")) or "\ndiff --git " in text:
        return text
    try:  # Gerrit's "download patch" serves the format-patch mail base64-encoded
        decoded = base64.b64decode("".join(text.split()), validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return text
    return decoded if "\ndiff --git " in decoded or decoded.startswith("diff --git ") else text


def patch_change(start: Path, data: bytes, config: Config, scratch: Path, name: str = "patch") -> Change:
    """A unified diff applied to a scratch copy of the files it touches in the checkout at ``start``."""
    text = _decode_patch(data)
    patches = parse_patch(text)
    if not patches:
        raise ChangeError(f"{name}: not a unified diff (no file changes found)")
    for patch in patches:
        if patch.binary:
            raise ChangeError(f"{name}: binary patch for {patch.path}: only text changes can be reviewed")
    in_git = _git(start, "rev-parse", "--show-toplevel", check=False)
    root = Path(_out(in_git)) if in_git.returncode == 0 else start.resolve()
    copy = scratch / "after"
    copy.mkdir(parents=True, exist_ok=True)
    for patch in patches:
        _check_inside(root, patch, name)
        if patch.old_path is not None:
            original = root / patch.old_path
            if not original.is_file():
                raise ChangeError(f"{name}: {patch.old_path} is not in this checkout: the patch was made against other files")
            (copy / patch.old_path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(original, copy / patch.old_path)
        elif patch.new_path is not None and (root / patch.new_path).exists():
            raise ChangeError(f"{name}: the patch creates {patch.new_path}, which already exists in this checkout")
    patch_file = scratch / "change.patch"
    patch_file.write_text(text, encoding="utf-8", errors="surrogateescape")
    environment = dict(os.environ, GIT_CEILING_DIRECTORIES=str(scratch.parent))
    done = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", "--unidiff-zero", str(patch_file)],
        cwd=copy, capture_output=True, env=environment, check=False,
    )
    if done.returncode != 0:
        raise ChangeError(f"{name}: {_why_not_applied(done.stderr.decode('utf-8', 'replace'), patches)}")
    touched = []
    for patch in patches:
        source, unreadable = _working_file(copy, patch.new_path, config.max_file_size) if patch.new_path else (None, None)
        touched.append(_Touched(patch.old_path, patch.new_path, source=source, patch=patch, unreadable=unreadable,
                                before=root / patch.old_path if patch.old_path else None))
    # the configuration is the checkout's, which the patch has not changed
    files, deleted, not_reviewed = _changed_files(touched, config, root)
    notes = _configuration_notes(_patch_configuration_edits(root, copy, patches), "this patch",
                                 "the checkout's configuration, as before the patch, was applied")
    return Change(root, f"patch {name} applied to {root}", patch_message(text), files, deleted, provenance(root),
                  not_reviewed, config, notes)


def _patch_configuration_edits(root: Path, copy: Path, patches: list[FilePatch]
                               ) -> list[tuple[str, bytes | None, bytes | None]]:
    def content(directory: Path, path: str | None) -> bytes | None:
        if path is None:
            return None
        try:
            return reading.read_regular(directory / path, _CONFIG_BYTES)
        except OSError as exc:
            return f"\x00{path}: {exc}".encode("utf-8", "surrogateescape")

    edits = []
    for patch in patches:
        if patch.old_path == patch.new_path:
            if _is_config_file(patch.new_path):
                edits.append((patch.new_path, content(root, patch.old_path), content(copy, patch.new_path)))
            continue
        if _is_config_file(patch.old_path):
            edits.append((patch.old_path, content(root, patch.old_path), None))
        if _is_config_file(patch.new_path):
            edits.append((patch.new_path, None, content(copy, patch.new_path)))
    return edits


def _check_inside(root: Path, patch: FilePatch, name: str) -> None:
    for path in (patch.old_path, patch.new_path):
        if path is None:
            continue
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts:
            raise ChangeError(f"{name}: {path} lies outside the checkout")


def _why_not_applied(stderr: str, patches: list[FilePatch]) -> str:
    failed = _PATCH_FAILED.search(stderr)
    if failed:
        path, line = failed.group(1), int(failed.group(2))
        for patch in patches:
            if path in (patch.old_path, patch.new_path):
                for number, hunk in enumerate(patch.hunks, start=1):
                    if hunk.old_start == line:
                        return f"does not apply to {path}: hunk {number} ({hunk.header}) does not match the checkout"
        return f"does not apply to {path}: the hunk at line {line} does not match the checkout"
    errors = [line[len("error: "):] for line in stderr.splitlines() if line.startswith("error: ")]
    return f"does not apply: {errors[0] if errors else stderr.strip() or 'git apply failed'}"


def base_baseline(result: ReviewResult, path: Path, scratch: Path) -> tuple[list[BaselineEntry], ReviewResult]:
    """The entries of the baseline file ``path`` as the base revision has them, for a change read
    from git, and the review with a note when the change edits that file.

    A baseline named on the command line that lies in the repository is configuration too: a
    change that added its own findings' fingerprints to it would hide them from its own review.
    A file the base lacks is an empty baseline.  A patch, or a file outside the repository,
    leaves the file as it is in the checkout.
    """
    change = result.change
    relative = _inside(change.root, path) if change is not None and change.base_revision is not None else None
    if relative is None:
        return baseline.read(path), result
    contents = _files_at(change.root, change.base_revision, [relative], scratch / "base-baseline-blobs")
    edited = _git(change.root, "diff", "--quiet", "--no-ext-diff", *change.revisions, "--", relative,
                  check=False).returncode != 0
    if relative not in contents:
        entries: list[BaselineEntry] = []
        applied = "the base revision has none, so every finding counts as new"
        edited = edited or path.exists()  # an untracked baseline is no part of the base
    else:
        copy = scratch / "base-baseline.json"
        copy.write_bytes(contents[relative])
        try:
            entries = baseline.read(copy)
        except baseline.BaselineError as exc:
            raise baseline.BaselineError(str(exc).replace(str(copy), f"{change.base_revision[:12]}:{relative}")) from None
        applied = "the base revision's baseline was applied"
    if edited:
        note = f"this change modifies the baseline {relative}; {applied}"
        result = dataclasses.replace(result, change=dataclasses.replace(change, notes=change.notes + (note,)))
    return entries, result


# --- reviewing it ---------------------------------------------------------------------------


def _source_files(change: Change, pick: Callable[[ChangedFile], Path | None]) -> list[SourceFile]:
    files = []
    for changed in change.files:
        content = pick(changed)
        if content is not None:
            files.append(SourceFile(changed.path, content, is_test_path(changed.path), module_name(change.root / changed.path)))
    return files


def _points(finding: Finding) -> set[tuple[str, int]]:
    """Every (file, line) the finding points at: its own span and each step of its trace, which may lie in another file."""
    location = finding.location
    points = {(location.path, line) for line in range(location.line, location.end_line + 1)}
    points.update((step.location.path, step.location.line) for step in finding.trace)
    return points


def _touches(finding: Finding, lines: dict[str, frozenset[int]]) -> bool:
    return any(line in lines.get(path, ()) for path, line in _points(finding))


def _near(finding: Finding, lines: dict[str, frozenset[int]]) -> bool:
    return any(abs(line - changed) <= NEAR_CHANGE for path, line in _points(finding) for changed in lines.get(path, ()))


def _findings_by_path(files: list[SourceFile], config: Config, **speed) -> dict[str, list[Finding]]:
    return {r.path: r.findings for r in review_files(files, config, **speed).files} if files else {}


def _review_both(after: list[SourceFile], before: list[SourceFile], config: Config, *, jobs: int = 1,
                 cache: Cache | None = None, progress: Progress | None = None) -> tuple[ReviewResult, dict[str, list[Finding]]]:
    """Review the files after the change and, beside it, before the change.

    The second review doubles the work of a diff.  With more than one job it runs at the same
    time in a forked process, the jobs shared between the two; with one job, or without fork,
    the two run one after the other in this process, each with every job and the progress line.
    """
    if before and jobs > 1 and "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        return _review_both_forked(after, before, config, jobs=jobs, cache=cache, progress=progress)
    return (review_files(after, config, jobs=jobs, cache=cache, progress=progress),
            _findings_by_path(before, config, jobs=jobs, cache=cache, progress=progress))


def _review_both_forked(after: list[SourceFile], before: list[SourceFile], config: Config, *, jobs: int,
                        cache: Cache | None, progress: Progress | None) -> tuple[ReviewResult, dict[str, list[Finding]]]:
    """The before review in a forked child, the after review here.

    A bare process and a pipe rather than a pool: a pool's manager thread would be running
    when the after review forks its own workers, and fork copies no thread.  The progress line
    is this process's (one line on the terminal); the child's cache statistics are added to
    ``cache``'s, so they count every file either review looked up.  The memory ceiling is the
    whole diff's: the two reviews share it as they share the jobs.  A child that dies (killed,
    out of memory) costs time, not the review: its work is done here.
    """
    before_jobs = jobs // 2
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_send_before,
                            args=(sending, before, _memory_share(config, before_jobs, jobs), before_jobs, cache))
    child.start()
    sending.close()
    try:
        reviewed = review_files(after, _memory_share(config, jobs - before_jobs, jobs), jobs=jobs - before_jobs,
                                cache=cache, progress=progress)
        try:
            findings, hits, misses = receiving.recv()
        except EOFError:
            return reviewed, _findings_by_path(before, config, jobs=jobs, cache=cache)
    except BaseException:
        child.kill()
        raise
    finally:
        receiving.close()
        child.join()
    if cache is not None:
        cache.hits += hits
        cache.misses += misses
    return dataclasses.replace(reviewed, config=config), findings


def _memory_share(config: Config, jobs: int, of: int) -> Config:
    if not config.max_memory:
        return config  # unbounded
    return dataclasses.replace(config, max_memory=max(1, config.max_memory * jobs // of))


def _send_before(sending, before: list[SourceFile], config: Config, jobs: int, cache: Cache | None) -> None:
    if cache is not None:
        cache.hits = cache.misses = 0  # this process's copy: only its own lookups go back
    findings = _findings_by_path(before, config, jobs=jobs, cache=cache)
    sending.send((findings, cache.hits if cache else 0, cache.misses if cache else 0))
    sending.close()


def review_change(change: Change, config: Config | None = None, *, jobs: int = 1, cache: Cache | None = None,
                  progress: Progress | None = None) -> ReviewResult:
    """Review the changed files whole; keep the findings on lines the change added or modified.

    The configuration is the one the change was read with (``change.config``: the base's, with
    the flags) unless ``config`` is given.  A finding beside removed code (a deleted check or
    sanitizer) is kept when it is new, i.e. absent from the review of the file before the
    change.  Findings of the old version that no longer occur are listed as fixed; when the
    commit message claims a fix, findings that survive near the changed lines are called out as
    still present.  The suppression comments the change adds are listed on the change.
    """
    if config is None:
        config = change.config if change.config is not None else Config()
    after, before_by_path = _review_both(
        _source_files(change, lambda c: c.source), _source_files(change, lambda c: c.before), config,
        jobs=jobs, cache=cache, progress=progress)
    added = {c.path: c.added for c in change.files}
    beside_deletion = {c.path: c.beside_deletion for c in change.files}
    touched = {c.path: c.added | c.beside_deletion for c in change.files}
    kept_files: list[FileReview] = []
    state: dict[str, str] = {}
    fixed: list[BaselineEntry] = []
    still_present: list[Finding] = []
    for file_review in after.files:
        if file_review.path not in added:
            continue  # reviewed only as context for the changed files
        before = before_by_path.get(file_review.path, [])
        old = {f.fingerprint for f in before}
        kept = [
            f for f in file_review.findings
            if _touches(f, added) or (_touches(f, beside_deletion) and f.fingerprint not in old)
        ]
        for finding in kept:
            state[finding.fingerprint] = "unchanged" if finding.fingerprint in old else "new"
        if change.claims_fix:
            still_present.extend(f for f in file_review.findings if f.fingerprint in old and _near(f, touched))
        now = {f.fingerprint for f in file_review.findings}
        fixed.extend(BaselineEntry.from_finding(f) for f in before if f.fingerprint not in now)
        kept_files.append(dataclasses.replace(file_review, findings=kept))
    kept_files.extend(FileReview(path=path, is_test=is_test_path(path), not_reviewed=why) for path, why in change.not_reviewed)
    kept_files.sort(key=lambda r: r.path)
    change = dataclasses.replace(change, added_suppressions=_added_suppressions(change, after, config))
    return dataclasses.replace(
        after, files=kept_files, root=change.root, change=change, provenance=change.provenance,
        baseline_state=state, fixed=fixed, still_present=still_present,
    )


_DIRECTIVE_WORDS = ("secreview", "nosec", "noqa")
_IGNORE_REASON = re.compile(r"ignore(?:\[[^\]]*\])?(?P<reason>.*)$", re.IGNORECASE | re.DOTALL)


def _honoured(mark: policy.Suppression, config: Config) -> bool:
    """As policy honours marks: secreview's always, Bandit's and Ruff's only when configured."""
    kind = _kind(mark)
    return kind == "secreview" or (kind == "nosec" and config.nosec) or (kind == "noqa" and getattr(config, "noqa", False))


def _kind(mark: policy.Suppression) -> str:
    return getattr(mark, "kind", None) or ("nosec" if getattr(mark, "nosec", False) else "secreview")


def _added_suppressions(change: Change, after: ReviewResult, config: Config) -> tuple[AddedSuppression, ...]:
    """The honoured suppression comments on the statements the change adds or modifies, in the
    files the review read.  Only files that hold a directive word are parsed a second time."""
    reviewed = {r.path for r in after.files if r.not_reviewed is None}
    found: list[AddedSuppression] = []
    for changed in change.files:
        if changed.path not in reviewed or not changed.added:
            continue
        data = _read_bytes(changed.source, config.max_file_size)
        try:
            if not any(word in decode(changed.path, data).lower() for word in _DIRECTIVE_WORDS):
                continue
            marks = policy.suppression_marks(parse(changed.path, data, config.max_file_size))
        except (NotReviewable, RecursionError, MemoryError):
            continue  # the review says why it could not read the file; no suppression applied there
        for mark in marks.suppressions:
            first, stop = marks.statements.get(mark.line, (mark.line, mark.line + 1))
            covers = () if mark.line in changed.added else tuple(
                line for line in range(first, stop) if line in changed.added)
            if (mark.line not in changed.added and not covers) or not _honoured(mark, config):
                continue
            kind = _kind(mark)
            reason = ""
            if kind == "secreview":
                match = _IGNORE_REASON.search(mark.text)
                reason = match.group("reason").strip(" \t-:") if match else ""
            found.append(AddedSuppression(changed.path, mark.line, kind, tuple(mark.selectors), reason, mark.text,
                                          covers))
    return tuple(sorted(found, key=lambda s: (s.path, s.line, s.kind)))
