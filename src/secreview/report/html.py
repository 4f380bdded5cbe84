"""A self-contained HTML report: one file, no network, for people who browse a review.

Every finding shows its severity, CWE and pillar, rule, confidence, message and fix, and the code
around its line with the trace steps marked and linked (each step is an anchor; the steps in the
finding's own file are highlighted in the excerpt).  Filters by severity, CWE, rule and file run
in the page; they also read the URL's fragment (``report.html#severity=high&rule=xss``), so a
filtered view can be linked.  The clean and the not (fully) reviewed files are listed too.

Nothing from the reviewed code can run or break the page: every text goes through
:func:`~.escape.visible` (controls and bidi characters as escapes) and then ``html.escape``,
and the page's Content-Security-Policy allows only its own script, by hash, and no network at
all: an injected ``<script>`` or ``</textarea>`` is text, and even markup that escaped the
escaping could neither run nor fetch.

The code excerpts are read from the reviewed files when the report is written (bounded by
``max-file-size``); where a file cannot be read again (standard input), or its lines are no
longer the ones the review quoted (``diff --commit`` reviews another revision than the work
tree's), the finding shows the lines its location and trace quote.
"""

from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path

from .. import cwe, display, reading
from ..findings import Finding, Severity
from ..python.source import NotReviewable, decode, physical_lines
from ..review import ReviewResult
from .escape import visible
from .text import clean_statement, summary

CONTEXT_LINES = 3

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header,main{max-width:1100px;margin:0 auto;padding:12px 20px}
h1{font-size:20px;margin:8px 0}
.filters{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0}
.finding{background:#fff;border:1px solid #ddd;border-left:6px solid #888;border-radius:4px;margin:12px 0;padding:10px 14px}
.finding[data-severity=critical]{border-left-color:#a00}.finding[data-severity=high]{border-left-color:#e33}
.finding[data-severity=medium]{border-left-color:#d90}.finding[data-severity=low]{border-left-color:#39c}
.sev{font-weight:700;text-transform:uppercase}.meta{color:#555}
pre{background:#f4f4f4;padding:6px 0;overflow-x:auto;margin:6px 0}
pre span{display:block;padding:0 8px;white-space:pre}
pre span.sink{background:#fdd}pre span.step{background:#ffc}
.ln{display:inline-block;width:4em;color:#888;user-select:none}
ol.trace{margin:4px 0 4px 20px;padding:0}
.fix{margin-top:6px}
.files li{font-family:monospace}
"""

# Applies the filters from the controls and from the URL fragment; marks the page when done, so a
# headless browser can tell that the script ran.
_SCRIPT = """
(function(){
  var keys=["severity","cwe","rule","file"], rank={low:1,medium:2,high:3,critical:4};
  function apply(){
    var want={};keys.forEach(function(k){want[k]=document.getElementById("filter-"+k).value;});
    var shown=0;
    document.querySelectorAll("article.finding").forEach(function(el){
      var ok=(!want.severity||rank[el.dataset.severity]>=rank[want.severity])&&
        (!want.cwe||el.dataset.cwe===want.cwe)&&(!want.rule||el.dataset.rule===want.rule)&&
        (!want.file||el.dataset.file===want.file);
      el.hidden=!ok;if(ok){shown++;}
    });
    document.getElementById("shown").textContent=String(shown);
  }
  var params=new URLSearchParams(location.hash.slice(1));
  keys.forEach(function(k){
    var control=document.getElementById("filter-"+k);
    if(params.has(k)){control.value=params.get(k);}
    control.addEventListener("change",apply);
  });
  apply();
  document.body.dataset.ready="1";
})();
"""


def _text(value: str) -> str:
    return html.escape(visible(value), quote=True)


def _source_lines(result: ReviewResult, path: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if path not in cache:
        try:
            data = reading.read_regular(result.root / path, result.config.max_file_size)
            cache[path] = physical_lines(decode(path, data))
        except (OSError, NotReviewable, ValueError):
            cache[path] = None
    return cache[path]


def _excerpt(finding: Finding, anchor: str, lines: list[str] | None) -> str:
    """The code around the finding's line, its trace steps in this file marked."""
    own = finding.location.path
    steps = {s.location.line: index for index, s in enumerate(finding.trace, 1) if s.location.path == own}
    sink = finding.location.line
    quoted_here = [finding.location] + [s.location for s in finding.trace if s.location.path == own]
    if lines is not None and not all(_quotes(lines, location) for location in quoted_here):
        lines = None  # the file changed since it was reviewed (diff --commit reviews another revision)
    if lines is None:  # the quoted lines only
        quoted = {s.location.line: s.location.snippet for s in finding.trace if s.location.path == own}
        quoted[sink] = finding.location.snippet
        shown = sorted(quoted.items())
    else:
        wanted = {sink, *steps}
        first = max(1, min(wanted) - CONTEXT_LINES)
        last = min(len(lines), max(wanted) + CONTEXT_LINES)
        if last - first > 60:  # a trace that spans a long function: the steps and the sink with context
            keep = sorted({n for line in wanted for n in range(line - 1, line + 2) if 1 <= n <= len(lines)})
            shown = [(n, lines[n - 1]) for n in keep]
        else:
            shown = [(n, lines[n - 1]) for n in range(first, last + 1)]
    rows = []
    for number, code in shown:
        kind = "sink" if number == sink else "step" if number in steps else ""
        target = f' id="{anchor}-line{number}"' if kind else ""
        rows.append(f'<span class="{kind}"{target}><span class="ln">{number}</span>{_text(code)}</span>')
    return "<pre>" + "".join(rows) + "</pre>"


def _quotes(lines: list[str], location) -> bool:
    """Whether the file's line at ``location`` is the line the review quoted there."""
    if not 1 <= location.line <= len(lines):
        return False
    quoted = location.snippet.splitlines()[0].strip() if location.snippet else ""
    return not quoted or lines[location.line - 1].strip().startswith(quoted[:80])


def _finding(finding: Finding, number: int, lines: list[str] | None) -> str:
    entry = cwe.lookup(finding.cwe)
    pillar = cwe.pillar(finding.cwe)
    anchor = f"f{number}"
    trace = ""
    if finding.trace:
        items = []
        for index, step in enumerate(finding.trace, 1):
            where = f"line {step.location.line}"
            if step.location.path != finding.location.path:
                where = f"{_text(step.location.path)}:{step.location.line}"
            link = f"#{anchor}-line{step.location.line}" if step.location.path == finding.location.path else f"#{anchor}"
            items.append(f'<li id="{anchor}-step{index}"><a href="{link}">{where}</a>: {_text(step.label)}: '
                         f"<code>{_text(step.location.snippet)}</code></li>")
        trace = '<div>Evidence:</div><ol class="trace">' + "".join(items) + "</ol>"
    return (
        f'<article class="finding" id="{anchor}" data-severity="{finding.severity.label}" data-cwe="{finding.cwe}" '
        f'data-rule="{_text(finding.rule)}" data-file="{_text(finding.location.path)}">'
        f'<div><span class="sev">{finding.severity.label}</span> '
        f'<a href="https://cwe.mitre.org/data/definitions/{entry.id}.html">CWE-{entry.id}</a> {_text(entry.name)}</div>'
        f'<div class="meta">{_text(finding.location.path)} line {finding.location.line} · pillar CWE-{pillar.id} '
        f"{_text(pillar.name)} · rule {_text(finding.rule)} · confidence {finding.confidence.label}</div>"
        f"{_excerpt(finding, anchor, lines)}"
        f"<p>{_text(finding.message)}</p>{trace}"
        f'<div class="fix"><strong>Fix:</strong> {_text(finding.fix)}</div></article>'
    )


def _select(name: str, label: str, values: list[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{_text(v)}">{_text(shown)}</option>' for v, shown in values)
    return f'<label>{label} <select id="filter-{name}"><option value="">all</option>{options}</select></label>'


def render(result: ReviewResult) -> str:
    findings = sorted(result.findings, key=lambda f: f.sort_key)
    sources: dict[str, list[str] | None] = {}
    articles = [_finding(f, i, _source_lines(result, f.location.path, sources)) for i, f in enumerate(findings, 1)]
    severities = [(s.label, f"{s.label} and above") for s in sorted(Severity, reverse=True)]
    cwes = sorted({f.cwe for f in findings})
    filters = "".join([
        _select("severity", "Severity", severities),
        _select("cwe", "CWE", [(str(c), f"CWE-{c} {cwe.lookup(c).name}") for c in cwes]),
        _select("rule", "Rule", [(r, r) for r in sorted({f.rule for f in findings})]),
        _select("file", "File", [(p, p) for p in sorted({f.location.path for f in findings})]),
    ])
    hidden = display.hidden_by_file(result)
    clean = [r.path for r in result.files
             if r.not_reviewed is None and not r.findings and not r.incomplete and r.path not in hidden]
    gaps = result.gaps()
    lists = []
    if gaps:
        lists.append("<h2>Not (fully) reviewed</h2><ul class=\"files\">" + "".join(
            f"<li>{_text(path)}: {status}: {_text(why)}</li>" for path, status, why in gaps) + "</ul>")
    if clean:
        lists.append(f"<h2>No security defects are detected in {len(clean)} file{'s' if len(clean) != 1 else ''}</h2>"
                     "<ul class=\"files\">" + "".join(f"<li>{_text(p)}</li>" for p in clean) + "</ul>")
    hidden_note = f"<p>{_text(display.hidden_note(result))}.</p>" if result.hidden else ""
    body = "".join(articles) if articles or result.hidden else f"<p>{_text(clean_statement(result))}</p>"
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; img-src data:"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>secreview report</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>secreview report</h1><p>{_text(summary(result))}</p>"
        f'<div class="filters">{filters}</div><p><span id="shown">{len(findings)}</span> of {len(findings)} '
        f"finding{'s' if len(findings) != 1 else ''} shown</p></header>"
        f"<main>{body}{hidden_note}{''.join(lists)}</main><script>{_SCRIPT}</script></body></html>\n"
    )
