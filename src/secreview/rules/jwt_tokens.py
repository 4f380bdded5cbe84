"""JSON Web Tokens accepted without checking who signed them.

Covers PyJWT (``import jwt``) and python-jose (``from jose import jwt``).  Authlib's
``jwt.decode`` always verifies the signature and is not matched.  Reading a token without
verification is legitimate in one shape: peeking at the header or claims to choose the key
(``kid``, ``iss``) and then verifying with that key.  A function that also calls a verifying
decode is therefore not reported for its unverified read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Confidence
from ..python.module import Call, ModuleContext
from . import Issue, rule

_DECODERS = {
    "jwt.decode", "jwt.decode_complete", "jwt.api_jwt.decode", "jwt.api_jwt.decode_complete",
    "jwt.PyJWT().decode", "jwt.PyJWT().decode_complete", "jwt.api_jwt.PyJWT().decode",
    "jose.jwt.decode", "jose.jws.verify",
}
_UNVERIFIED_READERS = {"jose.jwt.get_unverified_claims", "jose.jws.get_unverified_claims", "python_jwt.process_jwt"}
_HEADER_READERS = {"jwt.get_unverified_header", "jose.jwt.get_unverified_header", "jose.jws.get_unverified_header"}


def _dict_value(ctx: ModuleContext, node: ast.expr | None, key: str) -> object:
    """The constant under ``key`` in a dict literal, directly or through one name; ``...`` when unknown."""
    if isinstance(node, ast.Name):
        node = _binding(ctx, node)
    if isinstance(node, ast.Dict):
        for key_node, value in zip(node.keys, node.values):
            if key_node is not None and ctx.constant(key_node, None) == key:
                return ctx.constant(value, ...)
        return None
    if isinstance(node, ast.Call) and (ctx.qualname(node.func) or "") == "dict":
        for keyword in node.keywords:
            if keyword.arg == key:
                return ctx.constant(keyword.value, ...)
        return None
    return ...


def _binding(ctx: ModuleContext, name: ast.Name) -> ast.expr | None:
    """The value of the single assignment to ``name`` in its function, or else in the module."""
    scope: ast.AST = ctx.enclosing_function(name) or ctx.tree
    values = [
        node.value
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets)
    ]
    if len(values) == 1:
        return values[0]
    if not values and scope is not ctx.tree:
        return _binding_in_module(ctx, name.id)
    return None


def _binding_in_module(ctx: ModuleContext, identifier: str) -> ast.expr | None:
    values = [
        stmt.value
        for stmt in ctx.tree.body
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == identifier for t in stmt.targets)
    ]
    return values[0] if len(values) == 1 else None


def _verification_disabled(ctx: ModuleContext, call: Call) -> str | None:
    """How this decode call skips the signature check, if it does."""
    if _dict_value(ctx, call.arg(keyword="options"), "verify_signature") is False:
        return '`options={"verify_signature": False}`'
    # PyJWT 1.x: decode(jwt, key="", verify=True, ...), so a third positional False is verify=False
    verify = call.arg(position=2 if call.name and call.name.startswith("jwt") else None, keyword="verify")
    if ctx.constant(verify, None) is False:
        return "`verify=False`"
    algorithms = ctx.constant(call.arg(keyword="algorithms"), None)
    if isinstance(algorithms, str):
        algorithms = [algorithms]
    if isinstance(algorithms, (list, tuple)) and any(str(a).lower() == "none" for a in algorithms):
        return "the `none` algorithm allowed"
    return None


def _verifies_elsewhere(ctx: ModuleContext, node: ast.AST, decoders: list[Call]) -> bool:
    """The function around ``node`` also verifies a token's signature."""
    function = ctx.enclosing_function(node)
    if function is None:
        return False
    verifying = [call for call in decoders if _verification_disabled(ctx, call) is None]
    verifying += [call for call in ctx.calls if call.name == "python_jwt.verify_jwt"]
    return any(ctx.enclosing_function(call.node) is function and call.node is not node for call in verifying)


_TIME_CLAIMS = {"exp", "iat", "nbf"}


def _time_claim_read(ctx: ModuleContext, node: ast.AST) -> bool:
    """``node`` is read only for a time claim: ``decode(...)["exp"]`` or ``claims.get("exp")``."""
    parent = ctx.parent(node)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return ctx.constant(parent.slice, None) in _TIME_CLAIMS
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "get":
        call = ctx.parent(parent)
        return isinstance(call, ast.Call) and bool(call.args) and ctx.constant(call.args[0], None) in _TIME_CLAIMS
    return False


def _only_reads_expiry(ctx: ModuleContext, call: ast.Call) -> bool:
    """The unverified claims serve only to learn when the token expires, a client refreshing its
    own token, not a decision about who the caller is."""
    if _time_claim_read(ctx, call):
        return True
    assign = ctx.parent(call)
    function = ctx.enclosing_function(call)
    if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)):
        return False
    if function is None:
        return False
    name = assign.targets[0].id
    uses = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    return bool(uses) and all(_time_claim_read(ctx, use) for use in uses)


@rule(
    id="jwt-signature-not-verified",
    cwe=347,
    severity="high",
    confidence="high",
    summary="JSON Web Token decoded without verifying its signature",
)
def jwt_signature_not_verified(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags PyJWT and python-jose `jwt.decode` called with `options={"verify_signature": False}`,
    with `verify=False` (PyJWT 1.x), or with `"none"` among the accepted algorithms, and
    python-jose's `get_unverified_claims` and python_jwt's `process_jwt`, unless the same
    function also verifies the token (the unverified read then only chooses the key) or reads
    nothing but the token's expiry from it (a client deciding when to refresh its own token).

    ## Why it matters
    A token's claims (`sub`, `role`, `is_admin`) are only as trustworthy as its signature.
    Without the check, anyone can write a token with `"sub": "admin"` and be treated as the
    administrator; with `none` allowed, an unsigned token is accepted as genuine.

    ## Example
    ```python
    claims = jwt.decode(token, options={"verify_signature": False})
    if claims["role"] == "admin":
        ...
    ```

    ## Fix
    Decode with the key and a fixed list of expected algorithms:
    `jwt.decode(token, key, algorithms=["RS256"], audience="my-api")`, and never accept `none`.

    ## References
    - CWE-347: Improper Verification of Cryptographic Signature
    - https://pyjwt.readthedocs.io/en/stable/usage.html
    - https://datatracker.ietf.org/doc/html/rfc8725 (JSON Web Token Best Current Practices)
    """
    decoders = [call for call in ctx.calls if call.name in _DECODERS]
    for call in decoders:
        how = _verification_disabled(ctx, call)
        if how is None or _verifies_elsewhere(ctx, call.node, decoders) or _only_reads_expiry(ctx, call.node):
            continue
        token = ast.unparse(call.node.args[0]) if call.node.args else "the token"
        yield Issue(
            call.node,
            message=f"`{call.name}` accepts `{token}` with {how}, so a forged or unsigned token's claims are trusted.",
            fix=f"Verify the signature: `{call.name}({token}, key, algorithms=[\"RS256\"])` with the issuer's key "
            "and the one algorithm it signs with.",
        )
    for call in ctx.calls:
        if call.name in _UNVERIFIED_READERS and not _verifies_elsewhere(ctx, call.node, decoders):
            token = ast.unparse(call.node.args[0]) if call.node.args else "the token"
            yield Issue(
                call.node,
                message=f"`{call.name}({token})` returns the claims without checking the signature, and this "
                "function never verifies the token.",
                fix=f"Verify `{token}` before trusting its claims: `jose.jwt.decode({token}, key, "
                "algorithms=[\"RS256\"])`, or `python_jwt.verify_jwt(token, key, [\"RS256\"])`.",
                confidence=Confidence.MEDIUM,
            )


def _algorithms_from_token(ctx: ModuleContext, node: ast.expr) -> bool:
    """``node`` reads the algorithm out of the token's own header."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and (ctx.qualname(child.func) or "") in _HEADER_READERS:
            return True
        if isinstance(child, ast.Name):
            bound = _binding(ctx, child)
            if isinstance(bound, ast.Call) and (ctx.qualname(bound.func) or "") in _HEADER_READERS:
                return True
    return False


@rule(
    id="jwt-algorithm-not-pinned",
    cwe=347,
    severity="medium",
    confidence="medium",
    summary="JSON Web Token verified with whatever algorithm the token names",
)
def jwt_algorithm_not_pinned(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags PyJWT and python-jose `jwt.decode` calls that verify a token with a key but pass no
    `algorithms` list (PyJWT 1.x and python-jose then accept the algorithm the token's header
    names), and calls whose `algorithms` come from the token's own unverified header.

    ## Why it matters
    When the token chooses the algorithm, an attacker who holds the server's RSA public key
    signs a token with HS256 using that public key as the HMAC secret, and the server, treating
    the same key as an HMAC secret, accepts it (algorithm confusion).  Older libraries also
    accept `none`.

    ## Example
    ```python
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, public_key, algorithms=[header["alg"]])
    ```

    ## Fix
    Pass the fixed list of algorithms the issuer uses: `jwt.decode(token, public_key,
    algorithms=["RS256"])`.

    ## References
    - CWE-347: Improper Verification of Cryptographic Signature
    - https://datatracker.ietf.org/doc/html/rfc8725#section-3.1
    """
    for call in ctx.calls:
        if call.name not in _DECODERS or call.name == "jose.jws.verify":
            continue
        if _verification_disabled(ctx, call) is not None or call.has_star_kwargs:
            continue
        algorithms = call.arg(keyword="algorithms")
        key = call.arg(position=1, keyword="key")
        token = ast.unparse(call.node.args[0]) if call.node.args else "the token"
        if algorithms is None and key is not None and len(call.node.args) < 3:
            yield Issue(
                call.node,
                message=f"`{call.name}` verifies `{token}` without an `algorithms` list, so the token's header "
                "chooses the algorithm the key is used with.",
                fix=f"Pass the issuer's algorithm explicitly: `{call.name}({token}, {ast.unparse(key)}, "
                "algorithms=[\"RS256\"])`.",
            )
        elif algorithms is not None and _algorithms_from_token(ctx, algorithms):
            yield Issue(
                call.node,
                message=f"`{call.name}` takes its `algorithms` from `{token}`'s own unverified header, so the "
                "attacker chooses how the signature is checked.",
                fix="Replace the header-derived list with the fixed algorithm the issuer signs with, e.g. "
                "`algorithms=[\"RS256\"]`.",
                confidence=Confidence.HIGH,
            )
