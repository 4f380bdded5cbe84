"""JUnit XML, for the CI systems that show test results (Jenkins, GitLab, Azure, CircleCI).

One test case per reviewed file that has nothing to report (it passes), one per finding (a
``failure`` whose type is the CWE and whose text is the finding as the review text writes it),
and one per file not (fully) reviewed (an ``error``: what was not read cannot pass); a finding
triaged in the baseline is a ``skipped`` case with its status and reason.  Test cases
are named by file and line, grouped in one suite per file.  Every text from the reviewed code
goes through :func:`~.escape.visible`, so no control character reaches the XML (XML 1.0 cannot
hold most of them) and ElementTree escapes the markup characters.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from ..findings import FileReview
from ..review import ReviewResult
from .escape import visible
from .text import render_finding


def _suite(review: FileReview) -> ElementTree.Element:
    path = visible(review.path)
    suite = ElementTree.Element("testsuite", name=path)
    cases = 0
    if review.not_reviewed is not None:
        case = ElementTree.SubElement(suite, "testcase", classname=path, name=f"{path}: reviewed", file=path)
        ElementTree.SubElement(case, "error", type="not reviewed", message=visible(review.not_reviewed))
        cases += 1
    for note in review.incomplete:
        case = ElementTree.SubElement(suite, "testcase", classname=path, name=f"{path}: fully reviewed", file=path)
        ElementTree.SubElement(case, "error", type="not fully reviewed", message=visible(note))
        cases += 1
    for finding in review.findings:
        line = str(finding.location.line)
        case = ElementTree.SubElement(suite, "testcase", classname=path,
                                      name=f"{path}:{line}: {finding.rule}", file=path, line=line)
        failure = ElementTree.SubElement(case, "failure", type=f"CWE-{finding.cwe}",
                                         message=f"{finding.severity.name} CWE-{finding.cwe} {visible(finding.message)}")
        failure.text = "\n".join(text.strip() for text in render_finding(finding)) + "\n"
        cases += 1
    if review.not_reviewed is None and not review.findings:
        ElementTree.SubElement(suite, "testcase", classname=path, name=f"{path}: no security defects", file=path)
        cases += 1
    errors = len(review.incomplete) + (review.not_reviewed is not None)
    suite.set("tests", str(cases))
    suite.set("failures", str(len(review.findings)))
    suite.set("errors", str(errors))
    return suite


def _triaged(result: ReviewResult) -> list[ElementTree.Element]:
    """One skipped test case per finding triaged in the baseline, in its file's suite."""
    cases = []
    for finding, triage in sorted(result.triaged, key=lambda item: item[0].sort_key):
        path, line = visible(finding.location.path), str(finding.location.line)
        case = ElementTree.Element("testcase", classname=path, name=f"{path}:{line}: {finding.rule}", file=path, line=line)
        reason = f": {visible(triage.reason)}" if triage.reason else ""
        ElementTree.SubElement(case, "skipped", message=f"triaged in the baseline as {triage.label}{reason}")
        cases.append(case)
    return cases


def render(result: ReviewResult) -> str:
    root = ElementTree.Element("testsuites", name="secreview")
    suites = [_suite(review) for review in result.files]
    by_name = {suite.get("name"): suite for suite in suites}
    for case in _triaged(result):
        suite = by_name.get(case.get("classname"))
        if suite is not None:
            suite.append(case)
            suite.set("tests", str(int(suite.get("tests", "0")) + 1))
            suite.set("skipped", str(int(suite.get("skipped", "0")) + 1))
    root.extend(suites)
    for total in ("tests", "failures", "errors", "skipped"):
        root.set(total, str(sum(int(suite.get(total, "0")) for suite in suites)))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
