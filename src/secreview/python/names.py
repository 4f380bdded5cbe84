"""Resolving names to qualified names through the module's imports.

``import subprocess as sp; sp.run(...)`` and ``from subprocess import run; run(...)`` both
resolve to ``subprocess.run``.  Models and rules speak only in qualified names, so the aliasing
a project uses never hides a call.  Names that are not imported resolve to their own dotted
text (``request.args`` stays ``request.args``), which is what framework models for objects
like Flask's ``request`` proxy key on after the import of ``request`` itself resolves.
"""

from __future__ import annotations

import ast
from typing import Iterable


def collect_imports(import_nodes: Iterable[ast.Import | ast.ImportFrom], module_name: str = "") -> dict[str, str]:
    """Local name -> qualified name for every import in the module (any scope).

    Imports inside functions are included: a name bound by a local import almost always means
    the same module wherever it is used in the file, and missing it would hide calls.
    """
    aliases: dict[str, str] = {}
    package = module_name.rpartition(".")[0]
    for node in import_nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                if node.level > 1:
                    parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                if alias.name == "*":
                    continue
                aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return aliases


# No model or rule names a longer chain.  Longer ones (builder and fluent chains such as
# ``q.filter().filter()...``) stay unnamed: naming each call of an n-long chain costs O(n) and
# every consumer of the name another O(n), which made an 800-call chain take seconds.
MAX_DOTTED_PARTS = 32


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None.

    Calls in the chain keep their parentheses, ``foo().bar`` resolves as ``foo().bar``, so
    models can name methods of call results.
    """
    parts: list[str] = []
    calls = 0  # calls met since the last part, applied as "()" to the next part inward
    while len(parts) + calls <= MAX_DOTTED_PARTS:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr + "()" * calls)
            calls = 0
            node = node.value
        elif isinstance(node, ast.Call):
            calls += 1
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id + "()" * calls)
            return ".".join(reversed(parts))
        else:
            return None
    return None


def qualify(node: ast.AST, aliases: dict[str, str]) -> str | None:
    name = dotted(node)
    if name is None:
        return None
    head, dot, rest = name.partition(".")
    bare_head = head.removesuffix("()")
    if bare_head in aliases:
        head = aliases[bare_head] + head[len(bare_head):]
    return head + dot + rest
