"""Security checks written as ``assert``, which ``python -O`` deletes.

An assert is reported when its condition is a security decision: a permission, role or
ownership check, an authentication state, a secret or password check, a path-containment
check, or validation of request data.  Invariants that only guard the program against itself
(``isinstance``, ``is None``, lengths and states of internal values) are what assert is for and
are not reported; nor is any assert in test code, where pytest relies on it.

The CWE is 703 (Improper Check or Handling of Exceptional Conditions), as Bandit's B101 uses:
the check is written as an exception that may never be raised.  CWE-617 (Reachable Assertion)
describes assertions an attacker can trigger to stop the program, a different harm.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..python.module import ModuleContext
from . import Issue, rule
from ._purpose import words
from .timing import identifier_words, secret_comparison

_AUTHORIZATION_WORDS = {
    "admin", "administrator", "superuser", "staff", "perm", "perms", "permission", "permissions",
    "permitted", "authorized", "authorised", "authorization", "authorisation", "authorize", "authorise",
    "privilege", "privileges", "privileged", "acl", "sudo", "sudoer",
}
_AUTHENTICATION_WORDS = {
    "authenticated", "authenticate", "authentication", "logged", "login", "password", "passwd",
    "passphrase", "credential", "credentials", "otp", "mfa",
}
_ACCESS_PREDICATES = ({"is", "allowed"}, {"has", "access"}, {"can", "access"}, {"check", "access"})
_PERMISSION_PREFIXES = ("can_", "may_", "user_can_", "user_may_")
_OWNER_WORDS = {"owner", "author", "creator"}
_PRINCIPAL_WORDS = {"user", "account", "current", "request", "session", "principal"}
_CONCURRENCY_WORDS = {"thread", "threading", "lock", "greenlet", "greenthread", "task", "process", "pid", "coroutine"}
_PATH_WORDS = {
    "path", "paths", "filepath", "filename", "file", "dir", "directory", "root", "base", "basedir",
    "realpath", "abspath", "folder", "upload", "uploads", "media", "static", "target", "dest",
}
_URL_WORDS = {"url", "urls", "uri", "href", "link"}  # a URL prefix is routing, not file containment
_PATH_CONTAINMENT_CALLS = {"os.path.commonpath", "os.path.commonprefix"}
_INVARIANT_CALLS = {"isinstance", "issubclass", "hasattr", "callable", "type"}
_FORM_WORDS = {"form", "serializer", "schema"}


def _identifiers(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
        elif isinstance(child, ast.Attribute):
            yield child.attr


def _is_invariant(ctx: ModuleContext, test: ast.expr) -> bool:
    """A check the program makes of itself: a type test or a None test."""
    if isinstance(test, ast.Call) and (ctx.qualname(test.func) or "") in _INVARIANT_CALLS:
        return True
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.IsNot))
        and ctx.constant(test.comparators[0], ...) is None
    )


# Nouns for values, not for decisions: asserting one merely says it is there.
_VALUE_NOUNS = {"password", "passwd", "passphrase", "credential", "credentials", "request", "token", "secret"}


def _presence_of_value(test: ast.expr) -> bool:
    """``assert self.FTP_PASSWORD``, ``assert response.request``: the value is set (an invariant, like
    ``is not None``), unlike ``assert user.is_admin``, whose name is the decision."""
    if isinstance(test, ast.Name):
        name = test.id
    elif isinstance(test, ast.Attribute):
        name = test.attr
    else:
        return False
    parts = words(name)
    return bool(parts) and parts[-1] in _VALUE_NOUNS


def _path_containment(ctx: ModuleContext, test: ast.expr) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Call):
            name = ctx.qualname(node.func) or ""
            if name in _PATH_CONTAINMENT_CALLS:
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("startswith", "is_relative_to"):
                words = identifier_words(" ".join(_identifiers(node)))
                if words & _PATH_WORDS and not words & _URL_WORDS:
                    return True
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and ctx.constant(node.left, None) == ".."
        ):
            return True
    return False


def _ownership(ctx: ModuleContext, test: ast.expr) -> bool:
    for node in ast.walk(test):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.Is))):
            continue
        sides = (node.left, node.comparators[0])
        if any(ctx.is_constant(side) for side in sides):
            continue
        words = [identifier_words(" ".join(_identifiers(side))) for side in sides]
        if any(w & _CONCURRENCY_WORDS for w in words):
            continue
        if (words[0] & _OWNER_WORDS and words[1] & _PRINCIPAL_WORDS) or (
            words[1] & _OWNER_WORDS and words[0] & _PRINCIPAL_WORDS
        ):
            return True
    return False


def _secret_comparison(ctx: ModuleContext, test: ast.expr) -> bool:
    return any(isinstance(node, ast.Compare) and secret_comparison(ctx, node) for node in ast.walk(test))


_VALIDATOR_WORDS = {"valid", "validate", "validated", "verify", "verified", "check", "checked", "sanitize",
                    "sanitise", "clean", "safe", "allowed", "trusted"}


def _reads_request(ctx: ModuleContext, test: ast.expr) -> bool:
    """``test`` reads the HTTP request's data (``request.args``, ``self.request.user``) or hands the
    request to a validator (``is_valid(request)``), not a method named ``request`` (``client.request()``).

    A request passed whole to another predicate (``_is_prepared(request)``) is a check of the
    object's state, which is what an assert is for: an HTTP client's outgoing request is named so too.
    """
    for node in ast.walk(test):
        is_request = (isinstance(node, ast.Name) and (node.id == "request" or ctx.aliases.get(node.id, "").endswith(".request"))) \
            or isinstance(node, ast.Attribute) and node.attr == "request"
        if not is_request:
            continue
        parent = ctx.parent(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            continue
        if isinstance(parent, ast.Attribute) and parent.attr == "method":
            continue  # the HTTP method picked the code path (routing); asserting it is an invariant
        if isinstance(parent, ast.Call) and node in parent.args:
            callee = ctx.qualname(parent.func) or ""
            if not set(identifier_words(callee.rpartition(".")[2])) & _VALIDATOR_WORDS:
                continue
        return True
    return False


def _validates_form(test: ast.expr) -> bool:
    for node in ast.walk(test):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("is_valid", "validate")
            and identifier_words(ast.unparse(node.func.value)) & _FORM_WORDS
        ):
            return True
    return False


def security_check(ctx: ModuleContext, test: ast.expr) -> str | None:
    """What kind of security decision ``test`` makes, if any."""
    if isinstance(test, ast.BoolOp):
        for value in test.values:
            found = security_check(ctx, value)
            if found:
                return found
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return security_check(ctx, test.operand)
    if _is_invariant(ctx, test) or _presence_of_value(test):
        return None
    names = list(_identifiers(test))
    words = set().union(*(identifier_words(name) for name in names)) if names else set()
    if words & _AUTHORIZATION_WORDS:
        return "an authorization check"
    # ``can_edit(user, doc)`` is a permission; ``features.can_return_rows`` is a capability
    if words & _PRINCIPAL_WORDS and any(name.lower().startswith(_PERMISSION_PREFIXES) for name in names):
        return "an authorization check"
    if any(pair <= identifier_words(name) for name in names for pair in _ACCESS_PREDICATES):
        return "an authorization check"
    if _ownership(ctx, test):
        return "an ownership check"
    if words & {"password", "passwd", "passphrase"}:
        return "a password check"
    if words & _AUTHENTICATION_WORDS:
        return "an authentication check"
    # ``user.is_active``, ``account.email_verified``: the state of the principal's account
    if words & _PRINCIPAL_WORDS and words & {"active", "verified", "confirmed", "banned", "disabled", "locked"}:
        return "an account status check"
    if _secret_comparison(ctx, test):
        return "a secret comparison"
    if _path_containment(ctx, test):
        return "a path containment check"
    if _reads_request(ctx, test) or _validates_form(test):
        return "validation of request input"
    return None


_INVERSE = {
    ast.Eq: "!=", ast.NotEq: "==", ast.In: "not in", ast.NotIn: "in", ast.Is: "is not", ast.IsNot: "is",
    ast.Lt: ">=", ast.LtE: ">", ast.Gt: "<=", ast.GtE: "<",
}


def _negated(test: ast.expr) -> str:
    """The failing condition of ``assert test`` as code, without a double negation."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return ast.unparse(test.operand)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        return f"{ast.unparse(test.left)} {_INVERSE[type(test.ops[0])]} {ast.unparse(test.comparators[0])}"
    return f"not ({ast.unparse(test)})" if isinstance(test, (ast.BoolOp, ast.IfExp, ast.NamedExpr)) else (
        f"not {ast.unparse(test)}"
    )


def _failing_condition(ctx: ModuleContext, test: ast.expr) -> str:
    """``_negated``, with a secret equality turned into a constant-time comparison."""
    if isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Eq) and secret_comparison(ctx, test):
        return f"not hmac.compare_digest({ast.unparse(test.left)}, {ast.unparse(test.comparators[0])})"
    return _negated(test)


_EXCEPTION_FOR = {
    "validation of request input": "ValueError",
    "a password check": "ValueError",
    "a path containment check": "PermissionError",
}


@rule(
    id="assert-used-for-security",
    bandit=("B101",), ruff=("S101",),
    cwe=703,
    severity="medium",
    confidence="medium",
    summary="Security check written as an assert statement, which python -O removes",
)
def assert_used_for_security(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `assert` statements outside test code whose condition is a security decision: a
    permission, role or ownership check (`assert user.is_admin`, `assert
    request.user.has_perm(...)`), an authentication state or password rule, a comparison of a
    token or signature, a path-containment check (`assert path.startswith(base)`), or
    validation of request data.  Type and `None` checks and other internal invariants are not
    flagged, nor are predicates that take a request object whole without validating it
    (`assert _is_prepared(request)`, a check of an HTTP client's outgoing request), assert the
    HTTP method that routing already chose (`assert request.method == "HEAD"`), or only assert
    that a value is present (`assert settings.FTP_PASSWORD`, `assert response.request`).

    ## Why it matters
    Python removes every assert when it runs with `-O` or `PYTHONOPTIMIZE`, which some
    deployments set for speed.  The check then vanishes without a trace and every request
    passes it.  Even where asserts stay, a failure raises `AssertionError`, which frameworks turn
    into a 500 error instead of the 403 or 400 the client should get.

    ## Example
    ```python
    def delete_user(request, user_id):
        assert request.user.is_superuser
        User.objects.filter(pk=user_id).delete()
    ```

    ## Fix
    Write the check as a condition that raises: `if not request.user.is_superuser: raise
    PermissionDenied()` (or `abort(403)`, `raise ValueError(...)` for invalid input).

    ## References
    - CWE-703: Improper Check or Handling of Exceptional Conditions
    - CWE-617: Reachable Assertion
    - https://docs.python.org/3/reference/simple_stmts.html#the-assert-statement
    """
    for statement in ctx.nodes(ast.Assert):
        kind = security_check(ctx, statement.test)
        if kind is None:
            continue
        condition = ast.unparse(statement.test)
        exception = _EXCEPTION_FOR.get(kind, "PermissionError")
        yield Issue(
            statement,
            message=f"`assert {condition}` is {kind}, and Python removes assert statements under `-O`, so the "
            "check disappears in an optimised deployment.",
            fix=f"Replace the assert with `if {_failing_condition(ctx, statement.test)}: raise {exception}(...)` (or "
            "the framework's 403/400 response).",
        )
