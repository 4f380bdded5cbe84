"""Reading files whose size and kind the reviewed tree or a configuration chooses.

Every file secreview reads on a user's behalf (a file to review, a model file, the head of a
script sniffed for a shebang) is read through :func:`read_regular`: the file is opened without
blocking (a FIFO would otherwise wait for a writer forever), checked with ``fstat`` to be a
regular file (``/dev/zero`` would otherwise be read until memory runs out), and its size is
compared with the limit *before* anything is read.  The read itself stops one byte past the
limit, so a file that grows between the check and the read still costs at most the limit.
So no file, whatever it is, costs more memory than the limit asked for it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """Not a regular file (a FIFO, a device, a socket, a directory): never read."""


class TooLarge(OSError):
    """Larger than the limit the caller set; ``size`` is what ``fstat`` found, or None when
    reading stopped past the limit (a stream, or a file that grew) without learning it."""

    def __init__(self, size: int | None, limit: int):
        super().__init__(f"{'more than ' + str(limit) if size is None else size} bytes, over the limit of {limit}")
        self.size = size
        self.limit = limit

    @property
    def shown_size(self) -> str:
        return f"more than {self.limit}" if self.size is None else str(self.size)


def read_regular(path: Path | str, limit: int) -> bytes:
    """The content of the regular file ``path``, at most ``limit`` bytes, or an OSError:
    :class:`NotRegularFile`, :class:`TooLarge`, or what opening or reading raised."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegularFile(f"{path}: not a regular file")
        if status.st_size > limit:
            raise TooLarge(status.st_size, limit)
        return read_bounded(descriptor, limit)
    finally:
        os.close(descriptor)


def read_bounded(descriptor: int, limit: int) -> bytes:
    """At most ``limit`` bytes from an open descriptor; :class:`TooLarge` when more follow."""
    pieces: list[bytes] = []
    total = 0
    while total <= limit:
        piece = os.read(descriptor, min(1 << 20, limit + 1 - total))
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    if total > limit:
        raise TooLarge(None, limit)
    return b"".join(pieces)


def read_head(path: Path | str, count: int) -> bytes:
    """The first ``count`` bytes of a regular file (b"" for anything else or an error)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return b""
        return os.read(descriptor, count)
    except OSError:
        return b""
    finally:
        os.close(descriptor)
