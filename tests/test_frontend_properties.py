"""Properties of the front end on generated programs: for a program the host parses, the tree
the engine gets is ``ast.parse``'s, and so is the tree of the lowering path forced on it (a file
with one newer construct has all its other lines lowered too); on cut or mutated text it never
raises anything but ``SyntaxError`` and never hangs.

Examples per property: ``SECREVIEW_PROPERTY_EXAMPLES`` (default 60), as in test_properties.
"""

from __future__ import annotations

import ast
import os

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from program_generator import generate

from secreview.python import frontend, lowering

EXAMPLES = int(os.environ.get("SECREVIEW_PROPERTY_EXAMPLES", "60"))
front_end_settings = settings(max_examples=EXAMPLES, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much])


def dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def forced_lowering(text: str) -> ast.AST:
    lowered = lowering.lower(text)
    return frontend._patch(frontend.host_parse(lowered.text), lowered)


def _grammar_programs():
    try:
        import hypothesmith
    except ImportError:
        return st.nothing()
    return hypothesmith.from_grammar()


@front_end_settings
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_program_reads_as_ast_parse_reads_it(seed: int) -> None:
    source = generate(seed)
    note(source)
    reference = dump(ast.parse(source))
    assert dump(frontend.read(source).tree) == reference
    assert dump(forced_lowering(source)) == reference


@front_end_settings
@given(source=_grammar_programs())
def test_program_from_the_grammar_reads_as_ast_parse_reads_it(source: str) -> None:
    note(source)
    try:
        reference = dump(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # hypothesmith sometimes yields what the host does not compile
    assert dump(frontend.read(source).tree) == reference
    assert dump(forced_lowering(source)) == reference


@front_end_settings
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), cut=st.floats(min_value=0, max_value=1),
       junk=st.sampled_from(["(", ")", ":", "= =", "'", '"""', "f'{", "\\", "\t", "<<<<<<< HEAD\n", "print x\n"]))
def test_mutated_program_is_read_or_refused_with_a_syntax_error(seed: int, cut: float, junk: str) -> None:
    source = generate(seed)
    at = int(len(source) * cut)
    broken = source[:at] + junk + source[at:]
    note(broken)
    try:
        read = frontend.read(broken)
    except SyntaxError:
        return
    lines = broken.count("\n") + 1
    assert all(getattr(n, "lineno", 1) <= lines for n in ast.walk(read.tree))
