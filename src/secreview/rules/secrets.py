"""Hard-coded credentials (CWE-259, CWE-321, CWE-798): secrets written into the source.

Two kinds of evidence.  A *name* says a value is a credential (``DB_PASSWORD = "..."``,
``api_key="..."``, ``if password == "..."``); the value must then look like a real secret rather
than a placeholder, a configuration key, a path or a template.  A *format* says it on its own
(a PEM private key, an AWS access key id, a GitHub token), whatever the name.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..python.module import ModuleContext
from . import Issue, rule
from ._purpose import local_constant, words

# --- names ---------------------------------------------------------------------------------

_PASSWORD_WORDS = {"password", "passwd", "pwd", "passphrase", "pass", "passcode", "pw", "pword"}
_SECRET_WORDS = {"secret", "credential", "credentials", "creds", "cred", "apikey", "secretkey",
                 "privatekey", "accesskey", "authkey", "apitoken", "authtoken", "accesstoken"}
# ``x_key`` is a secret only for these ``x``: ``sort_key``, ``primary_key``, ``public_key`` are not.
_SECRET_KEY_QUALIFIERS = {
    "api", "secret", "private", "access", "auth", "encryption", "encrypt", "signing", "sign",
    "master", "client", "hmac", "app", "application", "license", "licence", "consumer",
    "shared", "crypt", "crypto", "jwt", "aes", "fernet", "cipher", "webhook", "service",
    "subscription", "admin", "account", "storage", "bot",
}
# ``x_token`` names positions and grammar symbols for these ``x``, not bearer credentials.
_NON_SECRET_TOKEN_QUALIFIERS = {
    "page", "next", "prev", "previous", "continuation", "marker", "cancel", "cancellation", "sync",
    "resume", "csrf", "xsrf", "start", "end", "stop", "eof", "eos", "bos", "unk", "pad", "sep",
    "cls", "mask", "special", "lexer", "parse", "parser", "split", "word", "sentence", "delimiter",
    "separator", "sentinel", "type", "kind", "last", "first", "current", "prefix", "suffix", "pagination",
}
# ``x_pass`` is an iteration or a stage for these ``x``.
_NOT_PASSWORD_PASS_QUALIFIERS = {
    "first", "second", "third", "last", "next", "final", "render", "compile", "compiler", "optimization",
    "opt", "build", "lint", "check", "single", "multi", "one", "two", "by", "over", "sur", "com", "depth",
    "shadow", "light", "post", "pre", "main", "extra", "frame", "high", "low", "band", "all", "each",
}
# ``update_password``, ``change_password``: a leading verb names an action on the password or a
# policy for it (``update_password == "always"``), not the password.  ``reset`` and ``generate``
# are left out: ``reset_password = "..."`` is often a real default password.
_PASSWORD_POLICY_VERBS = {
    "update", "change", "require", "requires", "prompt", "ask", "expire", "expires", "rotate", "force",
    "allow", "enable", "disable", "check", "validate", "show", "hide", "remember", "sync", "lock", "unlock",
    "encrypt", "hash", "mask", "manage", "edit",
}
# Trailing words that leave the meaning of the name unchanged: ``password_value``, ``secret2``.
_NEUTRAL_SUFFIXES = {"value", "val"}


@lru_cache(maxsize=8192)
def identifier_words(name: str) -> tuple[str, ...]:
    """:func:`._purpose.words`, cached: ``adminPass`` -> (admin, pass), ``X-Auth-Token`` -> (x, auth, token)."""
    return tuple(words(name))


@lru_cache(maxsize=8192)
def credential_kind(name: str) -> str | None:
    """``"password"``, ``"secret"`` or None for a name that does not denote a credential."""
    # ``secret2``, ``aes256_key``: a number on a word is a counter or a size, not part of its meaning
    words = [re.sub(r"(?<=[a-z])\d+$", "", w) for w in identifier_words(name)]
    while words and (words[-1].isdigit() or words[-1] in _NEUTRAL_SUFFIXES):
        words.pop()
    if not words:
        return None
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if last in ("pass", "pw") and before in _NOT_PASSWORD_PASS_QUALIFIERS:
        return None  # ``first_pass``, ``render_pass``: a pass over something, not a password
    if last in _PASSWORD_WORDS or last.endswith(("password", "passwd", "passphrase")):
        return None if len(words) > 1 and words[0] in _PASSWORD_POLICY_VERBS else "password"
    if last in _SECRET_WORDS or last.endswith("secret"):
        return "secret"
    if last == "token":
        return None if before in _NON_SECRET_TOKEN_QUALIFIERS else "secret"
    if last in ("key", "keys") and before in _SECRET_KEY_QUALIFIERS:
        return "secret" if last == "key" else None
    return None


# --- values --------------------------------------------------------------------------------

_PLACEHOLDER_WORDS = {
    "changeme", "changeit", "todo", "fixme", "tbd", "dummy", "example", "sample", "placeholder",
    "redacted", "hidden", "masked", "secret", "password", "passwd", "pass", "pwd", "token", "key",
    "none", "null", "nil", "undefined", "notset", "unset", "empty", "default", "test", "testing",
    "fake", "mock", "foo", "bar", "baz", "foobar", "required", "optional", "bearer", "basic",
    "digest", "oauth", "oauth2", "jwt", "true", "false", "yes", "no", "on", "off", "enabled",
    "disabled", "auto", "na", "unknown", "invalid", "missing", "notused", "unused", "string", "str",
    "text", "passphrase", "secretkey", "apikey", "credentials", "credential", "user", "username",
}
_PLACEHOLDER_PARTS = ("example", "placeholder", "changeme", "replaceme", "your", "dummy", "fake",
                      "xxxx", "redacted", "insert", "notreal", "sample", "changethis", "pleasechange", "mustchange",
                      "setthis", "replacethis")
_TEMPLATE = re.compile(r"\$\{\w+\}|^\$[A-Za-z_]\w*$|%\(\w+\)[sd]|^%[sd]$|\{\w*\}|\{\{|<[^<>]+>|\[[A-Z_]+\]")
_IDENTIFIER_VALUE = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_FILE_SUFFIX = re.compile(r"\.(pem|key|crt|cer|der|p12|pfx|jks|keystore|json|ya?ml|ini|cfg|conf|txt|env|pub|gpg|asc)$", re.IGNORECASE)
_CREDENTIAL_VALUE_WORDS = _PASSWORD_WORDS | _SECRET_WORDS | {"token", "key", "auth"}


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return None


def _is_placeholder(value: str) -> bool:
    normalised = re.sub(r"[^a-z0-9]", "", value.lower())
    if not normalised or normalised in _PLACEHOLDER_WORDS or len(set(value)) == 1:
        return True
    if any(part in normalised for part in _PLACEHOLDER_PARTS):
        return True
    if re.fullmatch(r"[*xX.#?_\-]+", value):
        return True
    return bool(_TEMPLATE.search(value))


def names_a_setting(value: str, name: str) -> bool:
    """``"OS_PASSWORD"``, ``"adminPass"``, ``"keystone.auth_token"``: a key naming where a secret lives."""
    if value.lower() == name.lower() or re.sub(r"[^a-z0-9]", "", value.lower()) == "".join(identifier_words(name)):
        return True
    if not _IDENTIFIER_VALUE.fullmatch(value):
        return False
    if _ENV_NAME.fullmatch(value):
        return True
    words = list(identifier_words(value))
    while words and words[-1].isdigit():
        words.pop()
    if len(words) < 2 or any(len(w) < 2 and not w.isdigit() for w in words) or re.search(r"[A-Za-z]\d+[A-Za-z]", value):
        return False  # ``Ma1lPass``, ``Inl1ne-Secret``: digits inside words make a password, not a setting's name
    return any(w in _CREDENTIAL_VALUE_WORDS or w.endswith(("password", "secret", "token")) for w in words)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}")
_PASSWORD_HASH = re.compile(r"(pbkdf2_|argon2|bcrypt|scrypt|sha1\$|md5\$|\$2[abxy]\$|\$argon2|\$[156]\$|\{SSHA\}|\{SHA\})")
_PATTERN_OR_VERSION = re.compile(r"\{\d+(,\d*)?\}|\\[dwsS]|\.\*|\[\^|^\^|^\d+(\.\d+)+([-+]|$)")


def _is_path_or_url(value: str) -> bool:
    return (
        value.startswith(("/", "./", "../", "~", "\\\\"))
        or "://" in value
        or bool(_FILE_SUFFIX.search(value))
        or bool(re.match(r"[A-Za-z]:\\", value))
    )


_PROSE_WORDS = {"enter", "your", "the", "a", "an", "is", "are", "must", "please", "invalid", "required", "missing",
                "not", "set", "provide", "here", "of", "for", "to", "in", "no", "be", "this", "with"}


def _passphrase_like(value: str) -> bool:
    """``"super secret key"`` is a secret key with spaces; ``"Enter the API key:"`` is prose."""
    words = value.lower().split()
    return len(words) <= 5 and value[-1] not in ".:?!)" and not set(words) & _PROSE_WORDS


def _random_looking(value: str) -> bool:
    """Keys and tokens carry digits or mixed case, or are long; names and keywords are short words."""
    if len(value) >= 16:
        return True
    has_digit = any(c.isdigit() for c in value)
    mixed_case = any(c.islower() for c in value) and any(c.isupper() for c in value)
    return has_digit or mixed_case


# Words that are placeholders where a value is stored, but the password itself where one is
# used: ``connect(user="root", password="password")`` logs in with the password "password".
_GUESSABLE_PASSWORDS = {"password", "passwd", "pass", "secret"}


def secret_value(value: object, name: str, kind: str, in_use: bool = False) -> str | None:
    """The text of ``value`` when it looks like a real secret for ``name``, else None.

    ``in_use``: the literal is passed to a call or compared with input, not stored under a key.
    """
    text = _text(value)
    if text is None:
        return None
    stripped = text.strip()
    if len(stripped) < (4 if kind == "password" else 6):
        return None
    if in_use and kind == "password" and stripped.lower() in _GUESSABLE_PASSWORDS:
        return stripped
    if any(ch.isspace() for ch in stripped) and not (kind == "secret" and _passphrase_like(stripped)):
        return None
    if _is_placeholder(stripped) or names_a_setting(stripped, name) or _is_path_or_url(stripped):
        return None
    if kind == "password" and re.fullmatch(r"[A-Z][a-z]+", stripped):
        return None  # ``"Passwort"``, ``"Kennwort"``: a label in a translation table, not a password
    if kind == "password" and _EMAIL.fullmatch(stripped):
        return None  # anonymous FTP's convention: the password is the user's e-mail address, public by design
    if _PASSWORD_HASH.match(stripped):
        return None  # a stored hash, reported (if at all) by the hashing rules
    if _PATTERN_OR_VERSION.search(stripped):  # a validation regex or an object version, not a value
        return None
    if kind == "secret" and not _random_looking(stripped):
        return None  # ``"_csrftoken"``, ``"COLLATE"``, ``"make.bat"``: a name or a word, not a key
    if known_token_format(stripped) or _PRIVATE_KEY_HEADER.search(stripped):
        return None  # reported by the format rules, with more certainty
    return stripped


def masked(secret: str) -> str:
    """Enough of a secret to recognise it in the report without repeating it there."""
    return f"{secret[:2]}{'*' * min(6, max(3, len(secret) - 2))}"


# --- formats -------------------------------------------------------------------------------

_PRIVATE_KEY_HEADER = re.compile(r"-----BEGIN ((?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP|SSH2 ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----")
_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{40,}")


@dataclass(frozen=True)
class TokenFormat:
    provider: str
    pattern: re.Pattern[str]
    body_group: int = 1


_TOKEN_FORMATS = (
    TokenFormat("AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA)([0-9A-Z]{16})(?![A-Z0-9])")),
    TokenFormat("GitHub token", re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_([A-Za-z0-9]{36})(?![A-Za-z0-9])")),
    TokenFormat("GitHub fine-grained token", re.compile(r"(?<![A-Za-z0-9_])github_pat_([A-Za-z0-9_]{60,})")),
    TokenFormat("Slack token", re.compile(r"(?<![A-Za-z0-9])xox[baprs]-((?:[0-9A-Za-z]+-){1,4}[0-9A-Za-z]{6,})")),
    TokenFormat("Slack webhook URL", re.compile(r"https://hooks\.slack\.com/services/(T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,})")),
    TokenFormat("Stripe live secret key", re.compile(r"(?<![A-Za-z0-9])[sr]k_live_([0-9A-Za-z]{20,})")),
    TokenFormat("Google API key", re.compile(r"(?<![A-Za-z0-9])AIza([0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])")),
    TokenFormat("GitLab personal access token", re.compile(r"(?<![A-Za-z0-9])glpat-([0-9A-Za-z_\-]{20})(?![0-9A-Za-z_\-])")),
    TokenFormat("npm access token", re.compile(r"(?<![A-Za-z0-9])npm_([A-Za-z0-9]{36})(?![A-Za-z0-9])")),
    TokenFormat("PyPI API token", re.compile(r"(?<![A-Za-z0-9])pypi-AgEIcHlwaS5vcmc([A-Za-z0-9_\-]{50,})")),
    TokenFormat("SendGrid API key", re.compile(r"(?<![A-Za-z0-9])SG\.([A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?![A-Za-z0-9_\-])")),
    TokenFormat("OpenAI API key", re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-)?([A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,})")),
    TokenFormat("Anthropic API key", re.compile(r"(?<![A-Za-z0-9])sk-ant-(?:api|admin)\d\d-([A-Za-z0-9_\-]{80,})")),
)


def _random_enough(body: str) -> bool:
    """Real keys are random; ``AKIAXXXXXXXXXXXXXXXX`` and ``...EXAMPLE`` bodies are documentation."""
    upper = body.upper()
    if any(word in upper for word in ("EXAMPLE", "FAKE", "DUMMY", "SAMPLE", "XXXX", "TEST", "0000", "1234")):
        return False
    return len(set(body)) >= max(6, len(body) // 3)


# Every provider prefix at once: most literals contain none, and one search rules them out.
_TOKEN_PREFIXES = re.compile(
    r"AKIA|ASIA|AGPA|AIDA|AROA|gh[pousr]_|github_pat_|xox[baprs]-|hooks\.slack\.com|[sr]k_live_|AIza|glpat-|npm_"
    r"|pypi-|SG\.|sk-"
)


def known_token_format(text: str) -> tuple[str, str] | None:
    """(provider, matched token) for the first real-looking provider token in ``text``."""
    if len(text) < 20 or not _TOKEN_PREFIXES.search(text):
        return None
    for token_format in _TOKEN_FORMATS:
        for match in token_format.pattern.finditer(text):
            if _random_enough(match.group(token_format.body_group)) and "EXAMPLE" not in match.group(0).upper():
                return token_format.provider, match.group(0)
    return None


# --- where names meet values ---------------------------------------------------------------


@dataclass(frozen=True)
class NamedValue:
    name: str  # the credential-like name the value is bound to or compared with
    value: ast.expr  # the literal
    how: str  # "assigned", "passed", "default", "compared", "fallback"


def _target_name(node: ast.AST, ctx: ModuleContext) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = ctx.constant(node.slice, None)
        return key if isinstance(key, str) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        key = ctx.constant(node.args[0], None)
        return key if isinstance(key, str) else None
    return None


_ENVIRONMENT_LOOKUPS = {"os.getenv", "os.environ.get", "os.environ.setdefault", "environ.get", "os.environ.pop",
                        "os.environ.getenv"}
# django-environ's ``env("KEY", default=...)`` / ``env.str(...)``, python-decouple's ``config(...)``.
_SETTINGS_READERS = {"env", "config", "getenv", "get_env", "environ"}
_OPTION_DECLARATIONS = {"add_argument", "add_option", "option", "Option"}


def _fallbacks(ctx: ModuleContext) -> Iterator[NamedValue]:
    """Literal defaults used when a credential is not configured.

    ``os.getenv("DB_PASSWORD", "x")``, ``settings.get("api_key", "x")``, ``getattr(conf,
    "secret_key", "x")``, ``os.environ.get("KEY") or "x"``, ``add_argument("--password",
    default="x")``, ``@click.option("--token", default="x")``.
    """
    for call in ctx.calls:
        if not call.node.args:
            continue
        func = call.node.func
        method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        key_node: ast.expr | None = None
        default: ast.expr | None = None
        settings_reader = (isinstance(func, ast.Name) and func.id in _SETTINGS_READERS) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _SETTINGS_READERS
        )
        if method == "get" or call.name in _ENVIRONMENT_LOOKUPS or settings_reader:
            key_node, default = call.arg(0, "key"), call.arg(1, "default")
        elif call.name == "getattr":
            key_node, default = call.arg(1), call.arg(2)
        elif method in _OPTION_DECLARATIONS:
            flags = [ctx.constant(a, None) for a in call.node.args]
            names = [f.lstrip("-") for f in flags if isinstance(f, str) and f.startswith("-")]
            if names and isinstance(default := call.arg(keyword="default"), ast.Constant):
                credential = next((n for n in names if credential_kind(n.replace("-", "_"))), None)
                if credential:
                    yield NamedValue(credential, default, "fallback")
            continue
        if not isinstance(default, ast.Constant):
            continue
        key = ctx.constant(key_node, None)
        name = key if isinstance(key, str) and credential_kind(key) else _assigned_name(ctx, call.node)
        if name:
            yield NamedValue(name, default, "fallback")
    for node in ctx.nodes(ast.BoolOp):
        last = node.values[-1]
        if isinstance(node.op, ast.Or) and isinstance(last, ast.Constant) and len(node.values) > 1:
            first = node.values[0]
            looked_up = ctx.constant(first.args[0], None) if isinstance(first, ast.Call) and first.args else None
            if isinstance(looked_up, str) and credential_kind(looked_up):
                yield NamedValue(looked_up, last, "fallback")
            elif (name := _assigned_name(ctx, node)) is not None:
                yield NamedValue(name, last, "fallback")


def _assigned_name(ctx: ModuleContext, value: ast.AST) -> str | None:
    parent = ctx.parent(value)
    if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is value:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        return _target_name(targets[0], ctx)
    if isinstance(parent, ast.keyword) and parent.arg:
        return parent.arg
    return None


def named_literals(ctx: ModuleContext) -> Iterator[NamedValue]:
    """Every literal bound to, passed as, defaulted for or compared with a name (credential or not)."""
    for assign_type in (ast.Assign, ast.AnnAssign):
        for node in ctx.nodes(assign_type):
            if not isinstance(node.value, ast.Constant):
                continue
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                name = _target_name(target, ctx)
                if name is not None:
                    yield NamedValue(name, node.value, "assigned")
    yield from _fallbacks(ctx)
    for node in ctx.nodes(ast.Dict):
        for key, value in zip(node.keys, node.values):
            if key is not None and isinstance(value, ast.Constant):
                name = ctx.constant(key, None)
                if isinstance(name, str):
                    yield NamedValue(name, value, "assigned")
    for call in ctx.calls:
        for keyword in call.node.keywords:
            if keyword.arg and isinstance(keyword.value, ast.Constant):
                yield NamedValue(keyword.arg, keyword.value, "passed")
    for function in [*ctx.nodes(ast.FunctionDef), *ctx.nodes(ast.AsyncFunctionDef), *ctx.nodes(ast.Lambda)]:
        args = function.args
        if not args.defaults and not args.kw_defaults:
            continue
        positional = [*args.posonlyargs, *args.args]
        for param, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            if isinstance(default, ast.Constant):
                yield NamedValue(param.arg, default, "default")
        for param, default in zip(args.kwonlyargs, args.kw_defaults):
            if isinstance(default, ast.Constant):
                yield NamedValue(param.arg, default, "default")
    for compare in ctx.nodes(ast.Compare):
        if len(compare.ops) != 1 or not isinstance(compare.ops[0], (ast.Eq, ast.NotEq)):
            continue
        left, right = compare.left, compare.comparators[0]
        for subject, literal in ((left, right), (right, left)):
            if isinstance(literal, ast.Constant) and not isinstance(subject, ast.Constant):
                name = _target_name(subject, ctx)
                if name is not None:
                    yield NamedValue(name, literal, "compared")


_HOW = {
    "assigned": "is assigned the literal {what} `{shown}`",
    "passed": "is passed the literal {what} `{shown}`",
    "default": "defaults to the literal {what} `{shown}`",
    "compared": "is compared with the literal {what} `{shown}`",
    "fallback": "falls back to the literal {what} `{shown}` when it is not configured",
    "embedded": "embeds the literal {what} `{shown}`",
}
_AUTH_SCHEME = re.compile(r"(Bearer|Basic|Token|Bot)\s+(\S+)")


# Calls that take a password at a fixed position: (position, keyword).
_PASSWORD_POSITIONS = {
    "requests.auth.HTTPBasicAuth": (1, "password"), "requests.auth.HTTPDigestAuth": (1, "password"),
    "httpx.BasicAuth": (1, "password"), "httpx.DigestAuth": (1, "password"),
    "aiohttp.BasicAuth": (1, "password"), "ftplib.FTP": (2, "passwd"), "ftplib.FTP_TLS": (2, "passwd"),
    "smtplib.SMTP.login": (1, "password"), "imaplib.IMAP4.login": (1, "password"), "poplib.POP3.pass_": (0, None),
}
# ``x.login(user, "literal")``: SMTP, IMAP, FTP and most client libraries name it so.
_LOGIN_METHODS = {"login": 1, "pass_": 0, "authenticate": 1, "bind_s": 1, "simple_bind_s": 1}
_URL_CREDENTIALS = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^/\s:@]*):([^/\s@]+)@[^\s/]")
_PROSE_KEYWORDS = {"help", "description", "example", "examples", "doc", "usage", "epilog", "msg", "message"}
_DSN_PASSWORD = re.compile(r"(?i)(?:^|[\s;&?])(password|passwd|pwd)\s*=\s*([^\s;&'\"]+)")


# ``AUTH = ("admin", "s3cret")``: a (user, password) pair, as ``requests`` takes it.
_CREDENTIAL_PAIR_WORDS = {"auth", "credentials", "credential", "creds", "login", "basic"}


def _positional_passwords(ctx: ModuleContext) -> Iterator[tuple[NamedValue, str]]:
    """Literals in a call's password position, an ``auth=(user, password)`` pair, a URL or a DSN."""
    for call in ctx.calls:
        position = _PASSWORD_POSITIONS.get(call.name or "")
        func = call.node.func
        method = func.attr if isinstance(func, ast.Attribute) else None
        if position is None and method in _LOGIN_METHODS and len(call.node.args) == _LOGIN_METHODS[method] + 1:
            position = (_LOGIN_METHODS[method], None)
        candidates: list[ast.expr | None] = []
        if position is not None:
            candidates.append(call.arg(*position))
        if call.node.keywords:
            auth = call.arg(keyword="auth")
            if isinstance(auth, ast.Tuple) and len(auth.elts) == 2:
                candidates.append(auth.elts[1])
        if not candidates:
            continue
        for candidate in candidates:
            if isinstance(candidate, ast.Constant) and (
                secret := secret_value(candidate.value, "password", "password", in_use=True)
            ):
                yield NamedValue(f"{call.name or method}", candidate, "passed"), secret
    for assign in ctx.nodes(ast.Assign):
        pair = assign.value
        if not (isinstance(pair, ast.Tuple) and len(pair.elts) == 2 and all(isinstance(e, ast.Constant) for e in pair.elts)):
            continue
        for target in assign.targets:
            name = _target_name(target, ctx)
            if name and set(identifier_words(name)) & _CREDENTIAL_PAIR_WORDS:
                password = pair.elts[1]
                if secret := secret_value(password.value, "password", "password"):  # type: ignore[attr-defined]
                    yield NamedValue(name, password, "assigned"), secret
    for node, text in string_literals(ctx):
        if not isinstance(node.value, str) or ("://" not in text and "=" not in text):
            continue
        parent = ctx.parent(node)
        if isinstance(parent, (ast.Expr, ast.JoinedStr)) or (isinstance(parent, ast.keyword) and parent.arg in _PROSE_KEYWORDS):
            continue  # a docstring, a help text, or one piece of a formatted string
        found = _URL_CREDENTIALS.search(text) or _DSN_PASSWORD.search(text)
        if found and found.re is _DSN_PASSWORD and text.count("=") < 2:
            continue  # ``password=x`` alone is text, not a connection string
        if found and found.re is _URL_CREDENTIALS and found.group(1) == found.group(2):
            continue  # ``nova:nova@``: an example account named after the service
        if found and (secret := secret_value(found.group(2), "password", "password")):
            what = "URL" if found.re is _URL_CREDENTIALS else "connection string"
            yield NamedValue(f"this {what}", node, "embedded"), secret


_NAMED_LITERALS: weakref.WeakKeyDictionary[ModuleContext, list[NamedValue]] = weakref.WeakKeyDictionary()


def _named_literals_once(ctx: ModuleContext) -> list[NamedValue]:
    """The password and the secret rule both read the module's named literals: collect them once."""
    found = _NAMED_LITERALS.get(ctx)
    if found is None:
        found = _NAMED_LITERALS[ctx] = [
            named for named in named_literals(ctx)
            if credential_kind(named.name) or named.name.lower() == "authorization"
        ]
    return found


def _credential_literals(ctx: ModuleContext, wanted_kind: str) -> Iterator[tuple[NamedValue, str]]:
    if wanted_kind == "password":
        yield from _positional_passwords(ctx)
    for named in _named_literals_once(ctx):
        value = named.value.value  # type: ignore[attr-defined]
        if named.name.lower() == "authorization" and wanted_kind == "secret":
            header = _AUTH_SCHEME.fullmatch(_text(value) or "")
            if header and (secret := secret_value(header.group(2), named.name, "secret")):
                yield named, secret
            continue
        kind = credential_kind(named.name)
        if kind != wanted_kind:
            continue
        secret = secret_value(value, named.name, kind, in_use=named.how in ("passed", "compared"))
        if secret is not None:
            yield named, secret


@rule(
    id="hardcoded-password",
    bandit=("B105", "B106", "B107"), ruff=("S105", "S106", "S107"),
    cwe=259,
    severity="medium",
    confidence="medium",
    summary="Password written as a literal in the source",
    relevant_in_tests=False,
)
def hardcoded_password(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags string literals bound to password-like names (`password`, `passwd`, `pwd`,
    `passphrase`, `db_pass`, `adminPassword`): assignments, attributes, dict entries and
    subscripts with a constant key, keyword arguments, parameter defaults, comparisons
    (`if password == "hunter2"`) and fallbacks of `os.getenv("DB_PASSWORD", "...")`.
    Placeholders (`""`, `"changeme"`, `"<password>"`, `"${DB_PASSWORD}"`, `"%(password)s"`,
    `"***"`), names of settings (`"OS_PASSWORD"`, `"adminPass"`), e-mail addresses (the
    anonymous FTP convention), paths and URLs are not
    reported; neither are names that start with a verb and so name an action or a policy
    (`update_password == "always"`, `change_password`), nor test code.

    ## Why it matters
    A password in the source is shared with everyone who can read the repository, its history,
    its packages and its container images, and it cannot be rotated without a release.  A
    literal compared with the user's input is a backdoor account that every installation
    shares.

    ## Example
    ```python
    conn = psycopg2.connect(host=host, user="app", password="s3cr3t-Pa55")
    ```

    ## Fix
    Read the password at run time from the environment, a secrets manager or a configuration
    file outside the repository (`password=os.environ["DB_PASSWORD"]`), and fail when it is
    missing instead of falling back to a literal.

    ## References
    - CWE-259: Use of Hard-coded Password
    - CWE-798: Use of Hard-coded Credentials
    - https://owasp.org/www-community/vulnerabilities/Use_of_hard-coded_password
    """
    for named, secret in _credential_literals(ctx, "password"):
        how = _HOW[named.how].format(what="password", shown=masked(secret))
        env = re.sub(r"[^A-Z0-9]+", "_", named.name.upper()).strip("_") if credential_kind(named.name) else "PASSWORD"
        if named.how == "embedded":
            fix = "Build the URL or connection string at run time with the password read from the environment or a secrets store."
        elif named.how == "compared":
            fix = (f"Verify `{named.name}` against a salted hash stored outside the code "
                   f"(`hmac.compare_digest` on the derived hashes), never against a literal.")
        else:
            fix = f"Read `{named.name}` from the environment or a secrets store (`os.environ[\"{env}\"]`) and remove the literal."
        subject = named.name if named.how == "embedded" else f"`{named.name}`"
        yield Issue(named.value, message=f"{subject[0].upper()}{subject[1:]} {how}.", fix=fix)


@rule(
    id="hardcoded-secret",
    bandit=("B105", "B106", "B107"), ruff=("S105", "S106", "S107"),
    cwe=798,
    severity="medium",
    confidence="medium",
    summary="Secret key, API key or token written as a literal in the source",
    relevant_in_tests=False,
)
def hardcoded_secret(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags string literals bound to names of secrets: `SECRET_KEY`, `api_key`, `client_secret`,
    `auth_token`, `access_token`, `credentials`, `X-Auth-Token` headers and `Authorization:
    Bearer ...` header values, in assignments, dict entries, keyword arguments, parameter
    defaults, comparisons and `os.getenv` fallbacks.  Names that merely contain `key` or `token`
    (`sort_key`, `public_key`, `page_token`, `token_type`) and placeholder values are not
    reported; neither is test code.

    ## Why it matters
    Anyone who reads the source, its history or a built artifact holds the secret: they can
    call the API as the application, forge sessions signed with a framework's `SECRET_KEY`, or
    decrypt what it protects.  A literal secret also cannot differ between installations.

    ## Example
    ```python
    SECRET_KEY = "k9#f2!x@q8v$m1z&w4p^r7t*y0"
    ```

    ## Fix
    Load the secret at run time (`SECRET_KEY = os.environ["SECRET_KEY"]`, a secrets manager, a
    file outside the repository), fail when it is missing, and rotate the value that was
    committed.

    ## References
    - CWE-798: Use of Hard-coded Credentials
    - https://docs.djangoproject.com/en/stable/ref/settings/#secret-key
    """
    for named, secret in _credential_literals(ctx, "secret"):
        how = _HOW[named.how].format(what="secret", shown=masked(secret))
        env = re.sub(r"[^A-Z0-9]+", "_", named.name.upper()).strip("_") or "SECRET"
        yield Issue(
            named.value,
            message=f"`{named.name}` {how}.",
            fix=f"Load `{named.name}` from the environment or a secrets store (`os.environ[\"{env}\"]`), "
            f"remove the literal and rotate the committed value.",
        )


_STRING_LITERALS: weakref.WeakKeyDictionary[ModuleContext, list[tuple[ast.Constant, str]]] = weakref.WeakKeyDictionary()


def string_literals(ctx: ModuleContext) -> list[tuple[ast.Constant, str]]:
    """Every non-empty str or bytes literal of the module with its text; several rules scan them."""
    found = _STRING_LITERALS.get(ctx)
    if found is None:
        found = _STRING_LITERALS[ctx] = [
            (node, text) for node in ctx.nodes(ast.Constant) if (text := _text(node.value))
        ]
    return found




def _folded_around(ctx: ModuleContext, node: ast.Constant) -> str:
    """The whole string a literal is part of when it is built with ``+`` from literals."""
    outer: ast.AST = node
    while isinstance(parent := ctx.parent(outer), ast.BinOp) and isinstance(parent.op, ast.Add):
        outer = parent
    folded = _text(ctx.constant(outer, None)) if outer is not node else None
    return folded or _text(node.value) or ""


@rule(
    id="hardcoded-private-key",
    cwe=321,
    severity="high",
    confidence="high",
    summary="PEM or OpenSSH private key embedded in the source",
    relevant_in_tests=True,
)
def hardcoded_private_key(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags string and bytes literals holding a private key: a `-----BEGIN ... PRIVATE KEY-----`
    block (RSA, DSA, EC, OpenSSH, PKCS#8, PGP) followed by key material before its `-----END`
    line.  A header alone, as used to recognise or split PEM text, and a docstring that shows
    the format with a placeholder (`<base64-encoded key>`), are not reported.  Reported in test code too: a key
    committed anywhere is published.

    ## Why it matters
    Whoever holds the private key can impersonate the service it identifies, decrypt traffic or
    data encrypted to it, and sign what its peers trust.  A key in a repository is copied into
    every clone, fork and package, and stays in the history after it is deleted.

    ## Example
    ```python
    SIGNING_KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----
    MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun...
    -----END RSA PRIVATE KEY-----\"\"\"
    ```

    ## Fix
    Revoke the key, generate a new one, and load it at run time from a file outside the
    repository or from a secrets manager.  Tests can generate a throwaway key with
    `cryptography`'s `rsa.generate_private_key` instead of committing one.

    ## References
    - CWE-321: Use of Hard-coded Cryptographic Key
    - CWE-798: Use of Hard-coded Credentials
    """
    for node, text in string_literals(ctx):
        header = _PRIVATE_KEY_HEADER.search(text)
        if header is None:
            continue
        whole = _folded_around(ctx, node)
        start = whole.find(header.group(0))
        # The material lies between the markers, one run per line: joining every word of a docstring
        # that only shows the format would make prose look like base64.
        body = whole[start + len(header.group(0)):].split("-----END", 1)[0]
        body = re.sub(r"[ \t]*\n[ \t]*", "", body.strip())
        material = _KEY_BODY.search(body)
        if material is None or len(set(material.group(0))) < 12:
            continue
        kind = (header.group(1) or "").strip() or "PKCS#8"
        yield Issue(
            node,
            message=f"A {kind} private key (`{header.group(0)}`) is embedded in this literal.",
            fix="Revoke this key, generate a new one and load it at run time from a file or secrets manager "
            "outside the repository.",
        )


@rule(
    id="hardcoded-api-token",
    cwe=798,
    severity="high",
    confidence="high",
    summary="Access token in a well-known provider format (AWS, GitHub, Slack, Stripe, Google) in the source",
    relevant_in_tests=True,
)
def hardcoded_api_token(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags string literals containing a credential in a provider's own format, whatever the
    variable is called: AWS access key ids (`AKIA...`), GitHub tokens (`ghp_...`,
    `github_pat_...`), GitLab (`glpat-...`), npm (`npm_...`) and PyPI (`pypi-...`) tokens,
    Slack tokens (`xoxb-...`) and webhook URLs, Stripe live secret keys (`sk_live_...`),
    SendGrid (`SG.` ...), OpenAI and Anthropic API keys and Google API keys (`AIza...`).  Documentation examples (`...EXAMPLE`,
    `XXXX` bodies) are not reported.  Reported in test code too: a live token works from
    wherever it was copied.

    ## Why it matters
    These tokens authenticate directly against the provider's API.  Scanners harvest public
    repositories for them within minutes of a push, and a leaked cloud key is routinely used to
    run up bills or read customer data before anyone notices.

    ## Example
    ```python
    client = Github("ghp_4fJ2kL9mQ1xR7tV3wY8zB6nC0dE5gH2iK1oP")
    ```

    ## Fix
    Revoke the token at the provider now, issue a new one and read it at run time
    (`os.environ["GITHUB_TOKEN"]` or a secrets manager).

    ## References
    - CWE-798: Use of Hard-coded Credentials
    - https://docs.github.com/en/code-security/secret-scanning
    """
    for node, text in string_literals(ctx):
        found = known_token_format(text)
        if found is None:
            continue
        provider, token = found
        yield Issue(
            node,
            message=f"This literal contains a {provider} (`{masked(token)}`), a live credential for that service.",
            fix=f"Revoke the {provider} at the provider, issue a new one and read it at run time from the environment "
            f"or a secrets manager.",
        )


# Where a library takes the key that signs or encrypts: (position, keyword).
_KEY_POSITIONS = {
    "jwt.encode": (1, "key"), "jwt.decode": (1, "key"), "jwt.api_jwt.encode": (1, "key"),
    "jose.jwt.encode": (1, "key"), "jose.jwt.decode": (1, "key"), "jose.jws.sign": (1, "key"),
    "hmac.new": (0, "key"), "hmac.HMAC": (0, "key"), "hmac.digest": (0, "key"),
    "cryptography.fernet.Fernet": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.algorithms.AES": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.algorithms.ChaCha20": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.algorithms.TripleDES": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.aead.AESGCM": (0, "key"),
    "cryptography.hazmat.primitives.ciphers.aead.ChaCha20Poly1305": (0, "key"),
    "cryptography.hazmat.primitives.hmac.HMAC": (0, "key"),
    "itsdangerous.Signer": (0, "secret_key"), "itsdangerous.TimestampSigner": (0, "secret_key"),
    "itsdangerous.Serializer": (0, "secret_key"), "itsdangerous.URLSafeSerializer": (0, "secret_key"),
    "itsdangerous.URLSafeTimedSerializer": (0, "secret_key"), "itsdangerous.TimedSerializer": (0, "secret_key"),
}
for _package in ("Crypto", "Cryptodome"):
    for _cipher in ("AES", "DES", "DES3", "Blowfish", "ARC2", "ARC4", "CAST", "ChaCha20", "Salsa20", "ChaCha20_Poly1305"):
        _KEY_POSITIONS[f"{_package}.Cipher.{_cipher}.new"] = (0, "key")
    _KEY_POSITIONS[f"{_package}.Hash.HMAC.new"] = (0, "key")


def _reported_by_name(ctx: ModuleContext, argument: ast.expr) -> bool:
    """``jwt.encode(p, SECRET_KEY)`` where ``SECRET_KEY = "..."`` is already reported as a named secret,
    or ``Signer(secret_key="...")`` reported as a named keyword argument."""
    keyword = ctx.parent(argument)
    if isinstance(keyword, ast.keyword) and keyword.arg and isinstance(argument, ast.Constant):
        kind = credential_kind(keyword.arg)
        return kind is not None and secret_value(argument.value, keyword.arg, kind, in_use=True) is not None
    if not isinstance(argument, ast.Name):
        return False
    kind = credential_kind(argument.id)
    return kind is not None and secret_value(local_constant(ctx, argument), argument.id, kind) is not None


@rule(
    id="hardcoded-crypto-key",
    cwe=321,
    severity="high",
    confidence="high",
    summary="Literal key passed to a signing or encryption API (JWT, HMAC, AES, Fernet, itsdangerous)",
    relevant_in_tests=False,
)
def hardcoded_crypto_key(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags a string or bytes literal, or a module constant or local variable bound once to one,
    passed as the key of
    `jwt.encode` / `jwt.decode`, `hmac.new`, PyCryptodome ciphers (`AES.new(key, ...)`),
    `cryptography`'s `Fernet`, `AESGCM` and cipher algorithms, and `itsdangerous` signers.
    Any literal counts, `"secret"` included: in this position it is the key.  A constant whose
    own name marks it as a secret (`SECRET_KEY = "..."`) is reported once, where it is
    assigned, by `hardcoded-secret`.

    ## Why it matters
    Whoever reads the source can sign tokens the application accepts, forge its cookies and
    decrypt what it encrypted.  Every installation shares the key, and replacing it needs a
    release.

    ## Example
    ```python
    token = jwt.encode({"sub": user.id}, "my-signing-key", algorithm="HS256")
    ```

    ## Fix
    Load the key at run time from the environment or a secrets manager
    (`jwt.encode(claims, os.environ["JWT_SIGNING_KEY"], algorithm="HS256")`), generate it with
    `secrets.token_bytes(32)` when it is provisioned, and rotate the committed value.

    ## References
    - CWE-321: Use of Hard-coded Cryptographic Key
    - CWE-798: Use of Hard-coded Credentials
    """
    for call in ctx.calls:
        position = _KEY_POSITIONS.get(call.name or "")
        if position is None:
            continue
        argument = call.arg(*position)
        if argument is None or _reported_by_name(ctx, argument):
            continue
        text = _text(local_constant(ctx, argument))
        if not text or _TEMPLATE.fullmatch(text) or _ENV_NAME.fullmatch(text):
            continue
        yield Issue(
            argument,
            message=f"`{call.name}` is given the literal key `{masked(text)}`, which every copy of the code shares.",
            fix=f"Pass `{call.name}` a key loaded at run time (for example `os.environ[\"SIGNING_KEY\"]` or a secrets "
            f"manager) and rotate the committed one.",
        )
