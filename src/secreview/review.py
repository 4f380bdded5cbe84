"""Orchestration: discover → parse → analyse → policy, producing a :class:`ReviewResult`.

:func:`review_file` is pure (bytes and settings in, a :class:`FileReview` out) so it can run in
any process and be cached by content.  A failure inside one rule costs that rule on that file,
reported as "not fully reviewed", never the review.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import guards, policy, reading, rules
from .config import Config
from .discover import SourceFile, discover
from .findings import FileReview, Finding, Triage, assign_fingerprints
from . import models
from .python import dataflow
from .python.module import ModuleContext
from .python.source import NotReviewable, parse

if TYPE_CHECKING:
    from .baseline import BaselineEntry
    from .cache import Cache
    from .progress import Progress
    from .changes import Change, Provenance


@dataclass
class ReviewResult:
    files: list[FileReview]
    config: Config
    rules: list[rules.Rule]
    root: Path = field(default_factory=Path.cwd)  # the base of displayed paths (SARIF %SRCROOT%)
    # Set by the filters that run after the review (changes.review_change, baseline.compare):
    change: Change | None = None  # the change reviewed, with its commit message
    provenance: Provenance | None = None  # repository and revision, for SARIF
    baseline_state: dict[str, str] | None = None  # fingerprint -> "new" / "unchanged"; None: nothing compared
    fixed: list[BaselineEntry] = field(default_factory=list)  # compared findings that no longer occur
    still_present: list[Finding] = field(default_factory=list)  # in code the commit message says it fixes
    hidden: list[Finding] = field(default_factory=list)  # below min-severity/min-confidence (secreview.display)
    triaged: list[tuple[Finding, Triage]] = field(default_factory=list)  # baselined with a status (baseline.compare)

    @property
    def findings(self) -> list[Finding]:
        return [f for review in self.files for f in review.findings]

    def gaps(self) -> list[tuple[str, str, str]]:
        """(path, "not reviewed" or "not fully reviewed", why) for each file whose review a clean
        verdict does not cover in full: every format must say so, not only the text."""
        found = []
        for review in self.files:
            if review.not_reviewed is not None:
                found.append((review.path, "not reviewed", review.not_reviewed))
            found.extend((review.path, "not fully reviewed", note) for note in review.incomplete)
        return found

    def exit_code(self) -> int:
        if self.config.fail_on_incomplete and self.gaps():
            return 1  # what was not read cannot pass a gate that asks for a complete review
        return 1 if any(f.severity >= self.config.fail_on for f in self.findings) else 0


def active_rules(config: Config) -> list[rules.Rule]:
    return [r for r in rules.all_rules() if config.rule_enabled(r.id, r.cwe)]


def review_file(source_file: SourceFile, data: bytes, config: Config, active: list[rules.Rule],
                project: dataflow.Project | None = None) -> FileReview:
    outcome = _analyse_guarded(source_file, data, config, active, project, file_limits(config))
    if outcome.marks is not None:
        _apply_policy(outcome.review, [f for f in outcome.found if f.location.path == outcome.review.path],
                      outcome.marks, config)
    return outcome.review


def rules_for(source_file: SourceFile, active: list[rules.Rule], config: Config) -> list[rules.Rule]:
    """The rules that analyse this file: in test code, only those the test-code policy lets
    report (the others' findings would all be dropped, so they are not computed)."""
    if not source_file.is_test:
        return active
    return [r for r in active if policy.applies_in_tests(r.relevant_in_tests, config)]


def file_limits(config: Config, processes: int = 1, reserved: int = 0) -> guards.Limits:
    """The budget of one file's analysis in one of ``processes`` analysing processes."""
    return guards.Limits.share(config.time_budget or None, config.max_memory or None, processes, reserved)


_TOO_DEEP = "code nested too deeply to analyse"
_INTERNAL_ERROR = "internal error"
_OUT_OF_MEMORY = "out of memory"


@dataclass
class _Outcome:
    """One file's analysis before policy, with the file's suppression marks (None when it could
    not be parsed); ``repeatable`` is False when the machine shaped it (a budget, the
    interpreter's stack, an error), so that another run may find more."""

    review: FileReview
    found: list[Finding] = field(default_factory=list)  # some may lie in other files of the project
    marks: policy.SuppressionMarks | None = None
    repeatable: bool = True


def _analyse_guarded(source_file: SourceFile, data: bytes, config: Config, active: list[rules.Rule],
                     project: dataflow.Project | None, limits: guards.Limits) -> _Outcome:
    """:func:`_analyse_file`, with a failure outside any one rule (building the module's index,
    registering it with the engine) costing this file, shown as not reviewed, not the review."""
    try:
        return _analyse_file(source_file, data, config, active, project, limits)
    except RecursionError:
        reason = _TOO_DEEP
    except MemoryError:
        reason = _OUT_OF_MEMORY
    except Exception as exc:  # a bug of ours: say so in the report rather than end with a traceback
        reason = f"{_INTERNAL_ERROR} ({type(exc).__name__}: {exc}); please report it"
    return _Outcome(FileReview(path=source_file.path, is_test=source_file.is_test, not_reviewed=reason),
                    repeatable=False)


def _analyse_file(source_file: SourceFile, data: bytes, config: Config, active: list[rules.Rule],
                  project: dataflow.Project | None, limits: guards.Limits) -> _Outcome:
    """The rules' findings for one file, within its budget (see :mod:`secreview.guards`)."""
    result = FileReview(path=source_file.path, is_test=source_file.is_test)
    if project is None:
        project = _project([source_file], config, {source_file.path: data})
    project.start_file(source_file.module or source_file.path)
    budget = project.budget
    if budget is None or budget.limits != limits:
        budget = project.budget = guards.Budget(limits, relieve=project.relieve_memory)
    budget.start()
    ctx = project.cached_context(source_file.module) if source_file.module else None
    if ctx is not None and ctx.path == source_file.path and ctx.source.text.encode("utf-8", "surrogatepass") == data:
        parsed = ctx.source  # the engine parsed it already to follow a call into it
    else:
        try:
            parsed = parse(source_file.path, data, config.max_file_size)
        except NotReviewable as exc:
            result.not_reviewed = str(exc)
            return _Outcome(result)
        ctx = ModuleContext(parsed, module_name=source_file.module, is_test=source_file.is_test)
    ctx.project = project
    project.register(ctx)
    # Each rule walks the tree about once, and parsing and indexing cost about PARSE_WALKS walks:
    # counted as that many steps, whether or not this process had the module parsed already, so
    # that the count is the same in any run.
    walk = ctx.node_count
    project.steps += walk * guards.PARSE_WALKS
    outcome = _Outcome(result, marks=policy.suppression_marks(parsed))
    result.incomplete.extend(parsed.notes)  # read as Python 2, lines skipped for a syntax error
    skipped: list[str] = []
    for rule in rules_for(source_file, active, config):
        if budget.spent(project.steps) and not rule.data_flow:
            skipped.append(rule.id)
            continue
        project.steps += walk
        try:
            outcome.found.extend(rule.run(ctx))
        except RecursionError:
            result.incomplete.append(f"rule {rule.id} stopped: code nested too deeply")
            outcome.repeatable = False
        except MemoryError:
            result.incomplete.append(f"rule {rule.id} stopped: {_OUT_OF_MEMORY}")
            outcome.repeatable = False
        except Exception as exc:  # a rule bug must not cost the rest of the review
            result.incomplete.append(f"rule {rule.id} failed: {type(exc).__name__}: {exc}")
            outcome.repeatable = False
    result.incomplete.extend(project.notes)
    if budget.reason is not None:
        result.incomplete.insert(0, budget.note(skipped))
        outcome.repeatable = False  # not cached: the time budget is not in the cache key
    if project.stack_exhausted:
        outcome.repeatable = False
    return outcome


def _apply_policy(result: FileReview, found: list[Finding], marks: policy.SuppressionMarks, config: Config) -> None:
    """Deduplicate, apply suppressions and assign fingerprints: the file's findings as shown."""
    if result.is_test:
        # a flow from another file into test code follows the test-code policy of the sink's file
        found = [f for f in found if policy.applies_in_tests(_relevant_in_tests(f.rule), config)]
    found = _dedupe(sorted(found, key=lambda f: f.sort_key))
    applied = policy.apply_suppressions(found, marks, config)
    result.findings = assign_fingerprints(applied.kept)
    result.unused_suppressions = [(m.line, m.text) for m in applied.unused]
    result.bare_suppressions = [m.line for m in applied.bare]


def _relevant_in_tests(rule_id: str) -> bool:
    found = rules.get(rule_id)
    return found is not None and found.relevant_in_tests


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and location: two paths to the same sink are one defect."""
    seen: set[tuple] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.rule, finding.location.line, finding.location.column)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _read(source_file: SourceFile, limit: int) -> bytes:
    """The file's content, never more than ``limit`` (max-file-size) bytes of it: the size is
    checked before reading (:mod:`secreview.reading`), so many oversized files cost nothing.
    Raises :class:`NotReviewable` (too large, not a regular file) or OSError."""
    try:
        if source_file.absolute is None:
            return _read_stream(sys.stdin.buffer, limit)
        return reading.read_regular(source_file.absolute, limit)
    except reading.TooLarge as exc:
        raise NotReviewable(f"file too large ({exc.shown_size} bytes; limit {limit}, see max-file-size)") from None
    except reading.NotRegularFile:
        raise NotReviewable("not a regular file") from None


def _read_stream(stream, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise reading.TooLarge(None, limit)
    return data


def _project(files: list[SourceFile], config: Config, known: dict[str, bytes]) -> dataflow.Project:
    """The data-flow engine's view of the reviewed files: modules it may load to follow calls."""

    def loader(source_file: SourceFile):
        def load() -> ModuleContext | None:
            try:
                data = known[source_file.path] if source_file.path in known else _read(source_file, config.max_file_size)
                parsed = parse(source_file.path, data, config.max_file_size)
            except (OSError, NotReviewable):
                return None
            return ModuleContext(parsed, module_name=source_file.module, is_test=source_file.is_test)
        return load

    def references() -> tuple[dict[str, int], dict[str, int]]:
        texts = []
        for source_file in files:
            try:
                texts.append(known[source_file.path] if source_file.path in known
                             else _read(source_file, config.max_file_size))
            except (OSError, NotReviewable):
                continue
        return dataflow.name_references(texts)

    modules = {f.module: loader(f) for f in files if f.module and f.absolute is not None or f.path in known and f.module}
    project = dataflow.Project(modules, models.load(_model_paths(config)), references)
    project.threat_models = frozenset(config.threat_models)
    return project


def _model_paths(config: Config) -> tuple[str, ...]:
    base = config.root or Path.cwd()
    return tuple(str((base / p) if not Path(p).is_absolute() else Path(p)) for p in config.models)


@dataclass
class FileAnalysis:
    """One file's analysis, before policy: what a worker process returns and the cache stores.

    ``review`` says whether the file was (fully) reviewed, without findings; ``own`` holds the
    raw findings located in this file, ``elsewhere`` those located in other files of the
    project, and ``marks`` the file's suppression comments (None when it could not be parsed).
    Policy is applied afterwards, on every run, to ``own`` and the flows arriving from other
    files (:func:`review_files`).  ``consulted``, ``asked`` and ``caller_answers`` record what of
    the rest of the project the analysis depended on.
    """

    review: FileReview
    own: list[Finding] = field(default_factory=list)
    elsewhere: list[Finding] = field(default_factory=list)
    marks: policy.SuppressionMarks | None = None
    consulted: tuple[str, ...] = ()  # modules whose code the analysis read
    asked: tuple[str, ...] = ()  # module names whose existence the analysis asked about
    caller_answers: tuple[tuple[str, bool], ...] = ()  # Project.has_callers questions and answers
    # False when a budget, the interpreter's stack or an error shaped the result: another run
    # may do better, so it is not kept
    deterministic: bool = True


def analyse(source_file: SourceFile, data: bytes, config: Config, active: list[rules.Rule],
            project: dataflow.Project, limits: guards.Limits) -> FileAnalysis:
    """Analyse one file of ``project`` (in this process or a worker): see :class:`FileAnalysis`."""
    outcome = _analyse_guarded(source_file, data, config, active, project, limits)
    result = outcome.review
    return FileAnalysis(
        review=result, marks=outcome.marks,
        own=[f for f in outcome.found if f.location.path == result.path],
        elsewhere=[f for f in outcome.found if f.location.path != result.path],
        consulted=tuple(sorted(project.consulted)), asked=tuple(sorted(project.asked)),
        caller_answers=tuple(sorted(project.caller_answers.items())),
        deterministic=outcome.repeatable,
    )


def review_files(files: list[SourceFile], config: Config, reviews: list[FileReview] | None = None, *,
                 jobs: int = 1, cache: Cache | None = None, progress: Progress | None = None) -> ReviewResult:
    """Review already discovered files; ``reviews`` holds entries for paths that could not be read.

    The files form one project for the data-flow engine: a flow from a request handler in one
    file into a sink in another is reported at the sink, in the sink's file, and that file's
    policy (suppressions, test code) applies to it.  ``jobs`` > 1 analyses the files in that
    many worker processes; ``cache`` reuses analyses of unchanged files.  Neither changes the
    report: each file's analysis depends only on the project's code (Project.start_file), and
    the regrouping below runs in the order of ``files`` whoever analysed them.
    """
    from .parallel import analyse_all

    active = active_rules(config)
    reviews = list(reviews or [])
    _, analyses, _ = analyse_all(files, config, active, reviews, jobs=jobs, cache=cache, progress=progress)
    arriving: dict[str, list[Finding]] = {}
    for analysis in analyses:
        for finding in analysis.elsewhere:
            arriving.setdefault(finding.location.path, []).append(finding)  # dropped if its file is not reviewed
    for analysis in analyses:
        result = analysis.review
        if analysis.marks is not None:
            _apply_policy(result, analysis.own + arriving.get(result.path, []), analysis.marks, config)
        reviews.append(result)
    reviews.sort(key=lambda r: r.path)
    return ReviewResult(files=reviews, config=config, rules=active, root=Path.cwd())


def review(paths: list[str], config: Config, *, jobs: int = 1, cache: Cache | None = None,
           progress: Progress | None = None) -> ReviewResult:
    files, problems = discover(paths, config)
    return review_files(files, config, [FileReview(path=p.path, not_reviewed=p.reason, is_folder=p.is_folder) for p in problems],
                        jobs=jobs, cache=cache, progress=progress)
