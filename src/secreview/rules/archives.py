"""Archive extraction (CWE-22): entry names that climb out of the destination directory.

A tar or zip entry is named by whoever built the archive: ``../../home/user/.bashrc`` or an
absolute path.  ``zipfile``'s own extraction strips such names; ``tarfile``'s does not unless a
filter is given, and code that writes entries itself trusts the names it joins.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Confidence, Severity
from ..python.module import Call, ModuleContext
from . import Issue, rule
from .secrets import identifier_words

_TAR_OPENERS = {
    "tarfile.open", "tarfile.TarFile", "tarfile.TarFile.open", "tarfile.TarFile.taropen",
    "tarfile.TarFile.gzopen", "tarfile.TarFile.bz2open", "tarfile.TarFile.xzopen", "tarfile.TarFile.zstopen",
}
_ZIP_OPENERS = {"zipfile.ZipFile", "zipfile.PyZipFile"}
_SAFE_FILTERS = {"data", "tar", "tarfile.data_filter", "tarfile.tar_filter"}
_UNSAFE_FILTERS = {"fully_trusted", "tarfile.fully_trusted_filter"}
_TAR_ANNOTATIONS = {"tarfile.TarFile"}
_ARCHIVE_HINTS = ("tarfile", "zipfile", "unpack_archive", ".extract", "namelist", "infolist",
                  "getmembers", "getnames", "filelist")
_TAR_WORDS = {"tar", "tarball", "tarfile", "tgz", "tarobj"}

# Evidence that a function checks where entries land before extracting them.
_RESOLVERS = {"realpath", "abspath", "resolve", "normpath"}
_CONTAINMENT = {"startswith", "is_relative_to", "relative_to", "commonpath", "commonprefix"}
# ``is_subpath(full, root)``, ``is_inside(dest, target)``: a containment test under its own name.
_CHECKER_WORDS = {"safe", "within", "sanitize", "sanitise", "traversal", "secure", "subpath", "subdir",
                  "inside", "contained", "confined"}
_VERIFY_WORDS = {"check", "validate", "verify", "is", "ensure"}
_ENTRY_WORDS = {"path", "paths", "member", "members", "name", "names", "entry", "entries", "archive", "tar",
                "zip", "extract", "dest", "destination", "target"}


def _is_checker(function_name: str) -> bool:
    """``is_within_directory``, ``safe_members``, ``check_member_path``: a helper that vets entries."""
    words = set(identifier_words(function_name))
    return bool(words & _CHECKER_WORDS) or bool(words & _VERIFY_WORDS and words & _ENTRY_WORDS)


def _scope(ctx: ModuleContext, node: ast.AST) -> ast.AST:
    return ctx.enclosing_function(node) or ctx.tree


def _opened_kind(ctx: ModuleContext, node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Call):
        name = ctx.qualname(node.func)
        if name == "contextlib.closing" and node.args:
            return _opened_kind(ctx, node.args[0])
        if name in _TAR_OPENERS:
            return "tar"
        if name in _ZIP_OPENERS:
            return "zip"
    return None


def _binding_key(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def archive_bindings(ctx: ModuleContext) -> dict[tuple[ast.AST, str], str]:
    """(scope, variable) -> "tar" or "zip" for variables bound to an opened archive."""
    bound: dict[tuple[ast.AST, str], str] = {}
    for item in ctx.nodes(ast.withitem):
        kind = _opened_kind(ctx, item.context_expr)
        key = _binding_key(item.optional_vars) if item.optional_vars is not None else None
        if kind and key:
            bound[(_scope(ctx, item), key)] = kind
    for assign in ctx.nodes(ast.Assign):
        kind = _opened_kind(ctx, assign.value)
        for target in assign.targets:
            key = _binding_key(target)
            if kind and key:
                bound[(_scope(ctx, assign), key)] = kind
    for function in ctx.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        for param in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]:
            if param.annotation is not None and ctx.qualname(param.annotation) in _TAR_ANNOTATIONS:
                bound[(function, param.arg)] = "tar"
    return bound


def _archive_kind(ctx: ModuleContext, node: ast.AST, bound: dict[tuple[ast.AST, str], str]) -> str | None:
    kind = _opened_kind(ctx, node)
    if kind:
        return kind
    key = _binding_key(node)
    if key is None:
        return None
    known = bound.get((_scope(ctx, node), key)) or bound.get((ctx.tree, key))
    if known is None and _TAR_WORDS & set(identifier_words(key.rpartition(".")[2])):
        return "tar"  # ``tarball.extractall()`` on an archive opened elsewhere
    return known


def checks_entry_paths(ctx: ModuleContext, scope: ast.AST) -> bool:
    """Whether ``scope`` resolves and compares paths, or calls a checker, before extracting."""
    resolves = contains = False
    for node in ast.walk(scope):
        if isinstance(node, ast.Call):
            name = ctx.qualname(node.func) or ""
            last = name.rpartition(".")[2]
            resolves = resolves or last in _RESOLVERS
            contains = contains or last in _CONTAINMENT
            if last == "commonpath" or _is_checker(last):
                return True
        elif isinstance(node, ast.Compare) and any(
            isinstance(part, ast.Constant) and part.value == ".." for part in (node.left, *node.comparators)
        ):
            return True
    return resolves and contains


def _module_sets_safe_filter(ctx: ModuleContext) -> bool:
    """``tarfile.TarFile.extraction_filter = staticmethod(tarfile.data_filter)`` (or on one object)."""
    for assign in ctx.nodes(ast.Assign):
        if any(isinstance(t, ast.Attribute) and t.attr == "extraction_filter" for t in assign.targets):
            value = assign.value
            if isinstance(value, ast.Call) and value.args:
                value = value.args[0]
            name = ctx.qualname(value) or ""
            if name not in _UNSAFE_FILTERS:
                return True
    return False


def _filter_verdict(ctx: ModuleContext, call: Call) -> str | None:
    """None when the filter makes extraction safe, else how the call extracts."""
    given = call.arg(keyword="filter")
    if given is None or (isinstance(given, ast.Constant) and given.value is None):
        return "without a `filter=`"  # ``filter=None`` asks for the default, which trusts the archive before 3.14
    value = ctx.constant(given, None)
    name = value if isinstance(value, str) else ctx.qualname(given)
    if name in _UNSAFE_FILTERS:
        return f"with `filter={name!r}`" if isinstance(value, str) else f"with `filter={name}`"
    return None  # "data", "tar", or a filter function the project wrote


def _members_selected(ctx: ModuleContext, call: Call) -> bool:
    """``members=`` given something other than every member: the entries were chosen, if not checked."""
    members = call.arg(position=1, keyword="members")
    if members is None:
        return False
    if isinstance(members, ast.Call) and isinstance(members.func, ast.Attribute) and members.func.attr == "getmembers":
        return False
    return not (isinstance(members, ast.Constant) and members.value is None)


@rule(
    id="archive-extraction-traversal",
    bandit=("B202",), ruff=("S202",),
    cwe=22,
    severity="high",
    confidence="medium",
    summary="Archive entries extracted or written without confining their names to the destination",
)
def archive_extraction_traversal(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `TarFile.extractall` and `TarFile.extract` on archives opened with `tarfile.open`
    (also through `with ... as tar:`, simple assignments, `tarfile.TarFile` annotations, and
    variables named `tar` or `tarball` whose archive was opened elsewhere) when no safe
    `filter=` is given
    (`filter="data"`, `"tar"`, `tarfile.data_filter` or a project filter function are safe;
    `"fully_trusted"` is not); `shutil.unpack_archive` without `filter=` for archives that may be
    tar files; and code that writes archive entries itself to `os.path.join(dest,
    entry.filename)` (zip slip).  `ZipFile.extractall` and `ZipFile.extract` are not reported:
    they strip `..` and absolute names.  When the function resolves and compares the paths
    (`os.path.realpath` with `startswith`, `os.path.commonpath`, `Path.is_relative_to`), tests
    names for `".."`, calls a checker (`is_within_directory`, `safe_members`, `is_subpath`), or passes a
    selection of `members=`, no finding is made: the check is the author's to get right.

    ## Why it matters
    Entry names come from whoever built the archive.  A tar entry named
    `../../home/app/.ssh/authorized_keys`, an absolute path, or a symbolic link followed by a
    file written through it, makes extraction overwrite files anywhere the process can write,
    which often ends in code execution.  Before Python 3.14, `tarfile` applies no filter by
    default.

    ## Example
    ```python
    with tarfile.open(upload_path) as tar:
        tar.extractall(dest)
    ```

    ## Fix
    Pass a filter: `tar.extractall(dest, filter="data")` (Python 3.12+, and security releases
    of 3.8-3.11), which rejects absolute names, `..`, links outside the destination and device
    files.  When writing entries yourself, resolve the target with `os.path.realpath` and check
    `os.path.commonpath([dest, target]) == dest` before opening it.

    ## References
    - CWE-22: Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')
    - https://docs.python.org/3/library/tarfile.html#extraction-filters
    - https://security.snyk.io/research/zip-slip-vulnerability
    """
    text = ctx.source.text
    if not any(hint in text for hint in _ARCHIVE_HINTS):
        return  # no archive module, method or entry listing is named anywhere in the file
    bound = archive_bindings(ctx)
    module_filter = _module_sets_safe_filter(ctx)
    for call in ctx.calls:
        if call.name == "shutil.unpack_archive":
            yield from _check_unpack_archive(ctx, call)
            continue
        func = call.node.func
        if not isinstance(func, ast.Attribute) or func.attr not in ("extractall", "extract"):
            continue
        if _archive_kind(ctx, func.value, bound) != "tar":
            continue
        verdict = _filter_verdict(ctx, call)
        if verdict is None or (module_filter and not call.has_keyword("filter")):
            continue
        if func.attr == "extractall" and _members_selected(ctx, call):
            continue
        if checks_entry_paths(ctx, _scope(ctx, call.node)):
            continue
        receiver = "tarfile.open(...)" if isinstance(func.value, ast.Call) else ast.unparse(func.value)
        yield Issue(
            call.node,
            message=f"`{receiver}.{func.attr}` extracts tar entries {verdict}, so an entry named with `..`, an "
            f"absolute path or a link can write outside the destination directory.",
            fix=f"Extract with `{receiver}.{func.attr}({_with_data_filter(call)})` (Python 3.12+ and recent security "
            f"releases), or check each member's resolved path against the destination before extracting it.",
        )
    yield from _manual_entry_writes(ctx, bound)


def _with_data_filter(call: Call) -> str:
    """The call's arguments with ``filter="data"`` in place of any filter given."""
    parts = [ast.unparse(a) for a in call.node.args]
    parts += [f"{k.arg}={ast.unparse(k.value)}" if k.arg else f"**{ast.unparse(k.value)}"
              for k in call.node.keywords if k.arg != "filter"]
    return ", ".join([*parts, 'filter="data"'])


_ZIP_EXTENSIONS = (".zip", ".whl", ".jar", ".egg")


def _check_unpack_archive(ctx: ModuleContext, call: Call) -> Iterator[Issue]:
    if call.has_keyword("filter") or call.has_star_kwargs:
        return
    archive_format = ctx.constant(call.arg(2, "format"), None)
    filename = ctx.constant(call.arg(0, "filename"), None)
    if archive_format == "zip" or (isinstance(filename, str) and filename.lower().endswith(_ZIP_EXTENSIONS)):
        return
    if checks_entry_paths(ctx, _scope(ctx, call.node)):
        return
    yield Issue(
        call.node,
        message="`shutil.unpack_archive` is called without `filter=`, so before Python 3.14 a tar archive is "
        "extracted with no check on entry names and links.",
        fix="Pass `filter=\"data\"` to `shutil.unpack_archive` (Python 3.12+), or open tar archives with `tarfile` "
        "and extract them with `filter=\"data\"`.",
        severity=Severity.MEDIUM,
        confidence=Confidence.MEDIUM,
    )


# --- entries written by hand ---------------------------------------------------------------

_NAME_LISTS = {"namelist", "getnames"}  # iterate names
_MEMBER_LISTS = {"infolist", "getmembers", "filelist"}  # iterate members, names in .filename/.name
_JOINS = {"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"}


def _entry_name_expressions(ctx: ModuleContext, loop: ast.For, bound) -> tuple[str, set[str]] | None:
    """(loop variable, the attribute names that hold the entry name) for loops over archive entries."""
    if not isinstance(loop.target, ast.Name):
        return None
    iterated = loop.iter
    source = iterated.func if isinstance(iterated, ast.Call) else iterated
    if isinstance(source, ast.Attribute):
        if source.attr in _NAME_LISTS:
            return loop.target.id, set()
        if source.attr in _MEMBER_LISTS:
            return loop.target.id, {"filename", "name"}
    if _archive_kind(ctx, iterated, bound) == "tar":  # ``for member in tar:``
        return loop.target.id, {"name"}
    return None


def _is_entry_name(node: ast.AST, variable: str, attributes: set[str]) -> bool:
    if not attributes:
        return isinstance(node, ast.Name) and node.id == variable
    return (
        isinstance(node, ast.Attribute)
        and node.attr in attributes
        and isinstance(node.value, ast.Name)
        and node.value.id == variable
    )


def _joins_entry_name(ctx: ModuleContext, node: ast.AST, variable: str, attributes: set[str]) -> ast.AST | None:
    """The entry-name expression when ``node`` builds a path from it (join, ``/``, ``+``, f-string)."""
    parts: list[ast.AST] = []
    if isinstance(node, ast.Call) and ctx.qualname(node.func) in _JOINS:
        parts = list(node.args)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
        parts = [node.left, node.right]
    elif isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    for part in parts:
        if _is_entry_name(part, variable, attributes):
            return part
        inner = _joins_entry_name(ctx, part, variable, attributes)
        if inner is not None:
            return inner
    return None


def _writes_to(ctx: ModuleContext, call: ast.Call) -> ast.expr | None:
    """The path a call writes to: ``open(p, "wb")``, ``Path(p).write_bytes``, ``shutil.copyfile(src, p)``."""
    name = ctx.qualname(call.func) or ""
    if name in ("open", "io.open", "builtins.open") and call.args:
        mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
        mode_text = ctx.constant(mode, "r")
        if isinstance(mode_text, str) and set(mode_text) & set("wax"):
            return call.args[0]
        return None
    if name in ("shutil.copyfile", "shutil.copy", "shutil.copy2", "shutil.move") and len(call.args) > 1:
        return call.args[1]
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in ("write_bytes", "write_text"):
        return func.value
    if isinstance(func, ast.Attribute) and func.attr == "open" and call.args:
        mode_text = ctx.constant(call.args[0], "r")
        if isinstance(mode_text, str) and set(mode_text) & set("wax"):
            return func.value
    return None


def _renames_entry(loop: ast.For, variable: str, attributes: set[str]) -> bool:
    """``name = os.path.basename(name)`` inside the loop: the name was rewritten, we cannot tell how."""
    for node in ast.walk(loop):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id == variable:
                    return True
                if _is_entry_name(target, variable, attributes or {"filename", "name"}):
                    return True
    return False


def _manual_entry_writes(ctx: ModuleContext, bound) -> Iterator[Issue]:
    for loop in ctx.nodes(ast.For):
        found = _entry_name_expressions(ctx, loop, bound)
        if found is None:
            continue
        variable, attributes = found
        if _renames_entry(loop, variable, attributes):
            continue
        if checks_entry_paths(ctx, loop) or checks_entry_paths(ctx, _scope(ctx, loop)):
            continue
        tainted: dict[str, ast.AST] = {}  # names bound in the loop to paths built from the entry name
        for statement in ast.walk(loop):
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                entry = _joins_entry_name(ctx, statement.value, variable, attributes)
                if entry is not None:
                    tainted[statement.targets[0].id] = entry
        for node in ast.walk(loop):
            if not isinstance(node, ast.Call):
                continue
            target = _writes_to(ctx, node)
            if target is None:
                continue
            entry = None
            if isinstance(target, ast.Name) and target.id in tainted:
                entry = tainted[target.id]
            elif (built := _joins_entry_name(ctx, target, variable, attributes)) is not None:
                entry = built
            elif isinstance(target, ast.Call) and ctx.qualname(target.func) in _JOINS and target.args:
                first = target.args[0]
                if isinstance(first, ast.Name) and first.id in tainted:
                    entry = tainted[first.id]
            if entry is None:
                continue
            entry_text = ast.unparse(entry)
            where = "" if entry.lineno == node.lineno else f" (line {entry.lineno})"
            yield Issue(
                node,
                message=f"This write goes to a path built from the archive entry name `{entry_text}`{where}, which can "
                f"hold `..` or an absolute path and so land outside the destination.",
                fix=f"Resolve the path built from `{entry_text}` with `os.path.realpath` and skip the entry unless "
                f"`os.path.commonpath([dest, target]) == dest`, or use `os.path.basename({entry_text})` when the "
                f"archive's folders are not needed.",
            )
