"""Unsafe deserialization (CWE-502): formats whose loaders can run code chosen by the data."""

from __future__ import annotations

import ast
from typing import Iterator

from ..findings import Confidence
from ..python.module import ModuleContext
from . import Issue, flow_message, rule
from ._purpose import project_definition

# Loaders that build arbitrary objects: feeding them attacker data is code execution.
_CODE_EXECUTING_LOADERS = {
    "pickle.load": "pickle", "pickle.loads": "pickle", "pickle.Unpickler": "pickle",
    "_pickle.load": "pickle", "_pickle.loads": "pickle",
    "cPickle.load": "pickle", "cPickle.loads": "pickle",
    "dill.load": "dill", "dill.loads": "dill",
    "cloudpickle.load": "cloudpickle", "cloudpickle.loads": "cloudpickle",
    "marshal.load": "marshal", "marshal.loads": "marshal",
    "shelve.open": "shelve", "shelve.DbfilenameShelf": "shelve",
    "jsonpickle.decode": "jsonpickle", "jsonpickle.unpickler.decode": "jsonpickle",
    "pandas.read_pickle": "pickle", "joblib.load": "pickle", "numpy.load": "pickle",
    "torch.load": "pickle",
}
_SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
# PyYAML's building blocks: what a loader class composed of them constructs.
_SAFE_YAML_PARTS = _SAFE_YAML_LOADERS | {"SafeConstructor", "BaseConstructor"}
_UNSAFE_YAML_PARTS = {"Loader", "UnsafeLoader", "FullLoader", "CLoader", "CFullLoader", "CUnsafeLoader",
                      "Constructor", "UnsafeConstructor", "FullConstructor"}
_MAX_CLASS_DEPTH = 8
_UNSAFE_YAML_CALLS = {"yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"}


def _with_evidence(ctx: ModuleContext, issue: Issue) -> Issue:
    """The same finding, certain and with its path, when request data reaches the loader."""
    flows = [f for f in ctx.taint(issue.node) if f.kind == "deserialize" and f.label.kind == "http"]
    if not flows:
        return issue
    flow = min(flows, key=lambda f: len(f.trace))
    return Issue(issue.node, message=f"{flow_message(flow, ctx.path)} {issue.message}", fix=issue.fix,
                 confidence=Confidence.HIGH, trace=flow.trace)


def _yaml_class_safety(ctx: ModuleContext, node: ast.expr, depth: int = 0) -> str:
    """"safe", "unsafe", "neutral" (a parser or resolver part) or "unknown" for a loader class or a base of one.

    A loader defined in the project is safe when it descends from a safe PyYAML loader or
    constructor and from no unsafe one: what it constructs is what its constructor allows (the
    tags it adds build the project's own types, not arbitrary Python objects).
    """
    qualified = ctx.qualname(node) or ""
    if not qualified or depth > _MAX_CLASS_DEPTH:
        return "unknown"
    if qualified.startswith("yaml."):
        last = qualified.rpartition(".")[2]
        return "safe" if last in _SAFE_YAML_PARTS else "unsafe" if last in _UNSAFE_YAML_PARTS else "neutral"
    found = project_definition(ctx, qualified)
    if found is None or not isinstance(found[1], (ast.ClassDef, ast.FunctionDef)):
        return "unknown"
    where, definition = found
    if isinstance(definition, ast.ClassDef):
        parts = definition.bases
    else:  # a factory kept for compatibility: ``def AppLoader(stream): return _impl.AppLoader(stream)``
        returned = [node.value for node in ast.walk(definition) if isinstance(node, ast.Return)]
        if not returned or not all(isinstance(value, ast.Call) for value in returned):
            return "unknown"
        parts = [value.func for value in returned]  # type: ignore[union-attr]
    verdicts = {_yaml_class_safety(where, part, depth + 1) for part in parts}
    for verdict in ("unsafe", "safe", "unknown"):
        if verdict in verdicts:
            return verdict
    return "unknown" if not verdicts else "neutral"


_SERIALIZERS = {f"{module}.dumps" for module in ("pickle", "_pickle", "cPickle", "dill", "cloudpickle", "marshal")} \
    | {"jsonpickle.encode"}


def _round_trip(ctx: ModuleContext, call) -> bool:
    """``pickle.loads(pickle.dumps(obj))``: a deep copy or a picklability test of the process's own object."""
    data = call.arg(0)
    return isinstance(data, ast.Call) and (ctx.qualname(data.func) or "") in _SERIALIZERS


def _allow_pickle_disabled(ctx: ModuleContext, call) -> bool:
    """numpy.load is only dangerous with allow_pickle=True; torch.load with weights_only=True is safe."""
    if call.name == "numpy.load":
        return ctx.constant(call.arg(keyword="allow_pickle"), False) is not True
    if call.name == "torch.load":
        return ctx.constant(call.arg(keyword="weights_only"), None) is True
    return False


@rule(
    id="unsafe-deserialization",
    bandit=("B301", "B302", "B614"), ruff=("S301", "S302"),
    cwe=502,
    severity="high",
    confidence="medium",
    summary="Object deserializer that can execute code (pickle, marshal, shelve, dill, jsonpickle)",
    relevant_in_tests=False,
)
def unsafe_deserialization(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags loads from pickle, cPickle, dill, cloudpickle, marshal, shelve and jsonpickle, and from
    wrappers that unpickle (pandas.read_pickle, joblib.load, numpy.load with allow_pickle=True,
    torch.load without weights_only=True).  When the data-flow engine sees request data reach
    the loader, the finding is certain and shows the path.  Loading what was serialized in the
    same expression (`pickle.loads(pickle.dumps(obj))`, a deep copy or a picklability test) is
    not flagged: the bytes never leave the process.

    ## Why it matters
    These formats describe objects to build, and building them can call any function: a pickle
    that reaches `pickle.loads` runs the code its author chose.  Whoever can write the bytes, a
    client, a message queue, a shared cache, a file an attacker can replace, controls the
    process.

    ## Example
    ```python
    import pickle
    state = pickle.loads(request.data)
    ```

    ## Fix
    Exchange data in a format that cannot describe code: `json.loads` for plain data, or a
    schema-validated format.  When pickle must cross a trust boundary, sign the bytes with
    `hmac` and verify the signature with `hmac.compare_digest` before loading.

    ## References
    - CWE-502: Deserialization of Untrusted Data
    - https://docs.python.org/3/library/pickle.html (the warning at the top)
    """
    for call in ctx.calls:
        fmt = _CODE_EXECUTING_LOADERS.get(call.name or "")
        if fmt is None or _allow_pickle_disabled(ctx, call) or _round_trip(ctx, call):
            continue
        yield _with_evidence(ctx, Issue(
            call.node,
            message=f"`{call.name}` deserializes {fmt} data, which can construct arbitrary objects and run code "
            f"chosen by whoever wrote the data.",
            fix="Load the data with `json.loads` or another data-only format; if pickle is unavoidable, "
            "authenticate the bytes with `hmac.compare_digest` before loading them.",
        ))


@rule(
    id="yaml-unsafe-load",
    bandit=("B506",), ruff=("S506",),
    cwe=502,
    severity="high",
    confidence="high",
    summary="yaml.load with a loader that can construct arbitrary Python objects",
    relevant_in_tests=False,
)
def yaml_unsafe_load(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `yaml.load` and `yaml.load_all` called without a safe loader (`SafeLoader`,
    `CSafeLoader`, `BaseLoader`), and `yaml.unsafe_load` and `yaml.full_load`.  A loader class
    of the project (in this module or another one reviewed with it), or a factory function
    returning one, that descends from a safe loader or from `SafeConstructor`, and from no
    unsafe loader or constructor, is safe.

    ## Why it matters
    PyYAML's full and unsafe loaders honour tags such as `!!python/object/apply`, which call
    arbitrary Python functions while the document is loaded.  A YAML document from a user,
    a repository or a network peer then runs code in the loading process.

    ## Example
    ```python
    config = yaml.load(stream, Loader=yaml.Loader)
    ```

    ## Fix
    Use `yaml.safe_load(stream)` (or `yaml.load(stream, Loader=yaml.SafeLoader)`), which builds
    only plain data: dicts, lists, strings, numbers.

    ## References
    - CWE-502: Deserialization of Untrusted Data
    - https://pyyaml.org/wiki/PyYAMLDocumentation
    """
    for call in ctx.calls:
        if call.name in _UNSAFE_YAML_CALLS:
            yield _with_evidence(ctx, Issue(
                call.node,
                message=f"`{call.name}` constructs Python objects from YAML tags, so a crafted document runs code.",
                fix=f"Replace `{call.name}` with `yaml.safe_load`.",
            ))
        elif call.name in ("yaml.load", "yaml.load_all"):
            loader = call.arg(position=1, keyword="Loader")
            if loader is None:
                if call.has_star_kwargs:
                    continue
                described = "without a Loader (PyYAML < 5.1 then uses the unsafe loader)"
            else:
                loader_name = (ctx.qualname(loader) or "").rpartition(".")[2]
                if loader_name in _SAFE_YAML_LOADERS or not loader_name:
                    continue
                if _yaml_class_safety(ctx, loader) == "safe":
                    continue  # the project's own loader, built on SafeLoader or SafeConstructor
                described = f"with `{loader_name}`"
            safe = "yaml.safe_load" if call.name == "yaml.load" else "yaml.safe_load_all"
            yield _with_evidence(ctx, Issue(
                call.node,
                message=f"`{call.name}` is called {described}, which builds arbitrary Python objects from YAML tags.",
                fix=f"Call `{safe}(...)` or pass `Loader=yaml.SafeLoader`.",
            ))
