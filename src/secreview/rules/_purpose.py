"""What a value is for, read from the names around it: shared by the crypto and randomness rules.

An MD5 digest or a `random.choice` is a defect when it protects something (a password, a token,
a signature) and harmless when it names a cache entry or spreads retries.  The code says which
through its names: the variable the value is assigned to, the keyword it is passed as, the
function that returns it, the call that receives it.  This module reads those names without
running anything and answers with a :class:`Purpose` and the name that decided it, so that a
message can say *why* a call was judged the way it was.

Names are split into words (``rememberMeKey`` → remember, me, key; ``csrf_token`` → csrf,
token).  A name that contains a word of the benign vocabulary (cache, jitter, ...) is benign
even if it also contains a security word: ``token_bucket_delay`` is about timing, not a token.
"""

from __future__ import annotations

import ast
import enum
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from weakref import WeakKeyDictionary

from ..python.module import ModuleContext

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")


def words(name: str) -> list[str]:
    """``rememberMeKey`` → remember, me, key; ``HTTPSession_id`` → http, session, id; ``md5sum`` → md5, sum."""
    return [w.lower() for w in _WORD.findall(name)]


class Purpose(enum.Enum):
    SECURITY = "security"
    BENIGN = "benign"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Vocabulary:
    """Words that mark a name as protecting something, words that mark it harmless.

    ``qualified`` maps an ambiguous word (key, code, id) to the words that make it a secret
    when they come before it in the same name (api_key, reset_code, session_id).
    ``suffixes`` catch unsplit compounds (``csrftoken``, ``userpassword``).
    """

    security: frozenset[str]
    benign: frozenset[str]
    qualified: dict[str, frozenset[str]]
    suffixes: tuple[str, ...] = ()

    def judge(self, name: str) -> Purpose:
        parts = words(name)
        if not parts:
            return Purpose.UNKNOWN
        if any(p in self.benign for p in parts):
            return Purpose.BENIGN
        for index, part in enumerate(parts):
            if part in self.security:
                return Purpose.SECURITY
            if any(part.endswith(s) and len(part) > len(s) for s in self.suffixes):
                return Purpose.SECURITY
            qualifiers = self.qualified.get(part)
            if qualifiers and any(p in qualifiers for p in parts[:index]):
                return Purpose.SECURITY
        return Purpose.UNKNOWN


@dataclass(frozen=True)
class Verdict:
    purpose: Purpose
    evidence: str = ""  # e.g. "it is assigned to `password_hash`"


UNKNOWN = Verdict(Purpose.UNKNOWN)


def judge_names(vocabulary: Vocabulary, named: Iterable[tuple[str, str]]) -> Verdict:
    """The first decisive (name, description) pair wins; descriptions use {name} for the name."""
    for name, description in named:
        purpose = vocabulary.judge(name)
        if purpose is not Purpose.UNKNOWN:
            return Verdict(purpose, description.format(name=name))
    return UNKNOWN


def identifiers(node: ast.AST) -> Iterator[str]:
    """Variable and attribute names inside an expression, outermost first (``user.password`` → user, password)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
        elif isinstance(child, ast.Attribute):
            yield child.attr
        elif isinstance(child, ast.keyword) and child.arg:
            yield child.arg


def target_name(target: ast.AST) -> str | None:
    """The name a value is stored under: ``x``, ``self.x``, ``d["x"]``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return target_name(target.value)
    if isinstance(target, ast.Starred):
        return target_name(target.value)
    return None


def callee_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


# Calls that convert or format a value without changing what it is for.
_CONVERSIONS = {"str", "int", "hex", "bytes", "float", "repr", "format", "join", "hexdigest", "digest",
                "encode", "decode", "upper", "lower", "strip", "zfill", "rjust", "ljust", "b64encode",
                "urlsafe_b64encode", "b32encode", "hexlify", "replace", "to_bytes", "md5", "sha1", "sha224",
                "sha256", "sha384", "sha512", "list", "tuple", "sorted"}
# Calls that tell nothing about what the value is for.
_UNTELLING = {"shuffle", "len", "isinstance", "print", "type", "bool", "range", "id", "hash", "debug", "info",
              "warning", "warn", "error", "exception", "critical", "log"}
_KEYED_DEFAULTS = {"get", "getenv", "setdefault", "pop", "get_env", "env"}
_COLLECTING = {"append", "extend", "add", "insert", "appendleft"}


def destinations(ctx: ModuleContext, node: ast.AST, follow: int = 3, lookups: bool = False) -> Iterator[tuple[str, str]]:
    """Where the value of ``node`` ends up, as (name, description) pairs, nearest first.

    Climbs through formatting and conversions to the place that names the value (an assignment
    target, a keyword, a dict key, a comparison, a receiving call, a ``return``), then follows
    local variables it was assigned to, up to ``follow`` assignments away, within the function.
    With ``lookups``, a value used as the key of a subscript (``store[digest]``) is named
    ``lookup``: it identifies an entry.  (A random index picks an element, whose own destination
    matters, so the randomness rules leave this off.)
    """
    seen_names: set[str] = set()
    yield from islice(_destinations(ctx, node, follow, seen_names, lookups), _MAX_DESTINATIONS)


def _destinations(ctx: ModuleContext, node: ast.AST, follow: int, seen: set[str],
                  lookups: bool) -> Iterator[tuple[str, str]]:
    child, parent = node, ctx.parent(node)
    while parent is not None:
        if lookups and isinstance(parent, ast.Subscript) and child is parent.slice:
            container = ast.unparse(parent.value).replace("{", "{{").replace("}", "}}")
            yield "lookup", f"it is the key of an entry in `{container}`"
            return
        if isinstance(parent, ast.Call):
            if child is parent.func:
                # x.hexdigest(): the call's result is the same value
                child, parent = parent, ctx.parent(parent)
                continue
            name = callee_name(parent)
            receiver = parent.func.value if isinstance(parent.func, ast.Attribute) else None
            if name in _UNTELLING:
                return
            if (name in _KEYED_DEFAULTS and len(parent.args) >= 2 and child is parent.args[1]
                    and isinstance(parent.args[0], ast.Constant) and isinstance(parent.args[0].value, str)):
                # os.environ.get("SECRET_KEY", value): the value stands in for that setting
                yield parent.args[0].value, "it is the fallback value of `{name}`"
                return
            if name in _COLLECTING and isinstance(receiver, ast.Name) and child in parent.args:
                # chars.append(x): the value becomes part of `chars`
                yield receiver.id, "it is collected into `{name}`"
                if follow > 0 and receiver.id not in seen:
                    seen.add(receiver.id)
                    yield from _uses(ctx, parent, receiver.id, follow - 1, seen, lookups)
                return
            if name in _CONVERSIONS or (name and isinstance(parent.func, ast.Attribute) and child in parent.args
                                        and name == "join"):
                child, parent = parent, ctx.parent(parent)
                continue
            if name:
                yield name, "it is passed to `{name}`"
            return
        if isinstance(parent, ast.keyword):
            if parent.arg:
                yield parent.arg, "it is passed as `{name}=`"
            return
        if isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values):
                if value is child and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    yield key.value, "it is stored under the key `{name}`"
            return
        if isinstance(parent, ast.Compare):
            for other in [parent.left, *parent.comparators]:
                if other is not child:
                    for name in identifiers(other):
                        yield name, "it is compared with `{name}`"
            return
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            local_names: list[str] = []
            for target in targets:
                name = target_name(target)
                if name:
                    yield name, "it is assigned to `{name}`"
                if isinstance(target, ast.Name):
                    local_names.append(target.id)
            if follow > 0:
                for name in local_names:
                    if name not in seen:
                        seen.add(name)
                        yield from _uses(ctx, parent, name, follow - 1, seen, lookups)
            return
        if isinstance(parent, (ast.Return, ast.Yield)):
            function = ctx.enclosing_function(parent)
            if function is not None:
                yield function.name, "it is returned by `{name}`"
                if follow > 0 and ("()" + function.name) not in seen:
                    seen.add("()" + function.name)
                    yield from _callers(ctx, function, follow - 1, seen, lookups)
            return
        if isinstance(parent, ast.Lambda):
            return
        if isinstance(parent, ast.stmt):
            return
        if isinstance(parent, (ast.expr, ast.comprehension)):  # formatting, slicing, generators: same value
            child, parent = parent, ctx.parent(parent)
            continue
        return


# Bounds that keep the search linear in the module: a value is judged by its nearest names.
_MAX_DESTINATIONS = 40
_MAX_USES = 20


@dataclass
class _Index:
    """Per-module lookups built once: reads of each name per function, calls per callee name."""

    reads: dict[tuple[int, str], list[ast.Name]]
    calls: dict[str, list[ast.Call]]


_INDEXES: WeakKeyDictionary = WeakKeyDictionary()


def _index(ctx: ModuleContext) -> _Index:
    index = _INDEXES.get(ctx)
    if index is None:
        reads: dict[tuple[int, str], list[ast.Name]] = defaultdict(list)
        for node in ctx.nodes(ast.Name):
            if isinstance(node.ctx, ast.Load):
                reads[(id(ctx.enclosing_function(node)), node.id)].append(node)
        calls: dict[str, list[ast.Call]] = defaultdict(list)
        for node in ctx.nodes(ast.Call):
            name = callee_name(node)
            if name:
                calls[name].append(node)
        index = _INDEXES[ctx] = _Index(dict(reads), dict(calls))
    return index


def _callers(ctx: ModuleContext, function: ast.AST, follow: int, seen: set[str],
             lookups: bool) -> Iterator[tuple[str, str]]:
    """Destinations of the results of calls to ``function`` in the same module (``token = random_string(32)``)."""
    name = function.name  # type: ignore[attr-defined]
    for call in _index(ctx).calls.get(name, [])[:_MAX_USES]:
        if ctx.enclosing_function(call) is not function:
            for found, description in _destinations(ctx, call, follow, seen, lookups):
                yield found, description.replace("it is", f"the result of `{name}` is", 1)


def _uses(ctx: ModuleContext, assignment: ast.AST, name: str, follow: int, seen: set[str],
          lookups: bool) -> Iterator[tuple[str, str]]:
    """Destinations of later reads of local variable ``name`` in the same function."""
    after = (assignment.lineno, assignment.col_offset)
    reads = _index(ctx).reads.get((id(ctx.enclosing_function(assignment)), name), [])
    later = [node for node in reads if (node.lineno, node.col_offset) > after]
    for node in later[:_MAX_USES]:
        yield from _destinations(ctx, node, follow, seen, lookups)


def assigned_variable(ctx: ModuleContext, node: ast.AST) -> str | None:
    """``h`` for ``h = hashlib.md5()``: the local name a call's result is bound to directly."""
    parent = ctx.parent(node)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and isinstance(parent.target, ast.Name):
        return parent.target.id
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        return parent.optional_vars.id
    return None


def method_calls_on(ctx: ModuleContext, node: ast.AST, variable: str, method: str) -> Iterator[ast.Call]:
    """Calls ``variable.method(...)`` in the function (or module) around ``node``."""
    scope = ctx.enclosing_function(node)
    for child in _index(ctx).calls.get(method, []):
        if (isinstance(child.func, ast.Attribute) and isinstance(child.func.value, ast.Name)
                and child.func.value.id == variable and ctx.enclosing_function(child) is scope):
            yield child


def enclosing_names(ctx: ModuleContext, node: ast.AST) -> Iterator[tuple[str, str]]:
    """The enclosing function's name, then its class's name."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield ancestor.name, "it is computed in `{name}`"
        elif isinstance(ancestor, ast.ClassDef):
            yield ancestor.name, "it is computed in class `{name}`"
            return


_NOT_FOUND = object()


def local_constant(ctx: ModuleContext, node: ast.AST | None, default: object = None) -> object:
    """The constant value of ``node``, also through a local variable bound once in the function.

    ``verify = False`` then ``requests.get(url, verify=verify)``: module-level folding does not
    see the local binding; a parameter or a name bound more than once stays unknown.
    """
    if node is None:
        return default
    value = ctx.constant(node, _NOT_FOUND)
    if value is not _NOT_FOUND:
        return value
    if not isinstance(node, ast.Name):
        return default
    function = ctx.enclosing_function(node)
    if function is None:
        return default
    arguments = function.args
    parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    if any(p is not None and p.arg == node.id for p in parameters):
        return default
    bound: list[ast.AST | None] = []
    for child in ast.walk(function):
        if isinstance(child, ast.Assign):
            for target in child.targets:
                if isinstance(target, ast.Name) and target.id == node.id:
                    bound.append(child.value)
                elif any(isinstance(n, ast.Name) and n.id == node.id for n in ast.walk(target)):
                    bound.append(None)
        elif isinstance(child, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.withitem, ast.NamedExpr)):
            target = getattr(child, "target", None) or getattr(child, "optional_vars", None)
            if target is not None and any(isinstance(n, ast.Name) and n.id == node.id for n in ast.walk(target)):
                bound.append(child.value if isinstance(child, ast.AnnAssign) else None)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child is not function \
                and child.name == node.id:
            bound.append(None)
    if len(bound) != 1 or bound[0] is None:
        return default
    value = ctx.constant(bound[0], _NOT_FOUND)
    return default if value is _NOT_FOUND else value


_MAX_REEXPORTS = 8


def project_definition(ctx: ModuleContext, qualified: str) -> tuple[ModuleContext, ast.AST] | None:
    """Where ``qualified`` is defined in the reviewed project: (module, definition).

    The definition is a module-level class or function statement, or the value of a name bound
    once at module level (``S_IRWU_RWG_RWO = S_IRANY | S_IWANY``).  Names re-exported by an
    import (``from ._impl import Loader`` in a package) are followed; statements inside module-level
    ``if``/``try`` count (classes defined per platform).  Another module is consulted through the
    project, so the cache knows this module's result depends on it.
    """
    for _ in range(_MAX_REEXPORTS):
        prefix = f"{ctx.module_name}." if ctx.module_name else ""
        local = qualified[len(prefix):] if prefix and qualified.startswith(prefix) else qualified
        if "." not in local:
            return _module_level_definition(ctx, local)
        project = ctx.project
        module = project.module_of(qualified) if project is not None else None
        other = project.context(module) if module is not None else None
        if other is None:
            return None
        name = qualified[len(module) + 1:]
        if "." in name:
            return None
        reexported = other.aliases.get(name)
        if not reexported or reexported == qualified:
            return _module_level_definition(other, name)
        ctx, qualified = other, reexported
    return None


def _module_level_definition(ctx: ModuleContext, name: str) -> tuple[ModuleContext, ast.AST] | None:
    values: list[ast.AST] = []
    for statement in _module_statements(ctx.tree.body):
        if isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
            values.append(statement)
        elif (isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                        for t in statement.targets)) \
                or (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                    and statement.target.id == name and statement.value is not None):
            values.append(statement.value)
    if not values:
        return None
    if not all(isinstance(v, ast.ClassDef) for v in values) and len(values) > 1:
        return None  # rebound: which value holds is not known without running the module
    return ctx, values[0]


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from _module_statements(statement.body + statement.orelse)
        elif isinstance(statement, ast.Try):
            yield from _module_statements(statement.body + statement.orelse + statement.finalbody
                                          + [s for h in statement.handlers for s in h.body])


# Public names of the modules whose star import these rules need to see through.
_CIPHER_MODULES = {"AES", "DES", "DES3", "ARC2", "ARC4", "Blowfish", "CAST", "XOR", "ChaCha20", "Salsa20"}
_HASH_MODULES = {"MD2", "MD4", "MD5", "SHA", "SHA1", "SHA256", "SHA512", "HMAC"}
_STAR_EXPORTS: dict[str, frozenset[str]] = {
    "Crypto.Cipher": frozenset(_CIPHER_MODULES), "Cryptodome.Cipher": frozenset(_CIPHER_MODULES),
    "Crypto.Hash": frozenset(_HASH_MODULES), "Cryptodome.Hash": frozenset(_HASH_MODULES),
    "Crypto.PublicKey": frozenset({"RSA", "DSA", "ECC", "ElGamal"}),
    "Cryptodome.PublicKey": frozenset({"RSA", "DSA", "ECC", "ElGamal"}),
    "hashlib": frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "new", "pbkdf2_hmac", "blake2b",
                          "blake2s", "sha3_256", "sha3_512"}),
    "random": frozenset({"random", "randint", "randrange", "choice", "choices", "sample", "getrandbits", "uniform",
                         "randbytes", "Random", "SystemRandom", "shuffle"}),
    "ssl": frozenset({"CERT_NONE", "CERT_REQUIRED", "PROTOCOL_SSLv2", "PROTOCOL_SSLv3", "PROTOCOL_TLSv1",
                      "PROTOCOL_TLSv1_1", "PROTOCOL_TLS", "PROTOCOL_SSLv23", "SSLContext", "wrap_socket",
                      "create_default_context", "TLSVersion", "Purpose"}),
}


def star_imports(ctx: ModuleContext) -> dict[str, str]:
    """Local name -> qualified name for the names that ``from M import *`` brings in, for modules we know."""
    found: dict[str, str] = {}
    for node in ctx.nodes(ast.ImportFrom):
        if node.module in _STAR_EXPORTS and any(alias.name == "*" for alias in node.names):
            for name in _STAR_EXPORTS[node.module]:
                found.setdefault(name, f"{node.module}.{name}")
    return found


def resolved_calls(ctx: ModuleContext) -> list:
    """``ctx.calls``, with names brought in by a known star import qualified (``DES.new`` → ``Crypto.Cipher.DES.new``)."""
    stars = star_imports(ctx)
    if not stars:
        return ctx.calls
    calls = []
    for call in ctx.calls:
        name = call.name or ""
        head, dot, rest = name.partition(".")
        if head in stars and head not in ctx.aliases:
            call = replace(call, name=stars[head] + dot + rest)
        calls.append(call)
    return calls
