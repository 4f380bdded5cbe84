"""Insecure randomness (CWE-338): a predictable generator producing a secret.

Policy.  The `random` module and `numpy.random` are the right tools for jitter, sampling,
shuffling, simulation and load spreading, and most of their calls are exactly that, so a call
is reported only when the names around it show that the value is a secret: it is assigned to
or returned as a token, password, key, salt, nonce, session id, OTP, reset code or CSRF value,
passed as such a keyword, stored in a cookie, or built inside a function whose name says it
makes one.  A decisive benign name (delay, jitter, port, color, name, ...) ends the search; a
call with no telling name is not reported, except a random string built from a character
alphabet (``"".join(random.choice(string.ascii_letters) ...)``), the shape of a token or
password, which is reported at low severity and low confidence.  `random.SystemRandom()` and `secrets` are never
reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Confidence, Severity
from ..python.module import ModuleContext
from ..python.names import dotted
from . import Issue, rule
from ._purpose import (
    Purpose,
    Vocabulary,
    callee_name,
    destinations,
    enclosing_names,
    identifiers,
    judge_names,
    local_constant,
    resolved_calls,
)

_RANDOM_FUNCTIONS = {"random", "randint", "randrange", "choice", "choices", "sample", "getrandbits", "uniform",
                     "randbytes", "triangular"}
_NUMPY_FUNCTIONS = {"randint", "rand", "random", "random_sample", "choice", "bytes", "integers", "ranf", "sample"}
_GENERATOR_FACTORIES = {"random.Random", "numpy.random.RandomState", "numpy.random.default_rng",
                        "numpy.random.Generator"}

_ANY_GENERATOR_METHOD = _RANDOM_FUNCTIONS | _NUMPY_FUNCTIONS
_GENERATOR_FACTORY_NAMES = {name.rpartition(".")[2] for name in _GENERATOR_FACTORIES}

_SECRET_VOCABULARY = Vocabulary(
    security=frozenset({
        "password", "passwd", "pwd", "passphrase", "passcode", "secret", "token", "nonce", "salt", "otp", "totp",
        "hotp", "csrf", "xsrf", "apikey", "sessionid", "credential", "credentials", "cookie", "captcha", "iv",
        "pin", "verifier", "authkey", "csrftoken",
    }),
    benign=frozenset({
        "jitter", "backoff", "delay", "sleep", "retry", "retries", "wait", "interval", "timeout", "color", "colour",
        "port", "mock", "fake", "dummy", "sample", "sampling", "weight", "weights", "probability", "prob", "chance",
        "percent", "ratio", "offset", "position", "length", "len", "count", "size", "width", "height", "bucket",
        "ttl", "expiry", "expires", "expire", "expiration", "lifetime", "age", "duration", "index", "idx", "latency",
        "noise", "seed", "vocab", "word", "words", "corpus", "sentence", "server", "host", "node", "proxy",
        "agent", "shuffle", "shuffled", "split", "fraction", "padding", "boundary", "multipart", "tempfile", "tempdir", "tmpdir", "tmpfile", "name", "names",
        "suffix", "prefix", "slug", "label", "filename", "dirname", "tag", "uid", "uuid", "guid", "policy",
        "policies", "strength", "hint", "field", "prompt", "requirement", "requirements", "complexity", "rule",
        "rules",
    }),
    qualified={
        "key": frozenset({"api", "secret", "private", "encryption", "encrypt", "session", "signing", "access",
                          "auth", "master", "hmac", "crypto", "aes", "remember", "cookie", "activation", "license",
                          "invite", "otp", "symmetric", "shared", "client", "app", "des", "cipher", "recovery", "reset",
                          "verification", "confirm", "confirmation", "unlock", "login"}),
        "code": frozenset({"reset", "verification", "verify", "confirm", "confirmation", "activation", "auth",
                           "authorization", "invite", "invitation", "otp", "login", "mfa", "sms", "recovery",
                           "access", "security", "pin", "unlock", "pairing", "one", "twofa", "tfa"}),
        "id": frozenset({"session", "csrf", "auth", "nonce"}),
        "link": frozenset({"reset", "activation", "magic", "login", "invite", "confirmation", "unsubscribe"}),
    },
    suffixes=("password", "passwd", "token", "secret", "nonce", "sessionid"),
)
# What the random value is drawn from, when it says the value is not a secret.
_BENIGN_POPULATIONS = frozenset({"vocab", "vocabulary", "words", "corpus", "sentences", "servers", "hosts", "nodes",
                                 "endpoints", "proxies", "urls", "colors", "colours", "agents", "replicas",
                                 "backends", "peers", "mirrors", "tokens", "samples", "examples", "questions"})

_REPLACEMENTS = {
    "choice": "secrets.choice(...)",
    "choices": "\"\".join(secrets.choice(alphabet) for _ in range(length))",
    "sample": "\"\".join(secrets.choice(alphabet) for _ in range(length))",
    "randint": "secrets.randbelow(upper - lower + 1) + lower",
    "randrange": "secrets.randbelow(n)",
    "integers": "secrets.randbelow(n)",
    "getrandbits": "secrets.randbits(k)",
    "randbytes": "secrets.token_bytes(n)",
    "bytes": "secrets.token_bytes(n)",
}


def _generator_instances(ctx: ModuleContext) -> set[str]:
    """Dotted names bound to a seedable generator: ``rng = random.Random()``, ``self.rng = np.random.default_rng()``."""
    bound: set[str] = set()
    for node in ctx.nodes(ast.Assign):
        if isinstance(node.value, ast.Call) and callee_name(node.value) in _GENERATOR_FACTORY_NAMES \
                and ctx.qualname(node.value.func) in _GENERATOR_FACTORIES:
            for target in node.targets:
                name = dotted(target)
                if name:
                    bound.add(name)
    return bound


def _predictable_call(ctx: ModuleContext, call, instances: set[str]) -> str | None:
    """The method name when ``call`` draws from a predictable generator."""
    name = call.name or ""
    head, _, last = name.rpartition(".")
    if head == "random" and last in _RANDOM_FUNCTIONS:
        return last
    if head in ("numpy.random", "numpy.random.default_rng()") and last in _NUMPY_FUNCTIONS:
        return last
    func = call.node.func
    if isinstance(func, ast.Attribute) and func.attr in _ANY_GENERATOR_METHOD:
        receiver = dotted(func.value)
        if receiver in instances or ctx.qualname(func.value) in {f + "()" for f in _GENERATOR_FACTORIES}:
            return func.attr
    return None


def _is_random_decision(ctx: ModuleContext, node: ast.AST) -> bool:
    """``if random.random() < 0.1:``: the value decides a branch, it is not kept as a secret."""
    child, parent = node, ctx.parent(node)
    while isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Call)) and child is not getattr(parent, "func", None):
        child, parent = parent, ctx.parent(parent)
    return isinstance(parent, ast.Compare)


def _builds_string_from_alphabet(ctx: ModuleContext, call, method: str) -> bool:
    """``"".join(random.choice(string.ascii_letters) for _ in range(n))``: a random string, purpose unnamed."""
    if method not in ("choice", "choices", "sample"):
        return False
    population = call.arg(0, "seq") or call.arg(0, "population")
    if population is None:
        return False
    is_alphabet = isinstance(local_constant(ctx, population), str) or any(
        (ctx.qualname(node) or "").startswith("string.") for node in ast.walk(population)
        if isinstance(node, (ast.Attribute, ast.Name)))
    if not is_alphabet:
        return False
    for ancestor in ctx.ancestors(call.node):
        if isinstance(ancestor, ast.Call) and isinstance(ancestor.func, ast.Attribute) and ancestor.func.attr == "join":
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False


def _draws_from_benign_population(call) -> bool:
    population = call.arg(0, "seq") or call.arg(0, "population") or call.arg(0, "a")
    if population is None:
        return False
    return any(name.lower() in _BENIGN_POPULATIONS for name in identifiers(population))


@rule(
    id="insecure-random",
    bandit=("B311",), ruff=("S311",),
    cwe=338,
    severity="medium",
    confidence="high",
    summary="Token, password, key or other secret drawn from a predictable random generator",
    relevant_in_tests=False,
)
def insecure_random(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags values from the `random` module (`random.choice`, `randint`, `getrandbits`, `random()`,
    ..., and `random.Random()` instances) and from `numpy.random` when the names around them show
    they are secrets: assigned to or returned as a token, password, key, salt, nonce, session
    id, OTP, reset code or CSRF value, passed as such a keyword, or set as a cookie.  Jitter,
    backoff, sampling, shuffling and simulation are not reported, nor is `random.SystemRandom()`.

    ## Why it matters
    `random` is a Mersenne Twister: 624 consecutive 32-bit outputs reveal its whole state, after
    which every past and future value is known, and a generator seeded from the time is guessed
    directly.  An attacker who sees a few tokens (their own reset link, a session cookie)
    predicts the next user's.

    ## Example
    ```python
    alphabet = string.ascii_letters + string.digits
    reset_token = "".join(random.choice(alphabet) for _ in range(32))
    ```

    ## Fix
    Use the `secrets` module, which draws from the operating system's CSPRNG:
    `secrets.token_urlsafe(32)` for tokens, `"".join(secrets.choice(alphabet) for _ in range(n))`
    for passwords, `secrets.randbelow(10**6)` for numeric codes, `secrets.token_bytes(16)` for keys.

    ## References
    - CWE-338: Use of Cryptographically Weak Pseudo-Random Number Generator (PRNG)
    - https://docs.python.org/3/library/random.html (the warning at the top)
    - https://docs.python.org/3/library/secrets.html
    """
    instances = _generator_instances(ctx)
    for call in resolved_calls(ctx):
        method = _predictable_call(ctx, call, instances)
        if method is None:
            continue
        if method in ("choice", "choices", "sample") and _draws_from_benign_population(call):
            continue
        if _is_random_decision(ctx, call.node):
            continue
        verdict = judge_names(_SECRET_VOCABULARY, destinations(ctx, call.node))
        surrounding = judge_names(_SECRET_VOCABULARY, enclosing_names(ctx, call.node))
        confidence = Confidence.HIGH
        if verdict.purpose is Purpose.UNKNOWN:
            verdict, confidence = surrounding, Confidence.MEDIUM
        elif surrounding.purpose is Purpose.BENIGN:
            continue  # `token = random.randrange(...)` inside `_make_boundary` is a MIME boundary
        described = ast.unparse(call.node.func)
        if verdict.purpose is Purpose.UNKNOWN and _builds_string_from_alphabet(ctx, call, method):
            yield Issue(
                call.node,
                message=f"`{described}` builds a random string from a character alphabet, the shape of a token or "
                "password, with a predictable generator, and no name around it says what the string is for.",
                fix="If the string guards anything, build it with `secrets`: "
                "`\"\".join(secrets.choice(alphabet) for _ in range(length))` or `secrets.token_urlsafe(length)`.",
                severity=Severity.LOW,
                confidence=Confidence.LOW,
            )
            continue
        if verdict.purpose is not Purpose.SECURITY:
            continue
        yield Issue(
            call.node,
            message=f"`{described}` produces a secret ({verdict.evidence}) from a predictable generator whose "
            "outputs an attacker can reconstruct from a few observed values.",
            fix=f"Draw it from the `secrets` module: `{_REPLACEMENTS.get(method, 'secrets.token_urlsafe(32)')}`.",
            confidence=confidence,
        )
