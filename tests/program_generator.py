"""Random but valid Python programs shaped like the code secreview reviews.

:func:`generate` builds an ``ast.Module`` from a ``random.Random`` and returns its source text
(``ast.unparse``).  The programs import the modules security rules care about (subprocess, os,
pickle, yaml, hashlib, random, requests, flask, sqlite3, jinja2, ...) under plain names, aliases
and ``from`` imports, and pass them constants, user input (request parameters, environment,
``sys.argv``), sanitised values and values built from strings, containers, comprehensions,
lambdas and calls of the program's own functions, inside every statement form the grammar has:
branches, loops, try/except(*), with, match, nested and async functions, classes, decorators
such as ``@app.route``, ``global``/``nonlocal``.

Generated programs compile (``compile(source, path, "exec")`` succeeds): the generator tracks
where ``return``, ``yield``, ``await``, ``break``, ``continue``, ``nonlocal`` and walrus
assignments are legal, so a program that a rule cannot handle is a rule bug, not a generator
artefact.  :func:`generate_stress` makes the degenerate shapes instead (very long expressions,
deep nesting) for which only "no crash, no hang" is promised.

Driven by a seed, so a failing program is reproduced by its seed alone.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field, replace

# (module, attribute, how to call it) -- "shell" adds shell=..., "loader" adds Loader=..., etc.
SECURITY_CALLS: tuple[tuple[str, str, str], ...] = (
    ("subprocess", "run", "shell"), ("subprocess", "Popen", "shell"), ("subprocess", "call", "shell"),
    ("subprocess", "check_output", "shell"), ("subprocess", "check_call", "shell"),
    ("os", "system", ""), ("os", "popen", ""), ("os", "execvp", "argv"), ("os", "remove", ""),
    ("os", "chmod", "mode"), ("os", "makedirs", "mode"),
    ("pickle", "loads", ""), ("pickle", "load", ""), ("marshal", "loads", ""), ("dill", "loads", ""),
    ("yaml", "load", "loader"), ("yaml", "safe_load", ""), ("yaml", "unsafe_load", ""), ("yaml", "full_load", ""),
    ("hashlib", "md5", "usedforsecurity"), ("hashlib", "sha1", ""), ("hashlib", "sha256", ""), ("hashlib", "new", "hashname"),
    ("random", "random", "none"), ("random", "choice", ""), ("random", "randint", "two"),
    ("secrets", "token_hex", "none"),
    ("requests", "get", "http"), ("requests", "post", "http"), ("requests", "request", "method"),
    ("tempfile", "mktemp", "none"), ("tempfile", "mkstemp", "none"),
    ("sqlite3", "connect", ""), ("shutil", "rmtree", ""), ("shutil", "copy", "two"),
    ("jinja2", "Template", ""), ("jinja2", "Environment", "autoescape"),
    ("xml.etree.ElementTree", "fromstring", ""), ("lxml.etree", "fromstring", ""),
    ("ssl", "_create_unverified_context", "none"), ("urllib.request", "urlopen", ""),
    ("logging", "info", ""), ("jwt", "decode", "jwt"), ("hmac", "compare_digest", "two"),
    ("flask", "render_template_string", ""), ("flask", "redirect", ""), ("flask", "send_file", ""),
    ("flask", "make_response", ""), ("markupsafe", "Markup", ""), ("base64", "b64decode", ""),
    ("shlex", "quote", ""), ("html", "escape", ""), ("os.path", "join", "two"), ("json", "loads", ""),
    ("socket", "socket", "none"), ("telnetlib", "Telnet", ""), ("ftplib", "FTP", ""),
    ("paramiko", "SSHClient", "none"), ("django.utils.safestring", "mark_safe", ""),
    ("builtins", "eval", ""), ("builtins", "exec", ""), ("builtins", "open", "open"),
    ("builtins", "compile", "compile"), ("builtins", "__import__", ""), ("builtins", "input", "none"),
)
_BUILTIN_NAMES = {"eval", "exec", "open", "compile", "__import__", "input", "int", "str", "len", "print"}

# Where untrusted values come from, as source text (parsed once).
SOURCES = (
    "request.args.get('q')", "request.args['name']", "request.form['cmd']", "request.form.get('path', '')",
    "request.values.get('url')", "request.get_json()['query']", "request.cookies.get('session')",
    "request.headers['X-Forwarded-For']", "request.data", "request.files['upload'].filename",
    "request.GET['id']", "request.POST.get('next')", "self.get_argument('q')",
    "os.environ['USER_INPUT']", "os.environ.get('CMD')", "os.getenv('TARGET', 'x')", "sys.argv[1]",
    "input('> ')", "sys.stdin.read()", "socket_data.recv(1024)",
)
SANITIZERS = ("shlex.quote", "int", "os.path.basename", "html.escape", "markupsafe.escape", "secure_filename",
              "urllib.parse.quote", "float", "bool", "re.escape")
STRINGS = (
    "", "ls -l", "rm -rf /tmp/cache", "echo {}", "SELECT * FROM users WHERE id = %s", "SELECT * FROM t WHERE name = '",
    "DELETE FROM t", "/tmp/upload", "../../etc/passwd", "http://example.com/api", "https://internal/", "0.0.0.0",
    "password", "s3cr3t-K3y!", "AKIAABCDEFGHIJKLMNOP", "md5", "sha1", "<b>{}</b>", "%s", "{name}", "utf-8",
    "GET", "POST", "/admin", "é\u00e8\u4e2d", "\\", "'\"", "\t\n", "x" * 40, "{{ user }}", "DEBUG",
)
ATTRIBUTES = ("strip", "lower", "split", "encode", "decode", "format", "replace", "startswith", "get", "items",
              "append", "read", "execute", "fetchall", "cursor", "hexdigest", "update", "join", "commit")
DECORATORS = (
    "app.route('/run', methods=['GET', 'POST'])", "app.route('/file/<path:name>')", "app.get('/items')",
    "login_required", "staticmethod", "classmethod", "property", "functools.lru_cache(maxsize=None)",
    "csrf_exempt", "require_http_methods(['POST'])", "pytest.fixture", "contextlib.contextmanager",
    "api_view(['GET'])", "permission_classes([AllowAny])",
)
IMPORTABLE_MODULES = sorted({module for module, _, _ in SECURITY_CALLS if module != "builtins"}
                            | {"flask", "sys", "re", "functools", "contextlib", "django.http", "werkzeug.utils",
                               "urllib.parse", "dataclasses", "typing", "asyncio", "cgi", "xmlrpc.client"})


@dataclass(frozen=True)
class Context:
    """Where the code being generated sits, which decides what is legal there."""

    in_function: bool = False
    is_async: bool = False
    in_loop: bool = False
    in_class: bool = False
    in_comprehension: bool = False
    in_lambda: bool = False
    in_except_star: bool = False
    depth: int = 0
    enclosing_locals: tuple[str, ...] = ()  # names bound in the enclosing function (for nonlocal)


@dataclass
class _Scope:
    names: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)


def _expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _stmt(text: str) -> ast.stmt:
    return ast.parse(text).body[0]


class ProgramGenerator:
    def __init__(self, rng: random.Random, size: int = 30, max_depth: int = 4):
        self.rng = rng
        self.size = size  # rough number of statements in the whole program
        self.max_depth = max_depth
        self.budget = size
        self.counter = 0
        self.callee_text: dict[tuple[str, str], str] = {}  # (module, attr) -> how this program names it
        self.scopes: list[_Scope] = [_Scope()]

    # --- helpers --------------------------------------------------------------------------

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def fresh(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def bind(self, name: str) -> None:
        if name not in self.scopes[-1].names:
            self.scopes[-1].names.append(name)

    def visible_names(self) -> list[str]:
        return [n for scope in self.scopes for n in scope.names]

    def visible_functions(self) -> list[str]:
        return [n for scope in self.scopes for n in scope.functions]

    # --- the module -----------------------------------------------------------------------

    def module(self) -> ast.Module:
        body: list[ast.stmt] = self.imports()
        if self.chance(0.6):
            body.append(_stmt("app = Flask(__name__)"))
            self.bind("app")
        if self.chance(0.3):
            body.append(_stmt(f"DEBUG = {self.rng.choice(['True', 'False', '0', 'None'])}"))
            self.bind("DEBUG")
        if self.chance(0.3):
            body.append(_stmt("ALLOWED = {'ls', 'whoami', 'date'}"))
            self.bind("ALLOWED")
        ctx = Context()
        while self.budget > 0:
            body.extend(self.statement(ctx))
        return ast.Module(body=body, type_ignores=[])

    def imports(self) -> list[ast.stmt]:
        statements: list[ast.stmt] = []
        if self.chance(0.8):
            statements.append(_stmt("from flask import Flask, request, abort, redirect, render_template_string"))
        if self.chance(0.3):
            statements.append(_stmt("from __future__ import annotations"))
            statements.insert(0, statements.pop())  # a future import must come first
        modules = self.rng.sample(IMPORTABLE_MODULES, k=self.rng.randint(1, min(12, len(IMPORTABLE_MODULES))))
        for module in modules:
            style = self.rng.random()
            attributes = [attr for mod, attr, _ in SECURITY_CALLS if mod == module]
            if style < 0.5 or not attributes:
                statements.append(ast.Import(names=[ast.alias(name=module)]))
                for attr in attributes:
                    self.callee_text[(module, attr)] = f"{module}.{attr}"
            elif style < 0.7:
                alias = self.fresh(module.replace(".", "_")[:3] + "_")
                statements.append(ast.Import(names=[ast.alias(name=module, asname=alias)]))
                for attr in attributes:
                    self.callee_text[(module, attr)] = f"{alias}.{attr}"
            else:
                chosen = self.rng.sample(attributes, k=self.rng.randint(1, len(attributes)))
                names = []
                for attr in chosen:
                    asname = self.fresh(attr[:4] + "_") if self.chance(0.3) else None
                    names.append(ast.alias(name=attr, asname=asname))
                    self.callee_text[(module, attr)] = asname or attr
                statements.append(ast.ImportFrom(module=module, names=names, level=0))
        if self.chance(0.2):
            statements.append(_stmt("from . import helpers"))
        if self.chance(0.1):
            statements.append(_stmt("from .utils import *"))
        return statements

    # --- statements -----------------------------------------------------------------------

    def block(self, ctx: Context, minimum: int = 1) -> list[ast.stmt]:
        statements: list[ast.stmt] = []
        count = self.rng.randint(minimum, 4)
        for _ in range(count):
            if self.budget <= 0 and statements:
                break
            statements.extend(self.statement(ctx))
        return statements or [ast.Pass()]

    def statement(self, ctx: Context) -> list[ast.stmt]:
        self.budget -= 1
        compound_allowed = ctx.depth < self.max_depth and self.budget > 0
        choices: list[tuple[float, object]] = [
            (6, self.assignment), (5, self.call_statement), (1, self.aug_assignment), (0.5, self.simple),
            (1, self.raise_or_assert),
        ]
        if compound_allowed:
            choices += [(2, self.if_statement), (1.5, self.loop), (1.2, self.try_statement), (1, self.with_statement),
                        (0.8, self.match_statement), (3 if not ctx.in_function else 1.5, self.function),
                        (0.8 if not ctx.in_function else 0.2, self.class_def)]
        if ctx.in_function:
            choices.append((1.5, self.return_statement))
        if ctx.in_loop:
            choices.append((0.6, self.loop_control))
        total = sum(weight for weight, _ in choices)
        pick = self.rng.random() * total
        for weight, make in choices:
            pick -= weight
            if pick <= 0:
                return make(ctx)  # type: ignore[operator]
        return self.assignment(ctx)

    def assignment(self, ctx: Context) -> list[ast.stmt]:
        value = self.expression(ctx)
        roll = self.rng.random()
        if roll < 0.65 or not self.visible_names():
            name = self.fresh()
            statement: ast.stmt = ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)
            self.bind(name)
        elif roll < 0.75:
            first, second = self.fresh(), self.fresh()
            target = ast.Tuple([ast.Name(first, ast.Store()), ast.Starred(ast.Name(second, ast.Store()), ast.Store())]
                               if self.chance(0.3) else [ast.Name(first, ast.Store()), ast.Name(second, ast.Store())],
                               ast.Store())
            statement = ast.Assign(targets=[target], value=value)
            self.bind(first)
            self.bind(second)
        elif roll < 0.85:
            container = ast.Name(self.rng.choice(self.visible_names()), ast.Load())
            key = self.expression(ctx, depth=2)
            statement = ast.Assign(targets=[ast.Subscript(container, key, ast.Store())], value=value)
        elif roll < 0.93:
            owner = "self" if ctx.in_class and ctx.in_function else self.rng.choice(self.visible_names())
            statement = ast.Assign(targets=[ast.Attribute(ast.Name(owner, ast.Load()), self.rng.choice(["cmd", "path", "url", "data"]), ast.Store())],
                                   value=value)
        else:
            name = self.fresh()
            annotation = _expr(self.rng.choice(["str", "int", "bytes", "list[str]", "dict[str, object]", "'Request'"]))
            statement = ast.AnnAssign(ast.Name(name, ast.Store()), annotation, value, simple=1)
            self.bind(name)
        return [statement]

    def aug_assignment(self, ctx: Context) -> list[ast.stmt]:
        if not self.visible_names():
            return self.assignment(ctx)
        target = ast.Name(self.rng.choice(self.visible_names()), ast.Store())
        op = self.rng.choice([ast.Add(), ast.Mod(), ast.Mult(), ast.BitOr()])
        return [ast.AugAssign(target, op, self.expression(ctx))]

    def call_statement(self, ctx: Context) -> list[ast.stmt]:
        return [ast.Expr(self.security_call(ctx) if self.chance(0.8) else self.expression(ctx))]

    def simple(self, ctx: Context) -> list[ast.stmt]:
        options = ["pass", "del_", "import_"]
        if ctx.in_function and not ctx.in_class:
            options.append("global_")
        choice = self.rng.choice(options)
        if choice == "del_" and self.visible_names():
            return [ast.Delete([ast.Name(self.rng.choice(self.visible_names()), ast.Del())])]
        if choice == "import_":
            module = self.rng.choice(IMPORTABLE_MODULES)
            return [ast.Import(names=[ast.alias(name=module)])]
        return [ast.Pass()]

    def raise_or_assert(self, ctx: Context) -> list[ast.stmt]:
        if self.chance(0.5):
            return [ast.Assert(self.condition(ctx), self.expression(ctx, depth=2) if self.chance(0.3) else None)]
        if ctx.in_except_star:
            return [ast.Pass()]
        exc = _expr(self.rng.choice(["ValueError('bad input')", "PermissionError", "RuntimeError(msg)", "abort(403)"]))
        cause = _expr("exc") if self.chance(0.2) else None
        return [ast.Raise(exc, cause)]

    def return_statement(self, ctx: Context) -> list[ast.stmt]:
        if ctx.in_except_star:
            return [ast.Pass()]
        value = self.expression(ctx) if self.chance(0.8) else None
        return [ast.Return(value)]

    def loop_control(self, ctx: Context) -> list[ast.stmt]:
        if ctx.in_except_star:
            return [ast.Pass()]
        return [ast.Break() if self.chance(0.5) else ast.Continue()]

    def if_statement(self, ctx: Context) -> list[ast.stmt]:
        inner = replace(ctx, depth=ctx.depth + 1)
        if self.chance(0.15) and self.visible_names():
            # validation that ends the path: if x not in ALLOWED: abort()
            name = self.rng.choice(self.visible_names())
            test = _expr(f"{name} not in ALLOWED")
            return [ast.If(test, [ast.Expr(_expr("abort(400)"))] if self.chance(0.5) else self.terminal(ctx), [])]
        orelse: list[ast.stmt] = []
        if self.chance(0.3):
            orelse = self.if_statement(ctx)
        elif self.chance(0.4):
            orelse = self.block(inner)
        return [ast.If(self.condition(ctx), self.block(inner), orelse)]

    def terminal(self, ctx: Context) -> list[ast.stmt]:
        if ctx.in_function and not ctx.in_except_star:
            return [ast.Return(None)]
        return [ast.Raise(_expr("ValueError('not allowed')"), None)]

    def loop(self, ctx: Context) -> list[ast.stmt]:
        inner = replace(ctx, depth=ctx.depth + 1, in_loop=True)
        orelse = self.block(replace(ctx, depth=ctx.depth + 1)) if self.chance(0.15) else []
        if self.chance(0.6):
            target = self.fresh("item")
            self.bind(target)
            iterable = self.iterable(ctx)
            loop_cls = ast.AsyncFor if ctx.is_async and self.chance(0.3) else ast.For
            return [loop_cls(ast.Name(target, ast.Store()), iterable, self.block(inner), orelse)]
        test = _expr("True") if self.chance(0.3) else self.condition(ctx)
        body = self.block(inner)
        if isinstance(test, ast.Constant):
            body.append(ast.Break())
        return [ast.While(test, body, orelse)]

    def try_statement(self, ctx: Context) -> list[ast.stmt]:
        inner = replace(ctx, depth=ctx.depth + 1)
        body = self.block(inner)
        star = self.chance(0.15) and hasattr(ast, "TryStar")  # except* is 3.11 syntax
        handlers = []
        for index in range(self.rng.randint(0 if not star else 1, 3)):
            handler_ctx = replace(inner, in_except_star=True) if star else inner
            kind = self.rng.choice(["Exception", "(ValueError, KeyError)", "OSError", "subprocess.CalledProcessError", None])
            if star and kind is None:
                kind = "Exception"
            name = "exc" if kind is not None and self.chance(0.5) else None  # "except as" is not Python
            if name:
                self.bind(name)
            handler_body = self.block(handler_ctx) if self.chance(0.7) else [ast.Pass()]
            handlers.append(ast.ExceptHandler(_expr(kind) if kind else None, name, handler_body))
            if kind is None:
                break  # a bare except must be last
        orelse = self.block(inner) if handlers and self.chance(0.2) else []
        finalbody = self.block(inner) if not handlers or self.chance(0.3) else []
        cls = ast.TryStar if star else ast.Try
        return [cls(body, handlers, orelse, finalbody)]

    def with_statement(self, ctx: Context) -> list[ast.stmt]:
        inner = replace(ctx, depth=ctx.depth + 1)
        items = []
        for _ in range(self.rng.randint(1, 2)):
            manager = self.rng.choice([
                lambda: self.call_of("builtins", "open", ctx), lambda: _expr("tempfile.TemporaryDirectory()"),
                lambda: _expr("sqlite3.connect('app.db')"), lambda: _expr("lock"), lambda: self.expression(ctx, depth=2),
            ])()
            variable = None
            if self.chance(0.7):
                name = self.fresh("handle")
                variable = ast.Name(name, ast.Store())
                self.bind(name)
            items.append(ast.withitem(manager, variable))
        cls = ast.AsyncWith if ctx.is_async and self.chance(0.3) else ast.With
        return [cls(items, self.block(inner))]

    def match_statement(self, ctx: Context) -> list[ast.stmt]:
        inner = replace(ctx, depth=ctx.depth + 1)
        cases = []
        for _ in range(self.rng.randint(1, 4)):
            pattern = self.pattern()
            guard = self.condition(ctx) if self.chance(0.2) else None
            cases.append(ast.match_case(pattern, guard, self.block(inner)))
        if self.chance(0.4):
            cases.append(ast.match_case(ast.MatchAs(None, None), None, self.block(inner)))  # case _: comes last
        return [ast.Match(self.expression(ctx, depth=2), cases)]

    def pattern(self) -> ast.pattern:
        kind = self.rng.choice(["value", "sequence", "mapping", "class", "or", "as"])
        if kind == "value":
            return ast.MatchValue(ast.Constant(self.rng.choice(STRINGS + ("",))))
        if kind == "sequence":
            names = [self.fresh("part") for _ in range(self.rng.randint(0, 3))]
            for name in names:
                self.bind(name)
            return ast.MatchSequence([ast.MatchAs(None, n) for n in names])
        if kind == "mapping":
            name = self.fresh("field")
            self.bind(name)
            return ast.MatchMapping([ast.Constant("cmd")], [ast.MatchAs(None, name)], None)
        if kind == "class":
            name = self.fresh("field")
            self.bind(name)
            return ast.MatchClass(_expr("Command"), [], ["name"], [ast.MatchAs(None, name)])
        if kind == "or":
            return ast.MatchOr([ast.MatchValue(ast.Constant("a")), ast.MatchValue(ast.Constant("b"))])
        name = self.fresh("captured")
        self.bind(name)
        return ast.MatchAs(ast.MatchClass(_expr("str"), [], [], []), name)

    def function(self, ctx: Context) -> list[ast.stmt]:
        name = self.fresh("handler" if not ctx.in_class else "method")
        is_async = self.chance(0.15)
        params = [ast.arg("self")] if ctx.in_class else []
        positional = [self.fresh("arg") for _ in range(self.rng.randint(0, 3))]
        params += [ast.arg(p, _expr(self.rng.choice(["str", "int", "bytes", "Request"])) if self.chance(0.3) else None)
                   for p in positional]
        defaults = [self.expression(ctx, depth=1) for _ in range(self.rng.randint(0, len(positional)))]
        kwonly = [ast.arg(self.fresh("kw")) for _ in range(self.rng.randint(0, 1) if self.chance(0.3) else 0)]
        vararg = ast.arg("args") if self.chance(0.2) else None
        kwarg = ast.arg("kwargs") if self.chance(0.2) else None
        arguments = ast.arguments(posonlyargs=[], args=params, vararg=vararg, kwonlyargs=kwonly,
                                  kw_defaults=[None] * len(kwonly), kwarg=kwarg, defaults=defaults)
        decorators = [_expr(d) for d in self.rng.sample(DECORATORS, k=self.rng.choices([0, 1, 2], [5, 4, 1])[0])]
        self.scopes[-1].functions.append(name)
        self.bind(name)
        enclosing = tuple(self.scopes[-1].names) if ctx.in_function and not ctx.in_class else ()
        self.scopes.append(_Scope(names=[p.arg for p in params + kwonly] + [a.arg for a in (vararg, kwarg) if a is not None]))
        inner = Context(in_function=True, is_async=is_async, in_class=False, depth=ctx.depth + 1)
        body: list[ast.stmt] = []
        declared = set(self.scopes[-1].names)
        if enclosing and self.chance(0.4):
            candidates = [n for n in enclosing if n not in declared]
            if candidates:
                chosen = self.rng.choice(candidates)
                body.append(ast.Nonlocal([chosen]))
                self.bind(chosen)
        elif self.chance(0.1) and "DEBUG" not in declared:
            body.append(ast.Global(["DEBUG"]))
        if self.chance(0.2) and not is_async:
            body.append(ast.Expr(ast.Yield(self.expression(inner, depth=2))))
        body += self.block(inner)
        self.scopes.pop()
        cls = ast.AsyncFunctionDef if is_async else ast.FunctionDef
        return [cls(name=name, args=arguments, body=body, decorator_list=decorators, returns=None)]

    def class_def(self, ctx: Context) -> list[ast.stmt]:
        name = self.fresh("Handler")
        bases = [_expr(b) for b in self.rng.sample(["View", "RequestHandler", "object", "Base", "Exception"], k=self.rng.randint(0, 2))]
        decorators = [_expr("dataclass")] if self.chance(0.2) else []
        self.bind(name)
        self.scopes.append(_Scope())
        inner = Context(in_class=True, depth=ctx.depth + 1)
        body: list[ast.stmt] = []
        if self.chance(0.5):
            body.append(_stmt(f"{self.fresh('attr')} = {self.rng.choice(['True', repr(self.rng.choice(STRINGS))])}"))
        for _ in range(self.rng.randint(1, 3)):
            body += self.function(inner) if self.chance(0.8) else self.assignment(inner)
        self.scopes.pop()
        return [ast.ClassDef(name=name, bases=bases, keywords=[], body=body, decorator_list=decorators)]

    # --- expressions ----------------------------------------------------------------------

    def condition(self, ctx: Context) -> ast.expr:
        roll = self.rng.random()
        if roll < 0.2:
            return _expr(self.rng.choice(["True", "False", "DEBUG", "0", "__debug__", "TYPE_CHECKING"]))
        if roll < 0.5 and self.visible_names():
            name = ast.Name(self.rng.choice(self.visible_names()), ast.Load())
            op = self.rng.choice([ast.Eq(), ast.NotEq(), ast.In(), ast.NotIn(), ast.Is(), ast.Lt()])
            return ast.Compare(name, [op], [self.expression(ctx, depth=2)])
        if roll < 0.6:
            return ast.BoolOp(self.rng.choice([ast.And(), ast.Or()]), [self.expression(ctx, depth=2) for _ in range(2)])
        return self.expression(ctx, depth=2)

    def iterable(self, ctx: Context) -> ast.expr:
        roll = self.rng.random()
        if roll < 0.3:
            return _expr(self.rng.choice(["request.args.getlist('f')", "range(10)", "os.listdir(path)", "sys.argv[1:]",
                                          "cursor.fetchall()", "ALLOWED", "request.files.values()"]))
        if roll < 0.5 and self.visible_names():
            return ast.Name(self.rng.choice(self.visible_names()), ast.Load())
        return self.expression(ctx, depth=2)

    def expression(self, ctx: Context, depth: int = 0) -> ast.expr:
        if depth >= 4 or self.chance(0.15 * depth):
            return self.leaf(ctx)
        deeper = depth + 1
        options: list[tuple[float, object]] = [
            (3, lambda: self.leaf(ctx)), (3, lambda: self.security_call(ctx, deeper)),
            (2, lambda: self.string_building(ctx, deeper)), (1.5, lambda: self.sanitized(ctx, deeper)),
            (1, lambda: self.container(ctx, deeper)), (1, lambda: self.method_call(ctx, deeper)),
            (0.8, lambda: self.local_call(ctx, deeper)), (0.8, lambda: self.comprehension(ctx, deeper)),
            (0.5, lambda: self.lambda_expression(ctx, deeper)),
            (0.6, lambda: ast.IfExp(self.condition(ctx), self.expression(ctx, deeper), self.expression(ctx, deeper))),
            (0.6, lambda: ast.Subscript(self.expression(ctx, deeper), self.subscript_key(ctx, deeper), ast.Load())),
            (0.4, lambda: ast.Attribute(self.expression(ctx, deeper), self.rng.choice(["args", "path", "name", "real"]), ast.Load())),
            (0.3, lambda: ast.UnaryOp(self.rng.choice([ast.Not(), ast.USub(), ast.Invert()]), self.expression(ctx, deeper))),
            (0.4, lambda: ast.BinOp(self.expression(ctx, deeper), self.rng.choice([ast.Mult(), ast.Sub(), ast.Pow(), ast.LShift(), ast.FloorDiv(), ast.BitAnd()]), self.expression(ctx, deeper))),
        ]
        if not ctx.in_comprehension and not ctx.in_class:
            options.append((0.3, lambda: self.walrus(ctx, deeper)))
        if ctx.is_async and not ctx.in_lambda:
            # awaiting a call: ast.unparse writes ``await -1`` for a negative constant, which does not parse
            options.append((0.5, lambda: ast.Await(self.rng.choice([self.local_call, self.security_call])(ctx, deeper))))
        if ctx.in_function and not ctx.is_async and not ctx.in_comprehension and not ctx.in_lambda and depth == 0:
            options.append((0.2, lambda: ast.Yield(self.expression(ctx, deeper) if self.chance(0.7) else None)))
        total = sum(weight for weight, _ in options)
        pick = self.rng.random() * total
        for weight, make in options:
            pick -= weight
            if pick <= 0:
                return make()  # type: ignore[operator]
        return self.leaf(ctx)

    def leaf(self, ctx: Context) -> ast.expr:
        roll = self.rng.random()
        if roll < 0.3:
            return ast.Constant(self.constant())
        if roll < 0.55 and self.visible_names():
            return ast.Name(self.rng.choice(self.visible_names()), ast.Load())
        if roll < 0.9:
            return _expr(self.rng.choice(SOURCES))
        return _expr(self.rng.choice(["None", "True", "...", "self", "cls", "__name__", "request", "cursor", "path"]))

    def constant(self) -> object:
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.choice(STRINGS)
        if roll < 0.8:
            return self.rng.choice([0, 1, -1, 0o777, 0o644, 2**64, 3.5, 1e308])
        if roll < 0.9:
            return self.rng.choice([b"", b"\x80\x03", b"cos\nsystem\n"])
        return self.rng.choice([True, False, None, 1j])

    def security_call(self, ctx: Context, depth: int = 1) -> ast.expr:
        module, attr, style = self.rng.choice(SECURITY_CALLS)
        return self.call_of(module, attr, ctx, style, depth)

    def call_of(self, module: str, attr: str, ctx: Context, style: str = "", depth: int = 1) -> ast.expr:
        if module == "builtins":
            callee = attr
        else:
            callee = self.callee_text.get((module, attr)) or f"{module}.{attr}"
        func = _expr(callee)
        args: list[ast.expr] = []
        keywords: list[ast.keyword] = []
        argument = lambda: self.expression(ctx, depth + 1)
        if style == "none":
            pass
        elif style == "two":
            args = [argument(), argument()]
        elif style == "argv":
            args = [argument(), ast.List([argument(), argument()], ast.Load())]
        else:
            args = [argument()] if self.chance(0.8) else [ast.List([argument() for _ in range(self.rng.randint(0, 3))], ast.Load())]
        if style == "shell" and self.chance(0.7):
            keywords.append(ast.keyword("shell", _expr(self.rng.choice(["True", "False", "DEBUG", "1", "use_shell"]))))
        elif style == "loader" and self.chance(0.8):
            keywords.append(ast.keyword("Loader", _expr(self.rng.choice(["yaml.Loader", "yaml.SafeLoader", "Loader", "yaml.FullLoader", "yaml.UnsafeLoader"]))))
        elif style == "usedforsecurity" and self.chance(0.4):
            keywords.append(ast.keyword("usedforsecurity", _expr(self.rng.choice(["False", "True"]))))
        elif style == "hashname":
            args = [ast.Constant(self.rng.choice(["md5", "sha1", "sha256", "MD5"]))] + args
        elif style == "http":
            if self.chance(0.4):
                keywords.append(ast.keyword("verify", _expr(self.rng.choice(["False", "True", "'/etc/ca.pem'"]))))
            if self.chance(0.5):
                keywords.append(ast.keyword("timeout", _expr(self.rng.choice(["5", "None", "(3, 10)"]))))
        elif style == "method":
            args = [ast.Constant("GET")] + args
        elif style == "mode":
            args.append(_expr(self.rng.choice(["0o777", "0o600", "511", "stat.S_IRWXO"])))
        elif style == "autoescape":
            args = []
            keywords.append(ast.keyword("autoescape", _expr(self.rng.choice(["False", "True", "select_autoescape()"]))))
        elif style == "jwt":
            keywords.append(ast.keyword("verify", _expr("False")) if self.chance(0.5)
                            else ast.keyword("options", _expr("{'verify_signature': False}")))
        elif style == "open":
            if self.chance(0.5):
                args.append(ast.Constant(self.rng.choice(["r", "w", "rb", "a"])))
        elif style == "compile":
            args += [ast.Constant("<string>"), ast.Constant("exec")]
        if self.chance(0.1) and self.visible_names():
            args.append(ast.Starred(ast.Name(self.rng.choice(self.visible_names()), ast.Load()), ast.Load()))
        if self.chance(0.08):
            keywords.append(ast.keyword(None, _expr("options")))
        call: ast.expr = ast.Call(func, args, keywords)
        if attr in ("connect", "SSHClient") and self.chance(0.5):
            method = "execute" if attr == "connect" else "exec_command"
            call = ast.Call(ast.Attribute(ast.Call(ast.Attribute(call, "cursor", ast.Load()), [], []) if attr == "connect" else call,
                                          method, ast.Load()),
                            [self.string_building(ctx, depth + 1)] + ([ast.Tuple([self.leaf(ctx)], ast.Load())] if self.chance(0.4) else []), [])
        return call

    def string_building(self, ctx: Context, depth: int) -> ast.expr:
        template = ast.Constant(self.rng.choice(STRINGS))
        value = self.expression(ctx, depth + 1)
        roll = self.rng.random()
        if roll < 0.3:
            return ast.BinOp(template, ast.Add(), value)
        if roll < 0.45:
            return ast.BinOp(ast.Constant("cmd %s --flag"), ast.Mod(), value if self.chance(0.5) else ast.Tuple([value], ast.Load()))
        if roll < 0.6:
            return ast.Call(ast.Attribute(ast.Constant("run {} now"), "format", ast.Load()), [value], [])
        if roll < 0.7:
            return ast.Call(ast.Attribute(ast.Constant(self.rng.choice([" ", "", "/", ","])), "join", ast.Load()),
                            [ast.List([template, value], ast.Load())], [])
        # f-strings: the formatted part is a plain name or attribute, so no quote can clash with the string's own
        simple = ast.Name(self.rng.choice(self.visible_names()), ast.Load()) if self.visible_names() else _expr("request.path")
        spec = ast.JoinedStr([ast.Constant(">10")]) if self.chance(0.1) else None
        parts: list[ast.expr] = [ast.Constant(self.rng.choice(["SELECT * FROM t WHERE id = ", "ls ", "http://host/", "x"])),
                                 ast.FormattedValue(simple, self.rng.choice([-1, -1, ord("r"), ord("s")]), spec)]
        if self.chance(0.5):
            parts.append(ast.Constant(" tail"))
        return ast.JoinedStr(parts)

    def sanitized(self, ctx: Context, depth: int) -> ast.expr:
        return ast.Call(_expr(self.rng.choice(SANITIZERS)), [self.expression(ctx, depth + 1)], [])

    def container(self, ctx: Context, depth: int) -> ast.expr:
        items = [self.expression(ctx, depth + 1) for _ in range(self.rng.randint(0, 3))]
        kind = self.rng.choice(["list", "tuple", "dict", "set"])
        if kind == "list":
            return ast.List(items, ast.Load())
        if kind == "tuple":
            return ast.Tuple(items, ast.Load())
        if kind == "set" and items:
            return ast.Set(items)
        keys: list[ast.expr | None] = [ast.Constant(self.rng.choice(["cmd", "path", "url", "id"])) for _ in items]
        if items and self.chance(0.1):
            keys[0] = None  # {**mapping}
        return ast.Dict(keys, items)

    def subscript_key(self, ctx: Context, depth: int) -> ast.expr:
        roll = self.rng.random()
        if roll < 0.4:
            return ast.Constant(self.rng.choice(["cmd", 0, 1, -1, "path"]))
        if roll < 0.55:
            return ast.Slice(ast.Constant(1) if self.chance(0.5) else None, None, None)
        return self.expression(ctx, depth + 1)

    def method_call(self, ctx: Context, depth: int) -> ast.expr:
        owner = self.expression(ctx, depth + 1)
        args = [self.expression(ctx, depth + 1) for _ in range(self.rng.randint(0, 2))]
        return ast.Call(ast.Attribute(owner, self.rng.choice(ATTRIBUTES), ast.Load()), args, [])

    def local_call(self, ctx: Context, depth: int) -> ast.expr:
        functions = self.visible_functions()
        callee = self.rng.choice(functions) if functions else self.rng.choice(["helper", "helpers.run", "self.execute"])
        args = [self.expression(ctx, depth + 1) for _ in range(self.rng.randint(0, 3))]
        keywords = [ast.keyword(self.fresh("kw"), self.expression(ctx, depth + 1))] if self.chance(0.2) else []
        return ast.Call(_expr(callee), args, keywords)

    def comprehension(self, ctx: Context, depth: int) -> ast.expr:
        inner = replace(ctx, in_comprehension=True)
        generators = []
        targets = []
        for _ in range(self.rng.randint(1, 2)):
            target = self.fresh("each")
            targets.append(target)
            conditions = [self.condition(inner)] if self.chance(0.3) else []
            generators.append(ast.comprehension(ast.Name(target, ast.Store()), self.iterable(inner), conditions,
                                                is_async=1 if ctx.is_async and not ctx.in_lambda and self.chance(0.1) else 0))
        self.scopes.append(_Scope(names=targets))
        element = self.expression(inner, depth + 1)
        kind = self.rng.choice(["list", "set", "gen", "dict"])
        if kind == "dict":
            result: ast.expr = ast.DictComp(self.expression(inner, depth + 1), element, generators)
        else:
            result = {"list": ast.ListComp, "set": ast.SetComp, "gen": ast.GeneratorExp}[kind](element, generators)
        self.scopes.pop()
        return result

    def lambda_expression(self, ctx: Context, depth: int) -> ast.expr:
        params = [self.fresh("p") for _ in range(self.rng.randint(0, 2))]
        arguments = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], vararg=None, kwonlyargs=[],
                                  kw_defaults=[], kwarg=None, defaults=[])
        self.scopes.append(_Scope(names=params))
        body = self.expression(replace(ctx, in_lambda=True, in_comprehension=False, in_function=True), depth + 1)
        self.scopes.pop()
        return ast.Lambda(arguments, body)

    def walrus(self, ctx: Context, depth: int) -> ast.expr:
        name = self.fresh("w")
        value = self.expression(ctx, depth + 1)
        self.bind(name)
        return ast.NamedExpr(ast.Name(name, ast.Store()), value)


def generate(seed: int, size: int | None = None) -> str:
    """The source text of a valid program determined by ``seed``."""
    rng = random.Random(seed)
    generator = ProgramGenerator(rng, size=size if size is not None else rng.randint(3, 60))
    tree = ast.fix_missing_locations(generator.module())
    return ast.unparse(tree) + "\n"


def generate_stress(seed: int) -> str:
    """A program in one of the degenerate shapes that make naive recursive analyses fail."""
    rng = random.Random(seed)
    shape = rng.choice(["long_concat", "long_boolop", "nested_calls", "nested_functions", "nested_ifs",
                        "nested_containers", "many_statements", "long_call_chain", "nested_lambdas", "huge_literal"])
    n = rng.randint(50, 3000)
    if shape == "long_concat":
        terms = " + ".join(rng.choice(["request.args['q']", "'x'", "name", "str(i)"]) for _ in range(n))
        return f"import os\nfrom flask import request\nname = input()\ncmd = {terms}\nos.system(cmd)\n"
    if shape == "long_boolop":
        terms = " and ".join(f"x{i % 7} == {i}" for i in range(n))
        return f"import subprocess\nif {terms}:\n    subprocess.run(x0, shell=True)\n"
    if shape == "nested_calls":
        depth = min(n, 180)  # the parser's own limit on nested brackets is 200
        return "import subprocess\nsubprocess.run(" + "str(" * depth + "input()" + ")" * depth + ", shell=True)\n"
    if shape == "nested_functions":
        depth = min(n, 90)  # the tokenizer allows 100 levels of indentation
        lines = ["import os"]
        for level in range(depth):
            lines.append("    " * level + f"def f{level}(a{level}):")
        lines.append("    " * depth + "return os.system(a0)")
        return "\n".join(lines) + "\n"
    if shape == "nested_ifs":
        depth = min(n, 90)
        lines = ["import pickle", "data = input()"]
        for level in range(depth):
            lines.append("    " * level + f"if data != {level}:")
        lines.append("    " * depth + "pickle.loads(data)")
        return "\n".join(lines) + "\n"
    if shape == "nested_containers":
        depth = min(n, 180)
        return "import yaml\nx = " + "[" * depth + "yaml.load(s)" + "]" * depth + "\n"
    if shape == "many_statements":
        return assignment_chain(min(n, 300))
    if shape == "long_call_chain":
        return "import requests\nr = requests.get(u, verify=False)" + ".json()" * min(n, 2000) + "\n"
    if shape == "nested_lambdas":
        depth = min(n, 150)
        return "import os\nf = " + "lambda x: " * depth + "os.system(x)\n"
    return "import hashlib\nTABLE = [" + ", ".join(f"'{i:x}'" for i in range(n * 20)) + "]\nhashlib.md5(TABLE[0].encode())\n"


def assignment_chain(length: int) -> str:
    """``length`` assignments, each adding one more untrusted value to the last, then a shell call."""
    lines = [f"v{i} = request.args['x{i}'] + v{i - 1 if i else 0}\n" for i in range(length)]
    return "import os\nfrom flask import request\n" + "".join(lines) + f"os.system(v{length - 1})\n"
