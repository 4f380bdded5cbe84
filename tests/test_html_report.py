"""The HTML report: one self-contained page that shows every finding with its code and trace,
filters them, lists the clean and the unreviewed files, and runs nothing from the reviewed code.
The browser tests start Debian's chromium headless (``apt install chromium``)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e import scan, write

VIEWS = '''\
import subprocess
from flask import Flask, request

app = Flask(__name__)


@app.route("/run")
def run():
    name = request.args.get("name", "")
    command = "</textarea><script>document.title='PWNED'</script>" + name + " <img src=x onerror=alert(1)>"
    subprocess.call(command, shell=True)
    return "ok"
'''
FILES = {"views.py": VIEWS, "util.py": 'import hashlib\nprint(hashlib.md5(b"x").hexdigest())\n', "clean.py": "X = 1\n",
         "broken.py": b"\x00binary"}


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, FILES)
    assert scan(".", "--no-cache", "--format", "html", "--output", "report.html").code == 1
    return tmp_path / "report.html"


def test_the_page_holds_every_finding_with_its_code_trace_and_fix(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    articles = re.findall(r'<article class="finding" id="(f\d+)" data-severity="(\w+)" data-cwe="(\d+)" '
                          r'data-rule="([\w-]+)" data-file="([\w.]+)">', page)
    assert [a[1:] for a in articles] == [("low", "328", "weak-hash", "util.py"),
                                         ("critical", "78", "os-command-injection", "views.py")]
    assert '<span class="sink" id="f2-line11">' in page and '<span class="step" id="f2-line9">' in page
    assert '<a href="#f2-line9">line 9</a>' in page  # the trace links to its lines
    assert "Fix:</strong> Pass the command as a list" in page
    assert "broken.py: not reviewed: binary file" in page and "<li>clean.py</li>" in page


def test_nothing_from_the_reviewed_code_is_markup(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert page.count("<script>") == 1 and "<img" not in page and "</textarea>" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;document.title=" in page
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'" in page


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt install chromium)")
    return found


def _browse(page: str, *flags: str) -> str:
    done = subprocess.run([_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           *flags, page], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_in_a_browser_the_page_renders_filters_and_runs_nothing_of_the_code(report: Path) -> None:
    dom = _browse(report.as_uri(), "--dump-dom")
    assert 'data-ready="1"' in dom  # the page's own script ran
    assert "<title>secreview report</title>" in dom and "PWNED" not in dom.split("</title>")[0]
    assert "<img" not in dom and 'id="shown">2<' in dom
    critical = _browse(report.as_uri() + "#severity=critical", "--dump-dom")
    assert re.search(r'<article[^>]*data-rule="weak-hash"[^>]*hidden=""', critical)
    assert not re.search(r'<article[^>]*data-rule="os-command-injection"[^>]*hidden', critical)
    assert 'id="shown">1<' in critical
    by_file = _browse(report.as_uri() + "#file=util.py", "--dump-dom")
    assert re.search(r'<article[^>]*data-rule="os-command-injection"[^>]*hidden=""', by_file)
    shot = report.parent / "report.png"
    _browse(report.as_uri(), f"--screenshot={shot}", "--window-size=1200,1000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_file_changed_since_the_review_shows_the_quoted_lines_only(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from secreview.config import Config
    from secreview.report import html
    from secreview.review import review

    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"views.py": VIEWS})
    result = review(["views.py"], Config())
    (tmp_path / "views.py").write_text("# rewritten after the review\n" * 20)
    page = html.render(result)
    assert "rewritten after the review" not in page
    assert '<span class="sink" id="f1-line11"><span class="ln">11</span>subprocess.call(command, shell=True)</span>' in page
