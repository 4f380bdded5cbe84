"""XML parsers that resolve external entities or expand entities without limits.

Which parsers are unsafe, and when, decides this family's precision:

- lxml (libxml2): ``XMLParser``, ``XMLPullParser``, ``iterparse`` and ``objectify.makeparser``
  are flagged where an option turns a protection off: ``resolve_entities=True`` (external
  entities read local files), ``load_dtd``/``dtd_validation``/``attribute_defaults=True`` while
  entity resolution is not switched off (the external DTD is fetched and its entities
  substituted), ``no_network=False`` (entities and DTDs are fetched over the network), and
  ``huge_tree=True`` (libxml2's limits on entity amplification are lifted: CWE-776).
- lxml's default parser resolved external entities from local files before lxml 5.0 (since
  5.0 it resolves internal entities only).  Whether ``etree.fromstring(data)`` with the default
  parser is a defect depends on where ``data`` comes from: that is the data-flow rule
  ``xml-external-entity-injection``'s question, so this family leaves default-parser calls to it
  and judges only parser configuration, which is a defect whatever the data.
- The standard library parsers (``xml.etree``, ``minidom``, ``pulldom``, ``sax``, ``expat``)
  have not resolved external entities since Python 3.7.1, and expat 2.4.1+ limits entity
  amplification; they are flagged only where code switches external entities on, with
  ``setFeature(feature_external_ges, True)`` or ``feature_external_pes``.
  ``xml.etree.ElementTree.XMLParser`` has no option that enables entities, so it is never flagged.
- ``defusedxml`` is safe by construction and never flagged.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Confidence
from ..python.module import ModuleContext
from . import Issue, rule

_LXML_PARSER_FACTORIES = {
    "lxml.etree.XMLParser", "lxml.etree.XMLPullParser", "lxml.etree.ETCompatXMLParser",
    "lxml.etree.iterparse", "lxml.objectify.makeparser",
}
_DTD_LOADING_OPTIONS = ("load_dtd", "dtd_validation", "attribute_defaults")
_EXTERNAL_ENTITY_FEATURES = {
    "feature_external_ges": "external general entities",
    "feature_external_pes": "external parameter entities",
    "http://xml.org/sax/features/external-general-entities": "external general entities",
    "http://xml.org/sax/features/external-parameter-entities": "external parameter entities",
}
_SAFE_PARSER_FIX = (
    "Parse untrusted XML with `defusedxml` (e.g. `defusedxml.ElementTree.fromstring`), or build the lxml "
    "parser as `lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)`."
)


def _option(ctx: ModuleContext, call: ast.Call, name: str) -> object:
    """The constant value of keyword ``name``: None when absent, ``...`` when not a constant."""
    for keyword in call.keywords:
        if keyword.arg == name:
            return ctx.constant(keyword.value, ...)
    return None


def _lxml_parser_problem(ctx: ModuleContext, call: ast.Call) -> tuple[str, Confidence] | None:
    """What makes this lxml parser resolve external entities, with how sure that is."""
    resolve = _option(ctx, call, "resolve_entities")
    if resolve is True:
        return "`resolve_entities=True`, which substitutes external entities so a document can read local files", (
            Confidence.HIGH
        )
    if resolve is ... or resolve is False or resolve == "internal":
        return None
    for option in _DTD_LOADING_OPTIONS:
        if _option(ctx, call, option) is True:
            return (
                (f"`{option}=True`, which loads the document's external DTD while entity resolution is not "
                "switched off, so a document can pull in local files"),
                Confidence.MEDIUM,
            )
    if _option(ctx, call, "no_network") is False:
        return (
            ("`no_network=False`, which lets external entities and DTDs be fetched over the network while "
            "entity resolution is not switched off"),
            Confidence.MEDIUM,
        )
    return None


@rule(
    id="xml-external-entities",
    bandit=("B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320"),
    ruff=("S313", "S314", "S315", "S316", "S317", "S318", "S319", "S320"),
    cwe=611,
    severity="high",
    confidence="high",
    summary="XML parser configured to resolve external entities (XXE)",
)
def xml_external_entities(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags lxml parsers built with `resolve_entities=True`, with `load_dtd=True`,
    `dtd_validation=True` or `attribute_defaults=True` while entity resolution stays on, or with
    `no_network=False`, and SAX parsers with `feature_external_ges` or `feature_external_pes`
    switched on.  Standard-library parsers with default settings and `defusedxml` are not
    flagged; request data reaching lxml's default parser is the data-flow rule
    `xml-external-entity-injection`'s finding.

    ## Why it matters
    An external entity is a reference the parser follows while it reads the document:
    `<!ENTITY x SYSTEM "file:///etc/passwd">` puts the file's contents into the parsed text, and
    a URL makes the server send a request wherever the document says.  Whoever supplies the
    XML can then read files, reach internal services, or exhaust the parser.

    ## Example
    ```python
    parser = etree.XMLParser(resolve_entities=True)
    tree = etree.fromstring(upload.read(), parser)
    ```

    ## Fix
    Parse untrusted XML with `defusedxml` (`defusedxml.ElementTree.fromstring(data)`), or build the
    lxml parser as `etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)`.
    Leave SAX's `feature_external_ges` and `feature_external_pes` off.

    ## References
    - CWE-611: Improper Restriction of XML External Entity Reference
    - https://lxml.de/FAQ.html#how-do-i-use-lxml-safely-as-a-web-service-endpoint
    - https://docs.python.org/3/library/xml.html#xml-vulnerabilities
    """
    for call in ctx.calls:
        name = call.name or ""
        if name in _LXML_PARSER_FACTORIES:
            problem = _lxml_parser_problem(ctx, call.node)
            if problem is None:
                continue
            reason, confidence = problem
            yield Issue(
                call.node,
                message=f"`{name}` is created with {reason}.",
                fix=_SAFE_PARSER_FIX,
                confidence=confidence,
            )
        elif call.method == "setFeature" and len(call.node.args) == 2:
            feature_node, enabled = call.node.args
            feature = ctx.constant(feature_node, None)
            if not isinstance(feature, str):
                feature = (ctx.qualname(feature_node) or "").rpartition(".")[2]
            described = _EXTERNAL_ENTITY_FEATURES.get(feature)
            if described and ctx.constant(enabled, None) in (True, 1):
                receiver = ast.unparse(call.node.func)
                yield Issue(
                    call.node,
                    message=f"`{receiver}` switches {described} on, so the SAX parser reads the files and URLs "
                    "a document's entities name.",
                    fix=f"Remove the `{receiver}(...)` call (the feature is off by default) and parse untrusted "
                    "XML with `defusedxml.sax`.",
                )


@rule(
    id="xml-entity-expansion",
    bandit=("B320",), ruff=("S320",),
    cwe=776,
    severity="medium",
    confidence="high",
    summary="lxml parser with libxml2's entity-expansion limits lifted (huge_tree=True)",
)
def xml_entity_expansion(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags lxml parsers created with `huge_tree=True` (`XMLParser`, `XMLPullParser`, `iterparse`,
    `objectify.makeparser`), unless the same parser is given `resolve_entities=False`: entity
    references are then kept as they are and never expand, whatever the limits.

    ## Why it matters
    `huge_tree=True` sets libxml2's `XML_PARSE_HUGE`, which lifts its limits on tree depth, text
    size and entity amplification.  A few hundred bytes of nested entity definitions (the
    "billion laughs" document) then expand to gigabytes and exhaust the process's memory and
    CPU.

    ## Example
    ```python
    parser = etree.XMLParser(huge_tree=True)
    ```

    ## Fix
    Leave `huge_tree` off for documents from outside; if large trusted documents need it, use a
    separate parser for them and parse untrusted input with `defusedxml`.

    ## References
    - CWE-776: Improper Restriction of Recursive Entity References in DTDs ('XML Entity Expansion')
    - https://lxml.de/api/lxml.etree.XMLParser-class.html
    """
    for call in ctx.calls:
        if call.name in _LXML_PARSER_FACTORIES and _option(ctx, call.node, "huge_tree") is True \
                and _option(ctx, call.node, "resolve_entities") is not False:
            yield Issue(
                call.node,
                message=f"`{call.name}` is created with `huge_tree=True`, which lifts libxml2's limits on entity "
                "expansion so a small nested-entity document exhausts memory.",
                fix=f"Drop `huge_tree=True` from `{call.name}(...)` for documents that come from outside.",
            )
