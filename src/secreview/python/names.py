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


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        # ``foo().bar`` resolves as ``foo().bar`` so models can name methods of call results
        inner = dotted(node.func)
        if inner is not None:
            parts.append(inner + "()")
            return ".".join(reversed(parts))
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
