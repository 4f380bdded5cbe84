"""Web application configuration: debug modes, listening addresses, cookie flags and CSRF.

These rules read configuration as the frameworks read it: Flask's ``app.config`` (item
assignment, ``update``, ``from_mapping``) and config classes, Django settings modules, and the
keyword arguments of the calls that start servers and set cookies.

Policies that decide precision:

- A setting that only development or test configurations use (``DEBUG = True`` in
  ``settings/dev.py``, ``WTF_CSRF_ENABLED = False`` in ``class TestingConfig``) is not reported:
  those files exist to run without production protections.
- A module-level ``DEBUG = True`` counts only in a settings-like module: one whose name
  contains ``settings`` or that defines other Django settings or Flask config keys
  (``INSTALLED_APPS``, ``MIDDLEWARE``, ``SQLALCHEMY_DATABASE_URI``, ...).
- Listening on every interface is reported where a literal ``0.0.0.0`` or ``::`` (directly or
  through a module constant) reaches the address argument of a server or socket.  The default
  of a configuration option for a listen/bind/host address (oslo.config, argparse, click,
  ``os.environ.get``) is reported too, at low confidence: a default is what most deployments
  run, and an operator who never sets the option exposes the service everywhere.  Comparisons
  with ``0.0.0.0`` and CIDR strings such as ``0.0.0.0/0`` are not bind addresses and are
  never reported.
- Cookie flags are judged only for cookies whose name or value marks them as carrying a session
  or credential (session, auth, token, jwt, remember-me, ...): a ``theme`` cookie needs neither
  flag.  A CSRF cookie must be readable by the page's script, so it is never asked for HttpOnly.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Iterator
from pathlib import PurePath

from ..findings import Confidence
from ..python.module import ModuleContext
from . import Issue, rule
from ._purpose import words

# keys that only a Django settings module or a Flask config module defines
_FRAMEWORK_SETTINGS = {
    "INSTALLED_APPS", "MIDDLEWARE", "MIDDLEWARE_CLASSES", "ROOT_URLCONF", "ALLOWED_HOSTS",
    "WSGI_APPLICATION", "ASGI_APPLICATION", "DATABASES", "TEMPLATES", "AUTH_PASSWORD_VALIDATORS",
    "SQLALCHEMY_DATABASE_URI", "SESSION_TYPE", "SERVER_NAME", "PREFERRED_URL_SCHEME", "WTF_CSRF_ENABLED",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_NAME", "PERMANENT_SESSION_LIFETIME",
}
_NON_PRODUCTION_WORDS = {
    "dev", "devel", "develop", "development", "local", "test", "tests", "testing", "ci", "debug",
}
# a framework's own defaults module or a template to copy is not a deployment's configuration
_NOT_DEPLOYED_MODULE_WORDS = _NON_PRODUCTION_WORDS | {"default", "defaults", "global", "example", "sample", "template"}
_PRODUCTION_WORDS = {"prod", "production", "live", "staging", "release"}
_ALL_INTERFACES = {"0.0.0.0", "::", "0:0:0:0:0:0:0:0"}


def _words(text: str) -> set[str]:
    return set(words(text))


def _module_words(ctx: ModuleContext) -> set[str]:
    """Words of the module's name and its directory (``settings/dev.py``), not of the whole path,
    whose upper directories (a home named ``dev``) say nothing about the module."""
    path = PurePath(str(ctx.path).replace("\\", "/"))
    return _words(path.stem) | _words(path.parent.name) | _words(ctx.module_name)


def _non_production_module(ctx: ModuleContext) -> bool:
    return bool(_module_words(ctx) & _NOT_DEPLOYED_MODULE_WORDS)


def _settings_module(ctx: ModuleContext) -> bool:
    if "settings" in _module_words(ctx):
        return True
    return bool(_module_assigned_names(ctx) & _FRAMEWORK_SETTINGS)


def _module_assigned_names(ctx: ModuleContext) -> set[str]:
    names: set[str] = set()
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
    return names


def _imports_any(ctx: ModuleContext, *packages: str) -> bool:
    return any(target.split(".")[0] in packages for target in ctx.aliases.values())


# --- configuration keys ---------------------------------------------------------------------


class _Setting:
    """One configuration key set to a value, wherever the framework reads it from."""

    def __init__(self, key: str, value: ast.expr, node: ast.AST, where: str, owner: str = ""):
        self.key = key
        self.value = value
        self.node = node
        self.where = where  # "module", "class" or "app-config"
        self.owner = owner  # the config class name, for where == "class"

    def describe(self) -> str:
        if self.where == "app-config":
            return f"`{self.key}` in the application config"
        if self.where == "class":
            return f"`{self.key}` in config class `{self.owner}`"
        return f"the setting `{self.key}`"


def _module_scope_assignment_counts(ctx: ModuleContext) -> dict[str, int]:
    """How often each name is assigned outside functions and classes, branches included."""
    counts: dict[str, int] = {}
    for node in ctx.nodes(ast.Assign, ast.AnnAssign, ast.AugAssign):
        if any(isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for a in ctx.ancestors(node)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                counts[target.id] = counts.get(target.id, 0) + 1
    return counts


_SETTINGS: weakref.WeakKeyDictionary[ModuleContext, list[_Setting]] = weakref.WeakKeyDictionary()


def _settings(ctx: ModuleContext) -> list[_Setting]:
    """The module's settings; three rules read them, so they are found once per module."""
    found = _SETTINGS.get(ctx)
    if found is None:
        found = _SETTINGS[ctx] = list(_find_settings(ctx))
    return found


def _find_settings(ctx: ModuleContext) -> Iterator[_Setting]:
    counts = _module_scope_assignment_counts(ctx)
    for stmt in ctx.tree.body:
        for target, value in _assignments(stmt):
            # a setting assigned again elsewhere in the module (``if not DEBUG: SESSION_COOKIE_SECURE =
            # True``) has a value that depends on the environment, not the one written here
            if isinstance(target, ast.Name) and counts.get(target.id, 0) == 1:
                yield _Setting(target.id, value, stmt, "module")
    for cls in ctx.nodes(ast.ClassDef):
        for stmt in cls.body:
            for target, value in _assignments(stmt):
                if isinstance(target, ast.Name) and target.id.isupper():
                    yield _Setting(target.id, value, stmt, "class", cls.name)
    for assign in ctx.nodes(ast.Assign):
        for target in assign.targets:
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "config"
            ):
                key = ctx.constant(target.slice, None)
                if isinstance(key, str):
                    yield _Setting(key, assign.value, assign, "app-config")
    for call in ctx.calls:
        func = call.node.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("update", "from_mapping")):
            continue
        if not (isinstance(func.value, ast.Attribute) and func.value.attr == "config"):
            continue
        for keyword in call.node.keywords:
            if keyword.arg:
                yield _Setting(keyword.arg, keyword.value, keyword.value, "app-config")
        if call.node.args and isinstance(call.node.args[0], ast.Dict):
            mapping = call.node.args[0]
            for key_node, value in zip(mapping.keys, mapping.values):
                key = ctx.constant(key_node, None)
                if isinstance(key, str):
                    yield _Setting(key, value, value, "app-config")


def _assignments(stmt: ast.stmt) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            yield target, stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        yield stmt.target, stmt.value


def _non_production_setting(ctx: ModuleContext, setting: _Setting) -> bool:
    if _non_production_module(ctx):
        return True
    if setting.where == "class":
        return bool(_words(setting.owner) & _NON_PRODUCTION_WORDS)
    return _inside_non_production_branch(ctx, setting.node)


def _inside_non_production_branch(ctx: ModuleContext, node: ast.AST) -> bool:
    """Inside a class, function or ``if`` whose name or test speaks of testing or development."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if _words(ancestor.name) & _NON_PRODUCTION_WORDS:
                return True
        elif isinstance(ancestor, ast.If) and _words(ast.unparse(ancestor.test)) & _NON_PRODUCTION_WORDS:
            return True
    return False


# --- debug-enabled --------------------------------------------------------------------------


def _flask_apps(ctx: ModuleContext) -> set[str]:
    """Dotted names bound to a Flask or Quart application in this module."""
    apps: set[str] = set()
    for assign in ctx.nodes(ast.Assign):
        if isinstance(assign.value, ast.Call):
            name = ctx.qualname(assign.value.func) or ""
            if name in ("flask.Flask", "quart.Quart", "flask.app.Flask"):
                for target in assign.targets:
                    dotted = ast.unparse(target)
                    apps.add(dotted)
    return apps


# ``app.run(debug=True)`` means a web framework's debug mode (Flask, Dash, Sanic, Bottle) even where the
# app comes from a factory in another module; the other names need the module to use Flask.
_APP_NAMES = {"app", "application", "flask_app", "webapp", "web_app"}
_FLASK_SERVER_NAMES = {"server", "socketio", "sio"}


def _is_flask_app(ctx: ModuleContext, receiver: ast.expr, apps: set[str]) -> bool:
    """``receiver`` is bound to a web application here, or is named like one."""
    text = ast.unparse(receiver)
    last = text.split(".")[-1]
    if text in apps or last in _APP_NAMES:
        return True
    return _imports_any(ctx, "flask", "quart", "flask_socketio") and last in _FLASK_SERVER_NAMES


_DEBUG_APPLICATIONS = {
    "tornado.web.Application", "starlette.applications.Starlette", "starlette.Starlette", "fastapi.FastAPI",
    "fastapi.applications.FastAPI", "sanic.Sanic",
}
_DEBUG_FIX = (
    "Remove the debug flag from code that can reach production and read it from the environment "
    "instead, e.g. `app.run(debug=os.environ.get(\"FLASK_DEBUG\") == \"1\")`, defaulting to off."
)


@rule(
    id="debug-enabled",
    bandit=("B201",), ruff=("S201",),
    cwe=489,
    severity="high",
    confidence="high",
    summary="Framework debug mode switched on in application code or settings",
)
def debug_enabled(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags a web framework's debug mode set to a constant true value: Flask `app.run(debug=True)`,
    `app.debug = True`, `app.config["DEBUG"] = True` and `app.config.update(DEBUG=True)`,
    `app.config["ENV"] = "development"` (debug mode before Flask 2.3),
    `DEBUG = True` in a Django settings or Flask config module or in a production config
    class, Werkzeug `run_simple(..., use_debugger=True)`, Bottle `run(debug=True)`, and Tornado,
    Starlette, FastAPI and Sanic applications created with `debug=True`.  Development and test
    settings files and config classes are not reported.

    ## Why it matters
    Flask's debug mode serves the Werkzeug debugger, whose in-browser console runs any Python
    code the visitor types: anyone who reaches the server (or guesses or leaks its PIN) runs code
    as the application.  Django's `DEBUG = True` answers every error with a page listing
    settings, the source around the failing line, local variables and the SQL that ran.

    ## Example
    ```python
    app = Flask(__name__)
    app.run(host="0.0.0.0", debug=True)
    ```

    ## Fix
    Leave debug off in code and settings that can be deployed, and switch it on only from the
    environment of a developer's machine: `DEBUG = os.environ.get("DJANGO_DEBUG") == "1"` or
    `flask --app app run --debug`.

    ## References
    - CWE-489: Active Debug Code
    - CWE-215: Insertion of Sensitive Information Into Debugging Code
    - https://flask.palletsprojects.com/en/latest/debugging/
    - https://docs.djangoproject.com/en/stable/ref/settings/#debug
    """
    apps = _flask_apps(ctx)
    for call in ctx.calls:
        func = call.node.func
        if call.name in ("werkzeug.serving.run_simple", "werkzeug.run_simple"):
            if ctx.constant(call.arg(keyword="use_debugger"), False) is True:
                yield Issue(
                    call.node,
                    message="`run_simple` is called with `use_debugger=True`, which serves the Werkzeug "
                    "debugger console that runs arbitrary Python code for any visitor.",
                    fix="Pass `use_debugger=False` (the default) outside a developer's machine, or switch "
                    "it on from an environment variable that defaults to off.",
                )
        elif call.name in _DEBUG_APPLICATIONS:
            flags = [call.arg(keyword="debug"), call.arg(keyword="serve_traceback")]
            if any(ctx.constant(flag, False) is True for flag in flags):
                yield Issue(
                    call.node,
                    message=f"`{call.name}` is created in debug mode, which answers errors with tracebacks "
                    "and internal details of the application.",
                    fix=f"Create `{call.name}` without `debug=True`, or read the flag from an environment "
                    "variable that defaults to off.",
                )
        elif call.name in ("bottle.run", "bottle.debug"):
            flag = call.arg(position=0, keyword="mode") if call.name == "bottle.debug" else call.arg(keyword="debug")
            if ctx.constant(flag, False) is True:
                yield Issue(
                    call.node,
                    message=f"`{call.name}` switches Bottle's debug mode on, which sends tracebacks and "
                    "internal details to clients.",
                    fix="Remove the debug switch from deployable code, or read it from an environment "
                    "variable that defaults to off.",
                )
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in ("run", "run_server")
            and _is_flask_app(ctx, func.value, apps)
            and ctx.constant(call.arg(keyword="debug"), False) is True
        ):
            receiver = ast.unparse(func.value)
            yield Issue(
                call.node,
                message=f"`{receiver}.{func.attr}(debug=True)` starts the framework's debug mode (for Flask, the "
                "Werkzeug debugger, whose console runs arbitrary Python code for anyone who reaches the server).",
                fix=f"Drop `debug=True` from `{receiver}.{func.attr}(...)`; for local work run "
                "`flask run --debug`, which never ships with the code.",
            )
    for assign in ctx.nodes(ast.Assign):
        for target in assign.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "debug"
                and _is_flask_app(ctx, target.value, apps)
                and ctx.constant(assign.value, False) is True
                and not _inside_non_production_branch(ctx, assign)
            ):
                receiver = ast.unparse(target.value)
                yield Issue(
                    assign,
                    message=f"`{receiver}.debug = True` switches Flask's debug mode on, serving the Werkzeug "
                    "debugger console that runs arbitrary Python code.",
                    fix=_DEBUG_FIX,
                )
    settings_module = None
    for setting in _settings(ctx):
        if (
            setting.key == "ENV"
            and setting.where != "module"
            and ctx.constant(setting.value, None) == "development"
            and not _non_production_setting(ctx, setting)
        ):
            yield Issue(
                setting.node,
                message=f"{setting.describe()} is `\"development\"`, which before Flask 2.3 switches debug mode "
                "on, with the Werkzeug debugger console that runs arbitrary Python code.",
                fix="Remove the `ENV` setting from deployable configuration (Flask 2.3 removed it); use "
                "`flask run --debug` on a developer's machine.",
            )
        if setting.key != "DEBUG" or ctx.constant(setting.value, False) is not True:
            continue
        if setting.where == "module":
            if settings_module is None:
                settings_module = _settings_module(ctx)
            if not settings_module or _non_production_setting(ctx, setting):
                continue
            yield Issue(
                setting.node,
                message="`DEBUG = True` in this settings module switches the framework's debug mode on: Django "
                "answers errors with pages showing settings, source, local variables and SQL, and Flask serves the "
                "Werkzeug debugger console.",
                fix="Set `DEBUG = os.environ.get(\"APP_DEBUG\") == \"1\"` so debug is off unless a "
                "developer switches it on.",
                confidence=Confidence.MEDIUM,
            )
        elif setting.where == "class":
            if not (_words(setting.owner) & _PRODUCTION_WORDS) or _non_production_module(ctx):
                continue
            yield Issue(
                setting.node,
                message=f"Config class `{setting.owner}` sets `DEBUG = True`, so the production configuration "
                "runs with the framework's debug mode on.",
                fix=f"Set `DEBUG = False` in `{setting.owner}`.",
            )
        elif not _non_production_setting(ctx, setting):
            yield Issue(
                setting.node,
                message=f"{setting.describe()} is set to True, switching Flask's debug mode on with the "
                "Werkzeug debugger console that runs arbitrary Python code.",
                fix=_DEBUG_FIX,
            )


# --- bind-all-interfaces --------------------------------------------------------------------

_TUPLE_ADDRESS_SERVERS = {
    "http.server.HTTPServer", "http.server.ThreadingHTTPServer",
    "socketserver.TCPServer", "socketserver.UDPServer", "socketserver.ThreadingTCPServer",
    "socketserver.ThreadingUDPServer", "socketserver.ForkingTCPServer", "socketserver.ForkingUDPServer",
    "xmlrpc.server.SimpleXMLRPCServer", "xmlrpc.server.DocXMLRPCServer",
    "gevent.pywsgi.WSGIServer", "gevent.server.StreamServer", "gevent.server.DatagramServer",
    "eventlet.listen", "eventlet.green.socket.create_server", "socket.create_server",
    "smtpd.SMTPServer", "cheroot.wsgi.Server", "cheroot.wsgi.WSGIServer",
}
# qualified name -> (position, keyword) of the host argument
_HOST_ARGUMENT = {
    "uvicorn.run": (None, "host"),
    "werkzeug.serving.run_simple": (0, "hostname"),
    "werkzeug.run_simple": (0, "hostname"),
    "wsgiref.simple_server.make_server": (0, "host"),
    "aiohttp.web.run_app": (None, "host"),
    "aiohttp.web.TCPSite": (1, "host"),
    "waitress.serve": (None, "host"),
    "bottle.run": (None, "host"),
    "asyncio.start_server": (1, "host"),
    "hypercorn.asyncio.serve": (None, None),
}


_HOST_AND_PORT = re.compile(r"(?:0\.0\.0\.0|\*|\[::\]):\d+")


def _all_interfaces(ctx: ModuleContext, node: ast.expr | None, allow_empty: bool = False) -> str | None:
    """The every-interface address ``node`` holds (``host`` or ``host:port``), if it is one."""
    value = ctx.constant(node, None) if node is not None else None
    if not isinstance(value, str):
        return None
    if value in _ALL_INTERFACES or _HOST_AND_PORT.fullmatch(value):
        return value
    if allow_empty and value == "":
        return "''"
    return None


def _address_tuple_host(ctx: ModuleContext, node: ast.expr | None) -> str | None:
    """The every-interface host of a ``(host, port)`` address; port 0 (an ephemeral callback port) is not a service."""
    if isinstance(node, ast.Tuple) and node.elts:
        if len(node.elts) > 1 and ctx.constant(node.elts[1], None) == 0:
            return None
        return _all_interfaces(ctx, node.elts[0], allow_empty=True)
    value = ctx.constant(node, None) if node is not None else None
    if isinstance(value, tuple) and len(value) > 1 and value[1] == 0:
        return None
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        if value[0] in _ALL_INTERFACES:
            return value[0]
        if value[0] == "":
            return "''"
    return None


def _bind_sinks(ctx: ModuleContext, apps: set[str]) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, address, what binds it) for each server or socket bound to every interface."""
    for call in ctx.calls:
        func = call.node.func
        name = call.name or ""
        if name in _TUPLE_ADDRESS_SERVERS:
            address = _address_tuple_host(ctx, call.arg(position=0, keyword="listener" if name.startswith("gevent") else "server_address"))
            if address:
                yield call.node, address, f"`{name}`"
        elif name in _HOST_ARGUMENT:
            position, keyword = _HOST_ARGUMENT[name]
            address = _all_interfaces(ctx, call.arg(position=position, keyword=keyword))
            if address is None and name == "waitress.serve":
                address = _all_interfaces(ctx, call.arg(keyword="listen"))
            if address:
                yield call.node, address, f"`{name}`"
        elif isinstance(func, ast.Attribute) and func.attr == "bind" and len(call.node.args) == 1:
            address = _address_tuple_host(ctx, call.node.args[0])
            if address:
                yield call.node, address, f"`{ast.unparse(func)}`"
        elif isinstance(func, ast.Attribute) and func.attr in ("add_insecure_port", "add_secure_port"):
            address = _all_interfaces(ctx, call.arg(position=0, keyword="address"))
            if address:
                yield call.node, address, f"`{ast.unparse(func)}`"
        elif isinstance(func, ast.Attribute) and func.attr == "listen" and len(call.node.args) <= 2:
            # Tornado's listen(port, address=""): a socket's listen(backlog) has no address
            address = _all_interfaces(ctx, call.arg(position=1, keyword="address"))
            if address:
                yield call.node, address, f"`{ast.unparse(func)}`"
        elif isinstance(func, ast.Attribute) and func.attr == "create_server":
            address = _all_interfaces(ctx, call.arg(position=1, keyword="host"))
            if address:
                yield call.node, address, f"`{ast.unparse(func)}`"
        elif isinstance(func, ast.Attribute) and func.attr == "run" and _is_flask_app(ctx, func.value, apps):
            receiver = ast.unparse(func.value)
            position = None if receiver.split(".")[-1] in ("socketio", "sio") else 0
            address = _all_interfaces(ctx, call.arg(position=position, keyword="host"))
            if address:
                yield call.node, address, f"`{receiver}.run`"


@rule(
    id="bind-all-interfaces",
    bandit=("B104",), ruff=("S104",),
    cwe=1327,
    severity="low",
    confidence="high",
    summary="Server or socket bound to every network interface (0.0.0.0 or ::)",
)
def bind_all_interfaces(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags a literal every-interface address (`0.0.0.0`, `::`, or `""` in a socket address tuple),
    written directly or through a module constant, passed as the listening address of a server
    or socket: Flask `app.run(host=...)`, `socket.bind((host, port))`, `uvicorn.run`,
    `run_simple`, `make_server`, `HTTPServer((host, port), ...)`, `asyncio.start_server`,
    `waitress.serve`, Tornado `listen(port, address)`, gRPC `add_insecure_port`, gevent and
    eventlet servers, and gunicorn's `bind` setting.  The default of a configuration option
    (oslo.config, argparse, click, `os.environ.get("HOST", "0.0.0.0")`) is not flagged: the
    operator who deploys the service chooses the address, and a network service reachable on
    every interface is what such a default is for.  Comparisons with `0.0.0.0` and CIDR strings
    such as `0.0.0.0/0` are not addresses to bind and are not flagged.

    ## Why it matters
    A service bound to every interface answers on each network the machine is attached to: a
    public interface, a container bridge, a VPN.  Administrative endpoints, development servers
    and services that trust their network then become reachable by hosts that were never meant
    to talk to them.

    ## Example
    ```python
    server = HTTPServer(("0.0.0.0", 8080), Handler)
    ```

    ## Fix
    Bind to the interface the service is meant for, `127.0.0.1` for local use, and let the
    deployment choose a wider address explicitly through configuration.

    ## References
    - CWE-1327: Binding to an Unrestricted IP Address (Bandit's B104 uses CWE-605, which is about
      several sockets sharing one port)
    - https://docs.python.org/3/library/socket.html#socket.socket.bind
    """
    for node, address, binder in _bind_sinks(ctx, _flask_apps(ctx)):
        shown = "''" if address == "''" else f"`{address}`"
        yield Issue(
            node,
            message=f"{binder} listens on {shown}, which accepts connections on every network interface of the host.",
            fix="Bind to `127.0.0.1` (or the one interface the service serves) and take a wider address "
            "only from deployment configuration.",
        )
    if "gunicorn" in _module_words(ctx):
        for stmt in ctx.tree.body:
            for target, value in _assignments(stmt):
                if isinstance(target, ast.Name) and target.id == "bind":
                    values = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
                    for element in values:
                        address = _all_interfaces(ctx, element)
                        if address:
                            yield Issue(
                                element,
                                message=f"gunicorn's `bind = {ast.unparse(element)}` listens on every network "
                                "interface of the host.",
                                fix="Bind gunicorn to `127.0.0.1:PORT` behind the reverse proxy, or to the "
                                "interface the service is meant for.",
                            )


# --- cookies --------------------------------------------------------------------------------

_SESSION_COOKIE_WORDS = {
    "session", "sess", "sid", "sessionid", "auth", "authentication", "token", "jwt", "remember",
    "login", "credential", "credentials", "csrf", "xsrf", "apikey", "secret", "sso", "refresh",
    "bearer", "identity", "oauth", "saml", "password", "passwd", "pwd",
    # a cookie naming the user is how naive applications keep someone logged in
    "user", "username", "userid", "uid", "account",
}
# cookies that remember where to go or how to show the page, even when named after the login flow
_NON_CREDENTIAL_COOKIE_WORDS = {
    "redirect", "next", "url", "return", "lang", "language", "locale", "theme", "timezone", "tz",
    "preference", "preferences", "prefs", "consent", "banner", "tab", "sort", "layout", "region", "message",
}
_READABLE_BY_SCRIPT = {"csrf", "xsrf"}
_COOKIE_SETTERS = {"set_cookie", "set_signed_cookie", "set_secure_cookie"}
_UNKNOWN_VALUE = object()


class _Cookie:
    def __init__(self, ctx: ModuleContext, call_node: ast.Call, receiver: str, method: str):
        self.node = call_node
        self.receiver = receiver
        self.method = method
        args = call_node.args
        keywords = {kw.arg: kw.value for kw in call_node.keywords if kw.arg}
        self.name_node = keywords.get("key", keywords.get("name", args[0] if args else None))
        self.value_node = keywords.get("value", args[1] if len(args) > 1 else None)
        self.keywords = keywords
        name = ctx.constant(self.name_node, None)
        self.name = name if isinstance(name, str) else None
        name_text = self.name if self.name is not None else (ast.unparse(self.name_node) if self.name_node else "")
        value_text = ast.unparse(self.value_node) if self.value_node is not None else ""
        self.name_words = _words(name_text)
        self.value_words = _words(value_text)
        self.shown = f"`{self.name}`" if self.name is not None else f"named by `{name_text}`"
        self.opaque = any(kw.arg is None for kw in call_node.keywords) or any(
            isinstance(a, ast.Starred) for a in args
        )

    @property
    def sensitive(self) -> bool:
        return any(
            words & _SESSION_COOKIE_WORDS and not words & _NON_CREDENTIAL_COOKIE_WORDS
            for words in (self.name_words, self.value_words)
        )

    def clears(self, ctx: ModuleContext) -> bool:
        """Whether the call deletes the cookie rather than sets it: an empty (or absent) value,
        or an age or expiry of zero (``set_cookie(name, "", expires=0)``, Django's and
        Werkzeug's own ``delete_cookie``).  A cookie that holds nothing has nothing to protect."""
        if self.value_node is None or ctx.constant(self.value_node, _UNKNOWN_VALUE) in ("", b"", None):
            return True
        for keyword in ("max_age", "expires"):
            value = ctx.constant(self.keywords[keyword], _UNKNOWN_VALUE) if keyword in self.keywords else _UNKNOWN_VALUE
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
                return True
        return False

    def flag(self, ctx: ModuleContext, keyword: str) -> bool | None:
        """True/False when the flag is known (absent means False), None when it is computed."""
        if keyword not in self.keywords:
            return False
        value = ctx.constant(self.keywords[keyword], None)
        return value if isinstance(value, bool) else None


def _cookies(ctx: ModuleContext) -> Iterator[_Cookie]:
    for call in ctx.calls:
        func = call.node.func
        if isinstance(func, ast.Attribute) and func.attr in _COOKIE_SETTERS:
            cookie = _Cookie(ctx, call.node, ast.unparse(func.value), func.attr)
            if not cookie.opaque and cookie.sensitive and not cookie.clears(ctx):
                yield cookie


def _cookie_settings(ctx: ModuleContext, keys: set[str]) -> Iterator[_Setting]:
    for setting in _settings(ctx):
        if setting.key in keys and ctx.constant(setting.value, None) is False and not _non_production_setting(ctx, setting):
            yield setting


@rule(
    id="cookie-without-secure",
    cwe=614,
    severity="medium",
    confidence="medium",
    summary="Session or credential cookie sent without the Secure attribute",
)
def cookie_without_secure(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `set_cookie` (Flask, Werkzeug, Django, Starlette, aiohttp, Tornado, Bottle) for a
    cookie whose name or value marks it as a session or credential (session, auth, token, jwt,
    remember-me, ...) without `secure=True`, and the settings `SESSION_COOKIE_SECURE = False`,
    `CSRF_COOKIE_SECURE = False` and `REMEMBER_COOKIE_SECURE = False` outside development and
    test configurations.  Cookies that carry no credential, such as a language choice, are not
    flagged.

    ## Why it matters
    Without the Secure attribute the browser also sends the cookie over plain HTTP: a single
    `http://` request, which an attacker on the network can provoke with any link or image,
    hands the session token to whoever watches the traffic, and the session with it.

    ## Example
    ```python
    response.set_cookie("session_id", sid, httponly=True)
    ```

    ## Fix
    Pass `secure=True` (and `httponly=True`, `samesite="Lax"`) when setting the cookie, and set
    `SESSION_COOKIE_SECURE = True` in the production settings.

    ## References
    - CWE-614: Sensitive Cookie in HTTPS Session Without 'Secure' Attribute
    - https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#restrict_access_to_cookies
    """
    for cookie in _cookies(ctx):
        if cookie.flag(ctx, "secure") is False:
            explicit = "`secure=False`" if "secure" in cookie.keywords else "no `secure=True`"
            yield Issue(
                cookie.node,
                message=f"`{cookie.receiver}.{cookie.method}` sets the cookie {cookie.shown} with {explicit}, so "
                "the browser also sends this credential over plain HTTP.",
                fix=f"Pass `secure=True` to `{cookie.receiver}.{cookie.method}` for the cookie {cookie.shown}.",
            )
    for setting in _cookie_settings(ctx, {"SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"}):
        yield Issue(
            setting.node,
            message=f"{setting.describe()} is False, so the browser sends that cookie over plain HTTP too.",
            fix=f"Set `{setting.key} = True` in the production configuration.",
        )


@rule(
    id="cookie-without-httponly",
    cwe=1004,
    severity="medium",
    confidence="medium",
    summary="Session or credential cookie readable by page scripts (no HttpOnly attribute)",
)
def cookie_without_httponly(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `set_cookie` for a cookie whose name or value marks it as a session or credential
    without `httponly=True`, and the settings `SESSION_COOKIE_HTTPONLY = False` and
    `REMEMBER_COOKIE_HTTPONLY = False` outside development and test configurations.  CSRF
    cookies are exempt: the double-submit pattern needs page scripts to read them.

    ## Why it matters
    A cookie without HttpOnly is readable through `document.cookie`: one cross-site scripting
    flaw anywhere on the site is then enough to copy the session token to the attacker, who
    keeps the session after the page is closed.

    ## Example
    ```python
    resp.set_cookie("auth_token", token, secure=True)
    ```

    ## Fix
    Pass `httponly=True` when setting the cookie and keep `SESSION_COOKIE_HTTPONLY = True`.

    ## References
    - CWE-1004: Sensitive Cookie Without 'HttpOnly' Flag
    - https://owasp.org/www-community/HttpOnly
    """
    for cookie in _cookies(ctx):
        if cookie.name_words & _READABLE_BY_SCRIPT:
            continue
        if cookie.flag(ctx, "httponly") is False:
            explicit = "`httponly=False`" if "httponly" in cookie.keywords else "no `httponly=True`"
            yield Issue(
                cookie.node,
                message=f"`{cookie.receiver}.{cookie.method}` sets the cookie {cookie.shown} with {explicit}, so "
                "any script on the page, including injected script, can read this credential.",
                fix=f"Pass `httponly=True` to `{cookie.receiver}.{cookie.method}` for the cookie {cookie.shown}.",
            )
    for setting in _cookie_settings(ctx, {"SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY"}):
        yield Issue(
            setting.node,
            message=f"{setting.describe()} is False, so page scripts, including injected ones, can read that cookie.",
            fix=f"Set `{setting.key} = True` (the framework default).",
        )


# --- csrf-disabled --------------------------------------------------------------------------

_CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
_SESSION_MIDDLEWARE = {
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
}


def _is_csrf_exempt(ctx: ModuleContext, node: ast.expr) -> bool:
    name = ctx.qualname(node) or ""
    return name == "csrf_exempt" or name.endswith(".csrf_exempt")


def _csrf_protect_objects(ctx: ModuleContext) -> set[str]:
    objects: set[str] = set()
    for assign in ctx.nodes(ast.Assign):
        if isinstance(assign.value, ast.Call):
            name = ctx.qualname(assign.value.func) or ""
            if name.startswith("flask_wtf") and name.endswith("CSRFProtect"):
                objects.update(ast.unparse(t) for t in assign.targets)
    return objects


def _authenticates_itself(ctx: ModuleContext, function: ast.AST) -> bool:
    """The view checks a request signature, an Authorization header or a token authentication class
    (Django REST framework's ``TokenAuthentication``) instead of a session cookie."""
    for node in ast.walk(function):
        identifier = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        if identifier.endswith("Authentication") and "Session" not in identifier:
            return True
        if isinstance(node, ast.Call):
            words = _words(ctx.qualname(node.func) or "")
            if words & {"signature", "authenticate"} or {"compare", "digest"} <= words:
                return True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.lower()
            if text in ("authorization", "http_authorization") or "signature" in text:
                return True
    return False


@rule(
    id="csrf-disabled",
    cwe=352,
    severity="medium",
    confidence="medium",
    summary="Cross-site request forgery protection switched off for a view or the whole application",
)
def csrf_disabled(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags Django's `@csrf_exempt` (also through `method_decorator` and wrapped in `urls.py`),
    Flask-WTF's `@csrf.exempt`, `WTF_CSRF_ENABLED = False` outside test and development
    configurations, Flask-WTF forms with `class Meta: csrf = False` or created with
    `meta={"csrf": False}`, Tornado handlers whose `check_xsrf_cookie` does nothing, and a Django settings `MIDDLEWARE` list that enables sessions or
    authentication but not `CsrfViewMiddleware`.  An exempt view that authenticates its requests
    itself, by a signature, an `Authorization` header or a credential it passes to
    `authenticate` (a webhook, a token API, a single sign-on callback), is not flagged; nor is
    a Tornado handler that derives from `RequestHandler` and defines no `post`, `put`, `patch`
    or `delete` (an error page), which has no state-changing request to protect.

    ## Why it matters
    Browsers attach cookies to requests that any other site triggers.  Without a CSRF token
    check, a page the victim visits can submit forms to the application in the victim's logged-in
    session: change the email address, transfer funds, grant access.

    ## Example
    ```python
    @csrf_exempt
    def update_profile(request):
        request.user.email = request.POST["email"]
    ```

    ## Fix
    Remove the exemption and send the CSRF token with the form or the `X-CSRFToken` header; an
    endpoint called by other servers should authenticate each request by a signature or token
    instead of cookies.

    ## References
    - CWE-352: Cross-Site Request Forgery (CSRF)
    - https://docs.djangoproject.com/en/stable/ref/csrf/
    """
    protectors = _csrf_protect_objects(ctx)
    uses_flask_wtf = _imports_any(ctx, "flask_wtf")
    functions = ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    decorator_nodes: set[int] = set()
    for function in functions:
        for decorator in function.decorator_list:
            target = decorator
            if isinstance(decorator, ast.Call) and (ctx.qualname(decorator.func) or "").endswith("method_decorator"):
                target = decorator.args[0] if decorator.args else decorator
                decorator_nodes.add(id(decorator))
            exempt = _is_csrf_exempt(ctx, target)
            flask_exempt = isinstance(target, ast.Attribute) and target.attr == "exempt" and (
                ast.unparse(target.value) in protectors or uses_flask_wtf
            )
            if not (exempt or flask_exempt):
                continue
            decorator_nodes.add(id(target))
            if _authenticates_itself(ctx, function):
                continue
            shown = ast.unparse(target)
            yield Issue(
                decorator,
                message=f"`@{shown}` switches CSRF protection off for `{function.name}`, so another site can "
                "submit requests to it in a logged-in user's session.",
                fix=f"Remove `@{shown}` from `{function.name}` and send the CSRF token with its requests, or "
                "authenticate its callers by a signature or token instead of cookies.",
            )
    for call in ctx.calls:
        if id(call.node) in decorator_nodes or not call.node.args:
            continue
        func = call.node.func
        exempt = _is_csrf_exempt(ctx, func) or (
            isinstance(func, ast.Attribute) and func.attr == "exempt" and ast.unparse(func.value) in protectors
        )
        if exempt:
            target = ast.unparse(call.node.args[0])
            yield Issue(
                call.node,
                message=f"`{ast.unparse(func)}({target})` switches CSRF protection off for `{target}`, so another "
                "site can submit requests to it in a logged-in user's session.",
                fix=f"Stop wrapping `{target}` in `{ast.unparse(func)}` and send the CSRF token with its requests.",
            )
    for setting in _settings(ctx):
        if (
            setting.key == "WTF_CSRF_ENABLED"
            and ctx.constant(setting.value, None) is False
            and not _non_production_setting(ctx, setting)
        ):
            yield Issue(
                setting.node,
                message=f"{setting.describe()} is False, switching Flask-WTF's CSRF protection off for every form.",
                fix="Remove `WTF_CSRF_ENABLED = False` from deployable configuration; set it only in the "
                "test configuration.",
            )
    yield from _middleware_without_csrf(ctx)
    yield from _forms_without_csrf(ctx)
    yield from _xsrf_check_overridden(ctx)


_FLASK_FORM_BASES = {"flask_wtf.FlaskForm", "flask_wtf.form.FlaskForm", "flask_wtf.Form"}


def _is_flask_form(ctx: ModuleContext, cls: ast.ClassDef) -> bool:
    return any((ctx.qualname(base) or "") in _FLASK_FORM_BASES for base in cls.bases)


def _forms_without_csrf(ctx: ModuleContext) -> Iterator[Issue]:
    """Flask-WTF forms with ``class Meta: csrf = False`` or created with CSRF switched off."""
    for cls in ctx.nodes(ast.ClassDef):
        if not _is_flask_form(ctx, cls):
            continue
        for meta in cls.body:
            if not (isinstance(meta, ast.ClassDef) and meta.name == "Meta"):
                continue
            for stmt in meta.body:
                for target, value in _assignments(stmt):
                    if isinstance(target, ast.Name) and target.id == "csrf" and ctx.constant(value, None) is False:
                        yield Issue(
                            stmt,
                            message=f"Form `{cls.name}` sets `csrf = False` in its Meta, so Flask-WTF accepts its "
                            "submissions without a CSRF token.",
                            fix=f"Remove `csrf = False` from `{cls.name}.Meta` and render `form.csrf_token` in the "
                            "template.",
                        )
    form_classes = {cls.name for cls in ctx.nodes(ast.ClassDef) if _is_flask_form(ctx, cls)}
    for call in ctx.calls:
        if not (isinstance(call.node.func, ast.Name) and call.node.func.id in form_classes):
            continue
        meta = call.arg(keyword="meta")
        disabled = ctx.constant(call.arg(keyword="csrf_enabled"), None) is False
        if isinstance(meta, ast.Dict):
            disabled = disabled or any(
                ctx.constant(k, None) == "csrf" and ctx.constant(v, None) is False for k, v in zip(meta.keys, meta.values)
            )
        if disabled and not _inside_non_production_branch(ctx, call.node):
            yield Issue(
                call.node,
                message=f"`{call.node.func.id}` is created with CSRF protection switched off, so this form "
                "accepts submissions from other sites.",
                fix=f"Create `{call.node.func.id}` without the CSRF override and render `form.csrf_token`.",
            )


_STATE_CHANGING_METHODS = {"post", "put", "patch", "delete"}


def _may_change_state(ctx: ModuleContext, handler: ast.ClassDef) -> bool:
    """Whether a Tornado handler can answer a form post: it defines a state-changing method, or it
    inherits from a class other than the framework's ``RequestHandler``, which may define one.

    Tornado checks the XSRF token only before ``post``/``put``/``patch``/``delete``; a handler
    without them (an error page, a redirect) answers those with 405 and has nothing to protect.
    """
    if any(isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in _STATE_CHANGING_METHODS
           for stmt in handler.body):
        return True
    return any((ctx.qualname(base) or "").rpartition(".")[2] != "RequestHandler" for base in handler.bases)


def _xsrf_check_overridden(ctx: ModuleContext) -> Iterator[Issue]:
    """A Tornado handler whose ``check_xsrf_cookie`` does nothing."""
    for function in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        if function.name != "check_xsrf_cookie" or not isinstance(ctx.parent(function), ast.ClassDef):
            continue
        body = [
            stmt for stmt in function.body
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))  # docstrings
        ]
        if all(isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Return) and stmt.value is None) for stmt in body):
            if not _may_change_state(ctx, ctx.parent(function)):  # type: ignore[arg-type]
                continue
            owner = ctx.parent(function).name  # type: ignore[union-attr]
            yield Issue(
                function,
                message=f"`{owner}.check_xsrf_cookie` is overridden to do nothing, so Tornado accepts this "
                "handler's form posts without checking the XSRF token.",
                fix=f"Delete the override from `{owner}`, or authenticate its requests by a header token instead "
                "of cookies.",
            )


def _middleware_without_csrf(ctx: ModuleContext) -> Iterator[Issue]:
    if not _settings_module(ctx) or _non_production_module(ctx):
        return
    assignments = [
        (stmt, target.id, value)
        for stmt in ctx.tree.body
        for target, value in _assignments(stmt)
        if isinstance(target, ast.Name) and target.id in ("MIDDLEWARE", "MIDDLEWARE_CLASSES")
    ]
    if len(assignments) != 1 or _middleware_changed_later(ctx):
        return
    stmt, name, value = assignments[0]
    entries = ctx.constant(value, None)
    if not isinstance(entries, (list, tuple)) or not all(isinstance(e, str) for e in entries):
        return
    if _CSRF_MIDDLEWARE in entries or not (_SESSION_MIDDLEWARE & set(entries)):
        return
    yield Issue(
        stmt,
        message=f"`{name}` enables sessions but not `{_CSRF_MIDDLEWARE}`, so no view checks CSRF tokens.",
        fix=f"Add `\"{_CSRF_MIDDLEWARE}\"` to `{name}` after `SessionMiddleware`.",
    )


def _middleware_changed_later(ctx: ModuleContext) -> bool:
    for node in ctx.nodes(ast.AugAssign):
        if isinstance(node.target, ast.Name) and node.target.id.startswith("MIDDLEWARE"):
            return True
    for call in ctx.calls:
        func = call.node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id.startswith("MIDDLEWARE"):
            return True
    return False
