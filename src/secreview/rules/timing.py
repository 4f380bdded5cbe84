"""Secrets compared with ``==``, whose running time tells an attacker how much they guessed.

A comparison is reported when one side is a secret and the other a value it is checked against.  A side
is a secret when it is computed by HMAC, when it hashes a secret (``sha256(api_key)``), or
when its name says so: signature, HMAC, secret, token, API key, password hash, one-time code.
The name is the last part of the expression (``request.headers["X-Signature"]`` is named by its
key), and its head noun decides, so ``token.type``, ``token_name`` and ``TOKEN_BLOCK`` are not
secrets.  A bare ``token`` or ``signature`` may be a lexer's token or a function's signature: it
counts only when compared with a value named as the reference (``expected``, ``stored``, ...) or
with another secret.  An unkeyed digest or checksum
(``sha256(data).hexdigest() == expected``) is an integrity check of public data and counts
only when the other side is a secret.  A password checked against a stored one
(``password == user.password``) is reported; two entries of a new password (``password ==
confirm_password``) are form validation and are not, and neither is a setting about a password
(``password_max_age``).  A change check whose branch hands one of the compared values on
without rejecting anything (``if current != desired: args.append(desired)``) provisions a
value rather than verifying one and is not reported.  Comparisons with literals, ``None``,
empty values and constants not named as secrets (``"Bearer"``, ``TOKEN_BLOCK``), and object
equality in ``__eq__`` are not reported; a constant named as a secret (``API_KEY``) is a secret.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..python.module import ModuleContext
from . import Issue, rule
from ._purpose import words
from .secrets import names_a_setting

_SECRET_WORDS = {"signature", "hmac", "secret", "token", "otp", "totp", "hotp", "csrf", "xsrf", "apikey",
                 "authorization"}
# a bare ``token`` may be a lexer's token and a bare ``signature`` a function's: secrets only when
# compared with a value whose name says it is the reference (``expected``, ``stored``, ...)
_AMBIGUOUS_NAMES = (["token"], ["signature"])
_REFERENCE_WORDS = {"expected", "computed", "calculated", "generated", "stored", "saved", "valid", "correct",
                    "actual", "known", "good", "issued", "server", "real"}
_SECRET_PAIRS = (
    {"api", "key"}, {"auth", "key"}, {"secret", "key"}, {"password", "hash"}, {"password", "hashed"},
    {"password", "digest"}, {"passwd", "hash"}, {"pw", "hash"}, {"pwd", "hash"}, {"access", "code"},
    {"verification", "code"}, {"reset", "code"}, {"auth", "header"}, {"authorization", "header"},
    {"signature", "header"}, {"token", "header"},
)
_SINGLE_WORD_SECRETS = {"pwhash", "passhash", "pwdhash"}
# words that make a name describe a secret rather than be one
_METADATA_WORDS = {
    "type", "types", "name", "names", "kind", "count", "len", "length", "size", "index", "idx", "pos",
    "position", "url", "uri", "endpoint", "expiry", "expires", "expiration", "exp", "ttl", "lifetime",
    "scope", "scopes", "format", "version", "prefix", "ref", "href", "id", "ids", "uuid", "path", "file",
    "filename", "field", "param", "location", "algorithm", "alg", "method", "mode", "class",
    "label", "state", "status", "enabled", "required", "source", "store", "backend", "provider",
    "err", "error", "errors", "errno", "exception", "no", "missing", "invalid", "expired",
}
# words that say how a secret is encoded, not what it is: ``signature_hex`` is still a signature
_ENCODING_WORDS = {"hex", "b64", "base64", "bytes", "str", "string", "value", "raw", "encoded", "decoded", "bin"}
_DIGEST_WORDS = {"digest", "hexdigest", "hash", "checksum", "hashed", "mac"}
_TRANSPARENT_METHODS = {"lower", "upper", "strip", "rstrip", "lstrip", "encode", "decode", "casefold"}
_LOOKUP_METHODS = {"get", "getlist", "pop", "get_header", "getheader"}
_HMAC_CALLS = {"hmac.new", "hmac.HMAC", "hmac.digest", "Crypto.Hash.HMAC.new", "cryptography.hazmat.primitives.hmac.HMAC"}
_EQUALITY_METHODS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__cmp__"}


def identifier_words(text: str) -> set[str]:
    """The set of :func:`._purpose.words` of an identifier or string: ``expectedSignature`` -> {expected, signature}."""
    return set(words(text))


def _name_of(node: ast.expr) -> str | None:
    """The text that names what ``node`` holds: its last identifier, lookup key or function."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _name_of(node.value)
    if isinstance(node, ast.JoinedStr):  # f"Bearer {API_TOKEN}" is named by what it embeds
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                return _name_of(part.value)
        return None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in _TRANSPARENT_METHODS:
                return _name_of(func.value)
            if func.attr in _LOOKUP_METHODS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    return first.value
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
    return None


_ordered_words = words


def secret_by_name(text: str | None) -> bool:
    """The name says the value is a secret: its head noun, the last word, is one.

    ``reset_token`` and ``api_key`` are secrets; ``token_type`` and ``TOKEN_BLOCK`` (a kind of
    token) are not, and a name with a describing word (``token_id``, ``NO_SECRET``) is not either.
    """
    if not text:
        return False
    words = [w for w in _ordered_words(text) if w not in _ENCODING_WORDS]
    if not words or set(words) & _METADATA_WORDS:
        return False
    head = words[-1]
    if head in _SECRET_WORDS or head in _SINGLE_WORD_SECRETS or "hmac" in words:
        return True
    return any(head in pair and pair <= set(words) for pair in _SECRET_PAIRS)


def _computes_hmac(ctx: ModuleContext, node: ast.expr) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and (ctx.qualname(child.func) or "") in _HMAC_CALLS:
            return True
        if (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and child.func.attr in ("hexdigest", "digest")
            and isinstance(child.func.value, ast.Name)
            and _bound_to_hmac(ctx, child.func.value)
        ):
            return True
    return False


def _bound_to_hmac(ctx: ModuleContext, name: ast.Name) -> bool:
    function = ctx.enclosing_function(name)
    if function is None:
        return False
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets)
            and isinstance(node.value, ast.Call)
            and (ctx.qualname(node.value.func) or "") in _HMAC_CALLS
        ):
            return True
    return False


def _hashes_secret(ctx: ModuleContext, node: ast.expr) -> bool:
    """``node`` is a hashlib digest of something named as a secret."""
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Call)
            and (ctx.qualname(child.func) or "").startswith("hashlib.")
            and any(secret_by_name(_name_of(arg)) for arg in child.args)
        ):
            return True
    return False


def _secrecy(ctx: ModuleContext, node: ast.expr) -> str:
    """'secret', 'ambiguous' (a bare token or signature), 'digest' (a hash that may be of public data) or ''."""
    if _computes_hmac(ctx, node) or _hashes_secret(ctx, node):
        return "secret"
    name = _name_of(node)
    if secret_by_name(name):
        bare = [w for w in _ordered_words(name or "") if w not in _ENCODING_WORDS]
        return "ambiguous" if bare in _AMBIGUOUS_NAMES else "secret"
    if name and identifier_words(name) & _DIGEST_WORDS and not identifier_words(name) & _METADATA_WORDS:
        return "digest"
    return ""


def _class_constant(ctx: ModuleContext, node: ast.expr) -> bool:
    """``self.name`` where the class body binds ``name`` to a constant (a fixed marker, not a secret)."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
        return False
    owner = next((a for a in ctx.ancestors(node) if isinstance(a, ast.ClassDef)), None)
    if owner is None:
        return False
    return any(
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == node.attr for t in stmt.targets)
        and ctx.is_constant(stmt.value)
        for stmt in owner.body
    )


def _forms(side: ast.expr) -> set[str]:
    """``self.password.lstrip("!")`` is also ``self.password``: the value under any method calls on it."""
    forms = {ast.unparse(side)}
    while isinstance(side, ast.Call) and isinstance(side.func, ast.Attribute):
        side = side.func.value
        forms.add(ast.unparse(side))
    return forms


def _applies_value(body: list[ast.stmt], forms: set[str]) -> bool:
    """The branch hands one of the compared values on (an argument, an assigned value) and never rejects."""
    nodes = [node for stmt in body for node in ast.walk(stmt)]
    if any(isinstance(node, (ast.Raise, ast.Return)) for node in nodes):
        return False
    for node in nodes:
        if isinstance(node, ast.Call):
            values = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            values = [node.value]
        else:
            continue
        if any(ast.unparse(part) in forms for value in values for part in ast.walk(value)):
            return True
    return False


def _updates_copy(ctx: ModuleContext, compare: ast.Compare) -> bool:
    """A change check, not a verification.

    ``if stored != current: stored = current`` refreshes a copy; ``if current != desired:
    command.append(desired)`` applies a configured value (a provisioning tool setting the password it
    was given).  A verification rejects in its branch; these hand one of the compared values on.
    """
    sides = {ast.unparse(compare.left), ast.unparse(compare.comparators[0])}
    for ancestor in ctx.ancestors(compare):
        if isinstance(ancestor, ast.If):
            if any(isinstance(stmt, ast.Assign) and ast.unparse(stmt.value) in sides for stmt in ancestor.body):
                return True
            return isinstance(compare.ops[0], ast.NotEq) and _applies_value(
                ancestor.body, _forms(compare.left) | _forms(compare.comparators[0]))
        if not isinstance(ancestor, (ast.BoolOp, ast.UnaryOp)):
            return False
    return False


_PASSWORD_WORDS = {"password", "passwd", "pwd", "passphrase"}
# a second entry of a password by the same user: comparing the two is form validation
_REENTRY_WORDS = {"confirm", "confirmation", "confirmed", "repeat", "repeated", "again", "retype", "new", "old",
                  "previous", "initial", "first", "second"}
_STORED_WORDS = {"stored", "saved", "expected", "correct", "actual", "real", "db", "record", "hashed"}


def _names_password(name: str | None) -> bool:
    """The head noun is a password: ``user.password``, ``db_passwd``; not ``password_expire_min``, a setting about one."""
    words = [w for w in _ordered_words(name or "") if w not in _ENCODING_WORDS]
    return bool(words) and words[-1] in _PASSWORD_WORDS


def _password_check(left: ast.expr, right: ast.expr) -> ast.expr | None:
    """The stored side of ``given == user.password``: a plain password checked against a stored one."""
    names = [_name_of(left), _name_of(right)]
    words = [identifier_words(n) if n else set() for n in names]
    if not any(_names_password(n) for n in names):
        return None
    if any(identifier_words(ast.unparse(side)) & _REENTRY_WORDS for side in (left, right)):
        return None
    for side, side_words in ((right, words[1]), (left, words[0])):
        if isinstance(side, (ast.Attribute, ast.Subscript)) or side_words & _STORED_WORDS:
            return side
    return None


def _root(node: ast.expr) -> str | None:
    """The variable an expression reads from: ``session`` for ``session["a"]["b"]`` or ``session.get("t")``."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        else:
            return None


def _comparable_value(ctx: ModuleContext, node: ast.expr) -> bool:
    """A value a secret can meaningfully be compared with: not a literal, a marker, a length or a type.

    A constant named as a secret (``API_KEY = "..."``) is still a secret: comparing a request's
    key with it leaks the key, unless its value is the name of a setting or field
    (``CHAP_SECRET_KEY = "TARGET_CHAP_SECRET"``).  Other constants (``"Bearer"``, ``None``,
    ``TOKEN_BLOCK``) are not.
    """
    if isinstance(node, ast.Constant) or _class_constant(ctx, node):
        return False
    value = ctx.constant(node, None)
    if value is not None or ctx.is_constant(node):
        name = _name_of(node)
        if not (bool(value) and isinstance(value, (str, bytes)) and secret_by_name(name)):
            return False
        # ``CHAP_SECRET_KEY = "TARGET_CHAP_SECRET"`` names where a secret is kept: a key, not the secret
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        return not names_a_setting(text, name or "")
    if isinstance(node, ast.Call) and (ctx.qualname(node.func) or "") in ("len", "type", "int", "bool", "isinstance"):
        return False
    return not (isinstance(node, ast.Attribute) and node.attr in ("__class__", "__name__"))


def secret_comparison(ctx: ModuleContext, compare: ast.Compare) -> tuple[ast.expr, bool] | None:
    """The secret side of an ``==``/``!=`` that checks a secret, and whether it is a plain password."""
    if len(compare.ops) != 1 or not isinstance(compare.ops[0], (ast.Eq, ast.NotEq)):
        return None
    left, right = compare.left, compare.comparators[0]
    if not (_comparable_value(ctx, left) and _comparable_value(ctx, right)):
        return None
    function = ctx.enclosing_function(compare)
    if function is not None and function.name in _EQUALITY_METHODS or _updates_copy(ctx, compare):
        return None
    root = _root(left)
    if root is not None and root not in ("self", "cls") and root == _root(right):
        return None  # two values held by the same store: a consistency check, not a verification
    kinds = [_secrecy(ctx, left), _secrecy(ctx, right)]
    for index, (this, other) in enumerate(((left, right), (right, left))):
        partner = identifier_words(_name_of(other) or "")
        # two tokens compared is a token check; two signatures may be inspect.Signature objects.  The
        # partner must itself name a token: ``token_type == TOKEN_STRING`` compares a lexer's kinds.
        if kinds[index] == "ambiguous" and (
            partner & _REFERENCE_WORDS
            or (kinds[1 - index] in ("ambiguous", "secret") and "token" in partner
                and "token" in identifier_words(_name_of(this) or ""))
        ):
            kinds[index] = "secret"
    if "secret" in kinds:
        return (left if kinds[0] == "secret" else right), False
    stored_password = _password_check(left, right)
    return (stored_password, True) if stored_password is not None else None


@rule(
    id="timing-unsafe-comparison",
    cwe=208,
    severity="medium",
    confidence="medium",
    summary="Secret, signature or token compared with == instead of a constant-time comparison",
)
def timing_unsafe_comparison(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `==` and `!=` between a secret (an HMAC, a signature, a token, an API key, a
    password hash, a one-time code, a digest of one, or a password checked against a stored
    one) and the value it is checked against.  Checks against literals, `None` or empty values,
    length checks, `__eq__` methods, settings about a password (`password_max_age`) and change
    checks whose branch applies one of the values instead of rejecting (`if current != desired:
    args.append(desired)`) are not flagged.

    ## Why it matters
    `==` on strings and bytes stops at the first differing byte, so it takes longer the more
    leading bytes are right.  By timing many requests an attacker learns a valid signature or
    token byte by byte and forges what the comparison was meant to reject.

    ## Example
    ```python
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    if expected != request.headers["X-Signature"]:
        abort(403)
    ```

    ## Fix
    Compare with `hmac.compare_digest(expected, received)` (or `secrets.compare_digest`), whose
    running time does not depend on where the values differ.

    ## References
    - CWE-208: Observable Timing Discrepancy
    - https://docs.python.org/3/library/hmac.html#hmac.compare_digest
    """
    for compare in ctx.nodes(ast.Compare):
        found = secret_comparison(ctx, compare)
        if found is None:
            continue
        secret, is_password = found
        left, right = compare.left, compare.comparators[0]
        a, b = ast.unparse(left), ast.unparse(right)
        operator = "==" if isinstance(compare.ops[0], ast.Eq) else "!="
        negation = "not " if operator == "!=" else ""
        fix = f"Replace `{a} {operator} {b}` with `{negation}hmac.compare_digest({a}, {b})`."
        if is_password:
            fix += (" Better, store only a salted password hash and check it with the hasher's verify function "
                    "(e.g. `argon2.PasswordHasher().verify(stored_hash, password)`).")
        yield Issue(
            compare,
            message=f"`{ast.unparse(secret)}` is compared with `{operator}`, which returns at the first differing "
            "byte and lets an attacker time their way to a valid value.",
            fix=fix,
        )
