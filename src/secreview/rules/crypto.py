"""Weak cryptography: broken hashes, broken ciphers, ECB mode, short keys, fast password hashes.

Policy for MD5 and SHA-1 (``weak-hash``).  Both still serve well where nobody is an adversary
(cache keys, ETags, file checksums against corruption, dedup keys), and much real code uses
them there, so a blanket report would bury the few that matter.  Each call is judged by what
its digest is for, read from names (see :mod:`._purpose`): the data it hashes (its argument and
later ``.update`` arguments), where the digest goes (the variable, keyword, dict key, receiving
call, or the function that returns it, following local variables a few assignments), and the
enclosing function and class.  The nearest decisive name wins:

- ``usedforsecurity=False``, an HMAC or key-derivation construction (HMAC-SHA1, PBKDF2-SHA1 are
  not broken), or a digest used only for ``.digest_size``: not reported;
- a security name (password, token, signature, secret, auth, session, salt, ...) or a signing
  call: reported, severity high (MD5, MD4, MD2, or SHA-1 of a password) or medium (other SHA-1),
  confidence high;
- a benign name (cache, etag, checksum, dedup, filename, path, shard, ...) or a use as the key
  of an entry (``store[digest]``, an identifier): not reported;
- no decisive name: reported at severity low and confidence low, so a review that wants only
  confident findings can filter it and an audit still sees every weak digest.

A fast strong hash (SHA-256, ...) of a variable named as a password, outside a KDF, is
``password-hash-without-kdf``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import PurePath

from ..findings import Confidence, Severity
from ..python.module import ModuleContext
from . import Issue, rule
from ._purpose import (
    Purpose,
    Verdict,
    Vocabulary,
    assigned_variable,
    callee_name,
    destinations,
    enclosing_names,
    identifiers,
    judge_names,
    local_constant,
    method_calls_on,
    resolved_calls,
    words,
)

_HASH_VOCABULARY = Vocabulary(
    security=frozenset({
        "password", "passwd", "pwd", "passphrase", "passcode", "secret", "secrets", "token",
        "signature", "sign", "signed", "signer", "signing", "sig", "auth", "authenticate", "authentication",
        "authenticator", "authorization", "credential", "credentials", "nonce", "salt", "otp", "csrf", "xsrf",
        "hmac", "apikey", "session", "sessionid", "cert", "certificate", "verify", "verification",
        "integrity", "tamper", "cookie", "jwt", "pin", "pinning",
    }),
    benign=frozenset({
        "cache", "cached", "caching", "etag", "etags", "checksum", "checksums", "crc", "dedup", "dedupe",
        "deduplicate", "deduplication", "duplicate", "duplicates", "fname", "filename", "filenames", "path",
        "shard", "sharding", "bucket", "buckets", "partition", "color", "colour", "lock", "memo", "memoize",
        "uuid", "version", "revision", "chunk", "chunks", "file", "files", "placeholder", "dummy", "fake",
        "mock", "corruption", "corrupt", "sum", "gravatar", "avatar", "bust", "buster", "url", "uri", "urls",
        "host", "hostname", "endpoint", "href", "content", "contents", "read", "git", "blob", "policy",
        "policies", "strength", "hint", "field", "prompt", "lookup",
    }),
    qualified={
        "key": frozenset({"api", "secret", "private", "encryption", "session", "signing", "access", "auth",
                          "master", "hmac", "crypto", "aes", "license", "activation"}),
        "code": frozenset({"reset", "verification", "verify", "confirm", "confirmation", "activation", "auth"}),
    },
    suffixes=("password", "passwd", "token", "secret"),
)

_HASHLIB_WEAK = {"hashlib.md5": "MD5", "hashlib.sha1": "SHA-1", "_hashlib.openssl_md5": "MD5",
                 "_hashlib.openssl_sha1": "SHA-1"}
_WEAK_HASH_NAMES = {"md5": "MD5", "md4": "MD4", "md2": "MD2", "sha1": "SHA-1", "sha": "SHA-1", "md5-sha1": "MD5"}
_STRONG_FAST_HASHES = {"sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512",
                       "blake2b", "blake2s", "sha512_224", "sha512_256"}
_PYCRYPTO_HASH_MODULES = {"MD5": "MD5", "MD4": "MD4", "MD2": "MD2", "SHA": "SHA-1", "SHA1": "SHA-1"}
_CRYPTOGRAPHY_HASHES = {"MD5": "MD5", "SHA1": "SHA-1"}
# Constructions in which a weak hash is not broken: HMAC, key derivation, MGF1/OAEP padding.
_KEYED_CONSTRUCTIONS = {"HMAC", "MGF1", "OAEP", "PBKDF2HMAC", "HKDF", "HKDFExpand", "ConcatKDFHash",
                        "ConcatKDFHMAC", "X963KDF", "KBKDFHMAC", "HOTP", "TOTP"}
_HMAC_CALLS = {"hmac.new", "hmac.HMAC", "hmac.digest", "Crypto.Hash.HMAC.new", "Cryptodome.Hash.HMAC.new"}
_SIGNING_CALLS = {"sign", "verify", "sign_data"}
_METADATA_ATTRIBUTES = {"digest_size", "block_size", "name"}


def _weak_hash_call(ctx: ModuleContext, call) -> tuple[str, ast.AST | None] | None:
    """(algorithm, data argument) when ``call`` computes or selects a broken hash."""
    name = call.name or ""
    if name in _HASHLIB_WEAK:
        return _HASHLIB_WEAK[name], call.arg(0, "string") or call.arg(None, "data")
    if name == "hashlib.new":
        algorithm = ctx.constant(call.arg(0, "name"), None)
        if isinstance(algorithm, str) and algorithm.lower() in _WEAK_HASH_NAMES:
            return _WEAK_HASH_NAMES[algorithm.lower()], call.arg(1, "data") or call.arg(None, "string")
        return None
    head, _, last = name.rpartition(".")
    if last == "new" and head.startswith(("Crypto.Hash.", "Cryptodome.Hash.")):
        module = head.rpartition(".")[2]
        if module in _PYCRYPTO_HASH_MODULES:
            return _PYCRYPTO_HASH_MODULES[module], call.arg(0, "data")
    if head == "cryptography.hazmat.primitives.hashes" and last in _CRYPTOGRAPHY_HASHES:
        return _CRYPTOGRAPHY_HASHES[last], None
    return None


def _receiving_call(ctx: ModuleContext, node: ast.AST) -> ast.Call | None:
    """The call that ``node`` is passed to as an argument, positional or keyword."""
    parent = ctx.parent(node)
    if isinstance(parent, ast.keyword):
        parent = ctx.parent(parent)
    if isinstance(parent, ast.Call) and node is not parent.func:
        return parent
    return None


def _used_only_for_metadata(ctx: ModuleContext, node: ast.AST) -> bool:
    parent = ctx.parent(node)
    if not (isinstance(parent, ast.Attribute) and parent.attr in _METADATA_ATTRIBUTES):
        return False
    grandparent = ctx.parent(parent)
    return not (isinstance(grandparent, ast.Call) and grandparent.func is parent)


def _hashed_data(ctx: ModuleContext, anchor: ast.AST, data: ast.AST | None) -> list[ast.AST]:
    """The argument hashed at construction and every later ``.update(...)`` of the same object."""
    hashed = [data] if data is not None else []
    variable = assigned_variable(ctx, anchor)
    if variable:
        hashed.extend(arg for update in method_calls_on(ctx, anchor, variable, "update") for arg in update.args)
    return hashed


def _data_verdict(vocabulary: Vocabulary, hashed: list[ast.AST]) -> Verdict:
    names = [n for node in hashed for n in identifiers(node)]
    for purpose in (Purpose.SECURITY, Purpose.BENIGN):
        for name in names:
            if vocabulary.judge(name) is purpose:
                return Verdict(purpose, f"it hashes `{name}`")
    return Verdict(Purpose.UNKNOWN)


def _purpose_of_digest(ctx: ModuleContext, anchor: ast.AST, data: ast.AST | None) -> Verdict:
    verdict = _data_verdict(_HASH_VOCABULARY, _hashed_data(ctx, anchor, data))
    if verdict.purpose is not Purpose.UNKNOWN:
        return verdict
    module = PurePath(ctx.path).stem
    return judge_names(_HASH_VOCABULARY, [*destinations(ctx, anchor, lookups=True), *enclosing_names(ctx, anchor),
                                          (module, "it is computed in module `{name}`")])


@rule(
    id="weak-hash",
    bandit=("B303", "B324"), ruff=("S303", "S324"),
    cwe=328,
    severity="medium",
    confidence="medium",
    summary="MD5 or SHA-1 digest used where an adversary can exploit collisions or fast brute force",
    relevant_in_tests=False,
)
def weak_hash(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags MD5, MD4, MD2 and SHA-1 digests from `hashlib` (`hashlib.md5`, `hashlib.new("md5")`),
    `cryptography` (`hashes.MD5()`, `hashes.SHA1()`) and PyCryptodome (`Crypto.Hash.MD5.new`).
    A digest whose names show a security purpose (a password, token, signature, secret,
    session, salt) is reported with high confidence; one whose names show a benign purpose
    (cache key, ETag, checksum, dedup key, file name) or that is used as the key of an entry in a
    store (`sessions[digest]`: an identifier) is not reported; one with no telling name
    is reported at low severity and low confidence.  `usedforsecurity=False`, HMAC (`hmac.new(key,
    msg, hashlib.sha1)`), PBKDF2 and OAEP/MGF1 uses are never reported.

    ## Why it matters
    MD5 and SHA-1 collisions can be computed on a laptop (MD5) or for a modest budget (SHA-1,
    SHAttered), so a signature or certificate over one of them can be forged for a second
    document.  Both are also fast, so a password or token hashed with them is brute-forced at
    billions of guesses per second.

    ## Example
    ```python
    import hashlib
    user.password_hash = hashlib.md5(password.encode()).hexdigest()
    signature = hashlib.sha1(secret + payload).hexdigest()
    ```

    ## Fix
    For passwords use a key-derivation function: `hashlib.scrypt`, `hashlib.pbkdf2_hmac("sha256",
    ...)`, argon2 or bcrypt.  For message authentication use `hmac.new(key, msg, hashlib.sha256)`.
    For signatures and integrity against an adversary use SHA-256 or better.  Where the digest is
    not a security control, say so with `hashlib.md5(data, usedforsecurity=False)`.

    ## References
    - CWE-328: Use of Weak Hash
    - https://docs.python.org/3/library/hashlib.html
    - https://shattered.io/
    """
    for call in resolved_calls(ctx):
        found = _weak_hash_call(ctx, call)
        if found is None:
            continue
        algorithm, data = found
        if ctx.constant(call.arg(keyword="usedforsecurity"), True) is False:
            continue
        if _used_only_for_metadata(ctx, call.node):
            continue
        anchor: ast.AST = call.node
        receiver = _receiving_call(ctx, call.node)
        if receiver is not None:
            receiver_name = ctx.qualname(receiver.func) or ""
            method = callee_name(receiver) or ""
            if receiver_name in _HMAC_CALLS or method in _KEYED_CONSTRUCTIONS:
                continue
            if method == "Hash":  # cryptography's hashes.Hash(hashes.MD5()): judge the Hash object
                anchor = receiver
        verdict = _purpose_of_digest(ctx, anchor, data)
        if receiver is not None and (callee_name(receiver) or "") in _SIGNING_CALLS:
            verdict = Verdict(Purpose.SECURITY, f"it is the digest of a `{callee_name(receiver)}` call")
        if verdict.purpose is Purpose.BENIGN:
            continue
        if _negotiated(ctx, call.node):
            verdict = Verdict(Purpose.UNKNOWN)  # the peer chose the algorithm (HTTP Digest, APOP): not this code
        described = f"`{call.name}`" if call.name else f"`{ast.unparse(call.node.func)}`"
        if verdict.purpose is Purpose.SECURITY:
            yield Issue(
                call.node,
                message=f"{described} computes {_article(algorithm)} {algorithm} digest with a security purpose ({verdict.evidence}); "
                f"{algorithm} is broken for collisions and too fast against brute force.",
                fix=_weak_hash_fix(algorithm, verdict),
                severity=Severity.HIGH if algorithm != "SHA-1" or _about_passwords(verdict) else Severity.MEDIUM,
                confidence=Confidence.HIGH,
            )
        else:
            yield Issue(
                call.node,
                message=f"{described} computes {_article(algorithm)} {algorithm} digest, a hash broken for collisions, "
                "and nothing in the surrounding names shows it is not a security control.",
                fix=f"Use `hashlib.sha256` instead of {algorithm}; if the digest only names a cache entry or "
                "detects corruption, pass `usedforsecurity=False` to record that.",
                severity=Severity.LOW,
                confidence=Confidence.LOW,
            )


_NEGOTIATED_NAMES = {"md5", "md5-sess", "sha", "sha1", "sha-1", "md4"}


def _negotiated(ctx: ModuleContext, node: ast.AST) -> bool:
    """Inside ``if algorithm == "MD5":``: a protocol implementation computing what the peer asked for."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (ast.If, ast.IfExp)):
            for compare in ast.walk(ancestor.test):
                if isinstance(compare, ast.Compare):
                    for operand in [compare.left, *compare.comparators]:
                        if isinstance(operand, ast.Constant) and isinstance(operand.value, str) \
                                and operand.value.lower() in _NEGOTIATED_NAMES:
                            return True
    return False


def _article(algorithm: str) -> str:
    return "an" if algorithm.startswith("MD") else "a"


def _evidence_words(verdict: Verdict) -> set[str]:
    named = verdict.evidence.split("`")[1] if verdict.evidence.count("`") >= 2 else ""
    return set(words(named))


def _about_passwords(verdict: Verdict) -> bool:
    return bool(_evidence_words(verdict) & {"password", "passwd", "pwd", "passphrase"})


def _weak_hash_fix(algorithm: str, verdict: Verdict) -> str:
    evidence = _evidence_words(verdict)
    if _about_passwords(verdict):
        return (f"Replace {algorithm} with a password hash: `hashlib.scrypt(password, salt=salt, n=2**14, r=8, p=1)`, "
                "argon2 or bcrypt, with a random per-user salt.")
    if evidence & {"sign", "signature", "signed", "signing", "verify", "hmac", "secret", "auth"}:
        return (f"Replace {algorithm} with SHA-256; to authenticate a message with a secret use "
                "`hmac.new(key, msg, hashlib.sha256)` and compare with `hmac.compare_digest`.")
    return f"Replace {algorithm} with `hashlib.sha256` (or stronger)."


_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "pw", "pass", "passcode"})
_KDF_WORDS = frozenset({"bcrypt", "scrypt", "argon2", "pbkdf2", "hashpw", "kdf", "hkdf", "crypt", "passlib"})


def _names_a_password(node: ast.AST) -> str | None:
    """The name of a password variable hashed directly (``password``, ``user.new_password``, ``pwd.encode()``)."""
    for child in ast.walk(node):
        name = child.id if isinstance(child, ast.Name) else child.attr if isinstance(child, ast.Attribute) else None
        if name is None:
            continue
        parts = words(name)
        if parts and parts[-1] in _PASSWORD_WORDS and not ({"hash", "hashed", "digest"} & set(parts)):
            return name
    return None


def _inside_kdf(ctx: ModuleContext, node: ast.AST) -> bool:
    """Pre-hashing for bcrypt or a KDF (``bcrypt.hashpw(b64encode(sha256(pw).digest()), salt)``) is sound."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, ast.Call):
            name = (ctx.qualname(ancestor.func) or "").lower()
            if any(word in name for word in _KDF_WORDS):
                return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False


@rule(
    id="password-hash-without-kdf",
    bandit=("B303", "B324"), ruff=("S303", "S324"),
    cwe=916,
    severity="high",
    confidence="high",
    summary="Password hashed with a single fast hash instead of a key-derivation function",
    relevant_in_tests=False,
)
def password_hash_without_kdf(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `hashlib.sha256(password)` and the other fast SHA-2, SHA-3 and BLAKE2 hashes when what
    they hash (the argument or a later `.update(...)`) is a variable named as a password, and
    the digest is not fed to a key-derivation function (bcrypt pre-hashing is fine).  Also flags
    password-hashing APIs set to a fast scheme: PBKDF2 with fewer than 10000 iterations,
    `crypt.crypt` with a DES or MD5 salt, passlib's `md5_crypt`, `ldap_sha1` and similar, and a
    Django `PASSWORD_HASHERS` whose first (hashing) entry is an MD5, SHA-1 or crypt hasher.

    ## Why it matters
    SHA-256 is a sound hash but a poor password hash: a GPU computes billions per second, so a
    leaked table of SHA-256 password digests, salted or not, gives up most real passwords
    within days.  Password hashes must be slow and memory-hard on purpose.

    ## Example
    ```python
    stored = hashlib.sha256(salt + password.encode()).hexdigest()
    ```

    ## Fix
    Derive the stored value with a password hash: `hashlib.scrypt(password.encode(), salt=salt,
    n=2**14, r=8, p=1)`, `hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)`,
    argon2-cffi or bcrypt, and compare with `hmac.compare_digest`.

    ## References
    - CWE-916: Use of Password Hash With Insufficient Computational Effort
    - https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
    """
    yield from _weak_password_schemes(ctx)
    for call in resolved_calls(ctx):
        name = call.name or ""
        if name.startswith("hashlib.") and name[8:] in _STRONG_FAST_HASHES:
            algorithm, data = name[8:], call.arg(0, "string") or call.arg(None, "data")
        elif name == "hashlib.new":
            chosen = ctx.constant(call.arg(0, "name"), None)
            if not (isinstance(chosen, str) and chosen.lower() in _STRONG_FAST_HASHES):
                continue
            algorithm, data = chosen.lower(), call.arg(1, "data")
        else:
            continue
        if _inside_kdf(ctx, call.node):
            continue
        password = None
        for hashed in _hashed_data(ctx, call.node, data):
            password = _names_a_password(hashed)
            if password:
                break
        if password is None:
            continue
        yield Issue(
            call.node,
            message=f"`{call.name}` hashes the password `{password}` with a single pass of {algorithm.upper()}, "
            "which an attacker with the digests brute-forces at billions of guesses per second.",
            fix=f"Store `hashlib.scrypt({password}, salt=salt, n=2**14, r=8, p=1)` (or argon2/bcrypt) with a random "
            "per-user salt, and verify with `hmac.compare_digest`.",
        )


_WEAK_PASSLIB_SCHEMES = {"des_crypt", "bsdi_crypt", "bigcrypt", "crypt16", "md5_crypt", "apr_md5_crypt", "ldap_md5",
                         "ldap_sha1", "ldap_salted_md5", "ldap_salted_sha1", "hex_md5", "hex_sha1", "hex_sha256",
                         "hex_sha512", "mysql323", "mysql41", "postgres_md5", "oracle10", "lmhash", "nthash",
                         "plaintext", "ldap_plaintext", "sun_md5_crypt", "msdcc", "msdcc2"}
_WEAK_DJANGO_HASHERS = {"MD5PasswordHasher", "UnsaltedMD5PasswordHasher", "SHA1PasswordHasher",
                        "UnsaltedSHA1PasswordHasher", "CryptPasswordHasher"}
_WEAK_CRYPT_METHODS = {"crypt.METHOD_CRYPT": "DES crypt", "crypt.METHOD_MD5": "MD5 crypt"}
_MINIMUM_PBKDF2_ITERATIONS = 10_000


_CRYPT_FUNCTIONS = {"crypt.crypt", "oslo_utils.secretutils.crypt_password", "legacycrypt.crypt", "crypt_r.crypt"}


def _constant_prefix(ctx: ModuleContext, node: ast.AST, depth: int = 0) -> str | None:
    """The known leading text of a string built by concatenation: ``algos["MD5"] + salt`` → ``"$1$"``."""
    if depth > 5:
        return None
    value = local_constant(ctx, node)
    if isinstance(value, str):
        return value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant_prefix(ctx, node.left, depth + 1)
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        key = ctx.constant(node.slice, None)
        table = _bound_dict(ctx, node.value)
        if table is not None and key is not None:
            for dict_key, dict_value in zip(table.keys, table.values):
                if dict_key is not None and ctx.constant(dict_key, None) == key:
                    found = ctx.constant(dict_value, None)
                    return found if isinstance(found, str) else None
    return None


def _bound_dict(ctx: ModuleContext, name: ast.Name) -> ast.Dict | None:
    """The dict literal a name is bound to exactly once in its function (or module)."""
    scope = ctx.enclosing_function(name) or ctx.tree
    bindings = [node for node in ast.walk(scope) if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets)]
    if len(bindings) == 1 and isinstance(bindings[0].value, ast.Dict):
        return bindings[0].value
    return None


def _weak_password_schemes(ctx: ModuleContext) -> Iterator[Issue]:
    """Password-hashing APIs configured with a scheme or work factor that is fast to brute-force."""
    for call in resolved_calls(ctx):
        name = call.name or ""
        parts = name.split(".")
        if name.startswith("passlib.") and len(parts) >= 2 and parts[-2] in _WEAK_PASSLIB_SCHEMES \
                and parts[-1] in ("hash", "encrypt", "using", "genhash"):
            scheme = parts[-2]
            yield Issue(
                call.node,
                message=f"`{name}` hashes passwords with passlib's `{scheme}`, a scheme too fast (or too short) to "
                "resist brute force.",
                fix="Use `passlib.hash.argon2`, `bcrypt` or `pbkdf2_sha256` (or a `CryptContext` with one of them "
                "first and the old scheme deprecated).",
            )
        elif name in _CRYPT_FUNCTIONS:
            salt = call.arg(1, "salt")
            if salt is None:
                continue
            method = salt.args[0] if isinstance(salt, ast.Call) and ctx.qualname(salt.func) == "crypt.mksalt" \
                and salt.args else salt
            label = _WEAK_CRYPT_METHODS.get(ctx.qualname(method) or "")
            value = local_constant(ctx, method)
            if label is None and isinstance(value, str):
                label = "MD5 crypt" if value.startswith("$1$") else "DES crypt" if not value.startswith("$") else None
            if label is None and (_constant_prefix(ctx, method) or "").startswith("$1$"):
                label = "MD5 crypt"
            if label:
                yield Issue(
                    call.node,
                    message=f"`{name}` is given a salt that selects {label}, which hashes passwords fast enough "
                    "to brute-force.",
                    fix="Use `crypt.mksalt(crypt.METHOD_SHA512)` (or better, argon2/bcrypt through passlib).",
                )
        elif name in ("hashlib.pbkdf2_hmac", "cryptography.hazmat.primitives.kdf.pbkdf2.PBKDF2HMAC"):
            node = call.arg(3, "iterations")
            iterations = local_constant(ctx, node)
            if isinstance(iterations, int) and not isinstance(iterations, bool) and iterations < _MINIMUM_PBKDF2_ITERATIONS:
                yield Issue(
                    node,
                    message=f"`{name}` runs {iterations} iterations, so each password guess costs an attacker almost "
                    "nothing.",
                    fix="Use at least 600000 iterations for PBKDF2-HMAC-SHA256 (OWASP), or scrypt/argon2.",
                )
    for node in ctx.nodes(ast.Assign):
        if any(isinstance(t, ast.Name) and t.id == "PASSWORD_HASHERS" for t in node.targets) \
                and isinstance(node.value, (ast.List, ast.Tuple)) and node.value.elts:
            first = node.value.elts[0]
            hasher = ctx.constant(first, None)
            if isinstance(hasher, str) and hasher.rpartition(".")[2] in _WEAK_DJANGO_HASHERS:
                yield Issue(
                    first,
                    message=f"`PASSWORD_HASHERS` puts `{hasher.rpartition('.')[2]}` first, so Django hashes every new "
                    "password with a single fast digest.",
                    fix="Put `django.contrib.auth.hashers.Argon2PasswordHasher` or `PBKDF2PasswordHasher` first; keep "
                    "the weak hasher later in the list only to verify old hashes.",
                )


# --- ciphers ---------------------------------------------------------------------------------

_CRYPTOGRAPHY_WEAK_ALGORITHMS = {
    "TripleDES": ("3DES", Severity.MEDIUM), "ARC4": ("RC4", Severity.HIGH), "Blowfish": ("Blowfish", Severity.MEDIUM),
    "CAST5": ("CAST5", Severity.MEDIUM), "IDEA": ("IDEA", Severity.MEDIUM), "SEED": ("SEED", Severity.MEDIUM),
    "RC2": ("RC2", Severity.HIGH),
}
_PYCRYPTO_WEAK_CIPHERS = {
    "DES": ("DES", Severity.HIGH), "DES3": ("3DES", Severity.MEDIUM), "ARC4": ("RC4", Severity.HIGH),
    "ARC2": ("RC2", Severity.HIGH), "Blowfish": ("Blowfish", Severity.MEDIUM), "CAST": ("CAST5", Severity.MEDIUM),
    "XOR": ("XOR", Severity.HIGH),
}
_PYDES = {"pyDes.des": ("DES", Severity.HIGH), "pyDes.triple_des": ("3DES", Severity.MEDIUM)}
_M2_WEAK_PREFIXES = {"des": "DES", "rc4": "RC4", "rc2": "RC2", "bf": "Blowfish", "cast": "CAST5", "idea": "IDEA"}


def _weak_cipher(ctx: ModuleContext, call) -> tuple[str, Severity] | None:
    name = call.name or ""
    head, _, last = name.rpartition(".")
    if name.startswith("cryptography.") and head.endswith(".algorithms") and last in _CRYPTOGRAPHY_WEAK_ALGORITHMS:
        return _CRYPTOGRAPHY_WEAK_ALGORITHMS[last]
    if last == "new" and head.startswith(("Crypto.Cipher.", "Cryptodome.Cipher.")):
        return _PYCRYPTO_WEAK_CIPHERS.get(head.rpartition(".")[2])
    if name in _PYDES:
        return _PYDES[name]
    if name == "M2Crypto.EVP.Cipher":
        algorithm = ctx.constant(call.arg(0, "alg"), None)
        if isinstance(algorithm, str):
            for prefix, label in _M2_WEAK_PREFIXES.items():
                if algorithm.lower().startswith(prefix):
                    return label, Severity.HIGH if label in ("DES", "RC4", "RC2") else Severity.MEDIUM
    return None


@rule(
    id="weak-cipher",
    bandit=("B304",), ruff=("S304",),
    cwe=327,
    severity="high",
    confidence="high",
    summary="Encryption with a broken or obsolete cipher (DES, 3DES, RC4, RC2, Blowfish, CAST5, IDEA)",
    relevant_in_tests=False,
)
def weak_cipher(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags ciphers that are broken or have 64-bit blocks: DES, 3DES (TripleDES, DES3), RC4 (ARC4),
    RC2 (ARC2), Blowfish, CAST5, IDEA, SEED and XOR, from `cryptography`
    (`algorithms.TripleDES`), PyCryptodome and PyCrypto (`Crypto.Cipher.DES.new`), pyDes and
    M2Crypto.

    ## Why it matters
    DES keys are found by exhaustive search in hours; RC4's keystream is biased enough to recover
    plaintext (RFC 7465 bans it from TLS); 64-bit block ciphers such as 3DES and Blowfish leak
    plaintext after a few tens of gigabytes under one key (Sweet32).

    ## Example
    ```python
    from Crypto.Cipher import DES
    cipher = DES.new(key, DES.MODE_CBC, iv)
    ```

    ## Fix
    Use AES-GCM or ChaCha20-Poly1305, e.g. `cryptography.hazmat.primitives.ciphers.aead.AESGCM(key)
    .encrypt(nonce, data, None)` with a fresh 12-byte nonce per message.

    ## References
    - CWE-327: Use of a Broken or Risky Cryptographic Algorithm
    - https://sweet32.info/
    - RFC 7465: Prohibiting RC4 Cipher Suites
    """
    for call in resolved_calls(ctx):
        found = _weak_cipher(ctx, call)
        if found is None:
            continue
        label, severity = found
        in_ecb = " in ECB mode" if _pycrypto_mode_is_ecb(ctx, call) else ""
        yield Issue(
            call.node,
            message=f"`{call.name}` encrypts with {label}{in_ecb}, a cipher that no longer protects confidentiality.",
            fix="Encrypt with AES-GCM (`cryptography.hazmat.primitives.ciphers.aead.AESGCM`) or ChaCha20-Poly1305, "
            "with a fresh random nonce per message.",
            severity=severity,
        )


def _pycrypto_mode_is_ecb(ctx: ModuleContext, call) -> bool:
    name = call.name or ""
    if not name.startswith(("Crypto.Cipher.", "Cryptodome.Cipher.")):
        return False
    mode = call.arg(1, "mode")
    if mode is None:
        return False
    return (ctx.qualname(mode) or "").endswith(".MODE_ECB") or ctx.constant(mode, None) == 1


@rule(
    id="ecb-mode",
    bandit=("B305",), ruff=("S305",),
    cwe=327,
    severity="medium",
    confidence="high",
    summary="Block cipher in ECB mode, which shows patterns of the plaintext",
    relevant_in_tests=False,
)
def ecb_mode(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags `cryptography`'s `modes.ECB()` and PyCryptodome's `AES.new(key, AES.MODE_ECB)`, and
    PyCrypto's `AES.new(key)` without a mode, whose default is ECB.  A weak cipher in ECB mode is
    reported once, by `weak-cipher`.

    ## Why it matters
    ECB encrypts equal plaintext blocks to equal ciphertext blocks, so the structure of the data
    shows through (the well-known ECB penguin), blocks can be cut, reordered and replayed, and
    a byte-at-a-time oracle recovers secrets appended to attacker input.

    ## Example
    ```python
    cipher = AES.new(key, AES.MODE_ECB)
    token = cipher.encrypt(pad(payload, 16))
    ```

    ## Fix
    Use an authenticated mode: `AES.new(key, AES.MODE_GCM)` (send `cipher.nonce` and the tag), or
    `cryptography`'s `AESGCM(key).encrypt(os.urandom(12), data, None)`.

    ## References
    - CWE-327: Use of a Broken or Risky Cryptographic Algorithm
    - NIST SP 800-38A, section 6.1
    """
    for call in resolved_calls(ctx):
        name = call.name or ""
        if name.startswith("cryptography.") and name.endswith(".modes.ECB"):
            yield Issue(
                call.node,
                message="`modes.ECB()` selects ECB mode, which encrypts equal blocks to equal ciphertext and "
                "reveals the structure of the data.",
                fix="Use `AESGCM(key).encrypt(nonce, data, associated_data)` from "
                "`cryptography.hazmat.primitives.ciphers.aead`, or `modes.GCM(nonce)`.",
            )
        elif name in ("Crypto.Cipher.AES.new", "Cryptodome.Cipher.AES.new"):
            if _pycrypto_mode_is_ecb(ctx, call):
                yield Issue(
                    call.node,
                    message=f"`{name}` is called with MODE_ECB, which encrypts equal blocks to equal ciphertext and "
                    "reveals the structure of the data.",
                    fix="Use `AES.new(key, AES.MODE_GCM)` and send `cipher.nonce` and the tag from "
                    "`encrypt_and_digest` with the ciphertext.",
                )
            elif call.arg(1, "mode") is None and len(call.node.args) == 1 and not call.node.keywords \
                    and name.startswith("Crypto."):
                yield Issue(
                    call.node,
                    message=f"`{name}` is called without a mode, which PyCrypto treats as ECB.",
                    fix="Pass an authenticated mode explicitly: `AES.new(key, AES.MODE_GCM)` (PyCryptodome).",
                    confidence=Confidence.MEDIUM,
                )


# --- key sizes -------------------------------------------------------------------------------

_ASYMMETRIC = "cryptography.hazmat.primitives.asymmetric."
# (algorithm, position of the size, keyword of the size)
_KEY_SIZE_CALLS = {
    _ASYMMETRIC + "rsa.generate_private_key": ("RSA", 1, "key_size"),
    _ASYMMETRIC + "dsa.generate_private_key": ("DSA", 0, "key_size"),
    _ASYMMETRIC + "dsa.generate_parameters": ("DSA", 0, "key_size"),
    _ASYMMETRIC + "dh.generate_parameters": ("DH", 1, "key_size"),
    "Crypto.PublicKey.RSA.generate": ("RSA", 0, "bits"),
    "Cryptodome.PublicKey.RSA.generate": ("RSA", 0, "bits"),
    "Crypto.PublicKey.DSA.generate": ("DSA", 0, "bits"),
    "Cryptodome.PublicKey.DSA.generate": ("DSA", 0, "bits"),
    "Crypto.PublicKey.ElGamal.generate": ("ElGamal", 0, "bits"),
    "Cryptodome.PublicKey.ElGamal.generate": ("ElGamal", 0, "bits"),
    "paramiko.RSAKey.generate": ("RSA", 0, "bits"),
    "paramiko.rsakey.RSAKey.generate": ("RSA", 0, "bits"),
    "paramiko.DSSKey.generate": ("DSA", 0, "bits"),
    "paramiko.dsskey.DSSKey.generate": ("DSA", 0, "bits"),
    "M2Crypto.RSA.gen_key": ("RSA", 0, "bits"),
    "M2Crypto.DSA.gen_params": ("DSA", 0, "bits"),
}
_DEFAULT_SIZES = {"paramiko.DSSKey.generate": 1024, "paramiko.dsskey.DSSKey.generate": 1024}
_MINIMUM_BITS = 2048
_SMALL_CURVES = {"SECP192R1": 192, "SECT163K1": 163, "SECT163R2": 163, "P-192": 192, "p192": 192,
                 "secp192r1": 192, "prime192v1": 192, "NIST P-192": 192}
_OPENSSL_KEY_TYPES = {"TYPE_RSA": "RSA", "TYPE_DSA": "DSA"}


def _key_size_issue(call, algorithm: str, bits: int, size_node: ast.AST | None) -> Issue:
    return Issue(
        size_node if size_node is not None else call.node,
        message=f"`{call.name or callee_name(call.node)}` generates a {bits}-bit {algorithm} key, below the "
        f"{_MINIMUM_BITS} bits needed to resist factoring and discrete-log attacks today.",
        fix=f"Generate at least a {_MINIMUM_BITS}-bit key (3072 for use beyond 2030), or use an elliptic-curve key "
        "such as `ec.generate_private_key(ec.SECP256R1())` or Ed25519.",
        severity=Severity.HIGH if bits < 1024 else Severity.MEDIUM,
    )


@rule(
    id="weak-key-size",
    bandit=("B505",), ruff=("S505",),
    cwe=326,
    severity="medium",
    confidence="high",
    summary="RSA, DSA or DH key shorter than 2048 bits, or an elliptic curve under 224 bits",
    relevant_in_tests=False,
)
def weak_key_size(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags key generation with a constant size under 2048 bits for RSA, DSA, DH and ElGamal
    (`cryptography`'s `rsa.generate_private_key(..., key_size=1024)`, PyCryptodome's
    `RSA.generate(1024)`, paramiko, M2Crypto, pyOpenSSL's `PKey.generate_key(TYPE_RSA, 1024)`)
    and elliptic-curve keys on curves under 224 bits (SECP192R1, SECT163K1, P-192).  A size
    that is not a constant is not reported.

    ## Why it matters
    512-bit RSA is factored in hours on rented machines and 768-bit RSA has been factored
    publicly; 1024-bit RSA, DSA and DH are within reach of well-funded attackers (Logjam) and
    are disallowed by NIST since 2013.  Anything signed or encrypted with such a key can be forged
    or read.

    ## Example
    ```python
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ```

    ## Fix
    Use `key_size=3072` (at least 2048), or an elliptic-curve key: `ec.generate_private_key(ec.SECP256R1())`
    or `ed25519.Ed25519PrivateKey.generate()`.

    ## References
    - CWE-326: Inadequate Encryption Strength
    - NIST SP 800-131A Rev. 2
    """
    for call in resolved_calls(ctx):
        name = call.name or ""
        spec = _KEY_SIZE_CALLS.get(name)
        if spec is not None:
            algorithm, position, keyword = spec
            size_node = call.arg(position, keyword)
            if size_node is None and call.arg(None, "key_size") is not None:
                size_node = call.arg(None, "key_size")
            bits = local_constant(ctx, size_node) if size_node is not None else _DEFAULT_SIZES.get(name)
            if isinstance(bits, int) and not isinstance(bits, bool) and 0 < bits < _MINIMUM_BITS:
                yield _key_size_issue(call, algorithm, bits, size_node)
            continue
        if name in (_ASYMMETRIC + "ec.generate_private_key", _ASYMMETRIC + "ec.derive_private_key"):
            curve = call.arg(0 if name.endswith("generate_private_key") else 1, "curve")
            curve_name = (ctx.qualname(curve.func) if isinstance(curve, ast.Call) else ctx.qualname(curve)) \
                if curve is not None else None
            short = (curve_name or "").rpartition(".")[2]
            if short in _SMALL_CURVES:
                yield _curve_issue(call, short, _SMALL_CURVES[short])
            continue
        if name in ("Crypto.PublicKey.ECC.generate", "Cryptodome.PublicKey.ECC.generate"):
            curve = ctx.constant(call.arg(None, "curve"), None)
            if isinstance(curve, str) and curve in _SMALL_CURVES:
                yield _curve_issue(call, curve, _SMALL_CURVES[curve])
            continue
        if call.method == "generate_key" and len(call.node.args) >= 2:
            key_type = (ctx.qualname(call.node.args[0]) or "").rpartition(".")[2]
            bits = ctx.constant(call.node.args[1], None)
            if key_type in _OPENSSL_KEY_TYPES and isinstance(bits, int) and 0 < bits < _MINIMUM_BITS:
                yield _key_size_issue(call, _OPENSSL_KEY_TYPES[key_type], bits, call.node.args[1])


def _curve_issue(call, curve: str, bits: int) -> Issue:
    return Issue(
        call.node,
        message=f"`{call.name}` generates a key on the {bits}-bit curve {curve}, below the 224 bits "
        "(112-bit security) required today.",
        fix="Use a curve of at least 256 bits: `ec.SECP256R1()` / `curve=\"P-256\"`, or Ed25519.",
        severity=Severity.MEDIUM,
    )


# --- initialisation vectors and nonces -----------------------------------------------------

# (position, keyword) of the IV or nonce, per constructor
_CRYPTOGRAPHY_IV_MODES = {"CBC": (0, "initialization_vector"), "CFB": (0, "initialization_vector"),
                          "OFB": (0, "initialization_vector"), "CFB8": (0, "initialization_vector"),
                          "CTR": (0, "nonce"), "GCM": (0, "initialization_vector")}
_AEAD_CLASSES = {"AESGCM", "ChaCha20Poly1305", "AESCCM", "AESOCB3", "AESSIV", "AESGCMSIV"}
_PYCRYPTO_IV_KEYWORDS = ("iv", "IV", "nonce")


def _constant_bytes(ctx: ModuleContext, node: ast.AST | None) -> bytes | str | None:
    value = local_constant(ctx, node)
    return value if isinstance(value, (bytes, str)) and value else None


def _aead_objects(ctx: ModuleContext) -> set[str]:
    """Names bound to an AEAD object: ``aead = AESGCM(key)``."""
    bound: set[str] = set()
    for node in ctx.nodes(ast.Assign):
        if isinstance(node.value, ast.Call) and callee_name(node.value) in _AEAD_CLASSES:
            name = ctx.qualname(node.value.func) or ""
            if name.startswith("cryptography.") and name.rpartition(".")[2] in _AEAD_CLASSES:
                bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return bound


@rule(
    id="static-iv",
    cwe=1204,
    severity="medium",
    confidence="high",
    summary="Constant initialisation vector or nonce, reused for every message",
    relevant_in_tests=False,
)
def static_iv(ctx: ModuleContext) -> Iterator[Issue]:
    """
    ## What it does
    Flags an IV or nonce that is a constant in the code: `modes.CBC(b"\\x00" * 16)`,
    `modes.GCM(b"fixed nonce!")`, `AESGCM(key).encrypt(b"0" * 12, data, None)`, and
    PyCryptodome's `AES.new(key, AES.MODE_CBC, iv=b"...")` or `nonce=b"..."`, including a
    constant bound once to a local variable.

    ## Why it matters
    An IV or nonce must differ for every message under one key.  With a fixed CBC IV, equal
    message prefixes give equal ciphertext prefixes; with a fixed CTR or GCM nonce, two
    ciphertexts XOR to the XOR of their plaintexts, and GCM's authentication key is recovered,
    so messages can be forged.

    ## Example
    ```python
    cipher = AES.new(key, AES.MODE_CBC, iv=b"\\x00" * 16)
    ```

    ## Fix
    Generate a fresh value per message with `os.urandom(16)` (CBC) or `os.urandom(12)` (GCM),
    send it with the ciphertext, and prefer an AEAD: `AESGCM(key).encrypt(nonce, data, aad)`.

    ## References
    - CWE-1204: Generation of Weak Initialization Vector (IV)
    - CWE-329: Generation of Predictable IV with CBC Mode
    - NIST SP 800-38D, section 8 (uniqueness of GCM nonces)
    """
    aead = _aead_objects(ctx)
    for call in resolved_calls(ctx):
        name = call.name or ""
        head, _, last = name.rpartition(".")
        iv_node: ast.AST | None = None
        if name.startswith("cryptography.") and head.endswith(".modes") and last in _CRYPTOGRAPHY_IV_MODES:
            position, keyword = _CRYPTOGRAPHY_IV_MODES[last]
            iv_node = call.arg(position, keyword)
        elif call.method in ("encrypt",) and isinstance(call.node.func, ast.Attribute):
            receiver = call.node.func.value
            receiver_name = ctx.qualname(receiver.func) if isinstance(receiver, ast.Call) else None
            if (isinstance(receiver, ast.Name) and receiver.id in aead) or (
                    receiver_name and receiver_name.startswith("cryptography.")
                    and receiver_name.rpartition(".")[2] in _AEAD_CLASSES):
                iv_node = call.arg(0, "nonce")
        elif last == "new" and head.startswith(("Crypto.Cipher.", "Cryptodome.Cipher.")):
            iv_node = next((call.arg(None, k) for k in _PYCRYPTO_IV_KEYWORDS if call.arg(None, k) is not None), None)
            if iv_node is None and len(call.node.args) >= 3:
                iv_node = call.node.args[2]
        if iv_node is None or _constant_bytes(ctx, iv_node) is None:
            continue
        yield Issue(
            iv_node,
            message=f"`{ast.unparse(call.node.func)}` gets the constant IV/nonce `{ast.unparse(iv_node)}`, so every "
            "message under this key reuses it.",
            fix="Generate a fresh IV per message (`iv = os.urandom(16)`, or `os.urandom(12)` for GCM) and store it "
            "alongside the ciphertext.",
        )
