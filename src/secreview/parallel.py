"""Analysing the files of one review in this process or in worker processes.

Every worker builds its own :class:`~secreview.python.dataflow.Project` over the whole file list
(modules are parsed lazily, so a worker parses only what its share of files leads it to) and
returns one :class:`~secreview.review.FileAnalysis` per file.  The parent puts them back in the
order of the file list, so what follows (regrouping findings to the sink's file, policy,
reports) cannot tell how many processes there were: ``--jobs N`` and ``--jobs 1`` give the same
bytes.  That holds because each file's analysis starts with nothing memoised from the files
analysed before it in the same process (``Project.start_file``).

Small reviews stay in this process: starting workers costs more than it saves there.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .findings import FileReview
from .guards import processes_within, resident_bytes

if TYPE_CHECKING:
    from . import rules
    from .cache import Cache
    from .config import Config
    from .discover import SourceFile
    from .progress import Progress
    from .review import FileAnalysis

PARALLEL_MIN_FILES = 24  # below this many files to analyse, workers cost more than they save
CHUNKS_PER_WORKER = 12  # enough small chunks that a worker with big files does not finish last alone


# Parsing makes millions of small objects, nearly all freed by reference counting, yet each
# allocation counts towards the cyclic collector's thresholds: with the defaults (700, 10, 10)
# collections took a third of the CPU of a review (Nova, one process: 15.1 s, 9.8 s with these)
# and saved no memory (peak 219 MB either way).  Not disabled: the engine's structures do have
# cycles (disabled, the peak doubled).
GC_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def _fewer_collections():
    saved = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def analyse_all(files: list[SourceFile], config: Config, active: list[rules.Rule], unreadable: list[FileReview], *,
                jobs: int = 1, cache: Cache | None = None,
                progress: Progress | None = None) -> tuple[list[SourceFile], list[FileAnalysis], dict[str, bytes]]:
    """The readable ``files``, their analyses in the same order, and their contents (by path) as
    analysed; unreadable files go to ``unreadable``."""
    from .review import _read

    readable: list[SourceFile] = []
    contents: dict[str, bytes] = {}
    for source_file in files:
        try:
            contents[source_file.path] = _read(source_file)
        except OSError as exc:
            unreadable.append(FileReview(source_file.path, source_file.is_test, not_reviewed=f"cannot be read: {exc.strerror}"))
            continue
        readable.append(source_file)
    analyses: list[FileAnalysis | None] = [None] * len(readable)
    lookup = cache.begin(readable, contents, config) if cache is not None else None
    if lookup is not None:
        for index, source_file in enumerate(readable):
            analyses[index] = lookup.get(source_file)
    pending = [i for i, a in enumerate(analyses) if a is None]
    if progress is not None:
        progress.start(len(readable))
        progress.advance(len(readable) - len(pending), sum(_count(a) for a in analyses if a is not None))

    def finished(index: int, analysis: FileAnalysis) -> None:
        analyses[index] = analysis
        if lookup is not None:
            lookup.store(readable[index], analysis)  # now, not at the end: a killed run keeps its work
        if progress is not None:
            progress.advance(1, _count(analysis))

    try:
        with _fewer_collections():
            if pending:
                if jobs > 1 and len(pending) >= PARALLEL_MIN_FILES:
                    _in_workers(readable, contents, config, active, pending, jobs, finished)
                else:
                    _in_process(readable, contents, config, active, pending, finished)
    finally:
        if progress is not None:
            progress.finish()
    done = [a for a in analyses if a is not None]
    assert len(done) == len(readable)
    if cache is not None and pending:
        cache.prune()
    return readable, done, contents


def _count(analysis: FileAnalysis) -> int:
    """Findings so far, for the progress line: before suppressions, which apply at the end."""
    return len(analysis.own) + len(analysis.elsewhere)


def _in_process(readable: list[SourceFile], contents: dict[str, bytes], config: Config, active: list[rules.Rule],
                pending: list[int], finished: Callable[[int, FileAnalysis], None]) -> None:
    from .review import _project, analyse, file_limits

    project = _project(readable, config, contents)
    limits = file_limits(config)
    for index in pending:
        source_file = readable[index]
        finished(index, analyse(source_file, contents[source_file.path], config, active, project, limits))


# --- worker processes ---------------------------------------------------------------------------

# What the workers need, set in the parent before they start: with the fork start method they
# inherit it (the file contents are not copied through a pipe); otherwise it is passed to them.
_SHARED: tuple | None = None
_WORKER: tuple | None = None


def _start_worker(shared: tuple | None) -> None:
    global _WORKER
    from .review import _project

    gc.set_threshold(*GC_THRESHOLDS)  # a worker's own process: nothing to restore
    readable, contents, config, active, limits = shared if shared is not None else _SHARED
    _WORKER = (readable, contents, config, active, limits, _project(readable, config, contents))


def _analyse_chunk(indices: list[int]) -> list[tuple[int, FileAnalysis]]:
    from .review import analyse

    readable, contents, config, active, limits, project = _WORKER
    out = []
    for index in indices:
        source_file = readable[index]
        out.append((index, analyse(source_file, contents[source_file.path], config, active, project, limits)))
    return out


def _chunks(pending: list[int], readable: list[SourceFile], contents: dict[str, bytes], jobs: int) -> list[list[int]]:
    """Runs of neighbouring files (one package's files consult the same helpers, which a worker
    then parses once), many more runs than workers, the heaviest handed out first, so that no
    worker is left alone with a big run at the end.  Not all the largest files in one worker:
    the engine keeps the last few dozen parsed modules, and the largest dozens at once cost
    twice the memory."""
    count = max(1, min(len(pending), jobs * CHUNKS_PER_WORKER))
    size = -(-len(pending) // count)
    runs = [pending[start:start + size] for start in range(0, len(pending), size)]
    runs.sort(key=lambda run: (-sum(len(contents[readable[i].path]) for i in run), run[0]))
    return runs


def _in_workers(readable: list[SourceFile], contents: dict[str, bytes], config: Config, active: list[rules.Rule],
                pending: list[int], jobs: int, finished: Callable[[int, FileAnalysis], None]) -> None:
    global _SHARED
    from .review import file_limits

    chunks = _chunks(pending, readable, contents, jobs)
    # the workers share the memory ceiling; this process keeps what it holds now (the files' contents)
    reserved = resident_bytes() or 0
    workers = min(jobs, len(chunks), processes_within(config.max_memory, jobs, reserved))
    if workers <= 1:  # one worker beside this process is slower than this process alone, and heavier
        _in_process(readable, contents, config, active, pending, finished)
        return
    limits = file_limits(config, workers, reserved=reserved)
    shared = (readable, contents, config, active, limits)
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and sys.platform != "darwin":  # fork is unsafe with macOS system libraries
        context, initargs = multiprocessing.get_context("fork"), (None,)
        _SHARED = shared
    else:
        context, initargs = multiprocessing.get_context("spawn"), (shared,)
    done: set[int] = set()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=_start_worker, initargs=initargs) as pool:
            futures = [pool.submit(_analyse_chunk, chunk) for chunk in chunks]
            for future in as_completed(futures):
                try:
                    results = future.result()
                except BrokenProcessPool:
                    break  # a worker died (killed, out of memory): what is left is done here below
                for index, analysis in results:
                    done.add(index)
                    finished(index, analysis)
    except (BrokenProcessPool, OSError):
        pass  # could not start or keep workers: the review still finishes, in this process
    finally:
        _SHARED = None
    left = [i for i in pending if i not in done]
    if left:
        _in_process(readable, contents, config, active, left, finished)
