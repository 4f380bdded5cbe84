"""A one-line progress display on a terminal: files done and time left.

Shown only when the stream is a terminal, and only once the review has run for a second, so
quick reviews, pipes, CI logs and ``--quiet`` see nothing.  The line is erased at the end, so the
report that follows on the terminal is not interleaved with it.

It counts no findings: what a file's analysis finds is not yet what the report says, because
policy runs at the end (suppressions, the test-code policy, flows arriving from other files,
the baseline and the display filters), and a running count that the summary then contradicts
costs more trust than it gives.  The time left is estimated from the files analysed in this run
only: files taken from the cache are done at the start and say nothing about the pace.
"""

from __future__ import annotations

import time
from typing import TextIO

from .report.escape import visible

SHOW_AFTER_S = 1.0
REDRAW_EVERY_S = 0.1


class Progress:
    def __init__(self, stream: TextIO, *, clock=time.monotonic):
        self._stream = stream
        self._clock = clock
        self._total = 0
        self._done = 0
        self._from_cache = 0  # done before the first analysis: not a measure of the pace
        self._started = 0.0
        self._drawn_at: float | None = None
        self._width = 0

    @classmethod
    def for_terminal(cls, stream: TextIO, quiet: bool) -> Progress | None:
        try:
            interactive = stream.isatty()
        except (AttributeError, ValueError):
            interactive = False
        return cls(stream) if interactive and not quiet else None

    def start(self, total: int, from_cache: int = 0) -> None:
        self._total, self._done, self._from_cache = total, from_cache, from_cache
        self._started = self._clock()

    def advance(self, files: int) -> None:
        self._done += files
        now = self._clock()
        if now - self._started < SHOW_AFTER_S:
            return
        if self._drawn_at is not None and now - self._drawn_at < REDRAW_EVERY_S and self._done < self._total:
            return
        self._draw(self.line(now))
        self._drawn_at = now

    def line(self, now: float) -> str:
        elapsed = now - self._started
        total = max(self._total, 1)
        width = 24
        filled = width * self._done // total
        bar = "#" * filled + "-" * (width - filled)
        analysed = self._done - self._from_cache
        if analysed > 0 and self._done < self._total:
            left = elapsed * (self._total - self._done) / analysed
            eta = f"ETA {_duration(left)}"
        else:
            eta = f"{_duration(elapsed)}"
        return f"secreview [{bar}] {self._done}/{self._total} files, {eta}"

    def _draw(self, text: str) -> None:
        text = visible(text)  # counts only today; a file name shown here later must not drive the terminal
        padding = " " * max(0, self._width - len(text))
        self._stream.write("\r" + text + padding)
        self._stream.flush()
        self._width = len(text)

    def finish(self) -> None:
        if self._drawn_at is not None:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._drawn_at = None
            self._width = 0


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    return f"{seconds // 60}:{seconds % 60:02d}"
