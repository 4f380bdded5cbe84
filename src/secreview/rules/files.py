"""Insecure files (CWE-377, CWE-732): temporary files others can predict, modes others can write."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..findings import Confidence, Severity
from ..python.module import ModuleContext
from . import Issue, rule
from ._purpose import local_constant, project_definition
from .secrets import identifier_words, string_literals

# --- temporary file names ------------------------------------------------------------------

_NAME_ONLY_TEMP_CALLS = {
    "tempfile.mktemp": "tempfile.mkstemp()` or `tempfile.NamedTemporaryFile(delete=False)",
    "os.tempnam": "tempfile.mkstemp()",
    "os.tmpnam": "tempfile.mkstemp()",
}


@rule(
    id="insecure-temp-file",
    bandit=("B306", "B325"), ruff=("S306",),
    cwe=377,
    severity="medium",
    confidence="high",
    summary="Temporary file name obtained without creating the file (tempfile.mktemp, os.tempnam)",
)
def insecure_temp_file(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `tempfile.mktemp`, `os.tempnam` and `os.tmpnam`, which return a name for a
    temporary file without creating it.

    ## Why it matters
    Between the moment the name is chosen and the moment the program opens it, another local
    user can create that path, often as a symbolic link to a file the program may write.  The
    program then writes into the attacker's file or follows the link and overwrites a file of
    its own choosing (a time-of-check to time-of-use race).

    ## Example
    ```python
    path = tempfile.mktemp(suffix=".json")
    with open(path, "w") as handle:
        json.dump(state, handle)
    ```

    ## Fix
    Create the file and get its name in one step: `fd, path = tempfile.mkstemp(suffix=".json")`
    or `tempfile.NamedTemporaryFile(delete=False)`; for several files use
    `tempfile.TemporaryDirectory()`.

    ## References
    - CWE-377: Insecure Temporary File
    - https://docs.python.org/3/library/tempfile.html#tempfile.mktemp
    """
    for call in ctx.calls:
        replacement = _NAME_ONLY_TEMP_CALLS.get(call.name or "")
        if replacement is None:
            continue
        yield Issue(
            call.node,
            message=f"`{call.name}` returns the name of a file it has not created, so another user can create "
            f"that path first.",
            fix=f"Replace `{call.name}(...)` with `{replacement}`, which creates the file atomically with "
            f"permissions for the owner only.",
        )


# --- permission bits -----------------------------------------------------------------------

_STAT_BITS = {
    "S_ISUID": 0o4000, "S_ISGID": 0o2000, "S_ISVTX": 0o1000,
    "S_IRWXU": 0o700, "S_IRUSR": 0o400, "S_IWUSR": 0o200, "S_IXUSR": 0o100,
    "S_IREAD": 0o400, "S_IWRITE": 0o200, "S_IEXEC": 0o100,
    "S_IRWXG": 0o070, "S_IRGRP": 0o040, "S_IWGRP": 0o020, "S_IXGRP": 0o010,
    "S_IRWXO": 0o007, "S_IROTH": 0o004, "S_IWOTH": 0o002, "S_IXOTH": 0o001,
}
_OTHERS_WRITE = 0o002
_OTHERS_READ = 0o004
# Words in a path expression that say the file holds a credential.
_SECRET_FILE_WORDS = {
    "key", "keyfile", "pem", "secret", "secrets", "token", "credential", "credentials", "creds", "password",
    "passwd", "shadow", "private", "rsa", "ecdsa", "ed25519", "keystore", "kubeconfig", "htpasswd", "netrc",
    "pgpass", "keytab", "p12", "pfx",
}
_PUBLIC_FILE_WORDS = {"public", "pub", "cert", "crt", "certificate", "ca"}


def _secret_file(ctx: ModuleContext, call) -> str | None:
    """The path argument's text when its names say it holds a secret (``key_path``, ``"id_rsa"``)."""
    on_object = isinstance(call.node.func, ast.Attribute) and call.name not in _CHMOD_CALLS \
        and call.name not in _CREATE_CALLS and len(call.node.args) < 2
    path = call.node.func.value if on_object else call.arg(0, "path")  # ``Path(p).chmod(m)`` / ``sftp.chmod(p, m)``
    if path is None:
        return None
    words: set[str] = set()
    for node in ast.walk(path):
        if isinstance(node, ast.Name):
            words.update(identifier_words(node.id))
        elif isinstance(node, ast.Attribute):
            words.update(identifier_words(node.attr))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.update(identifier_words(node.value))
    if words & _SECRET_FILE_WORDS and not words & _PUBLIC_FILE_WORDS:
        return ast.unparse(path)
    return None


def _stat_constant(ctx: ModuleContext, node: ast.AST) -> int | None:
    name = ctx.qualname(node) or ""
    module, _, attr = name.rpartition(".")
    if module in ("stat", "os") and attr in _STAT_BITS:
        return _STAT_BITS[attr]
    return None


def mode_bits(ctx: ModuleContext, node: ast.AST, depth: int = 0) -> tuple[int, bool]:
    """(bits certainly set, whether the whole mode is known) for a permission expression.

    ``st.st_mode | stat.S_IWOTH`` is not a constant, but it certainly grants others write.  A
    mode constant imported from another module of the project is read where it is defined.
    """
    bit = _stat_constant(ctx, node)
    if bit is not None:
        return bit, True
    value = local_constant(ctx, node)  # ``mode = 0o777`` earlier in the function counts too
    if isinstance(value, int) and not isinstance(value, bool):
        return value, True
    if isinstance(node, (ast.Name, ast.Attribute)) and depth < _MAX_IMPORTED_DEPTH:
        qualified = ctx.qualname(node) or ""
        found = project_definition(ctx, qualified) if "." in qualified else None
        if found is not None and isinstance(found[1], ast.expr):
            return mode_bits(found[0], found[1], depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.Add)):
        left, left_known = mode_bits(ctx, node.left, depth)
        right, right_known = mode_bits(ctx, node.right, depth)
        return left | right, left_known and right_known
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
        left, left_known = mode_bits(ctx, node.left, depth)
        right, right_known = mode_bits(ctx, node.right, depth)
        if left_known and right_known:
            return left & right, True
    return 0, False


_MAX_IMPORTED_DEPTH = 4


def octal(mode: int) -> str:
    return f"0o{mode:03o}"


def _describe(mode: int, known: bool) -> str:
    return f"`{octal(mode)}`" if known else "a mode that includes `S_IWOTH`"


# Calls that set the mode of an existing path: the mode is applied exactly as given.
_CHMOD_CALLS = {"os.chmod": 1, "os.lchmod": 1, "os.fchmod": 1}
# Calls that create a path with a mode: the process umask is subtracted from it.
_CREATE_CALLS = {"os.open": 2, "os.mkdir": 1, "os.makedirs": 1, "os.mkfifo": 1, "os.mknod": 1}
_CREATE_METHODS = {"mkdir": 0, "touch": 0}
# The modes every file and directory is created with when none is given (``open()`` asks for 0o666,
# ``mkdir`` for 0o777); passing them explicitly changes nothing, so they are not reported.
_CONVENTIONAL_CREATE_MODES = {"os.open": {0o666, 0o777}, "os.mkfifo": {0o666}, "os.mknod": {0o600, 0o666},
                              "touch": {0o666}, "os.mkdir": {0o777}, "os.makedirs": {0o777}, "mkdir": {0o777}}


def _mode_argument(ctx: ModuleContext, call) -> tuple[ast.expr | None, str]:
    """The mode argument of a permission-setting call and whether it is a chmod or a creation."""
    if call.name in _CHMOD_CALLS:
        return call.arg(_CHMOD_CALLS[call.name], "mode"), "chmod"
    if call.name in _CREATE_CALLS:
        return call.arg(_CREATE_CALLS[call.name], "mode"), "create"
    func = call.node.func
    if not isinstance(func, ast.Attribute) or (call.name or "").startswith("os."):
        return None, ""
    if func.attr in ("chmod", "lchmod"):
        # ``Path.chmod(mode)``, ``sftp.chmod(path, mode)``: the mode is the last argument.
        mode = call.arg(keyword="mode")
        if mode is None and call.node.args and not isinstance(call.node.args[-1], ast.Starred):
            mode = call.node.args[-1]
        return mode, "chmod"
    if func.attr in _CREATE_METHODS and call.arg(keyword="mode") is not None:
        return call.arg(keyword="mode"), "create"
    return None, ""


@rule(
    id="permissive-file-permissions",
    bandit=("B103",), ruff=("S103",),
    cwe=732,
    severity="medium",
    confidence="high",
    summary="File or directory mode, or umask, that lets every local user write",
)
def permissive_file_permissions(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `os.chmod`, `os.fchmod`, `os.lchmod` and `Path.chmod` with a mode that grants write
    permission to others (`mode & 0o002`: `0o777`, `0o666`, `stat.S_IWOTH`, `stat.S_IRWXO`), or
    read permission to others on a file whose name says it holds a credential (`key_path`,
    `"~/.pgpass"`, `id_rsa`, `token_file`; not `.pub` or certificate files),
    including modes built as `st.st_mode | stat.S_IWOTH` and mode constants imported from
    another module of the project; `os.umask` with a mask that does not
    remove others' write bit (`os.umask(0)`), except the idiom that reads the mask and restores
    it at once; and, at low severity and confidence, creation calls (`os.open`, `os.mkdir`,
    `os.makedirs`, `Path.mkdir`, `Path.touch`) given such a mode explicitly, since the umask
    still narrows it.  The conventional creation modes (`0o666` for files, `0o777` for
    directories and for `os.open`, whose default it is) are what these calls use when no mode
    is given, so spelling them out is not reported.  Group-writable modes (`0o775`, `umask(0o002)`) are not reported either.
    `chmod 777` and `chmod o+w` in `os.system` and `subprocess` commands are.

    ## Why it matters
    A world-writable file can be replaced or edited by any local account or compromised
    service: a script becomes theirs to run, a configuration theirs to rewrite, a socket theirs
    to connect to.  `umask(0)` makes every file the process creates afterwards world-writable
    unless each call narrows it.

    ## Example
    ```python
    os.chmod("/var/lib/app/hooks/deploy.sh", 0o777)
    ```

    ## Fix
    Grant only what the owner (and, where needed, the group) needs: `0o600` for private data,
    `0o644` for readable files, `0o700` or `0o755` for directories and executables; keep the
    umask at `0o022` or `0o077`.

    ## References
    - CWE-732: Incorrect Permission Assignment for Critical Resource
    - https://docs.python.org/3/library/os.html#os.chmod
    """
    for call in ctx.calls:
        if call.name == "os.umask":
            yield from _check_umask(ctx, call)
            continue
        if call.name in _COMMAND_CALLS:
            yield from _check_shell_chmod(ctx, call)
            continue
        mode_node, kind = _mode_argument(ctx, call)
        if mode_node is None:
            continue
        bits, known = mode_bits(ctx, mode_node)
        if not bits & _OTHERS_WRITE:
            if known and bits & _OTHERS_READ and (secret := _secret_file(ctx, call)):
                yield Issue(
                    call.node,
                    message=f"`{call.name or call.method}` gives `{secret}` {_describe(bits, known)}, so every local "
                    f"user can read this credential file.",
                    fix=f"Use `0o600` (owner read and write only) for `{secret}`.",
                )
            continue
        if kind == "create" and known and bits in _CONVENTIONAL_CREATE_MODES.get(
            call.name if call.name in _CONVENTIONAL_CREATE_MODES else call.method or "", set()
        ):
            continue
        target = call.name or f"{call.method}"
        safe_mode = "0o755" if bits & 0o111 else "0o644"
        if kind == "chmod":
            yield Issue(
                call.node,
                message=f"`{target}` sets {_describe(bits, known)}, which lets every local user write to the path.",
                fix=f"Use a mode without others' write bit, such as `{safe_mode}` (or `0o600` for private data).",
            )
        else:
            yield Issue(
                call.node,
                message=f"`{target}` creates the path with {_describe(bits, known)}, so only the process umask keeps "
                f"it from being writable by every local user.",
                fix=f"Pass a mode without others' write bit, such as `{'0o755' if call.method in ('mkdir', 'makedirs') else '0o600'}`.",
                severity=Severity.LOW,
                confidence=Confidence.LOW,
            )


_COMMAND_CALLS = {"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.check_call",
                  "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
_SYMBOLIC_OTHERS_WRITE = re.compile(r"^[ugo]*[oa][ugoa]*[+=][rwxXst]*w")


def _chmod_mode_grants_others_write(mode: str) -> bool:
    if re.fullmatch(r"0?[0-7]{3,4}", mode):
        return bool(int(mode, 8) & _OTHERS_WRITE)
    return any(_SYMBOLIC_OTHERS_WRITE.match(clause) for clause in mode.split(","))


def _check_shell_chmod(ctx: ModuleContext, call) -> Iterator[Issue]:
    """``os.system("chmod 777 /srv/app")``, ``subprocess.run(["chmod", "-R", "a+w", path])``."""
    command = call.arg(0, "args") or call.arg(0, "cmd") or call.arg(0, "command")
    words: list[str] = []
    value = ctx.constant(command, None) if command is not None else None
    if isinstance(value, str):
        words = value.split()
    elif isinstance(command, (ast.List, ast.Tuple)):
        words = [v if isinstance(v := ctx.constant(e, None), str) else "" for e in command.elts]
    for index, word in enumerate(words):
        if word.rpartition("/")[2] != "chmod":
            continue
        mode = next((w for w in words[index + 1:] if w and not w.startswith("-")), "")
        if _chmod_mode_grants_others_write(mode):
            yield Issue(
                call.node,
                message=f"`{call.name}` runs `chmod {mode}`, which lets every local user write to the path.",
                fix="Use a mode without others' write bit (`chmod 755`, `chmod 644`, `chmod o-w`), or call "
                "`os.chmod(path, 0o755)` directly.",
            )
            return


def _restores_mask(ctx: ModuleContext, call) -> bool:
    """``old = os.umask(0)`` then ``os.umask(old)`` with nothing created in between reads the mask.

    Only umask calls (and tests) may run between the two: a file created there gets umask 0.
    """
    parent = ctx.parent(call.node)
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return False
    saved = parent.targets[0].id
    scope = ctx.enclosing_function(call.node) or ctx.tree
    for restore in ctx.calls_to("os.umask"):
        argument = restore.arg(0, "mask")
        if not (isinstance(argument, ast.Name) and argument.id == saved and restore.node.lineno > call.node.lineno):
            continue
        if (ctx.enclosing_function(restore.node) or ctx.tree) is not scope:
            continue
        between = [
            other for other in ctx.calls
            if call.node.lineno <= other.node.lineno <= restore.node.lineno
            and (ctx.enclosing_function(other.node) or ctx.tree) is scope
        ]
        return all(other.name == "os.umask" for other in between)
    return False


def _check_umask(ctx: ModuleContext, call) -> Iterator[Issue]:
    mask_node = call.arg(0, "mask")
    if mask_node is None:
        return
    mask, known = mode_bits(ctx, mask_node)
    if not known or mask & _OTHERS_WRITE or _restores_mask(ctx, call):
        return
    yield Issue(
        call.node,
        message=f"`os.umask({octal(mask)})` leaves others' write bit in the mask unset, so files and directories this "
        f"process creates afterwards are writable by every local user.",
        fix="Use `os.umask(0o022)` (or `0o077` for private data), or set the mode of each created file explicitly.",
    )


# --- predictable paths in shared temporary directories --------------------------------------

_SHARED_TMP = re.compile(r"^(/tmp|/var/tmp|/dev/shm)(/|$)")
_SHARED_TMP_DIRS = {"/tmp", "/var/tmp", "/dev/shm", "/tmp/", "/var/tmp/", "/dev/shm/"}

# Calls whose argument is a path that is opened, created, written or removed.
_FILE_CALLS = {
    "open", "io.open", "codecs.open", "os.open", "os.fdopen", "os.mkdir", "os.makedirs", "os.remove",
    "os.unlink", "os.rename", "os.replace", "os.symlink", "os.link", "os.chmod", "os.chown", "os.mkfifo",
    "os.rmdir", "os.removedirs", "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
    "shutil.move", "shutil.rmtree", "shutil.make_archive", "shutil.unpack_archive", "pathlib.Path",
    "pathlib.PurePath", "pathlib.PosixPath", "tarfile.open", "zipfile.ZipFile", "sqlite3.connect",
    "shelve.open", "dbm.open", "logging.FileHandler", "logging.handlers.RotatingFileHandler",
    "logging.handlers.WatchedFileHandler", "logging.handlers.TimedRotatingFileHandler",
    "logging.basicConfig", "numpy.save", "numpy.savez", "numpy.savetxt", "socket.socket.bind",
    "fcntl.lockf", "filelock.FileLock", "lockfile.LockFile", "oslo_concurrency.lockutils.lock",
    "os.chdir", "os.listdir", "subprocess.run", "subprocess.call",
    "subprocess.check_call", "subprocess.check_output", "subprocess.Popen",
}
_FILE_METHODS = {
    "write_text", "write_bytes", "mkdir", "touch", "to_csv", "to_json", "to_pickle", "to_parquet",
    "to_excel", "savefig", "save", "dump_stats", "extractall", "extract", "bind", "retrbinary",
    "download_file", "copy", "copyfile", "move", "rename", "symlink_to",
}
# Methods of a ``Path`` built from the literal that open, create or remove it.
_PATH_OBJECT_METHODS = {"open", "unlink", "rmdir", "read_text", "read_bytes", "chmod"}
# Path-building expressions: the literal flows through them into the path that is used.
_JOINS = {"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath",
          "pathlib.PurePosixPath", "os.path.expanduser", "os.path.abspath", "os.path.normpath", "str"}
_PATH_WORDS = {
    "path", "file", "filename", "fname", "dir", "directory", "dirname", "folder", "tmp", "tmpdir",
    "temp", "tempdir", "location", "dest", "destination", "output", "out", "target", "pidfile", "pid",
    "lock", "lockfile", "sock", "socket", "db", "database", "log", "logfile", "cache", "workdir",
    "root", "base", "home", "store", "storage", "spool", "fifo", "pipe", "dump", "cwd",
}
# Names for text about a path rather than the path: help, messages, patterns, prefixes.
_TEXT_WORDS = {
    "help", "msg", "message", "doc", "description", "usage", "example", "text", "label", "title",
    "error", "pattern", "regex", "re", "prefix", "prefixes", "excluded", "exclude", "ignore", "skip",
    "allowed", "forbidden", "blacklist", "whitelist", "denylist", "allowlist",
}
_RANDOM_CALLS = ("uuid.", "secrets.", "random.", "tempfile.", "os.urandom", "binascii.hexlify")


def _path_like(name: str) -> bool:
    words = identifier_words(name)
    return bool(words) and not (set(words) & _TEXT_WORDS) and bool(set(words) & _PATH_WORDS)


def _random_part(ctx: ModuleContext, node: ast.AST) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call) and (ctx.qualname(inner.func) or "").startswith(_RANDOM_CALLS):
            return True
    return False


def _path_expression(ctx: ModuleContext, literal: ast.Constant) -> ast.expr:
    """The largest expression that builds a path from ``literal`` (joins, ``/``, ``+``, f-strings)."""
    current: ast.AST = literal
    while True:
        parent = ctx.parent(current)
        builds_on_it = isinstance(parent, ast.JoinedStr) or (
            isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Div, ast.Mod)) and parent.left is current
        )
        formats_it = (
            isinstance(parent, ast.Attribute)
            and parent.attr == "format"
            and isinstance(call := ctx.parent(parent), ast.Call)
            and call.func is parent
        )
        if builds_on_it:
            current = parent
        elif formats_it:
            current = ctx.parent(parent)  # ``"/tmp/{}.log".format(name)``
        elif isinstance(parent, ast.Call) and current in parent.args and ctx.qualname(parent.func) in _JOINS:
            if parent.args[0] is not current:
                return current  # ``os.path.join(base, "/tmp/x")``: the literal is not the directory
            current = parent
        else:
            return current  # type: ignore[return-value]


def _used_as_path(ctx: ModuleContext, expression: ast.expr) -> str | None:
    """How the path built by ``expression`` is used, when it is used as a file path."""
    parent = ctx.parent(expression)
    if isinstance(parent, ast.keyword):
        call = ctx.parent(parent)
        if parent.arg and _path_like(parent.arg) and not _is_message_call(ctx, call):
            if isinstance(call, ast.Call) and (ctx.qualname(call.func) or "").startswith("tempfile."):
                return None  # ``tempfile.mkstemp(dir="/tmp")`` still picks an unpredictable name
            return f"passed as the `{parent.arg}` argument"
        return None
    if isinstance(parent, (ast.List, ast.Tuple)) and isinstance(command := ctx.parent(parent), ast.Call):
        if ctx.qualname(command.func) in _COMMAND_CALLS and command.args and command.args[0] is parent:
            return f"an argument of the command run by `{ctx.qualname(command.func)}`"
        return None
    if isinstance(parent, ast.Attribute) and isinstance(call := ctx.parent(parent), ast.Call) and call.func is parent:
        if parent.attr in _FILE_METHODS or parent.attr in _PATH_OBJECT_METHODS:
            return f"used by `.{parent.attr}()`"
        return None
    if isinstance(parent, ast.Call) and expression in parent.args:
        name = ctx.qualname(parent.func) or ""
        method = parent.func.attr if isinstance(parent.func, ast.Attribute) else ""
        if name in _FILE_CALLS or method in _FILE_METHODS:
            return f"passed to `{name or method}`"
        callee = name.rpartition(".")[2] or method
        if not callee or _is_message_call(ctx, parent) or _inspects_text(name, callee):
            return None
        return f"passed to `{name or method}`"  # ``save_report("/tmp/r.csv")``, ``np.load(...)``: a path
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        for target in targets:
            name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None
            if name and _path_like(name):
                return f"assigned to `{name}`"
            names_text = bool(set(identifier_words(name or "")) & _TEXT_WORDS)
            bare_directory = isinstance(expression, ast.Constant) and expression.value in _SHARED_TMP_DIRS
            if name and not names_text and not bare_directory:
                return f"assigned to `{name}`"  # ``f = "/tmp/out.txt"``: a file name, whatever the variable
        return None
    if isinstance(parent, ast.Dict) and expression in parent.values:
        key = parent.keys[parent.values.index(expression)]
        key_text = ctx.constant(key, None) if key is not None else None
        if isinstance(key_text, str) and _path_like(key_text):
            return f"the value of `{key_text}`"
        return None
    if isinstance(parent, ast.arguments):
        for param, default in _defaults(parent):
            if default is expression and _path_like(param.arg):
                return f"the default of `{param.arg}`"
    if isinstance(parent, ast.Return):
        function = ctx.enclosing_function(parent)
        if function is not None and _path_like(function.name):
            return f"returned by `{function.name}`"
    return None


def _defaults(arguments: ast.arguments) -> Iterator[tuple[ast.arg, ast.expr | None]]:
    positional = [*arguments.posonlyargs, *arguments.args]
    yield from zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults)
    yield from zip(arguments.kwonlyargs, arguments.kw_defaults)


# Calls that look at a path's text rather than the file: string methods, patterns, assertions.
_TEXT_METHODS = {
    "startswith", "endswith", "replace", "split", "rsplit", "strip", "lstrip", "rstrip", "find", "rfind",
    "index", "count", "join", "partition", "rpartition", "removeprefix", "removesuffix", "match", "fullmatch",
    "search", "sub", "compile", "fnmatch", "glob", "iglob", "encode", "append", "add", "extend", "insert",
    "remove_prefix", "get", "pop", "setdefault", "isinstance", "len", "repr", "str", "quote", "escape",
    "lower", "upper", "relpath", "commonpath", "commonprefix", "is_relative_to", "relative_to", "patch",
    "object", "dict", "set", "list", "tuple", "frozenset", "translate",
}


def _inspects_text(name: str, callee: str) -> bool:
    module = name.partition(".")[0]
    return (
        callee in _TEXT_METHODS
        or callee.startswith(("assert", "check_", "is_", "has_"))
        or module in ("re", "fnmatch", "glob", "shlex", "mock", "unittest", "urllib")
    )


def _is_message_call(ctx: ModuleContext, call: ast.AST | None) -> bool:
    if not isinstance(call, ast.Call):
        return False
    last = (ctx.qualname(call.func) or "").rpartition(".")[2].lower()
    return last in _MESSAGE_CALLS or last.endswith(("opt", "error", "exception", "warning"))


_MESSAGE_CALLS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "print",
                  "echo", "secho", "add_argument", "add_option", "format"}


@rule(
    id="hardcoded-tmp-path",
    bandit=("B108",), ruff=("S108",),
    cwe=377,
    severity="medium",
    confidence="medium",
    summary="Predictable file path in a shared temporary directory (/tmp, /var/tmp, /dev/shm)",
)
def hardcoded_tmp_path(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags literal paths under `/tmp`, `/var/tmp` or `/dev/shm` used as file paths: passed to
    `open`, `os` and `shutil` file functions, `pathlib.Path`, loggers and database connections,
    built with `os.path.join("/tmp", ...)`, f-strings or `/`, or bound to path-like names
    (`LOCK_FILE = "/tmp/app.lock"`, `output_dir="/tmp/exports"`).  Paths joined with a random
    part (`uuid.uuid4()`, `secrets.token_hex()`), `tempfile.mkstemp(dir="/tmp")`, and mentions
    in help texts, log messages, comparisons and `startswith` checks are not reported.  A fixed
    name joined to `tempfile.gettempdir()` (`os.path.join(tempfile.gettempdir(), "app.lock")`) is
    the same predictable path and is reported too.

    ## Why it matters
    Every local user can create entries in these directories.  One who knows the name a
    program will use can create it first: a symbolic link there makes the program overwrite a
    file of the attacker's choosing, a pre-created file feeds it the attacker's data, and a
    pre-created lock or socket denies it service.

    ## Example
    ```python
    with open("/tmp/report.csv", "w") as handle:
        handle.write(rows)
    ```

    ## Fix
    Let `tempfile` create the file with an unpredictable name and owner-only permissions:
    `tempfile.NamedTemporaryFile()`, `tempfile.mkstemp()` or `tempfile.TemporaryDirectory()`;
    keep long-lived files under a directory the application owns (`/var/lib/app`,
    `$XDG_RUNTIME_DIR`).

    ## References
    - CWE-377: Insecure Temporary File
    - CWE-379: Creation of Temporary File in Directory with Insecure Permissions
    """
    for literal, text in string_literals(ctx):
        if not isinstance(literal.value, str) or not _SHARED_TMP.match(text) or any(c.isspace() for c in text):
            continue  # not a temporary path, or prose that mentions one
        if isinstance(ctx.parent(literal), ast.JoinedStr) and ctx.parent(literal).values[0] is not literal:
            continue  # ``f"{base}/tmp/x"``: the literal is not the start of the path
        expression = _path_expression(ctx, literal)
        if text in _SHARED_TMP_DIRS and expression is literal:
            continue  # the directory itself (``cwd="/tmp"``): no file name to predict
        if _random_part(ctx, expression):
            continue
        use = _used_as_path(ctx, expression)
        if use is None:
            continue
        yield Issue(
            literal,
            message=f"The path `{text}` in a shared temporary directory is {use}; any local user can create "
            f"it first or replace it with a symbolic link.",
            fix="Create the file with `tempfile.NamedTemporaryFile()` / `tempfile.mkstemp()` (or a directory with "
            "`tempfile.TemporaryDirectory()`), or keep it in a directory the application owns.",
        )
    for call in ctx.calls_to("tempfile.gettempdir", "tempfile.gettempdirb"):
        expression = _path_expression(ctx, call.node)  # type: ignore[arg-type]
        if expression is call.node or not _only_literals_besides(ctx, expression, call.node):
            continue  # the directory alone, or joined with a name we cannot predict
        use = _used_as_path(ctx, expression)
        if use is None:
            continue
        yield Issue(
            expression,
            message=f"`{ast.unparse(expression)}` is a fixed name in the shared temporary directory and is {use}; any "
            f"local user can create it first or replace it with a symbolic link.",
            fix="Let `tempfile.mkstemp()` / `tempfile.NamedTemporaryFile()` choose the name, or create a private "
            "directory with `tempfile.mkdtemp()` and put the fixed name inside it.",
        )


def _only_literals_besides(ctx: ModuleContext, expression: ast.AST, directory: ast.AST) -> bool:
    """Whether ``expression`` joins ``directory`` with literal parts only (a name anyone can predict)."""
    allowed: set[int] = {id(n) for n in ast.walk(directory)}
    for node in ast.walk(expression):
        if isinstance(node, ast.Call) and ctx.qualname(node.func) in _JOINS:
            allowed.add(id(node))
            allowed.update(id(n) for n in ast.walk(node.func))
        elif isinstance(node, ast.Attribute) and node.attr == "format":
            allowed.add(id(node))
    return not any(
        isinstance(node, (ast.Name, ast.Call, ast.Attribute)) and id(node) not in allowed
        for node in ast.walk(expression)
    )
