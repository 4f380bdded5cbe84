"""Command line: arguments → configuration → review → report.  Nothing else lives here."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from . import __version__, baseline, changes, cwe, display, guards, parallel, reading, rules
from .cache import Cache
from . import config as configuration
from .progress import Progress
from .report import FORMATS, colour
from .report import text as text_report
from .report.escape import visible
from .review import ReviewResult, review

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its one-line form
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"secreview: error: {message}\n")


def _review_options(command: argparse.ArgumentParser) -> None:
    """Options of every command that reviews code."""
    command.add_argument("--format", choices=sorted(FORMATS), default="text")
    command.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    command.add_argument("--fail-on", metavar="SEVERITY", help="exit 1 when a finding at or above this severity remains (default: low)")
    command.add_argument("--min-severity", metavar="SEVERITY",
                         help="show only findings at or above this severity; the summary counts the rest (default: low)")
    command.add_argument("--min-confidence", metavar="CONFIDENCE",
                         help="show only findings at or above this confidence: low, medium or high (default: low)")
    command.add_argument("--threat-models", metavar="MODELS",
                         help="where untrusted data comes from, comma-separated: remote (always), local "
                              "(command line, standard input), environment (default: remote)")
    command.add_argument("--show-clean", action="store_true", default=None,
                         help="in the text of a tree, list each clean file instead of one line counting them")
    command.add_argument("--fail-on-incomplete", action="store_true", default=None,
                         help="also exit 1 when a file is not reviewed or not fully reviewed")
    command.add_argument("--config", metavar="PYPROJECT", help="read [tool.secreview] from this file instead of the nearest pyproject.toml")
    command.add_argument("--exclude", action="append", metavar="GLOB", help="skip paths matching GLOB (repeatable; added to the configured ones)")
    command.add_argument("--enable", action="append", metavar="RULE", help="review only with these rules or CWEs (repeatable)")
    command.add_argument("--disable", action="append", metavar="RULE", help="do not run these rules or CWEs (repeatable)")
    command.add_argument("--test-code", choices=configuration.TEST_CODE_POLICIES, help="findings to report in test code (default: relevant)")
    command.add_argument("--nosec", action="store_true", default=None, help="honour Bandit's '# nosec' comments")
    command.add_argument("--noqa", action="store_true", default=None, help="honour Ruff's and flake8's '# noqa: S...' comments")
    command.add_argument("--strict", action="store_true", default=None, help="also list unused and bare suppressions")
    command.add_argument("--max-file-size", type=int, metavar="BYTES", help="files larger than this are not reviewed")
    command.add_argument("--time-budget", type=float, metavar="SECONDS",
                         help="analysis time per file, in seconds, counted in analysis steps so that the cut-off is the "
                              "same on every run; past it the file is reported not fully reviewed "
                              f"(default {configuration.DEFAULT_TIME_BUDGET_S:g}; 0: no limit)")
    command.add_argument("--max-memory", type=int, metavar="MIB",
                         help="memory for the whole review, all processes; a file that would pass it is reported "
                              f"not fully reviewed (default {configuration.DEFAULT_MAX_MEMORY_MIB}; 0: no limit)")
    command.add_argument("--baseline", metavar="FILE",
                         help="report only findings that are not in this baseline, and list its entries that are fixed")
    command.add_argument("--jobs", "-j", type=int, metavar="N",
                         help="analyse in N processes (default: one per core; the report is the same for any N)")
    command.add_argument("--cache-dir", metavar="DIR",
                         help="keep the analyses of unchanged files here (default: $XDG_CACHE_HOME/secreview or ~/.cache/secreview)")
    command.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    command.add_argument("--quiet", "-q", action="store_true", help="no progress display on the terminal")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="secreview", description="Security code review for Python.")
    parser.add_argument("--version", "-V", action="version", version=f"secreview {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = commands.add_parser("scan", help="review files and directory trees ('-' reads standard input)")
    scan.add_argument("paths", nargs="+", metavar="PATH")
    _review_options(scan)
    scan.add_argument("--no-gitignore", action="store_true", help="review files that .gitignore ignores")
    scan.add_argument("--write-baseline", metavar="FILE",
                      help="record the findings in FILE (they are accepted: the exit code is 0); see --baseline")

    diff = commands.add_parser("diff", help="review a change: the working tree, a commit or a patch (only touched lines are reported)")
    diff.add_argument("base", nargs="?", metavar="BASE",
                      help="review the working tree against the merge base of BASE and HEAD (default: the upstream branch, else HEAD~1)")
    diff.add_argument("--commit", metavar="REV", help="review one commit against its parent, with its message")
    diff.add_argument("--patch", metavar="FILE", help="review a unified diff ('-' reads standard input) applied to this checkout")
    diff.add_argument("--staged", action="store_true", default=None,
                      help="review the staged change (the index against HEAD), as a pre-commit hook sees it")
    _review_options(diff)

    explain = commands.add_parser("explain", help="show a rule's documentation (by rule id or CWE-N)")
    explain.add_argument("selector", metavar="RULE|CWE-N")

    listing = commands.add_parser("rules", help="list the rules")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _named_config(args: argparse.Namespace) -> Path | None:
    if not args.config:
        return None
    pyproject = Path(args.config)
    if not pyproject.exists():  # any other kind of file is named by configuration.read_toml
        raise configuration.ConfigError(f"{pyproject}: no such file")
    return pyproject


_FOUND = Path()  # _config_for's default: the file --config names, else the nearest pyproject.toml


def _config_for(args: argparse.Namespace, pyproject: Path | None = _FOUND) -> configuration.Config:
    """The command line's flags over ``pyproject``'s [tool.secreview] (None: no file)."""
    if pyproject is _FOUND:
        pyproject = _named_config(args)
        if pyproject is None:
            first = next((p for p in getattr(args, "paths", ()) if p != "-"), ".")
            pyproject = configuration.find_pyproject(Path(first))
    loaded = configuration.load(pyproject)
    fail_on, min_severity, min_confidence, threat_models = (
        None if given is None else configuration.check_option(key, given, "--")
        for key, given in (("fail-on", args.fail_on), ("min-severity", args.min_severity),
                           ("min-confidence", args.min_confidence), ("threat-models", args.threat_models)))
    if args.max_file_size is not None and args.max_file_size <= 0:
        raise configuration.ConfigError("--max-file-size must be a positive number of bytes")
    time_budget = None if args.time_budget is None else configuration.check_option("time-budget", args.time_budget, "--")
    max_memory = None if args.max_memory is None else configuration.check_option("max-memory", args.max_memory, "--")
    if max_memory and not guards.memory_readable():
        print("secreview: --max-memory cannot be honoured here: this system does not show a process's "
              "resident memory", file=sys.stderr)
    unknown = [s for s in (args.enable or []) + (args.disable or []) if not rules.find(s)]
    if unknown:
        raise configuration.ConfigError(f"unknown rule or CWE: {', '.join(unknown)} (see 'secreview rules')")
    for key, selectors in (("enable", loaded.enable), ("disable", loaded.disable)):
        # a misspelt rule in the file would otherwise silently change what is reviewed
        unknown = [s for s in selectors if not rules.find(s)]
        if unknown:
            raise configuration.ConfigError(
                f"{loaded.source}: {key}: unknown rule or CWE: {', '.join(unknown)} (see 'secreview rules')")
    return loaded.with_overrides(
        exclude=loaded.exclude + tuple(args.exclude) if args.exclude else None,
        enable=tuple(args.enable) if args.enable else None,
        disable=loaded.disable + tuple(args.disable) if args.disable else None,
        fail_on=fail_on,
        fail_on_incomplete=args.fail_on_incomplete,
        min_severity=min_severity,
        min_confidence=min_confidence,
        show_clean=args.show_clean,
        threat_models=threat_models,
        test_code=args.test_code,
        nosec=args.nosec,
        noqa=args.noqa,
        strict=args.strict,
        max_file_size=args.max_file_size,
        time_budget=time_budget,
        max_memory=max_memory,
        respect_gitignore=False if getattr(args, "no_gitignore", False) else None,
    )


def _write(text: str, output: str | None) -> None:
    try:
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except OSError as exc:  # a full disk, /dev/full, a closed pipe: say where and why
        if not output:
            try:  # what could not be written would be tried again at exit, with a traceback
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass  # not a file descriptor (captured): nothing is retried
        raise OSError(exc.errno, f"cannot write the report: {exc.strerror or exc}",
                      output or "standard output") from None


def _report(args: argparse.Namespace, result: ReviewResult, entries: list | None = None) -> int:
    """``entries``: the baseline's, when the caller has read it (diff reads it as the base has it)."""
    if args.baseline:
        result = baseline.compare(result, baseline.read(Path(args.baseline)) if entries is None else entries)
        if result.provenance is None:
            result = dataclasses.replace(result, provenance=changes.provenance(result.root))
    result = display.shown(result)
    if args.format == "text" and colour.wanted(sys.stdout, to_file=bool(args.output)):
        _write(text_report.render(result, colour.ANSI), args.output)
    else:
        _write(FORMATS[args.format](result), args.output)
    return result.exit_code()


def _speed(args: argparse.Namespace) -> dict:
    """How to run the analyses (processes, cache, progress): never what the report says."""
    if args.jobs is not None and args.jobs < 1:
        raise configuration.ConfigError("--jobs must be a positive number of processes")
    return {
        "jobs": args.jobs if args.jobs is not None else parallel.default_jobs(),
        "cache": None if args.no_cache else Cache(Path(args.cache_dir) if args.cache_dir else None),
        "progress": Progress.for_terminal(sys.stderr, args.quiet),
    }


def _scan(args: argparse.Namespace) -> int:
    # A mistyped path in CI must not pass as a clean review, yet the paths that exist are still
    # reviewed: the missing one is listed as not reviewed and the run ends with exit code 2.
    missing = [p for p in args.paths if p != "-" and not os.path.lexists(p)]
    if missing:
        print(f"secreview: no such file or directory: {', '.join(visible(p) for p in missing)}", file=sys.stderr)
    speed = _speed(args)
    config = _config_for(args)
    result = review(args.paths, config, **speed)
    if not args.write_baseline:
        status = _report(args, result)
        return EXIT_USAGE if missing else status
    _report(args, result)  # compared with --baseline before that file may be replaced
    baseline.write(Path(args.write_baseline), result)
    count = len(result.findings)
    print(f"secreview: {count} finding{'' if count == 1 else 's'} written to the baseline {visible(args.write_baseline)}", file=sys.stderr)
    return EXIT_USAGE if missing else EXIT_CLEAN  # the findings just recorded are accepted


def _diff(args: argparse.Namespace) -> int:
    if sum(x is not None for x in (args.base, args.commit, args.patch, args.staged)) > 1:
        raise changes.ChangeError("give at most one of BASE, --commit and --patch, or --staged alone")
    speed = _speed(args)
    # from git, the base's pyproject.toml decides, never the change's; a patch is not applied yet
    settings = changes.Settings(lambda pyproject: _config_for(args, pyproject), _named_config(args))
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="secreview-") as scratch:
        if args.patch is not None:
            data = _read_patch(args.patch)
            name = "standard input" if args.patch == "-" else args.patch
            change = changes.patch_change(here, data, _config_for(args), Path(scratch), name=name)
        elif args.staged:
            change = changes.staged_change(here, settings, Path(scratch))
        elif args.commit is not None:
            change = changes.commit_change(here, args.commit, settings, Path(scratch))
        else:
            change = changes.working_tree_change(here, args.base, settings, Path(scratch))
        result = changes.review_change(change, **speed)
        entries = None
        if args.baseline:  # in the repository, it is the base's: a change cannot accept its own findings
            entries, result = changes.base_baseline(result, Path(args.baseline), Path(scratch))
        return _report(args, result, entries)


MAX_PATCH_BYTES = 256 * 1024 * 1024


def _read_patch(name: str) -> bytes:
    """The patch ``--patch`` names, at most MAX_PATCH_BYTES of it (``--patch /dev/zero`` would
    otherwise read until memory runs out).  A pipe is read like a file: ``--patch <(git diff)``."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_PATCH_BYTES + 1)
            if len(data) > MAX_PATCH_BYTES:
                raise reading.TooLarge(None, MAX_PATCH_BYTES)
            return data
        descriptor = os.open(name, os.O_RDONLY)
        try:
            return reading.read_bounded(descriptor, MAX_PATCH_BYTES)
        finally:
            os.close(descriptor)
    except reading.TooLarge:
        shown = "standard input" if name == "-" else name
        raise changes.ChangeError(f"{shown}: not read: a patch is at most {MAX_PATCH_BYTES} bytes") from None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, exc.filename or name) from None


def _explain(args: argparse.Namespace) -> int:
    found = rules.find(args.selector)
    tool = None if found else rules.foreign_tool(args.selector)
    if tool is not None:  # a Bandit id (B602) or a Ruff S code (S602): the rules that report the same
        code = args.selector.strip().upper()
        found = [r for r in map(rules.get, rules.by_foreign_code(code)) if r is not None]
        if not found:
            print(f"secreview: no secreview rule reports what {tool} {code} reports (see 'secreview rules')",
                  file=sys.stderr)
            return EXIT_USAGE
        print(f"{tool} {code} is reported by secreview's rule{'s' if len(found) > 1 else ''} "
              f"{', '.join(r.id for r in found)}.\n")
    if not found:
        number = cwe.parse_cwe(args.selector)
        if number is not None:
            try:
                entry = cwe.lookup(number)
            except cwe.UnknownCweError as exc:
                print(f"secreview: {exc.args[0]}", file=sys.stderr)
                return EXIT_USAGE
            print(f"CWE-{entry.id} {entry.name}: no secreview rule reports this CWE.", file=sys.stderr)
            return EXIT_USAGE
        print(f"secreview: no rule named {args.selector!r} (see 'secreview rules')", file=sys.stderr)
        return EXIT_USAGE
    for rule in found:
        pillar = cwe.pillar(rule.cwe)
        print(rule.doc_markdown.rstrip())
        print(f"\nCWE-{rule.cwe} {cwe.lookup(rule.cwe).name}; pillar CWE-{pillar.id} {pillar.name}; "
              f"default severity {rule.severity.label}, confidence {rule.confidence.label}.")
        if rule.bandit or rule.ruff:
            print(f"Counterparts: Bandit {', '.join(rule.bandit) or 'none'}; Ruff {', '.join(rule.ruff) or 'none'}.")
        print()
    return EXIT_CLEAN


def _rules(args: argparse.Namespace) -> int:
    listed = rules.all_rules()
    if args.format == "json":
        import json

        print(json.dumps([
            {"id": r.id, "cwe": f"CWE-{r.cwe}", "pillar": f"CWE-{cwe.pillar(r.cwe).id}", "severity": r.severity.label,
             "confidence": r.confidence.label, "family": r.family, "summary": r.summary,
             "bandit": list(r.bandit), "ruff": list(r.ruff)}
            for r in listed
        ], indent=2))
        return EXIT_CLEAN
    width = max((len(r.id) for r in listed), default=10)
    for r in listed:
        print(f"{r.id:<{width}}  CWE-{r.cwe:<5} {r.severity.label:<8} {r.summary}")
    return EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"scan": _scan, "diff": _diff, "explain": _explain, "rules": _rules}
    try:
        return handlers[args.command](args)
    except configuration.ConfigError as exc:
        print(f"secreview: configuration error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except (changes.ChangeError, baseline.BaselineError) as exc:
        print(f"secreview: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{visible(str(exc.filename))}: " if exc.filename else ""
        print(f"secreview: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
