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
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from .baseline import BaselineEntry
from .config import Config
from .discover import (
    SourceFile,
    is_excluded,
    has_python_shebang,
    is_test_path,
    module_name,
)
from .findings import FileReview, Finding
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
    lines = text.splitlines()
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
class Change:
    root: Path  # the checkout the change applies to
    description: str  # one line: what was compared with what
    message: str = ""  # the commit message(s), or a patch mail's message
    files: tuple[ChangedFile, ...] = ()
    deleted: tuple[str, ...] = ()
    provenance: Provenance | None = None

    @property
    def claims_fix(self) -> bool:
        return bool(FIX_CLAIM.search(self.message))


def _git(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args], cwd=root, input=input, capture_output=True, check=False,
        )
    except FileNotFoundError:
        raise ChangeError("git is not installed or not on PATH") from None
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangeError(f"git {args[0]} failed: {detail[0] if detail else 'exit code ' + str(done.returncode)}")
    return done


def _out(done: subprocess.CompletedProcess) -> str:
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def repository_root(start: Path) -> Path:
    done = _git(start, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise ChangeError(f"{start.resolve()} is not in a git repository")
    return Path(_out(done))


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


def _may_be_python(path: str) -> bool:
    """By name alone: a module, or an extension-less file that may be a script."""
    name = PurePosixPath(path).name
    return name.endswith(".py") or "." not in name


def _is_python(path: str, content: Path | None) -> bool:
    if path.endswith(".py"):
        return True
    return _may_be_python(path) and content is not None and has_python_shebang(content)


def _write_blobs(root: Path, wanted: dict[str, str], scratch: Path) -> dict[str, Path]:
    """Write ``{object name ('REV:path'): relative destination}`` under scratch, in one git call."""
    if not wanted:
        return {}
    names = list(wanted)
    done = _git(root, "cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode("utf-8", "surrogateescape"))
    out = done.stdout
    written: dict[str, Path] = {}
    position = 0
    for name in names:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        position = header_end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        destination = scratch / wanted[name]
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(out[position:position + size])
        written[name] = destination
        position += size + 1
    return written


def _diff(root: Path, *revisions: str) -> list[FilePatch]:
    done = _git(root, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--unified=0", *revisions, "--")
    return parse_patch(done.stdout.decode("utf-8", "surrogateescape"))


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


def _changed_files(patches: list[FilePatch], config: Config, root: Path,
                   source_of, before_of) -> tuple[tuple[ChangedFile, ...], tuple[str, ...]]:
    files: list[ChangedFile] = []
    deleted: list[str] = []
    for patch in patches:
        if patch.new_path is None:
            if patch.old_path and _is_python(patch.old_path, None):
                deleted.append(patch.old_path)
            continue
        if patch.symlink or patch.binary:
            continue
        source = source_of(patch)
        if source is None or not _is_python(patch.new_path, source):
            continue
        if is_excluded(root / patch.new_path, config.root or root, config.exclude):
            continue
        added, beside = patch.changed_lines()
        if not added and not beside and patch.old_path == patch.new_path:
            continue  # a mode change only
        files.append(ChangedFile(patch.new_path, patch.old_path, added, beside, source, before_of(patch)))
    return tuple(sorted(files, key=lambda f: f.path)), tuple(sorted(deleted))


def working_tree_change(start: Path, base: str | None, config: Config, scratch: Path) -> Change:
    """The working tree (staged, unstaged and untracked files) against the merge base of ``base`` and HEAD."""
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
    patches = _diff(root, base_commit)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    for name in _out(untracked).split("\x00"):
        if name and _is_python(name, root / name):
            line_count = _line_count(root / name)
            patch = FilePatch(None, name)
            patch.hunks.append(Hunk(0, 0, 1, line_count, f"@@ -0,0 +1,{line_count} @@", ["+"] * line_count))
            patches.append(patch)
    before = _write_blobs(root, {f"{base_commit}:{p.old_path}": p.new_path for p in patches
                                 if p.old_path and p.new_path and _may_be_python(p.new_path) and base_commit != EMPTY_TREE},
                          scratch / "before")
    files, deleted = _changed_files(
        patches, config, root,
        source_of=lambda p: (root / p.new_path) if (root / p.new_path).is_file() else None,
        before_of=lambda p: before.get(f"{base_commit}:{p.old_path}"),
    )
    return Change(root, description, message, files, deleted, provenance(root))


def _line_count(path: Path) -> int:
    try:
        return max(len(path.read_bytes().splitlines()), 1)
    except OSError:
        return 0


def commit_change(start: Path, rev: str, config: Config, scratch: Path) -> Change:
    """One commit against its first parent, with its message."""
    root = repository_root(start)
    commit = _commit(root, rev, "commit")
    parent_done = _git(root, "rev-parse", "--verify", "--quiet", f"{commit}^1", check=False)
    parent = _out(parent_done) if parent_done.returncode == 0 else EMPTY_TREE
    patches = _diff(root, parent, commit)
    after = _write_blobs(root, {f"{commit}:{p.new_path}": p.new_path for p in patches
                                if p.new_path and _may_be_python(p.new_path)}, scratch / "after")
    before = _write_blobs(root, {f"{parent}:{p.old_path}": p.new_path for p in patches
                                 if p.old_path and p.new_path and _may_be_python(p.new_path) and parent != EMPTY_TREE},
                          scratch / "before")
    files, deleted = _changed_files(
        patches, config, root,
        source_of=lambda p: after.get(f"{commit}:{p.new_path}"),
        before_of=lambda p: before.get(f"{parent}:{p.old_path}"),
    )
    message = _messages(root, commit, single=True)
    return Change(root, f"commit {commit[:12]}", message, files, deleted, provenance(root, commit))


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
    files, deleted = _changed_files(
        patches, config, root,
        source_of=lambda p: copy / p.new_path if (copy / p.new_path).is_file() else None,
        before_of=lambda p: root / p.old_path if p.old_path else None,
    )
    return Change(root, f"patch {name} applied to {root}", patch_message(text), files, deleted, provenance(root))


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


def review_change(change: Change, config: Config, *, jobs: int = 1, cache: Cache | None = None,
                  progress: Progress | None = None) -> ReviewResult:
    """Review the changed files whole; keep the findings on lines the change added or modified.

    A finding beside removed code (a deleted check or sanitizer) is kept when it is new, i.e.
    absent from the review of the file before the change.  Findings of the old version that no
    longer occur are listed as fixed; when the commit message claims a fix, findings that
    survive near the changed lines are called out as still present.
    """
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
    return dataclasses.replace(
        after, files=kept_files, root=change.root, change=change, provenance=change.provenance,
        baseline_state=state, fixed=fixed, still_present=still_present,
    )
