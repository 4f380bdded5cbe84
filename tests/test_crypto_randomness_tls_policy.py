"""Severity and confidence that the inline fixtures cannot express: the weak-hash policy's tiers."""

from __future__ import annotations

import textwrap

from secreview.config import Config
from secreview.discover import SourceFile
from secreview.findings import Confidence, Severity
from secreview.review import active_rules, review_file


def findings(code: str, rule: str):
    config = Config()
    source = SourceFile(path="app.py", absolute=None, is_test=False)
    review = review_file(source, textwrap.dedent(code).encode(), config, active_rules(config))
    return [f for f in review.findings if f.rule == rule]


def test_md5_of_a_password_is_high_severity_and_confidence():
    [found] = findings("import hashlib\ndigest = hashlib.md5(password.encode()).hexdigest()\n", "weak-hash")
    assert (found.severity, found.confidence) == (Severity.HIGH, Confidence.HIGH)
    assert "password" in found.message and "scrypt" in found.fix


def test_sha1_signature_is_medium_severity():
    [found] = findings("import hashlib\nsignature = hashlib.sha1(body).hexdigest()\n", "weak-hash")
    assert (found.severity, found.confidence) == (Severity.MEDIUM, Confidence.HIGH)


def test_md5_without_a_telling_name_is_low_and_low():
    [found] = findings("import hashlib\ndef f(data):\n    return hashlib.md5(data).hexdigest()\n", "weak-hash")
    assert (found.severity, found.confidence) == (Severity.LOW, Confidence.LOW)


def test_negotiated_digest_algorithm_is_low_confidence():
    code = """
    import hashlib
    def respond(algorithm, secret):
        if algorithm == "MD5":
            return hashlib.md5(secret).hexdigest()
    """
    [found] = findings(code, "weak-hash")
    assert found.confidence == Confidence.LOW


def test_random_confidence_depends_on_how_near_the_telling_name_is():
    code = """
    import random
    def make_token():
        value = random.getrandbits(64)
        return "%x" % value
    """
    [found] = findings(code, "insecure-random")
    assert found.confidence == Confidence.HIGH  # returned by `make_token`: a destination, not a guess
    code = """
    import random
    def make_token(parts):
        parts.append(random.getrandbits(64))
    """
    [found] = findings(code, "insecure-random")
    assert found.confidence == Confidence.MEDIUM


def test_rules_are_silent_in_test_code_by_default():
    config = Config()
    source = SourceFile(path="tests/test_app.py", absolute=None, is_test=True)
    code = b"import requests, hashlib, random\nrequests.get(u, verify=False)\ntoken = random.random()\n"
    review = review_file(source, code, config, active_rules(config))
    assert not [f for f in review.findings if f.rule in {"tls-verification-disabled", "insecure-random", "weak-hash"}]


def test_sha1_of_a_password_is_as_severe_as_md5():
    [found] = findings("import hashlib\ndef check_password(pw):\n    return hashlib.sha1(pw).hexdigest()\n", "weak-hash")
    assert found.severity == Severity.HIGH
