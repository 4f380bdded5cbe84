"""Where the tools that read a report resolve its paths: the repository's root.

The review displays paths relative to its working directory; code scanning (SARIF's
``%SRCROOT%``) and GitLab resolve them against the repository, so a review run from a sub-folder
must name ``service/api/loader.py``, not ``api/loader.py``.  The root is the git repository that
holds the working directory (a folder holding ``.git``), else the common folder of the reviewed
files.  A file outside it keeps its absolute path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def source_root(root: Path, paths: list[str]) -> Path:
    """The repository holding ``root``, else the common folder of ``paths`` (relative to
    ``root``), else ``root`` itself."""
    for candidate in (root, *root.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    folders = [os.path.dirname(os.path.normpath(os.path.join(root, p))) for p in paths]
    try:
        return Path(os.path.commonpath(folders)) if folders else root
    except ValueError:  # paths on different drives
        return root


@dataclass(frozen=True)
class SourcePaths:
    """Displayed paths (relative to ``root``, the review's working directory) against ``base``."""

    root: Path
    base: Path

    @classmethod
    def of(cls, root: Path, paths: list[str]) -> "SourcePaths":
        return cls(root, source_root(root, paths))

    def full(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.root, path))

    def inside(self, path: str) -> str | None:
        """``path`` relative to ``base`` in POSIX form, or None when it lies outside ``base``."""
        if path == "<stdin>":
            return path
        relative = os.path.relpath(self.full(path), self.base)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
            return None
        return Path(relative).as_posix()

    def relative(self, path: str) -> str:
        """``path`` as the repository names it, or its absolute path when it lies outside."""
        inside = self.inside(path)
        return inside if inside is not None else self.full(path)
