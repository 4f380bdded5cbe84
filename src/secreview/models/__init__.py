"""Library models for the data-flow engine, as data: what library code does with untrusted values.

Each ``*.toml`` file in this package describes one library (or family), keyed by qualified names
as :mod:`secreview.python.names` resolves them (``flask.request.args``, ``subprocess.run``).  A
name ending in ``()`` is an instance of the class before it: ``requests.Session().get`` is the
``get`` method of a ``requests.Session`` object, ``django.http.HttpRequest()`` is a request.

Tables (all optional in a file):

``[aliases]``
    ``"fastapi.Request" = "starlette.requests.Request"``: one name for one thing, applied to the
    longest matching prefix before any lookup.
``[[source]]``
    ``names`` (attributes read or functions called), ``kind`` (``http`` remote input; lower
    trust: ``cli``, ``env``, ``stdin``, ``file``), ``what`` (how a message names it), ``keys``
    (for a mapping such as a WSGI environ: only entries under matching constant keys are input).
``[[sink]]``
    ``calls`` (qualified names) and/or ``methods`` (method names on receivers of any type,
    narrowed by ``receiver`` or ``receiver_type`` regular expressions on the receiver's text or
    qualified name), ``kind`` (the sink kind rules select), ``args`` (positions, ``-1``: the
    receiver itself, ``"*"``: every argument), ``keywords``, ``when`` (a keyword that must be
    constant-true, e.g. ``shell``), ``unless`` (a keyword that, constant-true, disarms it),
    ``part`` (``whole``, ``head``: the program of a command, ``tail``: its arguments),
    ``unknown`` (``any`` or ``built``: report values of unknown origin at low confidence; only for
    sinks dangerous by construction), ``host_fixed`` (a constant prefix that fixes the host makes
    the value safe), ``key`` / ``key_not`` (regex the constant first argument must match / not
    match), ``safe_flag`` (``keyword=flag``: an argument built with that constant keyword makes
    it safe), ``html_only`` (a constant content type keyword that is not HTML disarms it),
    ``operators`` (for query documents: only values under these keys matter), ``shells`` (programs
    that run their ``-c`` argument as a shell command), ``safe_flag_arg`` (the position of the
    ``safe_flag`` keyword when passed positionally), ``format_arg`` (the position of a %-format
    string that the callee applies to the arguments after it, as logging does: ``%d`` and ``%r``
    neutralise what they format), ``argv_from`` (with ``args = "*"`` and a ``part``: where the
    argument vector starts), ``keeps`` (the result still holds the input: parsers and
    deserialisers; other sinks' results do not carry what they consumed), ``what``.
``[[sanitizer]]``
    ``calls`` / ``methods`` (a name in ``calls`` may be an attribute read like a property:
    ``pathlib.Path().name``), ``kinds`` cleaned (``"*"``: every kind: conversions to numbers),
    ``arg_contains`` (the method's first argument must contain one of these constant strings),
    ``keyword`` / ``keyword_values`` (only when that keyword names one of these: ``type=int``).
``[[propagator]]``
    ``calls`` / ``methods``, ``from``: ``["args", "receiver"]`` or positions; ``[]`` means the
    result carries nothing (``len``).  Calls without a model pass everything to the result.
    ``flag``: a property of the result (``document``: a structure parsed from text, which a
    query may use whole).
``[[setter]]``
    ``methods`` that set an option on their receiver (``parser.setFeature(feature_external_ges,
    True)``): the receiver then carries the flag ``feature_external_ges=True`` that a sink's
    ``requires_flag`` (``"receiver:flag"`` or ``"keyword:flag"``) asks for.
``[[noreturn]]``
    ``calls``: functions that never return (``flask.abort``, ``sys.exit``).
``[[validating_class]]``
    ``bases``: classes whose subclasses convert each annotated field to its declared type when
    an instance is built (pydantic's ``BaseModel``): a field declared ``int``, ``Literal[...]``
    or as an enumeration holds no text from the input, whatever the input was.  Forms and
    serializers declare fields as class attributes instead (``port = forms.IntegerField()``):
    ``closed_fields`` names the field classes whose values hold no text, ``data`` the attributes
    (``cleaned_data``) where the instance keeps the converted values by field name.
``[[entry]]``
    framework entry points whose parameters carry input: ``decorators`` (qualified names of
    route decorators) / ``decorator_methods`` (``@anything.route(...)``), ``bases`` (classes
    whose methods are handlers, matched on the qualified name's suffix), ``methods`` (handler
    method names; empty: all public ones), ``params`` (``"*"``: every parameter, or a list of
    names), ``typed`` (parameter name → the type it has, e.g. ``request`` →
    ``django.http.HttpRequest``), ``self_type``, ``first_param`` / ``module_imports`` (function
    views recognised by their first parameter in modules importing a framework), ``kind``,
    ``what``, ``skip_defaults`` / ``skip_annotations`` (parameters that are not input),
    ``return_sink`` (the handler's return value is a response body: a sink of that kind),
    ``converted`` (a regex over the route text whose group ``name`` names parameters the
    framework converts to numbers, like Flask's ``<int:id>``), ``registered_by`` /
    ``registered_arg`` / ``registered_keyword`` (handlers registered by a call instead of a
    decorator: ``app.add_url_rule("/x", view_func=handler)``, ``Route("/", handler)``),
    ``initializers`` (methods of the handler's class that the framework runs before each
    handler, such as Django's ``setup``/``dispatch`` or Tornado's ``prepare``: the request data
    they store on ``self`` is there in the handler).
``[[guard]]``
    ``calls`` / ``methods``: validations; where they are true, the value they test (argument
    ``arg``, or ``-1`` for the receiver) is clean for ``kinds``; ``negated = true``: clean where
    they are false (``x.startswith("-")``), ``arg_equals`` narrows to constant arguments,
    ``anchored`` (a regular expression check counts only when its pattern is anchored at the
    end: ``re.match(r"[a-z]+$", x)``; for methods, the receiver compiled such a pattern).

Users extend the models with ``[tool.secreview] models = ["path/to/file.toml"]``; a file that is
not valid is a :class:`ModelError` naming the file and the entry.  A model file is read only if
it is a regular file of at most :data:`MAX_MODEL_BYTES` (``/dev/zero`` would be read until memory
runs out, a FIFO would block), and an error never quotes the file's content: a key that is not
a plain name is counted, not shown, so a configuration pointed at a file of secrets cannot
print them.  (config.py keeps the paths inside the project whose pyproject.toml names them.)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import reading

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ALL_KINDS = "*"
MAX_MODEL_BYTES = 4 * 1024 * 1024  # the largest built-in model file is 16 kB
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")


class ModelError(Exception):
    """A model file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class SourceModel:
    kind: str
    what: str
    keys: re.Pattern | None = None  # a mapping whose entries under these constant keys only are input


@dataclass(frozen=True)
class SinkModel:
    kind: str
    args: tuple[int, ...] = ()
    all_args: bool = False
    keywords: tuple[str, ...] = ()
    when: str | None = None
    unless: str | None = None
    part: str = "whole"
    unknown: str = "none"
    host_fixed: bool = False
    receiver: re.Pattern | None = None
    receiver_type: re.Pattern | None = None
    key: re.Pattern | None = None
    key_not: re.Pattern | None = None
    safe_flag: tuple[str, str] | None = None
    html_only: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    shells: frozenset[str] = frozenset()
    safe_flag_arg: int | None = None
    format_arg: int | None = None
    argv_from: int = 0
    keeps: bool = False
    requires_flag: tuple[str, str] | None = None  # (keyword or "receiver", flag): armed only when set
    what: str = ""


@dataclass(frozen=True)
class SanitizerModel:
    kinds: frozenset[str]
    arg_contains: tuple[str, ...] = ()
    keyword: str | None = None  # only when this keyword names one of keyword_values (type=int)
    keyword_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardModel:
    kinds: frozenset[str]
    arg: int = 0
    negated: bool = False
    arg_equals: tuple[str, ...] = ()
    when: str = "truthy"  # or "equal": the check holds where the call's result equals the other operand
    anchored: bool = False  # only with a pattern anchored at its end (argument 0, or the compiled receiver)


@dataclass(frozen=True)
class EntryModel:
    decorators: frozenset[str] = frozenset()
    decorator_methods: frozenset[str] = frozenset()
    decorator_receivers: re.Pattern | None = None
    bases: tuple[str, ...] = ()
    methods: frozenset[str] = frozenset()
    params: tuple[str, ...] = ()  # ("*",): every parameter
    typed: dict[str, str] = field(default_factory=dict)
    self_type: str | None = None
    first_param: str | None = None
    module_imports: str | None = None
    kind: str = "http"
    what: str = "a request parameter"
    skip_defaults: frozenset[str] = frozenset()
    skip_annotations: frozenset[str] = frozenset()
    return_sink: str | None = None  # the handler's return value is a response body of this sink kind
    converted: re.Pattern | None = None  # in the route text, names the parameters the framework converts to numbers
    registered_by: frozenset[str] = frozenset()  # calls that register a handler function: add_url_rule, Route
    registered_arg: int | None = None
    registered_keyword: str | None = None
    initializers: tuple[str, ...] = ()  # methods the framework runs before each handler (setup, prepare)


@dataclass
class Models:
    aliases: dict[str, str] = field(default_factory=dict)
    sources: dict[str, SourceModel] = field(default_factory=dict)
    call_sinks: dict[str, list[SinkModel]] = field(default_factory=dict)
    method_sinks: dict[str, list[SinkModel]] = field(default_factory=dict)
    call_sanitizers: dict[str, SanitizerModel] = field(default_factory=dict)
    method_sanitizers: dict[str, list[SanitizerModel]] = field(default_factory=dict)
    call_propagators: dict[str, tuple[str, ...]] = field(default_factory=dict)
    method_propagators: dict[str, tuple[str, ...]] = field(default_factory=dict)
    noreturn: set[str] = field(default_factory=set)
    entries: list[EntryModel] = field(default_factory=list)
    call_guards: dict[str, GuardModel] = field(default_factory=dict)
    call_flags: dict[str, frozenset[str]] = field(default_factory=dict)
    setters: set[str] = field(default_factory=set)  # methods that set a named option on their receiver
    method_guards: dict[str, list[GuardModel]] = field(default_factory=dict)
    validating_bases: tuple[str, ...] = ()  # classes that convert annotated fields to their types (pydantic)
    validated_data: tuple[str, ...] = ()  # attributes holding a validating form's converted fields
    closed_field_types: frozenset[str] = frozenset()  # declared field classes whose values hold no text
    _canonical: dict[str, str] = field(default_factory=dict, repr=False)
    _instance_sinks: dict[str, list[SinkModel]] | None = field(default=None, repr=False)

    def canonical(self, name: str | None) -> str | None:
        """``name`` with its longest aliased prefix replaced."""
        if name is None or not self.aliases:
            return name
        cached = self._canonical.get(name)
        if cached is not None:
            return cached
        result = self._canonical_uncached(name)
        if len(self._canonical) < 200_000:
            self._canonical[name] = result
        return result

    def _canonical_uncached(self, name: str) -> str:
        probe = name
        while True:
            target = self.aliases.get(probe)
            if target is not None:
                return target + name[len(probe):]
            cut = max(probe.rfind("."), probe.rfind("("))
            if cut <= 0:
                return name
            probe = probe[:cut]

    @property
    def instance_sink_methods(self) -> dict[str, list[SinkModel]]:
        """Sinks that are methods of modelled objects (``requests.Session().get``), by method name:
        a call ``s.get(...)`` may be one before the analysis knows what ``s`` is."""
        if self._instance_sinks is None:
            found: dict[str, list[SinkModel]] = {}
            for name, sinks in self.call_sinks.items():
                if "()." in name:
                    found.setdefault(name.rpartition(".")[2], []).extend(sinks)
            self._instance_sinks = found
        return self._instance_sinks

    @property
    def ordered_entries(self) -> list[EntryModel]:
        """Specific entry models (qualified decorators, base classes) before name-based ones."""
        def specificity(entry: EntryModel) -> int:
            if entry.decorators or entry.bases or entry.registered_by:
                return 0
            return 1 if entry.first_param else 2
        return sorted(self.entries, key=specificity)

    @property
    def sink_method_names(self) -> frozenset[str]:
        return frozenset(self.method_sinks)


def _strings(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{where}: {key} must be a string or a list of strings")
    return tuple(value)


def _regex(where: str, key: str, value: Any) -> re.Pattern | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ModelError(f"{where}: {key} must be a regular expression string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ModelError(f"{where}: {key} is not a valid regular expression: {exc}") from None


def _check_keys(where: str, entry: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ModelError(f"{where}: must be a table")
    unknown = set(entry) - allowed
    if unknown:
        raise ModelError(f"{where}: unknown key(s) {_names(unknown)} (known: {', '.join(sorted(allowed))})")
    return entry


def _targets(where: str, entry: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    calls = _strings(where, "calls", entry.get("calls", []))
    methods = _strings(where, "methods", entry.get("methods", []))
    if not calls and not methods:
        raise ModelError(f"{where}: needs calls or methods")
    return calls, methods


_SINK_KEYS = {"calls", "methods", "kind", "args", "keywords", "when", "unless", "part", "unknown", "host_fixed",
              "receiver", "receiver_type", "key", "key_not", "safe_flag", "safe_flag_arg", "html_only", "operators", "shells",
              "format_arg", "argv_from", "keeps", "requires_flag", "what"}


def _sink(where: str, entry: dict[str, Any]) -> SinkModel:
    kind = entry.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ModelError(f"{where}: kind must be a non-empty string")
    raw_args = entry.get("args", [])
    all_args = raw_args == "*"
    if not all_args and (not isinstance(raw_args, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in raw_args)):
        raise ModelError(f"{where}: args must be a list of argument positions or \"*\"")
    part = entry.get("part", "whole")
    if part not in ("whole", "head", "tail"):
        raise ModelError(f"{where}: part must be whole, head or tail")
    unknown = entry.get("unknown", "none")
    if unknown not in ("none", "any", "built"):
        raise ModelError(f"{where}: unknown must be none, any or built")
    safe_flag = entry.get("safe_flag")
    if safe_flag is not None:
        if not isinstance(safe_flag, str) or "=" not in safe_flag:
            raise ModelError(f"{where}: safe_flag must look like 'keyword=flag'")
        keyword, _, flag = safe_flag.partition("=")
        safe_flag = (keyword, flag)
    return SinkModel(
        kind=kind,
        args=() if all_args else tuple(raw_args),
        all_args=all_args,
        keywords=_strings(where, "keywords", entry.get("keywords", [])),
        when=entry.get("when"),
        unless=entry.get("unless"),
        part=part,
        unknown=unknown,
        host_fixed=bool(entry.get("host_fixed", False)),
        receiver=_regex(where, "receiver", entry.get("receiver")),
        receiver_type=_regex(where, "receiver_type", entry.get("receiver_type")),
        key=_regex(where, "key", entry.get("key")),
        key_not=_regex(where, "key_not", entry.get("key_not")),
        safe_flag=safe_flag,
        html_only=_strings(where, "html_only", entry.get("html_only", [])),
        operators=_strings(where, "operators", entry.get("operators", [])),
        shells=frozenset(_strings(where, "shells", entry.get("shells", []))),
        safe_flag_arg=entry.get("safe_flag_arg"),
        format_arg=entry.get("format_arg"),
        argv_from=int(entry.get("argv_from", 0)),
        keeps=bool(entry.get("keeps", False)),
        requires_flag=_requires_flag(where, entry.get("requires_flag")),
        what=str(entry.get("what", "")),
    )


def _requires_flag(where: str, value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, str) or ":" not in value:
        raise ModelError(f"{where}: requires_flag must look like 'receiver:flag' or 'keyword:flag'")
    holder, _, flag = value.partition(":")
    return holder, flag


def _kinds(where: str, entry: dict[str, Any]) -> frozenset[str]:
    kinds = _strings(where, "kinds", entry.get("kinds", []))
    if not kinds:
        raise ModelError(f"{where}: kinds must name at least one kind (or \"*\")")
    return frozenset(kinds)


def _merge(models: Models, data: dict[str, Any], origin: str) -> None:
    known_tables = {"aliases", "source", "sink", "sanitizer", "propagator", "noreturn", "entry", "guard", "setter",
                    "validating_class"}
    unknown = set(data) - known_tables
    if unknown:
        raise ModelError(f"{origin}: unknown table(s) {_names(unknown)} (known: {', '.join(sorted(known_tables))})")
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise ModelError(f"{origin}: [aliases] must map names to names")
    models.aliases.update(aliases)
    for i, entry in enumerate(_array(origin, data, "source")):
        where = f"{origin}: source #{i + 1}"
        _check_keys(where, entry, {"names", "kind", "what", "keys"})
        kind = entry.get("kind")
        if not isinstance(kind, str):
            raise ModelError(f"{where}: kind must be a string")
        for name in _strings(where, "names", entry.get("names", [])):
            models.sources[name] = SourceModel(kind, str(entry.get("what", name)), _regex(where, "keys", entry.get("keys")))
    for i, entry in enumerate(_array(origin, data, "sink")):
        where = f"{origin}: sink #{i + 1}"
        _check_keys(where, entry, _SINK_KEYS)
        sink = _sink(where, entry)
        calls, methods = _targets(where, entry)
        for name in calls:
            models.call_sinks.setdefault(name, []).append(sink)
        for name in methods:
            models.method_sinks.setdefault(name, []).append(sink)
    for i, entry in enumerate(_array(origin, data, "sanitizer")):
        where = f"{origin}: sanitizer #{i + 1}"
        _check_keys(where, entry, {"calls", "methods", "kinds", "arg_contains", "keyword", "keyword_values"})
        sanitizer = SanitizerModel(_kinds(where, entry), _strings(where, "arg_contains", entry.get("arg_contains", [])),
                                   entry.get("keyword"), _strings(where, "keyword_values", entry.get("keyword_values", [])))
        calls, methods = _targets(where, entry)
        for name in calls:
            models.call_sanitizers[name] = sanitizer
        for name in methods:
            models.method_sanitizers.setdefault(name, []).append(sanitizer)
    for i, entry in enumerate(_array(origin, data, "propagator")):
        where = f"{origin}: propagator #{i + 1}"
        _check_keys(where, entry, {"calls", "methods", "from", "flag"})
        sources = entry.get("from", ["args", "receiver"])
        if not isinstance(sources, list) or not all(s in ("args", "receiver") or (isinstance(s, int) and not isinstance(s, bool)) for s in sources):
            raise ModelError(f"{where}: from must list \"args\", \"receiver\" or argument positions")
        calls, methods = _targets(where, entry)
        for name in calls:
            models.call_propagators[name] = tuple(str(s) for s in sources)
            if entry.get("flag"):
                models.call_flags[name] = models.call_flags.get(name, frozenset()) | {str(entry["flag"])}
        for name in methods:
            models.method_propagators[name] = tuple(str(s) for s in sources)
    for i, entry in enumerate(_array(origin, data, "setter")):
        where = f"{origin}: setter #{i + 1}"
        _check_keys(where, entry, {"methods"})
        models.setters.update(_strings(where, "methods", entry.get("methods", [])))
    for i, entry in enumerate(_array(origin, data, "validating_class")):
        where = f"{origin}: validating_class #{i + 1}"
        _check_keys(where, entry, {"bases", "data", "closed_fields"})
        models.validating_bases += _strings(where, "bases", entry.get("bases", []))
        models.validated_data += _strings(where, "data", entry.get("data", []))
        models.closed_field_types |= frozenset(_strings(where, "closed_fields", entry.get("closed_fields", [])))
    for i, entry in enumerate(_array(origin, data, "noreturn")):
        where = f"{origin}: noreturn #{i + 1}"
        _check_keys(where, entry, {"calls"})
        models.noreturn.update(_strings(where, "calls", entry.get("calls", [])))
    for i, entry in enumerate(_array(origin, data, "guard")):
        where = f"{origin}: guard #{i + 1}"
        _check_keys(where, entry, {"calls", "methods", "kinds", "arg", "negated", "arg_equals", "when", "anchored"})
        if entry.get("when", "truthy") not in ("truthy", "equal"):
            raise ModelError(f"{where}: when must be truthy or equal")
        arg = entry.get("arg", 0)
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise ModelError(f"{where}: arg must be an argument position (-1: the receiver)")
        guard = GuardModel(_kinds(where, entry), arg, bool(entry.get("negated", False)),
                           _strings(where, "arg_equals", entry.get("arg_equals", [])), entry.get("when", "truthy"),
                           bool(entry.get("anchored", False)))
        calls, methods = _targets(where, entry)
        for name in calls:
            models.call_guards[name] = guard
        for name in methods:
            models.method_guards.setdefault(name, []).append(guard)
    for i, entry in enumerate(_array(origin, data, "entry")):
        where = f"{origin}: entry #{i + 1}"
        _check_keys(where, entry, {"decorators", "decorator_methods", "decorator_receivers", "bases", "methods", "params",
                                   "typed", "self_type", "first_param", "module_imports", "kind", "what",
                                   "skip_defaults", "skip_annotations", "return_sink", "converted",
                                   "registered_by", "registered_arg", "registered_keyword", "initializers"})
        typed = entry.get("typed", {})
        if not isinstance(typed, dict) or not all(isinstance(v, str) for v in typed.values()):
            raise ModelError(f"{where}: typed must map parameter names to type names")
        models.entries.append(EntryModel(
            decorators=frozenset(_strings(where, "decorators", entry.get("decorators", []))),
            decorator_methods=frozenset(_strings(where, "decorator_methods", entry.get("decorator_methods", []))),
            decorator_receivers=_regex(where, "decorator_receivers", entry.get("decorator_receivers")),
            bases=_strings(where, "bases", entry.get("bases", [])),
            methods=frozenset(_strings(where, "methods", entry.get("methods", []))),
            params=_strings(where, "params", entry.get("params", [])),
            typed=dict(typed),
            self_type=entry.get("self_type"),
            first_param=entry.get("first_param"),
            module_imports=entry.get("module_imports"),
            kind=str(entry.get("kind", "http")),
            what=str(entry.get("what", "a request parameter")),
            skip_defaults=frozenset(_strings(where, "skip_defaults", entry.get("skip_defaults", []))),
            skip_annotations=frozenset(_strings(where, "skip_annotations", entry.get("skip_annotations", []))),
            return_sink=entry.get("return_sink"),
            converted=_regex(where, "converted", entry.get("converted")),
            registered_by=frozenset(_strings(where, "registered_by", entry.get("registered_by", []))),
            registered_arg=entry.get("registered_arg"),
            registered_keyword=entry.get("registered_keyword"),
            initializers=_strings(where, "initializers", entry.get("initializers", [])),
        ))


def _array(origin: str, data: dict[str, Any], table: str) -> list[Any]:
    value = data.get(table, [])
    if not isinstance(value, list):
        raise ModelError(f"{origin}: {table} must be an array of tables ([[{table}]])")
    return value


def _names(keys: set[str]) -> str:
    """Unknown keys as an error may show them: plain names, the others only counted."""
    plain = sorted(k for k in keys if isinstance(k, str) and _PLAIN_KEY.fullmatch(k))
    others = len(keys) - len(plain)
    return ", ".join([*plain, *([f"{others} key(s) that are not plain names"] if others else [])])


def _read(path: Path) -> dict[str, Any]:
    try:
        data = reading.read_regular(path, MAX_MODEL_BYTES)
    except reading.TooLarge as exc:
        raise ModelError(f"model file {path}: too large ({exc.shown_size} bytes; limit {MAX_MODEL_BYTES})") from None
    except reading.NotRegularFile:
        raise ModelError(f"model file {path}: not a regular file") from None
    except OSError as exc:
        raise ModelError(f"model file {path}: cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelError(f"model file {path}: not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"model file {path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ModelError(f"model file {path}: not valid TOML: nested too deeply") from None


def builtin_files() -> list[Path]:
    return sorted(Path(__file__).parent.glob("*.toml"))


@lru_cache(maxsize=8)
def load(extra: tuple[str, ...] = ()) -> Models:
    """The built-in models plus ``extra`` model files (paths), merged in that order."""
    models = Models()
    for path in [*builtin_files(), *(Path(p) for p in extra)]:
        _merge(models, _read(path), str(path))
    return models


def check(paths: tuple[str, ...]) -> None:
    """Raise :class:`ModelError` when one of the user's model files cannot be used."""
    for path in paths:
        _merge(Models(), _read(Path(path)), str(path))
