"""Output formats.  Each module renders a :class:`~secreview.review.ReviewResult` to text."""

from __future__ import annotations

from typing import Callable

from ..review import ReviewResult
from . import gerrit, github, gitlab, html, json_report, junit, sarif, text

Renderer = Callable[[ReviewResult], str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "gerrit": gerrit.render,
    "github": github.render,
    "github-review": github.render_review,
    "html": html.render,
    "junit": junit.render,
    "gitlab-sast": gitlab.render_sast,
    "gitlab-codequality": gitlab.render_code_quality,
}
