"""Analysing the files of one review in this process or in worker processes.

Every worker builds its own :class:`~secreview.python.dataflow.Project` over the whole file list
(modules are parsed lazily, so a worker parses only what its share of files leads it to) and
returns one :class:`~secreview.review.FileAnalysis` per file.  The parent puts them back in the
order of the file list, so what follows (regrouping findings to the sink's file, policy,
reports) cannot tell how many processes there were: ``--jobs N`` and ``--jobs 1`` give the same
bytes.  That holds because each file's analysis starts with nothing memoised from the files
analysed before it in the same process (``Project.start_file``).

Small reviews stay in this process: starting workers costs more than it saves there.

Memory: the analysis checks its share of ``--max-memory`` cooperatively (:mod:`secreview.guards`),
which cannot cut short one long step such as parsing a file.  So each analysing process also
gets an address-space limit (``RLIMIT_AS``, where the platform enforces it) at its size when it
starts plus its share and some room (:func:`_backstop_bytes`): an allocation past it fails with
MemoryError, which costs that file ("out of memory"), not the machine.  A worker keeps the
limit for its life; this process sets it only while it analyses, and lifts it again.

A worker that dies all the same (the out-of-memory killer, a signal) breaks its pool: the files
it and the other workers held are analysed again, each alone in a new worker, and a file that
ends that one too is reported not reviewed; a file is never retried in this process, which it
would take down.  Workers end with this process, however it ends (:func:`_end_with_parent`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
import time
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
    from .python.source import NotReviewable
    from .review import _read

    readable: list[SourceFile] = []
    contents: dict[str, bytes] = {}
    for source_file in files:
        # a file over max-file-size is not read at all (its size is checked first), and is not a
        # module of the project: like a file that cannot be read, nothing of it can be followed
        try:
            contents[source_file.path] = _read(source_file, config.max_file_size)
        except NotReviewable as exc:
            unreadable.append(FileReview(source_file.path, source_file.is_test, not_reviewed=str(exc)))
            continue
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
        progress.start(len(readable), from_cache=len(readable) - len(pending))

    def finished(index: int, analysis: FileAnalysis) -> None:
        analyses[index] = analysis
        if lookup is not None:
            lookup.store(readable[index], analysis)  # now, not at the end: a killed run keeps its work
        if progress is not None:
            progress.advance(1)

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


def _in_process(readable: list[SourceFile], contents: dict[str, bytes], config: Config, active: list[rules.Rule],
                pending: list[int], finished: Callable[[int, FileAnalysis], None]) -> None:
    from .review import _project, analyse, file_limits

    project = _project(readable, config, contents)
    limits = file_limits(config)
    restore = _limit_address_space(limits.memory_bytes)  # lifted again below: this process is the user's
    try:
        for index in pending:
            source_file = readable[index]
            finished(index, analyse(source_file, contents[source_file.path], config, active, project, limits))
    finally:
        if restore is not None:
            restore()


# --- worker processes ---------------------------------------------------------------------------

# What the workers need, set in the parent before they start: with the fork start method they
# inherit it (the file contents are not copied through a pipe); otherwise it is passed to them.
_SHARED: tuple | None = None
_WORKER: tuple | None = None

# Per file index, what the workers of one pool are doing with it, in memory they share with the
# parent: when a worker dies, the files marked ANALYSING are the ones it (or another worker the
# broken pool then stopped) held.
_WAITING, _ANALYSING, _DONE = 0, 1, 2

# The address-space backstop of a worker, beyond what it has mapped when it starts: its share
# of --max-memory (which the cooperative budget checks against the resident size) plus room for
# what is mapped but not resident (allocator arenas, thread stacks), at least ADDRESS_SPACE_ROOM.
ADDRESS_SPACE_ROOM = 256 * 1024 * 1024
WORKER_DIED = ("its analysis ended the worker process (out of memory, or killed), "
               "also when analysed again alone")
PARENT_POLL_S = 1.0  # how often a worker looks whether its parent is still there, where it must


def _backstop_bytes(share: int | None) -> int | None:
    """How far a worker's address space may grow past its size at start, or None: unbounded."""
    if share is None:
        return None
    return share + max(ADDRESS_SPACE_ROOM, share // 2)


def _mapped_bytes() -> int | None:
    """This process's virtual size (what RLIMIT_AS counts), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _limit_address_space(share: int | None) -> Callable[[], None] | None:
    """A backstop for a single step the cooperative budget cannot interrupt (parsing one file):
    past the limit an allocation fails with MemoryError, which costs that file ("out of memory"),
    not the machine.  Only where the platform enforces RLIMIT_AS and the size can be read.
    Returns what lifts the limit again (None: nothing was set); an unprivileged process may
    raise its soft limit back up to the hard one."""
    room = _backstop_bytes(share)
    base = _mapped_bytes()
    if room is None or base is None:
        return None
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    limit = base + room
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and soft <= limit:
            return None  # a tighter limit is already set: keep it
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (AttributeError, ValueError, OSError):
        return None

    def restore() -> None:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        except (ValueError, OSError):
            pass
    return restore


def _end_with_parent(parent: int) -> None:
    """A worker must not outlive the review that started it (killed with SIGKILL or SIGTERM,
    the parent cannot stop its workers): on Linux the kernel sends the worker SIGKILL when the
    parent dies (PR_SET_PDEATHSIG); everywhere, a thread looks every PARENT_POLL_S whether the
    parent is still its parent, and ends the process when not."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError, TypeError):
            pass
    if os.getppid() != parent:  # died before the request above was made
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="secreview-parent-watch", daemon=True).start()


def _watch_parent(parent: int, interval: float = PARENT_POLL_S, getppid: Callable[[], int] = os.getppid,
                  end: Callable[[int], None] = os._exit) -> None:
    while getppid() == parent:
        time.sleep(interval)
    end(1)


def _start_worker(shared: tuple | None, states, parent: int, share: int | None) -> None:
    global _WORKER
    from .review import _project

    _end_with_parent(parent)
    gc.set_threshold(*GC_THRESHOLDS)  # a worker's own process: nothing to restore
    readable, contents, config, active, limits = shared if shared is not None else _SHARED
    _WORKER = (readable, contents, config, active, limits, _project(readable, config, contents), states)
    _limit_address_space(share)  # for the worker's life


def _analyse_chunk(indices: list[int]) -> list[tuple[int, FileAnalysis]]:
    from .review import analyse

    readable, contents, config, active, limits, project, states = _WORKER
    out = []
    for index in indices:
        source_file = readable[index]
        states[index] = _ANALYSING
        out.append((index, analyse(source_file, contents[source_file.path], config, active, project, limits)))
        states[index] = _DONE
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


class _PoolBroke(Exception):
    """The pool could not run to the end; ``held`` are the files being analysed when it broke."""

    def __init__(self, held: list[int]):
        super().__init__(f"{len(held)} file(s) held")
        self.held = held


def _in_workers(readable: list[SourceFile], contents: dict[str, bytes], config: Config, active: list[rules.Rule],
                pending: list[int], jobs: int, finished: Callable[[int, FileAnalysis], None]) -> None:
    """Analyse in worker processes.  A worker that dies (the out-of-memory killer, a signal)
    breaks the pool: the files it and the other workers held are then analysed again, each
    alone in a worker of its own, and one that ends that worker too is reported not reviewed;
    the files not yet started go to a new pool.  So a file that kills its process costs itself,
    never the review, and is never retried in this process, which it would kill as well."""
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
        context, passed = multiprocessing.get_context("fork"), None
        _SHARED = shared
    else:
        context, passed = multiprocessing.get_context("spawn"), shared
    done: set[int] = set()

    def record(index: int, analysis: FileAnalysis) -> None:
        done.add(index)
        finished(index, analysis)

    def run(runs: list[list[int]], processes: int) -> None:
        _pool_run(context, processes, (passed, limits.memory_bytes), len(readable), runs, record)

    try:
        left = chunks
        while left:
            try:
                run(left, workers)
                break
            except _PoolBroke as broke:
                if not broke.held:
                    raise  # nothing was being analysed: the workers themselves cannot run
                for index in broke.held:
                    if index in done:
                        continue
                    try:
                        run([[index]], 1)
                    except _PoolBroke:
                        source_file = readable[index]
                        record(index, _died(source_file))
                left = [kept for kept in ([i for i in chunk if i not in done] for chunk in left) if kept]
    except (_PoolBroke, BrokenProcessPool, OSError):
        pass  # could not start or keep workers: the review still finishes, in this process
    finally:
        _SHARED = None
    left_over = [i for i in pending if i not in done]
    if left_over:
        _in_process(readable, contents, config, active, left_over, finished)


def _died(source_file: SourceFile) -> FileAnalysis:
    from .review import FileAnalysis

    return FileAnalysis(review=FileReview(source_file.path, source_file.is_test, not_reviewed=WORKER_DIED),
                        deterministic=False)


def _pool_run(context, processes: int, settings: tuple, size: int, runs: list[list[int]],
              record: Callable[[int, FileAnalysis], None]) -> None:
    """Run ``runs`` in a pool of ``processes`` workers, recording each result; :class:`_PoolBroke`
    when a worker dies.  A run that fails in the worker (an error outside any one file's
    analysis, which catches its own) counts as held by a dead worker: its files are retried alone."""
    passed, share = settings
    states = context.Array("b", size, lock=False)
    failed: list[int] = []
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_start_worker,
                             initargs=(passed, states, os.getpid(), share)) as pool:
        futures = {pool.submit(_analyse_chunk, chunk): chunk for chunk in runs}
        for future in as_completed(futures):
            try:
                results = future.result()
            except BrokenProcessPool:
                break
            except Exception:  # MemoryError while returning the results, and the like
                failed.extend(futures[future])  # analysed there perhaps, but nothing came back
                continue
            for index, analysis in results:
                record(index, analysis)
        else:
            if failed:
                raise _PoolBroke(sorted(failed))
            return
    held = sorted({i for i in range(size) if states[i] == _ANALYSING} | set(failed))
    raise _PoolBroke(held)
