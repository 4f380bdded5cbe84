"""What one file's analysis may spend: analysis steps, CPU time as a backstop, and memory.

A review must finish, on any input, within bounds the user can set, and the same input and
flags must give the same report on any machine, at any load, on every run.  Each file's analysis
(parsing, indexing, every rule and the data-flow analysis, including the summaries of other
modules it follows calls into) runs under a :class:`Budget`:

- a **step budget**: the statements the data-flow engine interprets for the file (every
  statement of every function it summarises, in this module or others, each loop round
  counted again).  It is the cut-off that normally applies, and it is deterministic: the engine
  interprets the same statements in the same order on every run (it starts each file with
  nothing memoised, see ``dataflow.Project.start_file``), so a file cut by it is cut at the same
  statement, with the same findings, whatever the machine.  ``--time-budget`` is given in
  seconds because that is what a user can judge; it is turned into steps at
  :data:`STEPS_PER_SECOND`, measured on the engine's typical work (see the constant);
- a **CPU-time backstop**, :data:`BACKSTOP_FACTOR` times the time budget (at least
  :data:`BACKSTOP_MIN_S`): work that is not
  counted in steps (one statement holding a huge expression, rules that walk the tree) cannot
  run for ever.  It is far beyond what a step budget's worth of typical code takes, so it cuts
  only pathological files, and the report says that such a cut depends on the machine.
  CPU time, not wall-clock time: on a busy machine (CI runners, the other workers of the same
  review) the CPU time of a file stays what it is;
- this process's share of ``max_memory``.

The analysis checks the budget cooperatively: the engine every few hundred statements it
interprets, the review loop before each rule.  Nothing is interrupted from outside (a signal
raised into arbitrary code could leave the engine's memo tables half written); the price is
that a single step between two checks, such as parsing one file, is not cut short.
``max_file_size`` bounds that step.

When the budget is spent the analysis keeps what it found so far: the engine stops starting
new work, rules that only read the data-flow results already computed still report them, the
other rules do not run, and the file is reported "not fully reviewed" with the reason, so a
reader knows the review of that file is partial.  A cut result is never cached: the time budget
is not part of the cache key, and a backstop or memory cut depends on the machine.

Memory is checked against the process's resident size (Linux ``/proc/self/statm``).  Near the
ceiling the process first drops what it can rebuild (parsed modules kept to follow calls);
only when that does not bring it back under the ceiling is the file stopped.  Where the
resident size cannot be read the ceiling cannot be honoured, and :func:`memory_readable`
lets the command line say so instead of pretending.
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

TIME_BUDGET = "time budget"  # the step budget that --time-budget sets: a deterministic cut
CPU_BACKSTOP = "CPU time backstop"
MEMORY_CEILING = "memory ceiling"

DEFAULT_TIME_BUDGET_S = 5.0  # the largest file of OpenStack Nova takes about 1 s (2.2M steps)
DEFAULT_MAX_MEMORY_MIB = 2048
MIN_MEMORY_SHARE = 128 * 1024 * 1024  # below this a process cannot hold Python and one parsed file
# The smallest ceiling accepted: the interpreter, the engine, the files' contents and the
# results (about 150 MiB for the 1,800 files of the standard library) are held whatever the
# analysis does, and memory Python has freed is not always given back to the system, so a lower
# ceiling could be passed with every file stopped.
MIN_MAX_MEMORY_MIB = 256
RELIEVE_AT = 0.8  # share of the ceiling at which rebuildable caches are dropped
# Once relieved, a process relieves again only after it grew by this share of the ceiling: near
# the ceiling a collection at every check would cost more than the analysis.
RELIEF_STEP = 0.05
# How often the budget really looks: the CPU clock and /proc cost microseconds each (a system
# call, unlike the monotonic clock), and the review asks before every rule and the engine every
# few hundred statements, tens of thousands of times on a large project.
LOOK_EVERY_S = 0.01
# Analysis steps per second of CPU time.  A step is a statement or an expression the data-flow
# engine interprets, or a node of the tree walked by a rule (each rule is counted as one walk of
# the whole tree, parsing and indexing as PARSE_WALKS walks).  Measured with
# bench/budget_steps.py on OpenStack Nova (1,508 files, 2-core machine, 2026-12): the largest
# files run at 2.4M-7.3M steps per second (pooled over all files with 20k steps or more: 3.8M;
# generated worst shapes of bench/shapes.py: 4.7M-12M).  3M, below the pooled rate, makes the
# default budget about 4 s of typical code, 6 s of the slowest large file.  A faster machine
# finishes a budget's worth of steps sooner, a slower one later; the cut-off stays put.
STEPS_PER_SECOND = 3_000_000
# Parsing and indexing a module cost about this many walks of its tree by a rule.
PARSE_WALKS = 12
# The CPU time allowed, as a multiple of the time budget, before the analysis is stopped
# whatever its step count: several times what a step budget's worth of typical code takes (it
# cuts first only below 750k steps per second, a quarter of the slowest large Nova file's rate).
BACKSTOP_FACTOR = 4.0
# ... and never less than this: a small budget's few steps cost fixed overheads too (reading,
# policy) that steps do not count, and a backstop that cut first would make it machine-dependent.
BACKSTOP_MIN_S = 1.0


def resident_bytes() -> int | None:
    """This process's resident set size, or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            fields = statm.read().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def memory_readable() -> bool:
    return resident_bytes() is not None


@dataclass(frozen=True)
class Limits:
    """The budget of one file's analysis in one process; None means unbounded."""

    seconds: float | None = DEFAULT_TIME_BUDGET_S  # the time budget, counted in steps
    memory_bytes: int | None = None  # this process's share of the review's memory ceiling

    @property
    def steps(self) -> int | None:
        """The step budget: statements the engine may interpret for one file."""
        if not self.seconds:
            return None
        steps = self.seconds * STEPS_PER_SECOND
        return max(1, round(steps)) if math.isfinite(steps) else None  # 1e308 s: as good as no limit

    @property
    def backstop_seconds(self) -> float | None:
        """CPU seconds after which the analysis stops whatever its step count."""
        return None if not self.seconds else max(BACKSTOP_MIN_S, self.seconds * BACKSTOP_FACTOR)

    @classmethod
    def share(cls, seconds: float | None, max_memory_mib: int | None, processes: int, reserved: int = 0) -> Limits:
        """Limits for one of ``processes`` analysing processes that together may use
        ``max_memory_mib``, less ``reserved`` bytes held by the process that started them."""
        if not max_memory_mib:
            return cls(seconds, None)
        total = max_memory_mib * 1024 * 1024 - reserved
        return cls(seconds, max(MIN_MEMORY_SHARE, total // max(1, processes)))


def processes_within(max_memory_mib: int | None, wanted: int, reserved: int = 0) -> int:
    """How many of ``wanted`` worker processes the ceiling leaves a working share each: fewer
    processes, not shares too small to analyse a file in (which would break the ceiling); 0
    when not even one fits beside the ``reserved`` bytes of the process that would start it."""
    if not max_memory_mib:
        return wanted
    room = max_memory_mib * 1024 * 1024 - reserved
    return max(0, min(wanted, room // MIN_MEMORY_SHARE))


class Budget:
    """The budget of each file analysed in one process: :meth:`start` when a file's analysis
    starts, :meth:`spent` is the check, given the steps taken so far."""

    def __init__(self, limits: Limits, relieve: Callable[[], None] | None = None,
                 measure: Callable[[], int | None] = resident_bytes, clock: Callable[[], float] = time.process_time,
                 look_every: float = LOOK_EVERY_S):
        self.limits = limits
        self._relieve = relieve  # drops what can be rebuilt, under memory pressure
        self._measure = measure
        self._clock = clock
        self._step_limit = limits.steps
        self._deadline: float | None = None
        self._look_every = look_every
        self._next_look = 0.0  # time.monotonic() before which spent() does not look again
        self.reason: str | None = None  # TIME_BUDGET, CPU_BACKSTOP or MEMORY_CEILING once spent
        self._after_relief = 0  # resident size after the last relief: kept from file to file

    def start(self) -> None:
        backstop = self.limits.backstop_seconds
        self._deadline = self._clock() + backstop if backstop else None
        self.reason = None
        self._next_look = 0.0

    def spent(self, steps: int = 0) -> bool:
        """Whether the analysis must stop after ``steps`` steps since :meth:`start`; once true
        it stays true until the next start."""
        if self.reason is not None:
            return True
        if self._step_limit is not None and steps > self._step_limit:
            self.reason = TIME_BUDGET  # checked on every call: where it cuts must not depend on time
            return True
        if self._look_every:
            now = time.monotonic()
            if now < self._next_look:
                return False
            self._next_look = now + self._look_every
        if self._deadline is not None and self._clock() > self._deadline:
            self.reason = CPU_BACKSTOP
            return True
        ceiling = self.limits.memory_bytes
        if ceiling is not None and self._over(ceiling):
            self.reason = MEMORY_CEILING
            return True
        return False

    @property
    def repeatable(self) -> bool:
        """Whether the cut, if any, falls at the same place on every run and machine."""
        return self.reason in (None, TIME_BUDGET)

    def _over(self, ceiling: int) -> bool:
        resident = self._measure()
        if resident is None:
            return False
        if resident < ceiling * RELIEVE_AT or resident < self._after_relief + ceiling * RELIEF_STEP:
            return resident > ceiling
        if self._relieve is not None:
            self._relieve()
        gc.collect()
        resident = self._measure() or 0
        self._after_relief = resident
        return resident > ceiling

    def note(self, skipped: list[str]) -> str:
        """The "not fully reviewed" note for a spent budget."""
        seconds = self.limits.seconds
        if self.reason == TIME_BUDGET:
            head = (f"{TIME_BUDGET}: the analysis passed its {seconds:g} s limit "
                    f"({self.limits.steps:,} analysis steps)")
        elif self.reason == CPU_BACKSTOP:
            # "time budget" first too: it is the setting that decides, and what readers look for
            head = (f"{TIME_BUDGET}: the analysis passed {self.limits.backstop_seconds:g} s of CPU time, the backstop "
                    f"of its {seconds:g} s limit, before its {self.limits.steps:,} analysis steps; "
                    "where this cut falls depends on the machine")
        else:
            mib = (self.limits.memory_bytes or 0) // (1024 * 1024)
            head = f"{MEMORY_CEILING}: this process reached its share ({mib} MiB) of the memory ceiling"
        tail = "; findings so far are reported"
        if skipped:
            tail = f"; {len(skipped)} rule{'s' if len(skipped) != 1 else ''} did not run ({', '.join(skipped)})" + tail
        return head + tail + " (raise --time-budget or --max-memory for a full review)"
