"""TLS without its guarantees: certificate verification off, host names unchecked, old protocols.

Only explicit choices are reported: a constant `verify=False`, `ssl.CERT_NONE`, `check_hostname =
False`, an obsolete protocol constant.  A setting computed from configuration (`verify=not
insecure`, `verify=CONF.ssl.verify`) is the operator's choice and is not reported, while a
constant that folds to False is.  Server-side contexts (`Purpose.CLIENT_AUTH`,
`PROTOCOL_TLS_SERVER`, `server_side=True`) are exempt from the verification rules: a server
that does not ask for client certificates is the ordinary case.  `urllib3.disable_warnings()`
only silences a warning and is not reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from weakref import WeakKeyDictionary

from ..findings import Confidence, Severity
from ..python.module import ModuleContext
from ..python.names import dotted
from . import Issue, rule
from ._purpose import callee_name, local_constant, resolved_calls, words

# Libraries whose `verify=` keyword is TLS certificate verification.
_HTTP_LIBRARIES = ("requests.", "httpx.", "keystoneauth1.", "boto3.", "botocore.", "aioboto3.", "hvac.",
                   "openstack.", "docker.", "zeep.", "pysnow.", "gitlab.", "pynetbox.", "elasticsearch.",
                   "opensearchpy.", "urllib3.", "aiohttp.", "kubernetes.", "novaclient.", "glanceclient.",
                   "cinderclient.", "neutronclient.", "keystoneclient.", "swiftclient.", "ironicclient.",
                   "heatclient.", "requests_oauthlib.", "oauthlib.", "zvmconnector.")
_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream",
                 "fetch", "urlopen", "ws_connect", "download", "upload"}
_CLIENT_WORDS = {"client", "session", "connector", "connection", "conn", "adapter", "transport", "api", "http",
                 "https", "rest", "requests", "request", "url", "fetch", "download", "upload", "connect", "pool"}
_NOT_TLS_WORDS = {"jwt", "token", "signature", "sign", "decode", "hash", "checksum", "schema", "model", "form",
                  "email", "password", "payload", "jws", "jwe"}
# Keywords that name certificate verification whatever the callee: False disables it.
_VERIFY_KEYWORDS = {"verify_ssl", "ssl_verify", "verify_certs", "validate_certs", "validate_cert", "verify_cert",
                    "ssl_verify_cert", "verify_certificate", "verify_tls", "tls_verify"}
# Keywords that disable verification when True.
_INSECURE_KEYWORDS = {"disable_ssl_certificate_validation", "tlsAllowInvalidCertificates", "tlsInsecure",
                      "ssl_insecure", "insecure_skip_verify", "allow_insecure_ssl"}
_CERT_REQS_KEYS = {"cert_reqs", "ssl_cert_reqs", "verify_mode"}
_HOSTNAME_KEYS = {"check_hostname", "ssl_check_hostname", "assert_hostname", "match_hostname"}
_SESSION_FACTORIES = {"requests.Session", "requests.session", "requests.sessions.Session", "httpx.Client",
                      "httpx.AsyncClient", "keystoneauth1.session.Session"}
_SERVER_MARKERS = {"ssl.Purpose.CLIENT_AUTH", "ssl.PROTOCOL_TLS_SERVER"}


def _is_false(ctx: ModuleContext, node: ast.AST | None) -> bool:
    return node is not None and local_constant(ctx, node) is False


def _is_true(ctx: ModuleContext, node: ast.AST | None) -> bool:
    return node is not None and local_constant(ctx, node) is True


def _callee_words(call) -> set[str]:
    return set(words(call.method or ""))


def _is_http_call(ctx: ModuleContext, call) -> bool:
    """A call whose `verify=` keyword means certificate verification (an HTTP or API client)."""
    name = call.name or ""
    if name.startswith(("jwt.", "jose.", "itsdangerous.", "authlib.jose")):
        return False
    if name.startswith(_HTTP_LIBRARIES):
        return True
    method_words = _callee_words(call)
    if method_words & _NOT_TLS_WORDS:
        return False
    if call.method in _HTTP_METHODS:
        return True
    return bool(method_words & _CLIENT_WORDS)


def _imports(ctx: ModuleContext, package: str) -> bool:
    return any(q == package or q.startswith(package + ".") for q in ctx.aliases.values())


def _is_cert_none(ctx: ModuleContext, node: ast.AST) -> bool:
    qualified = ctx.qualname(node) or ""
    if qualified.endswith(("ssl.CERT_NONE", "VerifyMode.CERT_NONE")) or qualified == "CERT_NONE":
        return True
    value = ctx.constant(node, None)
    return isinstance(value, str) and value.upper() in ("CERT_NONE", "NONE")


_SERVER_CACHE: WeakKeyDictionary = WeakKeyDictionary()


def _server_objects(ctx: ModuleContext) -> set[tuple[ast.AST | None, str]]:
    """(enclosing function, dotted name) of variables bound to a server-side SSL context, computed once per module."""
    cached = _SERVER_CACHE.get(ctx)
    if cached is None:
        cached = _SERVER_CACHE[ctx] = _find_server_objects(ctx)
    return cached


def _find_server_objects(ctx: ModuleContext) -> set[tuple[ast.AST | None, str]]:
    server: set[tuple[ast.AST | None, str]] = set()
    for node in ctx.nodes(ast.Assign):
        if not isinstance(node.value, ast.Call):
            continue
        mentioned = {ctx.qualname(n) for n in ast.walk(node.value) if isinstance(n, (ast.Attribute, ast.Name))}
        if mentioned & _SERVER_MARKERS:
            for target in node.targets:
                name = dotted(target)
                if name:
                    server.add((_scope_of(ctx, node, name), name))
    return server


def _scope_of(ctx: ModuleContext, node: ast.AST, name: str) -> ast.AST | None:
    """Attributes of ``self`` live as long as the class; local names as long as the function."""
    if name.startswith("self."):
        return next((a for a in ctx.ancestors(node) if isinstance(a, ast.ClassDef)), None)
    return ctx.enclosing_function(node)


def _is_server_side(ctx: ModuleContext, node: ast.AST) -> bool:
    """``node`` configures a server context: an attribute of a known server context, or a server_side call."""
    if isinstance(node, ast.Attribute):
        receiver = dotted(node.value) or ""
        return (_scope_of(ctx, node, receiver), receiver) in _server_objects(ctx)
    call = node
    while call is not None and not isinstance(call, ast.Call):
        call = ctx.parent(call)
    if isinstance(call, ast.Call):
        for keyword in call.keywords:
            if keyword.arg == "server_side" and _is_true(ctx, keyword.value):
                return True
    return False


_SESSION_CACHE: WeakKeyDictionary = WeakKeyDictionary()


def _session_objects(ctx: ModuleContext) -> set[str]:
    cached = _SESSION_CACHE.get(ctx)
    if cached is None:
        cached = _SESSION_CACHE[ctx] = _find_session_objects(ctx)
    return cached


def _find_session_objects(ctx: ModuleContext) -> set[str]:
    sessions: set[str] = set()
    for node in ctx.nodes(ast.Assign, ast.withitem):
        value = node.value if isinstance(node, ast.Assign) else node.context_expr
        if isinstance(value, ast.Call) and ctx.qualname(value.func) in _SESSION_FACTORIES:
            targets = node.targets if isinstance(node, ast.Assign) else [node.optional_vars]
            for target in targets:
                name = dotted(target) if target is not None else None
                if name:
                    sessions.add(name)
    return sessions


_OPT_OUT_WORDS = {"insecure", "verify", "verification", "validate", "unverified", "noverify", "verified"}
# ``if conf.strict_host_key_policy: RejectPolicy() else: AutoAddPolicy()``: a setting picks the policy.
_HOST_KEY_SETTING_WORDS = _OPT_OUT_WORDS | {"strict", "reject"}


# Settings whose true value means "do not check": the branch they select is the opt-out.
_NEGATIVE_SETTING_WORDS = {"insecure", "unverified", "noverify"}


def _setting_words(test: ast.AST) -> set[str]:
    found: set[str] = set()
    for part in ast.walk(test):
        text = part.id if isinstance(part, ast.Name) else part.attr if isinstance(part, ast.Attribute) \
            else part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else ""
        found.update(words(text))
    return found


def _true_means_opt_out(ctx: ModuleContext, test: ast.AST, vocabulary: set[str]) -> bool | None:
    """Whether ``test`` holds when the operator turned checking off (``insecure``, ``not verify``),
    False when it holds with checking on (``verify``, ``strict``), None when it names no such setting."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _true_means_opt_out(ctx, test.operand, vocabulary)
        return None if inner is None else not inner
    if isinstance(test, ast.Compare) and len(test.ops) == 1 \
            and isinstance(test.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
        flag = ctx.constant(test.comparators[0], None)
        if isinstance(flag, bool):
            inner = _true_means_opt_out(ctx, test.left, vocabulary)
            if inner is None:
                return None
            return inner ^ (flag is False) ^ isinstance(test.ops[0], (ast.IsNot, ast.NotEq))
    if isinstance(test, ast.BoolOp):
        verdicts = {_true_means_opt_out(ctx, value, vocabulary) for value in test.values} - {None}
        return verdicts.pop() if len(verdicts) == 1 else None
    named = _setting_words(test)
    if not named & vocabulary:
        return None
    return bool(named & _NEGATIVE_SETTING_WORDS)


def _chosen_by_operator(ctx: ModuleContext, node: ast.AST, vocabulary: set[str] = _OPT_OUT_WORDS) -> bool:
    """In the branch an operator's setting selects for turning checks off: ``if insecure:``, ``if not
    conf.verify_ssl:``, the ``else`` of ``if conf.verify:``; as with ``verify=not insecure``.  The other
    branch is the one that checks, and what it does wrong is the code's own."""
    child: ast.AST = node
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return False
        if isinstance(ancestor, (ast.If, ast.IfExp)) and child is not ancestor.test:
            opt_out = _true_means_opt_out(ctx, ancestor.test, vocabulary)
            in_body = child is ancestor.body or (isinstance(ancestor.body, list) and child in ancestor.body)
            if opt_out is not None and opt_out == in_body:
                return True
        child = ancestor
    return False


def _defines_own_state(target: ast.Attribute) -> bool:
    """``self.verify_mode = CERT_NONE``: a class that is itself a context initialising its defaults (a shim)."""
    return isinstance(target.value, ast.Name) and target.value.id == "self"


def _no_hostname_to_check(ctx: ModuleContext, node: ast.AST) -> bool:
    """Inside ``if not server_hostname:``: there is no host name, so there is nothing to check."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return False
        if isinstance(ancestor, ast.If) and isinstance(ancestor.test, ast.UnaryOp) \
                and isinstance(ancestor.test.op, ast.Not):
            names = [n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(ancestor.test.operand)
                     if isinstance(n, (ast.Name, ast.Attribute))]
            if any("hostname" in name.lower() for name in names):
                return True
    return False


_FIX_VERIFY = ("Remove `verify=False` so the certificate is checked; for a private CA pass its bundle: "
               "`verify=\"/etc/ssl/certs/internal-ca.pem\"`.")


@rule(
    id="tls-verification-disabled",
    bandit=("B323", "B501"), ruff=("S323", "S501"),
    cwe=295,
    severity="high",
    confidence="high",
    summary="TLS certificate verification turned off, so any server can impersonate the peer",
    relevant_in_tests=False,
)
def tls_verification_disabled(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags a constant `verify=False` passed to requests, httpx, keystoneauth1, boto3 and other
    HTTP clients (and to their session methods), `session.verify = False`, aiohttp's `ssl=False`
    and `verify_ssl=False`, `insecure=True` passed to OpenStack clients and sessions,
    `ssl._create_unverified_context`, `ssl.CERT_NONE` as `verify_mode` or `cert_reqs` (also
    urllib3's `cert_reqs="CERT_NONE"`), pyOpenSSL's `set_verify(SSL.VERIFY_NONE, ...)`, pycurl's
    `SSL_VERIFYPEER` set to 0, httplib2's `disable_ssl_certificate_validation=True`, and
    `ssl.wrap_socket` on the client side without `cert_reqs` (its default is `CERT_NONE`).
    Also flags `verify: False` put in a dict that is `**`-expanded into an HTTP call, a
    `verify`/`verify_ssl` parameter that defaults to False and reaches such a setting, a bare
    `ssl.SSLContext()` handed to a client without turning verification on, and pyOpenSSL
    contexts in a module that never calls `set_verify`.  A setting chosen inside an operator's
    opt-out branch (`if insecure:`, `if not conf.verify_ssl:`) is not reported.

    ## Why it matters
    Without certificate verification TLS still encrypts, but to whoever answers: anyone on the
    network path (a hostile Wi-Fi, a compromised router, DNS spoofing) presents their own
    certificate, reads and changes the traffic, and collects the credentials and tokens it
    carries.

    ## Example
    ```python
    response = requests.post(url, json=payload, headers=auth_headers, verify=False)
    ```

    ## Fix
    Leave verification on (the default).  For a server with a private CA, pass the CA bundle:
    `verify="/path/to/ca.pem"`, `ssl.create_default_context(cafile="/path/to/ca.pem")`.  Where an
    insecure mode must exist, make it an explicit operator setting that defaults to verified.

    ## References
    - CWE-295: Improper Certificate Validation
    - https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification
    - https://docs.python.org/3/library/ssl.html#security-considerations
    """
    for issue in _verification_disabled(ctx):
        if not _chosen_by_operator(ctx, issue.node):
            yield issue


def _verification_disabled(ctx: ModuleContext) -> Iterator[Issue]:
    uses_aiohttp = _imports(ctx, "aiohttp")
    for call in resolved_calls(ctx):
        name = call.name or ""
        verify = call.arg(keyword="verify")
        if _is_false(ctx, verify) and _is_http_call(ctx, call):
            yield Issue(
                verify,
                message=f"`{ast.unparse(call.node.func)}` is called with `verify=False`, which accepts any "
                "certificate, so a man in the middle can read and alter the traffic.",
                fix=_FIX_VERIFY,
            )
        for keyword in call.node.keywords:
            if keyword.arg in _VERIFY_KEYWORDS and _is_false(ctx, keyword.value):
                yield Issue(
                    keyword.value,
                    message=f"`{ast.unparse(call.node.func)}` is called with `{keyword.arg}=False`, which turns off "
                    "certificate verification.",
                    fix=f"Remove `{keyword.arg}=False`; for a private CA configure its bundle instead.",
                )
            elif keyword.arg in _INSECURE_KEYWORDS and _is_true(ctx, keyword.value):
                yield Issue(
                    keyword.value,
                    message=f"`{ast.unparse(call.node.func)}` is called with `{keyword.arg}=True`, which accepts "
                    "any certificate.",
                    fix=f"Remove `{keyword.arg}=True` and trust a specific CA bundle if the server's CA is private.",
                )
            elif keyword.arg == "insecure" and _is_true(ctx, keyword.value) and _is_http_call(ctx, call):
                yield Issue(
                    keyword.value,
                    message=f"`{ast.unparse(call.node.func)}` is called with `insecure=True`, which skips "
                    "certificate verification for every request it makes.",
                    fix="Remove `insecure=True` and pass the CA bundle (`cacert=` / `verify=\"/path/to/ca.pem\"`).",
                )
            elif (keyword.arg == "ssl" and uses_aiohttp and _is_false(ctx, keyword.value)
                  and (name.startswith("aiohttp.") or call.method in _HTTP_METHODS)):
                yield Issue(
                    keyword.value,
                    message=f"`{ast.unparse(call.node.func)}` is called with `ssl=False`, which makes aiohttp skip "
                    "certificate verification.",
                    fix="Remove `ssl=False`, or pass `ssl=ssl.create_default_context(cafile=...)` for a private CA.",
                )
            elif keyword.arg in _CERT_REQS_KEYS and _is_cert_none(ctx, keyword.value) \
                    and not _is_server_side(ctx, call.node):
                yield _cert_none_issue(keyword.value, f"`{ast.unparse(call.node.func)}` is given "
                                                      f"`{keyword.arg}={ast.unparse(keyword.value)}`")
        if name == "ssl._create_unverified_context":
            yield Issue(
                call.node,
                message="`ssl._create_unverified_context()` builds a context that accepts any certificate and any "
                "host name.",
                fix="Use `ssl.create_default_context()` (with `cafile=` for a private CA).",
            )
        elif name == "ssl.wrap_socket" and not call.has_star_kwargs and call.arg(keyword="cert_reqs") is None \
                and not any(k.arg == "server_side" for k in call.node.keywords) \
                and not (len(call.node.args) > 3 and _is_true(ctx, call.node.args[3])) and len(call.node.args) < 5:
            yield Issue(
                call.node,
                message="`ssl.wrap_socket` is called without `cert_reqs`, so it defaults to `CERT_NONE` and accepts "
                "any certificate.",
                fix="Use `ssl.create_default_context().wrap_socket(sock, server_hostname=host)`.",
                confidence=Confidence.MEDIUM,
            )
        elif call.method == "set_verify" and call.node.args \
                and (ctx.qualname(call.node.args[0]) or "").endswith("SSL.VERIFY_NONE"):
            yield Issue(
                call.node.args[0],
                message="`set_verify(SSL.VERIFY_NONE, ...)` makes this pyOpenSSL context accept any peer certificate.",
                fix="Use `SSL.VERIFY_PEER` and load trusted CAs with `load_verify_locations`.",
                confidence=Confidence.MEDIUM,
            )
        elif call.method == "setopt" and len(call.node.args) >= 2 \
                and (ctx.qualname(call.node.args[0]) or "").endswith("SSL_VERIFYPEER") \
                and ctx.constant(call.node.args[1], None) in (0, False):
            yield Issue(
                call.node,
                message="`setopt(SSL_VERIFYPEER, 0)` makes this curl handle accept any certificate.",
                fix="Remove the option (verification is on by default) or set `CAINFO` to a CA bundle.",
            )
    yield from _verification_assignments(ctx)
    yield from _unverified_defaults(ctx)
    yield from _bare_contexts_used_by_clients(ctx)
    yield from _pyopenssl_contexts_never_verifying(ctx)
    yield from _verify_false_through_kwargs(ctx)


def _false_verify_entries(ctx: ModuleContext, scope: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(dict variable, False node) for ``d["verify"] = False``, ``d.setdefault("verify", False)``,
    ``d.update(verify=False)``, ``d = {"verify": False}`` and ``d = dict(verify=False)`` in ``scope``."""
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                        and ctx.constant(target.slice, None) == "verify" and _is_false(ctx, node.value)):
                    yield target.value.id, node.value
                elif isinstance(target, ast.Name) and isinstance(node.value, ast.Dict):
                    for key, value in zip(node.value.keys, node.value.values):
                        if key is not None and ctx.constant(key, None) == "verify" and _is_false(ctx, value):
                            yield target.id, value
                elif (isinstance(target, ast.Name) and isinstance(node.value, ast.Call)
                      and ctx.qualname(node.value.func) == "dict"):
                    for keyword in node.value.keywords:
                        if keyword.arg == "verify" and _is_false(ctx, keyword.value):
                            yield target.id, keyword.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name)):
            if node.func.attr == "setdefault" and len(node.args) == 2 and ctx.constant(node.args[0], None) == "verify" \
                    and _is_false(ctx, node.args[1]):
                yield node.func.value.id, node.args[1]
            elif node.func.attr == "update":
                for keyword in node.keywords:
                    if keyword.arg == "verify" and _is_false(ctx, keyword.value):
                        yield node.func.value.id, keyword.value


def _verify_false_through_kwargs(ctx: ModuleContext) -> Iterator[Issue]:
    """``kwargs.setdefault("verify", False); requests.get(url, **kwargs)``."""
    if not any(isinstance(c, ast.Constant) and c.value == "verify" for c in ctx.nodes(ast.Constant)) and not any(
            k.arg == "verify" for node in ctx.nodes(ast.Call) for k in node.keywords):
        return
    calls_by_node = {call.node: call for call in resolved_calls(ctx)}
    for function in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        entries = list(_false_verify_entries(ctx, function))
        if not entries:
            continue
        expanded: dict[str, str] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                call = calls_by_node.get(node)
                for keyword in node.keywords:
                    if keyword.arg is None and isinstance(keyword.value, ast.Name) and call is not None \
                            and _is_http_call(ctx, call):
                        expanded.setdefault(keyword.value.id, ast.unparse(node.func))
        for variable, false_node in entries:
            if variable in expanded and ctx.enclosing_function(false_node) is function:
                yield Issue(
                    false_node,
                    message=f"`verify` is set to False in `{variable}`, which is passed as `**{variable}` to "
                    f"`{expanded[variable]}`, so the request accepts any certificate.",
                    fix=f"Do not put `verify: False` in `{variable}`; pass a CA bundle path if the server's CA is "
                    "private.",
                )


# pyOpenSSL context methods that show the module configures verification or is a server.
_PYOPENSSL_CONFIGURING = {"set_verify", "use_privatekey", "use_privatekey_file", "use_certificate",
                          "use_certificate_file", "use_certificate_chain_file", "set_accept_state"}


def _pyopenssl_contexts_never_verifying(ctx: ModuleContext) -> Iterator[Issue]:
    """``SSL.Context(method)`` in a module that never calls ``set_verify``: pyOpenSSL's default is VERIFY_NONE."""
    created = [call for call in resolved_calls(ctx) if call.name == "OpenSSL.SSL.Context"]
    if not created or any(call.method in _PYOPENSSL_CONFIGURING for call in ctx.calls):
        return
    for call in created:
        yield Issue(
            call.node,
            message="`SSL.Context(...)` creates a pyOpenSSL context, which verifies no certificate until "
            "`set_verify(SSL.VERIFY_PEER, ...)` is called, and this module never calls it.",
            fix="Call `context.set_verify(SSL.VERIFY_PEER, callback)` and `context.set_default_verify_paths()` (or "
            "`load_verify_locations(cafile)`), and check the host name of the peer certificate.",
            confidence=Confidence.MEDIUM,
        )


# `ssl.SSLContext()` with these protocols starts with CERT_NONE and no host name check.
_UNVERIFYING_PROTOCOLS = {None, "ssl.PROTOCOL_TLS", "ssl.PROTOCOL_SSLv23"}
_CLIENT_CONTEXT_KEYWORDS = {"context", "ssl_context", "ssl"}


def _bare_contexts_used_by_clients(ctx: ModuleContext) -> Iterator[Issue]:
    """``context = ssl.SSLContext(); urlopen(url, context=context)``: a context that never verifies."""
    for node in ctx.nodes(ast.Assign):
        value = node.value
        if not (isinstance(value, ast.Call) and callee_name(value) == "SSLContext"
                and ctx.qualname(value.func) == "ssl.SSLContext"):
            continue
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        protocol = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "protocol"),
                                                         None)
        if (ctx.qualname(protocol) if protocol is not None else None) not in _UNVERIFYING_PROTOCOLS:
            continue
        name = node.targets[0].id
        scope = ctx.enclosing_function(node) or ctx.tree
        configured = False
        client_use: str | None = None
        for child in ast.walk(scope):
            if (isinstance(child, ast.Attribute) and child.attr in ("verify_mode", "check_hostname", "load_cert_chain")
                    and isinstance(child.value, ast.Name) and child.value.id == name):
                configured = True  # verify_mode set (reported on its own if CERT_NONE), or a server's chain
            elif isinstance(child, ast.Call):
                for keyword in child.keywords:
                    if (keyword.arg in _CLIENT_CONTEXT_KEYWORDS and isinstance(keyword.value, ast.Name)
                            and keyword.value.id == name):
                        client_use = client_use or ast.unparse(child.func)
                if (isinstance(child.func, ast.Attribute) and child.func.attr == "wrap_socket"
                        and isinstance(child.func.value, ast.Name) and child.func.value.id == name
                        and any(k.arg == "server_hostname" for k in child.keywords)):
                    client_use = client_use or ast.unparse(child.func)
        if configured or client_use is None:
            continue
        yield Issue(
            value,
            message=f"`{name} = {ast.unparse(value)}` starts with `CERT_NONE` and no host name check, and `{client_use}` "
            "uses it as a client context without turning verification on.",
            fix="Create the context with `ssl.create_default_context()` (or `ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)`), "
            "which verifies certificates and host names.",
            confidence=Confidence.MEDIUM,
        )


_VERIFY_PARAMETERS = {"verify", *_VERIFY_KEYWORDS}


def _unverified_defaults(ctx: ModuleContext) -> Iterator[Issue]:
    """``def fetch(url, verify=False): requests.get(url, verify=verify)``: insecure unless the caller opts in."""
    for function in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        arguments = function.args
        positional = [*arguments.posonlyargs, *arguments.args]
        with_defaults = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
        with_defaults += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
        for parameter, default in with_defaults:
            if parameter.arg not in _VERIFY_PARAMETERS or ctx.constant(default, None) is not False:
                continue
            use = _verification_use(ctx, function, parameter.arg)
            if use is None:
                continue
            yield Issue(
                default,
                message=f"`{function.name}` defaults `{parameter.arg}` to False and hands it to `{use}`, so every "
                "caller that does not pass it gets TLS without certificate verification.",
                fix=f"Default `{parameter.arg}` to True (or a CA bundle path) so that turning verification off is "
                "the caller's explicit choice.",
                confidence=Confidence.MEDIUM,
            )


def _verification_use(ctx: ModuleContext, function: ast.AST, parameter: str) -> str | None:
    """Where ``parameter`` becomes a TLS verification setting inside ``function``."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if (keyword.arg in _VERIFY_PARAMETERS and isinstance(keyword.value, ast.Name)
                        and keyword.value.id == parameter):
                    call = next((c for c in ctx.calls if c.node is node), None)
                    if call is not None and (keyword.arg != "verify" or _is_http_call(ctx, call)):
                        return ast.unparse(node.func)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == parameter:
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in _VERIFY_PARAMETERS:
                    return ast.unparse(target)
    return None


def _cert_none_issue(node: ast.AST, what: str) -> Issue:
    return Issue(
        node,
        message=f"{what}, which accepts any certificate, so a man in the middle can impersonate the peer.",
        fix="Use `ssl.CERT_REQUIRED` (the default of `ssl.create_default_context()`) and load the CA that signs the "
        "peer's certificate.",
    )


_ASSIGNED_SETTINGS = {"verify_mode", "verify", "_create_default_https_context", *_CERT_REQS_KEYS, *_VERIFY_KEYWORDS}


def _verification_assignments(ctx: ModuleContext) -> Iterator[Issue]:
    for node in ctx.nodes(ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                stored_as = target.attr
            elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
                stored_as = target.slice.value
            else:
                continue
            if stored_as not in _ASSIGNED_SETTINGS:
                continue
            target_text = ast.unparse(target)
            if isinstance(target, ast.Attribute) and target.attr == "verify_mode" and _is_cert_none(ctx, node.value):
                if not _is_server_side(ctx, target) and not _defines_own_state(target):
                    yield _cert_none_issue(node.value, f"`{target_text}` is set to `{ast.unparse(node.value)}`")
            elif (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                  and target.slice.value in _CERT_REQS_KEYS and _is_cert_none(ctx, node.value)):
                yield _cert_none_issue(node.value, f"`{target_text}` is set to `{ast.unparse(node.value)}`")
            elif isinstance(target, ast.Attribute) and target.attr == "verify" and _is_false(ctx, node.value):
                receiver = dotted(target.value) or ""
                if receiver in _session_objects(ctx) or set(words(receiver.rpartition(".")[2])) & {"session", "client", "sess", "http"}:
                    yield Issue(
                        node.value,
                        message=f"`{target_text} = False` turns off certificate verification for every request "
                        f"made through `{receiver}`.",
                        fix=f"Remove the assignment, or set `{target_text}` to the path of the CA bundle.",
                    )
            elif isinstance(target, ast.Attribute) and target.attr in _VERIFY_KEYWORDS and _is_false(ctx, node.value):
                yield Issue(
                    node.value,
                    message=f"`{target_text} = False` turns off certificate verification for the connections "
                    f"configured through `{ast.unparse(target.value)}`.",
                    fix="Remove the assignment (verification is on by default) or point the client at the CA bundle "
                    "that signs the server's certificate.",
                )
            elif ctx.qualname(target) == "ssl._create_default_https_context" \
                    and ctx.qualname(node.value) == "ssl._create_unverified_context":
                yield Issue(
                    node.value,
                    message="`ssl._create_default_https_context` is replaced with `ssl._create_unverified_context`, "
                    "which turns off certificate verification for every HTTPS connection in the process.",
                    fix="Remove the assignment; give the specific client a context from "
                    "`ssl.create_default_context(cafile=...)` if it needs a private CA.",
                    severity=Severity.HIGH,
                )
    for node in ctx.nodes(ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value in _CERT_REQS_KEYS and _is_cert_none(ctx, value):
                yield _cert_none_issue(value, f"the option `{key.value}` is set to `{ast.unparse(value)}`")


@rule(
    id="tls-hostname-check-disabled",
    cwe=297,
    severity="medium",
    confidence="high",
    summary="TLS host name check turned off, so any valid certificate is accepted for any host",
    relevant_in_tests=False,
)
def tls_hostname_check_disabled(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `context.check_hostname = False` on a client context, `check_hostname=False`,
    `assert_hostname=False` (urllib3) and `ssl_check_hostname=False` passed as keywords or
    options, pycurl's `SSL_VERIFYHOST` set to 0, and client-side `ssl.wrap_socket(...,
    cert_reqs=ssl.CERT_REQUIRED)`, which verifies the chain but never the host name.  Clearing the check inside a branch taken
    because verification is already off (`if cert_reqs == ssl.CERT_NONE:`, which Python refuses
    while host names are checked) carries out that choice and is not reported.

    ## Why it matters
    Certificate verification proves that a trusted CA signed the certificate; the host name
    check proves the certificate is for the host being contacted.  Without it, any certificate
    from the same CA, including one the attacker obtained for their own domain, is accepted for
    every host.

    ## Example
    ```python
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False
    ```

    ## Fix
    Keep `check_hostname = True` and pass `server_hostname=` to `wrap_socket`.  When the peer is
    reached by IP address, put the address in the certificate's subjectAltName, or pin the
    certificate's fingerprint and compare it with `hmac.compare_digest`.

    ## References
    - CWE-297: Improper Validation of Certificate with Host Mismatch
    - https://docs.python.org/3/library/ssl.html#ssl.SSLContext.check_hostname
    """
    for issue in _hostname_check_disabled(ctx):
        if not _chosen_by_operator(ctx, issue.node):
            yield issue


def _follows_cert_none(ctx: ModuleContext, node: ast.AST) -> bool:
    """Inside ``if cert_reqs == ssl.CERT_NONE:``: Python refuses CERT_NONE while host names are checked,
    so clearing the check there carries out a decision made elsewhere (and reported there, if anywhere)."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return False
        if isinstance(ancestor, ast.If) and node in _nodes_of(ancestor.body) and any(
            isinstance(part, ast.Compare) and isinstance(part.ops[0], (ast.Eq, ast.Is))
            and any(_is_cert_none(ctx, side) for side in (part.left, *part.comparators))
            for part in ast.walk(ancestor.test)
        ):
            return True
    return False


def _nodes_of(body: list[ast.stmt]) -> set[ast.AST]:
    return {node for stmt in body for node in ast.walk(stmt)}


def _hostname_check_disabled(ctx: ModuleContext) -> Iterator[Issue]:
    for node in ctx.nodes(ast.Assign):
        for target in node.targets:
            if (isinstance(target, ast.Attribute) and target.attr == "check_hostname" and _is_false(ctx, node.value)
                    and not _is_server_side(ctx, target) and not _defines_own_state(target)
                    and not _no_hostname_to_check(ctx, node) and not _follows_cert_none(ctx, node)):
                yield Issue(
                    target,
                    message=f"`{ast.unparse(target)} = False` accepts a certificate issued for any host name, so "
                    "any certificate from a trusted CA impersonates this peer.",
                    fix=f"Remove the assignment (keep `{ast.unparse(target)} = True`) and pass "
                    "`server_hostname=` when wrapping the socket.",
                )
    for call in resolved_calls(ctx):
        for keyword in call.node.keywords:
            if keyword.arg in _HOSTNAME_KEYS and _is_false(ctx, keyword.value) \
                    and not _is_server_side(ctx, call.node):
                yield Issue(
                    keyword.value,
                    message=f"`{ast.unparse(call.node.func)}` is called with `{keyword.arg}=False`, which accepts a "
                    "certificate issued for any host name.",
                    fix=f"Remove `{keyword.arg}=False`.",
                )
        if call.name == "ssl.wrap_socket" and not call.has_star_kwargs and not _is_true(ctx, call.arg(3, "server_side")):
            required = call.arg(5, "cert_reqs")
            if required is not None and not _is_cert_none(ctx, required) \
                    and (ctx.qualname(required) or "").rpartition(".")[2] in ("CERT_REQUIRED", "CERT_OPTIONAL"):
                yield Issue(
                    call.node,
                    message=f"`ssl.wrap_socket` checks the certificate chain (`cert_reqs={ast.unparse(required)}`) but "
                    "never the host name, so any certificate from a trusted CA impersonates this peer.",
                    fix="Wrap the socket with `ssl.create_default_context(cafile=...).wrap_socket(sock, "
                    "server_hostname=host)`, which checks the host name (`ssl.wrap_socket` is gone in Python 3.12).",
                )
        if call.method == "setopt" and len(call.node.args) >= 2 \
                and (ctx.qualname(call.node.args[0]) or "").endswith("SSL_VERIFYHOST") \
                and ctx.constant(call.node.args[1], None) in (0, False):
            yield Issue(
                call.node,
                message="`setopt(SSL_VERIFYHOST, 0)` makes this curl handle accept a certificate for any host name.",
                fix="Remove the option or set it to 2 (the default).",
            )
    for node in ctx.nodes(ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value in _HOSTNAME_KEYS and _is_false(ctx, value):
                yield Issue(
                    value,
                    message=f"the option `{key.value}` is set to False, which accepts a certificate issued for any "
                    "host name.",
                    fix=f"Remove the `{key.value}` option (host names are checked by default).",
                )


_WEAK_PROTOCOLS = {
    "ssl.PROTOCOL_SSLv2": "SSLv2", "ssl.PROTOCOL_SSLv3": "SSLv3", "ssl.PROTOCOL_TLSv1": "TLS 1.0",
    "ssl.PROTOCOL_TLSv1_1": "TLS 1.1", "ssl.TLSVersion.SSLv3": "SSLv3", "ssl.TLSVersion.TLSv1": "TLS 1.0",
    "ssl.TLSVersion.TLSv1_1": "TLS 1.1", "OpenSSL.SSL.SSLv2_METHOD": "SSLv2", "OpenSSL.SSL.SSLv3_METHOD": "SSLv3",
    "OpenSSL.SSL.TLSv1_METHOD": "TLS 1.0", "OpenSSL.SSL.TLSv1_1_METHOD": "TLS 1.1",
}
_WEAK_PROTOCOL_NAMES = {name.rpartition(".")[2] for name in _WEAK_PROTOCOLS} | {"MINIMUM_SUPPORTED"}
_VERSION_BOUNDS = {"minimum_version", "maximum_version", "ssl_version", "protocol", "ssl_protocol", "version"}


@rule(
    id="weak-tls-version",
    bandit=("B502",), ruff=("S502",),
    cwe=327,
    severity="medium",
    confidence="high",
    summary="SSLv2, SSLv3, TLS 1.0 or TLS 1.1 selected for a connection",
    relevant_in_tests=False,
)
def weak_tls_version(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags an obsolete protocol selected for a connection: `ssl.PROTOCOL_SSLv2`, `PROTOCOL_SSLv3`,
    `PROTOCOL_TLSv1`, `PROTOCOL_TLSv1_1` and pyOpenSSL's `SSLv3_METHOD`, `TLSv1_METHOD`, ...
    passed to a call (`ssl.SSLContext(ssl.PROTOCOL_TLSv1)`, `ssl_version=`), and
    `minimum_version` or `maximum_version` set to `TLSVersion.TLSv1`, `TLSv1_1`, `SSLv3` or
    `MINIMUM_SUPPORTED`.  Comparisons and tables of supported names are not reported.

    ## Why it matters
    SSLv2 and SSLv3 are broken (DROWN, POODLE); TLS 1.0 and 1.1 rely on SHA-1 and CBC
    constructions with known attacks (BEAST) and were deprecated by RFC 8996.  A connection
    that allows them can be downgraded and decrypted by an attacker on the path.

    ## Example
    ```python
    context = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
    ```

    ## Fix
    Use `ssl.create_default_context()` (or `ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)`) and set
    `context.minimum_version = ssl.TLSVersion.TLSv1_2`.

    ## References
    - CWE-327: Use of a Broken or Risky Cryptographic Algorithm
    - RFC 8996: Deprecating TLS 1.0 and TLS 1.1
    """
    candidates = [n for n in ctx.nodes(ast.Attribute) if n.attr in _WEAK_PROTOCOL_NAMES]
    candidates += [n for n in ctx.nodes(ast.Name) if n.id in _WEAK_PROTOCOL_NAMES]
    for node in sorted(candidates, key=lambda n: (n.lineno, n.col_offset)):
        qualified = ctx.qualname(node)
        if qualified not in _WEAK_PROTOCOLS and qualified != "ssl.TLSVersion.MINIMUM_SUPPORTED":
            continue
        parent = ctx.parent(node)
        if isinstance(parent, ast.Attribute):
            continue  # part of a longer name
        selected = _selects_protocol(ctx, node, parent, qualified)
        if selected is None:
            continue
        label = _WEAK_PROTOCOLS.get(qualified, "SSLv3")
        yield Issue(
            node,
            message=f"{selected} `{ast.unparse(node)}`, which allows {label}, a protocol with practical attacks that "
            "an attacker on the path can force.",
            fix="Use `ssl.create_default_context()` and set `minimum_version = ssl.TLSVersion.TLSv1_2` "
            "(or `TLSv1_3`).",
        )


def _selects_protocol(ctx: ModuleContext, node: ast.AST, parent: ast.AST | None, qualified: str) -> str | None:
    """How ``node`` chooses the protocol of a connection, or None when it only names it."""
    minimum_only = qualified == "ssl.TLSVersion.MINIMUM_SUPPORTED"
    if isinstance(parent, ast.keyword) and parent.arg in _VERSION_BOUNDS:
        if minimum_only and parent.arg != "minimum_version":
            return None
        return f"`{parent.arg}=` is given"
    if isinstance(parent, ast.Call) and node in parent.args and not minimum_only:
        if callee_name(parent) in ("getattr", "hasattr", "isinstance", "print", "str", "repr", "append", "add"):
            return None
        return f"`{ast.unparse(parent.func)}` is called with"
    if isinstance(parent, ast.arguments):
        positional = [*parent.posonlyargs, *parent.args]
        pairs = list(zip(positional[len(positional) - len(parent.defaults):], parent.defaults))
        pairs += list(zip(parent.kwonlyargs, parent.kw_defaults))
        for parameter, default in pairs:
            if default is node and (set(words(parameter.arg)) & {"version", "protocol"}) and not minimum_only:
                return f"the parameter `{parameter.arg}` defaults to"
        return None
    if isinstance(parent, ast.Assign) and parent.value is node:
        for target in parent.targets:
            name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) \
                else None
            if name and (name in _VERSION_BOUNDS or set(words(name)) & {"version", "protocol"}):
                if minimum_only and name != "minimum_version":
                    return None
                if name == "maximum_version" or not minimum_only:
                    return f"`{ast.unparse(target)}` is set to"
                return f"`{ast.unparse(target)}` is set to"
    return None


_ACCEPTING_HOST_KEY_POLICIES = {"AutoAddPolicy": "adds any unknown host key", "WarningPolicy": "only logs unknown host keys"}


@rule(
    id="ssh-host-key-not-verified",
    bandit=("B507",), ruff=("S507",),
    cwe=295,
    severity="high",
    confidence="high",
    summary="SSH client accepts any server host key, so any server can impersonate the host",
    relevant_in_tests=False,
)
def ssh_host_key_not_verified(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags paramiko's `set_missing_host_key_policy(AutoAddPolicy())` and `WarningPolicy()`,
    asyncssh's `connect(..., known_hosts=None)`, and pysftp's `cnopts.hostkeys = None`.  A policy
    chosen by a setting (`if conf.strict_host_key_policy: RejectPolicy() else: AutoAddPolicy()`)
    is the operator's choice, as `if insecure:` is for TLS, and is not reported.

    ## Why it matters
    The host key is how an SSH client knows it reached the right server; it plays the role of
    the certificate in TLS.  A client that accepts unknown keys hands its password or agent
    signature, and every command and file it sends, to whoever answers first on the network
    path.

    ## Example
    ```python
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(host, username=user, password=password)
    ```

    ## Fix
    Load the known host keys and reject unknown ones: `client.load_system_host_keys()` (or
    `load_host_keys(path)`) with `paramiko.RejectPolicy()`, the default; give asyncssh a
    `known_hosts` file; give pysftp a `CnOpts(knownhosts=path)`.

    ## References
    - CWE-295: Improper Certificate Validation
    - CWE-322: Key Exchange without Entity Authentication
    - https://docs.paramiko.org/en/stable/api/client.html
    """
    for call in resolved_calls(ctx):
        if call.method == "set_missing_host_key_policy" and call.node.args:
            policy = call.node.args[0]
            policy_name = ctx.qualname(policy.func if isinstance(policy, ast.Call) else policy) or ""
            short = policy_name.rpartition(".")[2]
            if short in _ACCEPTING_HOST_KEY_POLICIES and policy_name.startswith("paramiko") \
                    and not _chosen_by_operator(ctx, call.node, _HOST_KEY_SETTING_WORDS):
                yield Issue(
                    policy,
                    message=f"`set_missing_host_key_policy({ast.unparse(policy)})` {_ACCEPTING_HOST_KEY_POLICIES[short]}, "
                    "so the client connects to any server that answers, without checking its identity.",
                    fix="Call `load_system_host_keys()` (or `load_host_keys(path)`) and keep the default "
                    "`paramiko.RejectPolicy()`.",
                )
        elif (call.name or "").startswith("asyncssh.") and call.has_keyword("known_hosts") \
                and isinstance(call.arg(keyword="known_hosts"), ast.Constant) and call.arg(keyword="known_hosts").value is None:
            node = call.arg(keyword="known_hosts")
            yield Issue(
                node,
                message=f"`{call.name}` is given `known_hosts=None`, which turns off server host key checking.",
                fix="Pass `known_hosts=\"~/.ssh/known_hosts\"` (the default) or a list of trusted host keys.",
            )
    for node in ctx.nodes(ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "hostkeys" and isinstance(node.value, ast.Constant) \
                    and node.value.value is None:
                yield Issue(
                    node.value,
                    message=f"`{ast.unparse(target)} = None` makes pysftp accept any server host key.",
                    fix="Give `pysftp.CnOpts(knownhosts=path)` a known_hosts file instead of clearing `hostkeys`.",
                )
