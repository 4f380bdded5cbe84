"""The regex structure analysis: pattern -> verdict, from the parsed tree alone."""

from __future__ import annotations

import re

import pytest

from secreview.python.regex_complexity import analyse, unparse

try:
    from re import _parser as sre
except ImportError:  # pragma: no cover
    import sre_parse as sre

EXPONENTIAL = [
    (r"^(a+)+$", "(a+)+"),
    (r"(x*)*y", "(x*)*"),
    (r"^(\w+\s?)+$", r"(\w+\s?)+"),
    (r"^(\d+,?)+;", r"(\d+,?)+"),
    (r"<!--(.|\s)*-->", r"(.|\s)*"),
    (r"(foo|foo)+;", "(foo(?:|))+"),
    (r"(\w+\.?\w+)+@", r"(\w+\.?\w+)+"),
    (r"^(a+){2,100}$", "(a+){2,100}"),
    (r'"(\\.|[^"]|\s)*"', r'(\\.|[^"]|\s)*'),
    (r"(?:\s|#.*)+\n\n", r"(?:\s|#.*)+"),
]
SAFE = [
    r"(ab|cd)*$", r"[a-z]+@[a-z]+$", r"(\d{1,3}\.){3}\d{1,3}$", r"^\s*#", r"(?:a|b)+$", r"(a+){1,5}$",
    r"(?>a+)+$", r"(a++)+$", r"(a+)+", r"(\w+-)+$", r"(a+b)+$", r"(ab|ba)*$", r"(foo|foobar)*$",
    r'"(?:[^"\\]|\\.)*"', r"^(\w|\d)+$", r"^\w+(?:\s\w+)*$", r"^(a\+)+$", r"(a+)+$(",
]
POLYNOMIAL = [r"\s*\s*$", r"\d+\d+x", r".*.*=", r"a*a*b"]


@pytest.mark.parametrize("pattern, fragment", EXPONENTIAL)
def test_exponential_shapes_name_the_repeated_group(pattern: str, fragment: str) -> None:
    found = analyse(pattern)
    assert found is not None and found.kind == "exponential", found
    assert found.fragment == fragment
    assert found.attack.startswith("`") and "* 30" in found.attack
    assert found.rewrite


@pytest.mark.parametrize("pattern", SAFE)
def test_safe_shapes_are_not_exponential(pattern: str) -> None:
    found = analyse(pattern)
    assert found is None or found.kind != "exponential", found


@pytest.mark.parametrize("pattern", POLYNOMIAL)
def test_adjacent_overlapping_repeats_are_polynomial(pattern: str) -> None:
    found = analyse(pattern)
    assert found is not None and found.kind == "polynomial", found


def test_fullmatch_makes_the_end_of_the_string_a_failure_point() -> None:
    assert analyse(r"(\w+\d*)+") is None
    assert analyse(r"(\w+\d*)+", fullmatch=True).kind == "exponential"


def test_flags_change_the_reading() -> None:
    verbose = r"^ ( [a-z]+ \s* )+ $  # words"
    assert analyse(verbose) is None  # literal spaces separate the words
    assert analyse(verbose, re.VERBOSE).kind == "exponential"
    assert analyse(r"^[a-z]+ # (a+)+$", re.VERBOSE) is None  # the group is a comment
    # case-insensitive: `[A-Z]x` and `ax` overlap only when case is ignored
    assert analyse(r"^(?:[A-Z]x|ax)+$") is None
    assert analyse(r"^(?:[A-Z]x|ax)+$", re.IGNORECASE).kind == "exponential"


def test_negated_classes_and_ranges() -> None:
    assert analyse(r'^(?:[^"]|")+$') is None  # disjoint by negation
    assert analyse(r"^(?:[^a]|b)+$").kind == "exponential"  # b is not a
    assert analyse(r"^(?:[a-f]|[0-9])+$") is None
    assert analyse("^(?:[\u4e00-\u9fff]x|\\wx)+$").kind == "exponential"  # CJK letters are word characters
    assert analyse("^(?:[\u4e00-\u9fff]|\\w)+$") is None  # single-character alternatives: one class to the parser


def test_bytes_patterns_and_invalid_patterns() -> None:
    assert analyse(rb"^(\w+\s?)+$").kind == "exponential"
    assert analyse(r"(a+)+$(") is None
    assert analyse("x" * 20_000) is None


def test_attack_reaches_the_group_through_what_precedes_it() -> None:
    found = analyse(r"(.)*LOG\.(.*)\(.*(context=[_a-zA-Z0-9].*)+.*\)")
    assert found.attack == r"`'LOG.(' + 'context=a' * 30 + '\n\n'`"


def test_unparse_writes_back_equivalent_text() -> None:
    for pattern in (r"(\w+\s?)+", r"[^a-z\d]*?", r"(?:ab|c){2,5}", r"\bfoo$", r"(?=x)(?<!y)"):
        assert sre.parse(unparse(sre.parse(pattern).data)).dump is not None
        assert str(sre.parse(unparse(sre.parse(pattern).data)).data) == str(sre.parse(pattern).data)


def test_verdicts_are_cached_per_pattern() -> None:
    assert analyse(r"^(q+)+$") is analyse(r"^(q+)+$")


@pytest.mark.parametrize("pattern", [
    "a*" * 4000 + "b",  # thousands of adjacent repeats: one pass, not one per pair
    "".join(chr(0x4E00 + i) for i in range(9000)),  # thousands of distinct code points
    "(" * 90 + "a+" + ")+" * 90 + "$",
])
def test_hostile_patterns_are_judged_quickly(pattern: str) -> None:
    import time

    started = time.perf_counter()
    analyse(pattern)
    assert time.perf_counter() - started < 5
