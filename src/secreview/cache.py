"""The review cache: one file's analysis, reused while nothing it depended on has changed.

An entry holds a :class:`~secreview.review.FileAnalysis`: the file's own findings and the
findings its flows reach in other files, all raw (before suppressions and test-code policy),
and the file's suppression marks.  Policy is applied after the cache, on every run, to cached
and fresh analyses alike, with the flows arriving from other files merged in: so a suppression
added to a sink file, a flow newly arriving, or another policy setting is always honoured, and
none of them invalidates an entry.

The key holds exactly what can change what the rules compute for the file, nothing else:

- the cache format, the secreview code and built-in models (a hash of the installed package,
  so a development checkout is covered too, not only the version number) and the Python
  version that parses;
- the rules that run on the file: the enabled rules, and in test code only those the
  ``test-code`` setting lets report (review.rules_for: the others are not run there, which
  saves their time on half a typical project, so ``test-code`` is in the key of test files
  only, as a rule list, as are ``enable`` and ``disable``: two spellings of one selection
  share entries);
- ``max-file-size`` (it decides whether the file, and each module the engine follows a call
  into, is parsed at all) and the extra model files, names and contents;
- whether the project is large (the engine follows calls more sparingly there);
- the file's path as shown, module name, test-code status and content.

Not in the key: ``nosec``, ``noqa``, ``strict``, ``fail-on`` (policy and report), ``exclude`` and
``respect-gitignore`` (which files are reviewed: the project facts below cover what that changes
for one file), ``time-budget`` and ``max-memory`` (a result they cut short is never stored, and
a whole one does not depend on them).  Nor where the file lies on disk: the same content at the same shown path is the
same analysis, whether read from the checkout or written by git to a scratch directory.

Inside, the entry records what of the rest of the project the analysis depended on, checked on
every use:

- the content hash of each module the data-flow engine loaded while analysing the file (a
  change to a helper re-reviews its callers);
- whether each module name it asked about exists (a module added or removed);
- the answers to "is this function referred to elsewhere", which count names over all files:
  checked against the current counts when any file of the project changed.

Entries are JSON (never pickle: a cache directory must not be a way to run code), written to
a temporary file and moved into place with ``os.replace``, so a run killed at any moment or
two runs at once leave whole entries or none.  The cache directory is not trusted to hold only
what secreview wrote: an entry is read only if it is a regular file of at most
:data:`MAX_ENTRY_BYTES` (never a FIFO, which would block, or a link to ``/dev/zero``, which
would never end), and one that does not parse (torn, nested too deeply for the decoder, holding
a value of the wrong type, an unknown rule or CWE), or was written for another key or format,
is a miss: the file is analysed afresh and the entry rewritten.  The directory is bounded: beyond
``max_bytes`` the entries used least recently are deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, cwe, reading, rules
from .findings import Confidence, FileReview, Finding, Location, Severity, TraceStep
from .policy import Suppression, SuppressionMarks
from .models import MAX_MODEL_BYTES
from .python import dataflow
from .review import _model_paths, active_rules, rules_for

if TYPE_CHECKING:
    from .config import Config
    from .discover import SourceFile
    from .review import FileAnalysis

FORMAT = "secreview-cache-3"  # 3: a suppression mark records its kind (secreview, nosec, noqa)
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
STALE_TEMPORARY_S = 3600  # a temporary file this old belongs to a run that was killed
# The largest entry read back: far beyond what any file's analysis writes (Nova's largest is
# under 1 MB), small enough that a planted huge file costs little.
MAX_ENTRY_BYTES = 32 * 1024 * 1024
# What decoding a damaged or planted entry can raise: a miss, never a crash.  RecursionError:
# JSON nested deeper than the decoder's stack; OverflowError: Infinity where an int belongs.
_UNUSABLE_ENTRY = (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError,
                   OverflowError)


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "secreview"


def _load_entry(path: Path) -> Any:
    """The JSON document stored at ``path``: a regular file, at most MAX_ENTRY_BYTES."""
    return json.loads(reading.read_regular(path, MAX_ENTRY_BYTES))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_ENGINE_DIGEST: str | None = None


def engine_digest() -> str:
    """A hash of secreview's own code and built-in models: a new release or a local edit of
    either changes what an analysis finds."""
    global _ENGINE_DIGEST
    if _ENGINE_DIGEST is None:
        package = Path(__file__).resolve().parent
        # the interpreter too: what parses (and so what is "not valid Python") depends on it
        digest = hashlib.sha256(f"{__version__}\0{sys.implementation.name}\0{sys.version_info[:2]}".encode())
        for path in sorted(package.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file() or path.suffix in (".pyc", ".pyo"):
                continue
            digest.update(str(path.relative_to(package)).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(path.read_bytes() + b"\0")
        _ENGINE_DIGEST = digest.hexdigest()
    return _ENGINE_DIGEST


def analysis_settings_digest(config: Config) -> str:
    """A hash of the settings that change an analysis whatever the file (the rules that run are
    keyed per file): the file-size limit, the threat models and the extra model files' names and
    contents."""
    digest = hashlib.sha256(f"max-file-size={config.max_file_size}\0threat-models={','.join(config.threat_models)}\0"
                            .encode())
    for model in _model_paths(config):
        digest.update(model.encode("utf-8", "surrogateescape") + b"\0")
        try:
            digest.update(reading.read_regular(model, MAX_MODEL_BYTES))
        except OSError:  # the review itself reports the unreadable or oversized model
            digest.update(b"\0missing")
    return digest.hexdigest()


class Cache:
    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory) if directory is not None else default_directory()
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    def begin(self, files: list[SourceFile], contents: dict[str, bytes], config: Config) -> _Run:
        """Start a run over these files (all readable, with their contents): cached analyses by file."""
        return _Run(self, files, contents, config)

    def prune(self) -> None:
        """Delete the least recently used entries beyond ``max_bytes`` (to 80% of it), and
        temporary files left by killed runs."""
        entries: list[tuple[float, int, str]] = []
        total = 0
        now = time.time()
        try:
            shards = list(os.scandir(self.directory / "entries"))
        except OSError:
            return
        for shard in shards:
            try:
                items = list(os.scandir(shard.path)) if shard.is_dir() else []
            except OSError:
                continue
            for item in items:
                try:
                    stat = item.stat()
                except OSError:
                    continue  # removed by another run meanwhile
                if item.name.startswith(".tmp-"):
                    if now - stat.st_mtime > STALE_TEMPORARY_S:
                        _remove(item.path)
                    continue
                entries.append((stat.st_mtime, stat.st_size, item.path))
                total += stat.st_size
        if total <= self.max_bytes:
            return
        entries.sort()
        for _, size, path in entries:
            if total <= self.max_bytes * 0.8:
                break
            _remove(path)
            total -= size


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


class _Run:
    """The keys and project facts of one review, computed once and used for every file."""

    def __init__(self, cache: Cache, files: list[SourceFile], contents: dict[str, bytes], config: Config):
        self.cache = cache
        self.contents = contents
        self.hashes = {path: _sha256(data) for path, data in contents.items()}
        # the modules of the project, as review._project declares them (a later file of the same
        # module name wins there too)
        self.modules: dict[str, str] = {}
        for source_file in files:
            if source_file.module and (source_file.absolute is not None or source_file.path in contents):
                self.modules[source_file.module] = self.hashes[source_file.path]
        # the engine follows calls more sparingly in a large project: crossing that size changes
        # what every file's analysis may find
        size_class = "small" if len(self.modules) <= dataflow.SMALL_PROJECT else "large"
        self.prefix = "\0".join((FORMAT, engine_digest(), analysis_settings_digest(config), size_class))
        self._config = config
        self._active = active_rules(config)
        listing = sorted((f.path, f.module, self.hashes[f.path]) for f in files)
        self.project = _sha256(repr(listing).encode("utf-8", "surrogateescape"))
        self._references: tuple[dict[str, int], dict[str, int]] | None = None

    def key(self, source_file: SourceFile) -> str:
        rule_ids = ",".join(r.id for r in rules_for(source_file, self._active, self._config))
        text = "\0".join((self.prefix, rule_ids, source_file.path, source_file.module, str(source_file.is_test),
                          self.hashes[source_file.path]))
        return _sha256(text.encode("utf-8", "surrogateescape"))

    def _path(self, key: str) -> Path:
        return self.cache.directory / "entries" / key[:2] / f"{key}.json"

    def get(self, source_file: SourceFile) -> FileAnalysis | None:
        if source_file.absolute is None:
            return None  # standard input: nothing to gain, and no name to key on
        key = self.key(source_file)
        path = self._path(key)
        try:
            entry = _load_entry(path)
            analysis = self._valid(entry, key)
        except _UNUSABLE_ENTRY:
            analysis = None  # missing, torn, planted, foreign or from another version: analysed afresh
        if analysis is None:
            self.cache.misses += 1
            return None
        self.cache.hits += 1
        try:
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass
        return analysis

    def _valid(self, entry: Any, key: str) -> FileAnalysis | None:
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        for module, digest in entry["consulted"].items():
            if self.modules.get(module) != digest:
                return None
        for name, existed in entry["asked"].items():
            if (name in self.modules) != existed:
                return None
        callers = entry["callers"]
        if callers and entry["project"] != self.project:
            mentions, definitions = self.references()
            for name, answer in callers:
                if (mentions.get(name, 0) > definitions.get(name, 0)) != answer:
                    return None
        return _analysis_from_json(entry["analysis"])

    def references(self) -> tuple[dict[str, int], dict[str, int]]:
        """The name counts of the whole project (dataflow.name_references), kept in the cache by
        the project's contents: computing them is the dearest part of checking entries."""
        if self._references is None:
            path = self.cache.directory / "references" / f"{self.project}.json"
            try:
                stored = _load_entry(path)
                if stored.get("format") != FORMAT:
                    raise ValueError("another format")
                self._references = (_counts(stored["mentions"]), _counts(stored["definitions"]))
            except _UNUSABLE_ENTRY:
                from .python.dataflow import name_references

                mentions, definitions = name_references(self.contents.values())
                self._references = (dict(mentions), dict(definitions))
                _write_atomically(path, {"format": FORMAT, "mentions": self._references[0],
                                         "definitions": self._references[1]})
                self._keep_latest_references(path)
        return self._references

    def _keep_latest_references(self, latest: Path) -> None:
        """A few projects' counts are kept (several checkouts may share the cache), not every
        past state of each."""
        try:
            others = sorted((p.stat().st_mtime, p) for p in latest.parent.glob("*.json") if p != latest)
        except OSError:
            return
        for _, old in others[:-7]:
            _remove(str(old))

    def store(self, source_file: SourceFile, analysis: FileAnalysis) -> None:
        """Keep a fresh analysis, unless a time budget, the recursion limit or an error shaped it."""
        if source_file.absolute is None or not analysis.deterministic:
            return
        self._write(source_file, analysis)

    def _write(self, source_file: SourceFile, analysis: FileAnalysis) -> bool:
        key = self.key(source_file)
        consulted = {m: self.modules.get(m) for m in analysis.consulted}
        entry = {
            "format": FORMAT,
            "key": key,
            "path": source_file.path,
            "project": self.project,
            "consulted": consulted,
            "asked": {name: name in self.modules for name in analysis.asked},
            "callers": [list(pair) for pair in analysis.caller_answers],
            "analysis": _analysis_to_json(analysis),
        }
        return _write_atomically(self._path(key), entry)


def _counts(data: Any) -> dict[str, int]:
    counts = dict(data)
    if not all(isinstance(k, str) and isinstance(v, int) for k, v in counts.items()):
        raise TypeError("name counts must map names to integers")
    return counts


def _write_atomically(path: Path, entry: dict) -> bool:
    """Write ``entry`` so that readers see the old file or the new one, never a part."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(json.dumps(entry, separators=(",", ":")).encode("utf-8", "surrogatepass"))
            os.replace(temporary, path)
        except BaseException:
            _remove(temporary)
            raise
    except OSError:
        return False  # a read-only or full disk costs the cache, not the review
    return True


# --- JSON form of an analysis -------------------------------------------------------------------


def _location_to_json(location: Location) -> list:
    return [location.path, location.line, location.column, location.end_line, location.end_column, location.snippet]


def _location_from_json(data: list) -> Location:
    path, line, column, end_line, end_column, snippet = data
    return Location(_text(path), _integer(line), _integer(column), _integer(end_line), _integer(end_column),
                    _text(snippet))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _finding_to_json(finding: Finding) -> dict:
    return {
        "rule": finding.rule, "cwe": finding.cwe, "severity": int(finding.severity),
        "confidence": int(finding.confidence), "location": _location_to_json(finding.location),
        "message": finding.message, "fix": finding.fix, "scope": finding.scope,
        "trace": [[_location_to_json(step.location), step.label] for step in finding.trace],
        "fingerprint": finding.fingerprint,
    }


def _finding_from_json(data: dict) -> Finding:
    rule, cwe_id = data["rule"], data["cwe"]
    if not isinstance(rule, str) or rules.get(rule) is None:
        raise KeyError(f"unknown rule {rule!r}")
    if not isinstance(cwe_id, int):
        raise TypeError("cwe must be an integer")
    cwe.pillar(cwe_id)  # every report names the CWE and its pillar: UnknownCweError (a KeyError) if either is unknown
    return Finding(
        rule=rule, cwe=cwe_id, severity=Severity(data["severity"]),
        confidence=Confidence(data["confidence"]), location=_location_from_json(data["location"]),
        message=str(data["message"]), fix=str(data["fix"]), scope=str(data["scope"]),
        trace=tuple(TraceStep(_location_from_json(loc), str(label)) for loc, label in data["trace"]),
        fingerprint=str(data["fingerprint"]),
    )


def _marks_to_json(marks: SuppressionMarks | None) -> dict | None:
    if marks is None:
        return None
    return {
        "suppressions": [[m.line, list(m.selectors), m.text, m.kind] for m in marks.suppressions],
        "statements": [[line, first, stop] for line, (first, stop) in sorted(marks.statements.items())],
    }


def _marks_from_json(data: dict | None) -> SuppressionMarks | None:
    if data is None:
        return None
    return SuppressionMarks(
        suppressions=tuple(Suppression(int(line), tuple(str(s) for s in selectors), str(text), str(kind))
                           for line, selectors, text, kind in data["suppressions"]),
        statements={int(line): (int(first), int(stop)) for line, first, stop in data["statements"]},
    )


def _analysis_to_json(analysis: FileAnalysis) -> dict:
    review = analysis.review
    return {
        "review": {
            "path": review.path, "is_test": review.is_test,
            "not_reviewed": review.not_reviewed, "incomplete": list(review.incomplete),
        },
        "own": [_finding_to_json(f) for f in analysis.own],
        "elsewhere": [_finding_to_json(f) for f in analysis.elsewhere],
        "marks": _marks_to_json(analysis.marks),
    }


def _analysis_from_json(data: dict) -> FileAnalysis:
    from .review import FileAnalysis

    review = data["review"]
    not_reviewed = review["not_reviewed"]
    return FileAnalysis(
        review=FileReview(
            path=str(review["path"]), is_test=bool(review["is_test"]),
            not_reviewed=None if not_reviewed is None else str(not_reviewed),
            incomplete=[str(i) for i in review["incomplete"]],
        ),
        own=[_finding_from_json(f) for f in data["own"]],
        elsewhere=[_finding_from_json(f) for f in data["elsewhere"]],
        marks=_marks_from_json(data["marks"]),
    )
