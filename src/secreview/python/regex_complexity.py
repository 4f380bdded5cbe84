"""How a regular expression backtracks, decided from its structure alone.

The pattern is parsed with the standard library's own regex parser (``re._parser``, formerly
``sre_parse``), so the analysis sees the tree the engine runs, with the parser's rewrites
applied: ``(\\w|\\d)`` becomes one character class and ``(a|a)`` becomes ``a(?:|)``.  Nothing
is compiled and nothing is matched against input.

Two shapes are reported:

- **exponential**: a group repeated without a useful bound whose body can match the same text
  in more than one way: a nested unbounded repeat (``(a+)+``, ``(\\w+\\s?)+``), or alternatives
  that match a common string (``(.|\\s)*``, ``(a|aa)+``).  Each extra character doubles the work
  when the rest of the pattern then fails.
- **polynomial**: two unbounded repeats of overlapping single characters with nothing that must
  match between them (``\\d+\\d+x``, ``.*.*=``): the split point between them is tried at every
  position, quadratic in the input.

Both need something after the repeat that can fail (``$``, a literal, the end of a
``fullmatch``); ``re.search(r"(a+)+", s)`` succeeds greedily and never backtracks.  Possessive
repeats and atomic groups (Python 3.11+) do not backtrack and are never reported.

Characters are judged over a small alphabet: ASCII, a few non-ASCII representatives (letters,
digits, spaces) and every code point the pattern names (with its neighbours), so two classes
are taken to overlap exactly when they share one of those characters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

try:  # Python 3.11+
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse as _sre  # type: ignore[no-redef]

_MAXREPEAT = _sre.MAXREPEAT
_LARGE = 16  # a repeat allowing more than this many iterations is treated as unbounded
_MAX_PATTERN = 10_000
_MAX_EXTRA = 512  # code points named by the pattern that join the alphabet
_FLAG_I = 2   # re.IGNORECASE
_FLAG_S = 16  # re.DOTALL
_REPRESENTATIVES = (0xA0, 0xB2, 0xC9, 0xE9, 0x2028, 0x3000, 0x416, 0x436, 0x663, 0x4E2D, 0xFF10, 0x10000)


@dataclass(frozen=True)
class Backtracking:
    """A sub-pattern that backtracks catastrophically, and how to show and fix it."""

    kind: str         # "exponential" or "polynomial"
    fragment: str     # the sub-pattern, written back as regex text
    reason: str       # what makes it ambiguous, in words
    attack: str       # a Python expression for an input that triggers it
    rewrite: str      # a suggested rewrite, in words with code
    certain: bool = True  # False where the overlap is inferred from character sets, not exact


def _name(op: object) -> str:
    return str(op)


class _Analysis:
    def __init__(self, parsed, flags: int) -> None:
        self.flags = flags | parsed.state.flags
        codes = set(range(128)) | set(_REPRESENTATIVES)
        self._collect(parsed.data, codes)
        extra = sorted(c for c in codes if 128 <= c <= 0x10FFFF and c not in _REPRESENTATIVES)
        # a pattern naming thousands of code points keeps the first few hundred: overlaps beyond
        # them may go unseen, which only costs findings, never invents one
        self.alphabet = sorted(set(range(128)) | set(_REPRESENTATIVES) | set(extra[:_MAX_EXTRA]))
        self.all = (1 << len(self.alphabet)) - 1
        self.found: list[Backtracking] = []
        self.prefix = ""
        self.everything = 0
        self.body_only = 0
        self._memo: dict[int, tuple] = {}
        self._charsets: dict[tuple, tuple] = {}

    # --- alphabet and character sets ------------------------------------------------------

    def _collect(self, items, codes: set[int]) -> None:
        for op, av in items:
            name = _name(op)
            if name in ("LITERAL", "NOT_LITERAL"):
                codes.update((av - 1, av, av + 1))
                ch = chr(av)
                codes.update(ord(v) for v in (ch.lower(), ch.upper()) if len(v) == 1)
            elif name == "RANGE":
                lo, hi = av
                codes.update((lo - 1, lo, hi, hi + 1))
            elif name == "IN":
                self._collect(av, codes)
            for child in _children(op, av):
                self._collect(child, codes)

    def _mask(self, test) -> int:
        mask = 0
        ignore_case = self.flags & _FLAG_I
        for i, code in enumerate(self.alphabet):
            ch = chr(code)
            if test(ch) or (ignore_case and any(test(v) for v in (ch.lower(), ch.upper(), ch.swapcase())
                                                 if len(v) == 1)):
                mask |= 1 << i
        return mask

    def charset(self, op, av) -> int | None:
        """The characters a single-character item matches, None for anything else."""
        key = (_name(op), av if isinstance(av, int) or av is None else id(av))
        if key in self._charsets:
            return self._charsets[key][0]
        result = self._charset(op, av)
        self._charsets[key] = (result, av)  # keep av alive so its id stays unique
        return result

    def _charset(self, op, av) -> int | None:
        name = _name(op)
        if name == "LITERAL":
            return self._mask(lambda c: ord(c) == av)
        if name == "NOT_LITERAL":
            return self._mask(lambda c: ord(c) != av)
        if name == "ANY":
            dotall = self.flags & _FLAG_S
            return self._mask(lambda c: dotall or c != "\n")
        if name == "IN":
            negate = bool(av) and _name(av[0][0]) == "NEGATE"
            members = av[1:] if negate else av
            tests = [_member_test(o, a) for o, a in members]
            inside = self._mask(lambda c: any(t(c) for t in tests))
            return self.all & ~inside if negate else inside
        return None

    # --- properties of sub-patterns --------------------------------------------------------

    def info(self, seq) -> tuple[bool, int, int, int, bool]:
        """(nullable, first characters, all characters, max length or -1, can fail)."""
        key = id(seq)
        if key in self._memo:
            return self._memo[key][1]
        nullable, first, chars, longest, fails = True, 0, 0, 0, False
        for op, av in seq:
            n, f, c, m, x = self.item_info(op, av)
            if nullable:
                first |= f
            nullable = nullable and n
            chars |= c
            longest = -1 if longest < 0 or m < 0 else longest + m
            fails = fails or x
        result = (nullable, first, chars, longest, fails)
        self._memo[key] = (seq, result)  # keep seq alive so its id stays unique
        return result

    def item_info(self, op, av) -> tuple[bool, int, int, int, bool]:
        single = self.charset(op, av)
        if single is not None:
            return False, single, single, 1, True
        name = _name(op)
        if name == "SUBPATTERN":
            return self.info(av[-1])
        if name == "ATOMIC_GROUP":
            return self.info(av)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            n, f, c, m, x = self.info(body)
            if hi == 0:
                return True, 0, 0, 0, False
            longest = -1 if hi == _MAXREPEAT or m < 0 else m * hi
            return lo == 0 or n, f, c, longest, lo > 0 and x
        if name == "BRANCH":
            parts = [self.info(alt) for alt in av[1]]
            return (any(p[0] for p in parts), _union(p[1] for p in parts), _union(p[2] for p in parts),
                    -1 if any(p[3] < 0 for p in parts) else max((p[3] for p in parts), default=0),
                    all(p[4] for p in parts))
        if name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF", "GROUPREF_EXISTS"):
            return True, 0, 0, 0, True
        return True, 0, 0, 0, False  # unknown: matches empty, never fails

    def over(self, seq, allowed: int) -> tuple[bool, bool]:
        """(can match empty, can match a non-empty string) using only characters of ``allowed``."""
        empty, nonempty_parts, possible = True, False, True
        for op, av in seq:
            e, n = self.item_over(op, av, allowed)
            if not (e or n):
                return False, False
            empty = empty and e
            nonempty_parts = nonempty_parts or n
        return empty, nonempty_parts and possible

    def item_over(self, op, av, allowed: int) -> tuple[bool, bool]:
        single = self.charset(op, av)
        if single is not None:
            return False, bool(single & allowed)
        name = _name(op)
        if name == "SUBPATTERN":
            return self.over(av[-1], allowed)
        if name == "ATOMIC_GROUP":
            return self.over(av, allowed)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = av
            e, n = self.over(body, allowed)
            return lo == 0 or e, n and hi > 0
        if name == "BRANCH":
            parts = [self.over(alt, allowed) for alt in av[1]]
            return any(p[0] for p in parts), any(p[1] for p in parts)
        return True, False  # zero-width

    def min_length(self, seq) -> int:
        total = 0
        for op, av in seq:
            if self.charset(op, av) is not None:
                total += 1
                continue
            name = _name(op)
            if name == "SUBPATTERN":
                total += self.min_length(av[-1])
            elif name == "ATOMIC_GROUP":
                total += self.min_length(av)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                total += av[0] * self.min_length(av[2])
            elif name == "BRANCH":
                total += min((self.min_length(alt) for alt in av[1]), default=0)
        return total

    def fixed(self, seq) -> list[int] | None:
        """The character set at each position when ``seq`` matches strings of one length only."""
        out: list[int] = []
        for op, av in seq:
            single = self.charset(op, av)
            if single is not None:
                out.append(single)
                continue
            name = _name(op)
            if name == "SUBPATTERN":
                inner = self.fixed(av[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT") and av[0] == av[1] and av[0] <= _LARGE:
                body = self.fixed(av[2])
                inner = None if body is None else body * av[0]
            elif name == "AT":
                inner = []
            elif name == "BRANCH":
                options = [self.fixed(alt) for alt in av[1]]
                if options and all(o is not None and len(o) == len(options[0]) for o in options):
                    inner = [_union(column) for column in zip(*options)] if options[0] else []
                else:
                    inner = None
            else:
                inner = None
            if inner is None:
                return None
            out.extend(inner)
        return out

    @property
    def exponential(self) -> bool:
        return any(f.kind == "exponential" for f in self.found)

    # --- the search ---------------------------------------------------------------------------

    def walk(self, seq, after_fails: bool, prefix: str = "") -> None:
        """Visit ``seq``; ``after_fails``: something after ``seq`` can fail and force backtracking;
        ``prefix``: a shortest text that reaches ``seq`` (for the attack input)."""
        items = list(seq)
        fails_after = [after_fails] * (len(items) + 1)  # fails_after[i]: something from items[i] on can fail
        for k in range(len(items) - 1, -1, -1):
            fails_after[k] = fails_after[k + 1] or self.item_info(*items[k])[4]
        for i, (op, av) in enumerate(items):
            if i:
                prefix += self.shortest([items[i - 1]])
            self.prefix = prefix
            rest_fails = fails_after[i + 1]
            name = _name(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT"):
                lo, hi, body = av
                if (hi == _MAXREPEAT or hi > _LARGE) and rest_fails:
                    self.check_repeat(op, av)
                if not self.exponential:
                    self.walk(body, rest_fails, prefix)
            elif name == "POSSESSIVE_REPEAT":
                self.walk(av[2], False, prefix)
            elif name == "SUBPATTERN":
                self.walk(av[-1], rest_fails, prefix)
            elif name == "ATOMIC_GROUP":
                self.walk(av, False, prefix)
            elif name == "BRANCH":
                for alt in av[1]:
                    self.walk(alt, rest_fails, prefix)
            elif name in ("ASSERT", "ASSERT_NOT"):
                self.walk(av[1], False, prefix)
            elif name == "GROUPREF_EXISTS":
                for part in av[1:]:
                    if part is not None:
                        self.walk(part, rest_fails, prefix)
            if self.exponential:
                return
            if rest_fails and name in ("MAX_REPEAT", "MIN_REPEAT") and i + 1 < len(items) and not self.found:
                self.check_adjacent(items, i, fails_after)

    def check_repeat(self, op, av) -> None:
        lo, hi, body = av
        whole = [(op, av)]
        self.body_only = self.info(body)[2]
        self.breaking = self.breaker(self.info(body)[2] | self.everything)
        if self.overlapping_branch(whole, body, self.flat(body)):
            return
        for alternative in self.alternatives(body):
            if self.nested_repeat(whole, alternative) or self.overlapping_branch(whole, body, alternative):
                return

    def flat(self, seq) -> list:
        flat: list = []
        for op, av in seq:
            if _name(op) == "SUBPATTERN":
                flat.extend(self.flat(av[-1]))
            else:
                flat.append((op, av))
        return flat

    def attack(self, pump: str, count: int = 30) -> str:
        head = f"{_pyrepr(self.prefix)} + " if self.prefix else ""
        if not self.breaking:
            return f"`{head}{_pyrepr(pump)} * {count}` (with nothing after it that the rest of the pattern accepts)"
        tail = self.breaking * 2 if self.breaking == "\n" else self.breaking
        return f"`{head}{_pyrepr(pump)} * {count} + {_pyrepr(tail)}`"

    def witness(self, seq) -> str:
        fixed = self.fixed(seq)
        if fixed:
            return "".join(self.sample(m) for m in fixed)
        return self.sample(self.info(seq)[1])

    def alternatives(self, seq) -> list[list]:
        """``seq`` flattened through plain groups, one list of items per top-level alternative."""
        flat = self.flat(seq)
        if len(flat) == 1 and _name(flat[0][0]) == "BRANCH":
            out: list[list] = []
            for alt in flat[0][1][1]:
                out.extend(self.alternatives(alt))
            return out
        return [flat]

    def nested_repeat(self, whole, items) -> bool:
        for j, (op, av) in enumerate(items):
            if _name(op) not in ("MAX_REPEAT", "MIN_REPEAT"):
                continue
            lo, hi, inner = av
            if not (hi == _MAXREPEAT or hi > _LARGE):
                continue
            n, f, c, m, x = self.info(inner)
            if not c:
                continue
            others = items[:j] + items[j + 1:]
            single = len(inner) == 1 and self.charset(*inner[0]) is not None
            if single:
                ok = all(any(self.item_over(o, a, c)) for o, a in others)
            else:
                ok = all(self.item_info(o, a)[0] for o, a in others)
            if not ok:
                continue
            mask = c
            for o, a in others:
                n_o, _, c_o, _, _ = self.item_info(o, a)
                if not n_o and c_o & mask:
                    mask &= c_o
            pump = self.sample(mask)
            if any(not self.item_info(o, a)[0] for o, a in others):
                pump = self.shortest(items) or pump  # each iteration needs the rest: repeat the whole body
            fragment = unparse(whole)
            inner_text = unparse([(op, av)])
            rest = [it for it in others if self.item_info(*it)[2]]
            if not others:
                rewrite = (f"drop the outer repetition: `{inner_text}` matches the same text once")
            elif len(rest) == 1 and _name(rest[0][0]) in ("MAX_REPEAT", "MIN_REPEAT") and rest[0][1][0] == 0 \
                    and rest[0][1][1] == 1 and not (self.info(rest[0][1][2])[2] & c) and others[-1] is rest[0]:
                separator = unparse(rest[0][1][2])
                rewrite = (f"make each repetition start unambiguously, e.g. `{inner_text}(?:{separator}{inner_text})*`")
            else:
                rewrite = ("make the repetition unambiguous so each character can belong to one iteration only")
            self.found.append(Backtracking(
                kind="exponential", fragment=fragment,
                reason=f"the nested repeat `{inner_text}` inside the repeated group lets a run of "
                       f"{_describe(pump)} be split between iterations in exponentially many ways",
                attack=self.attack(pump),
                rewrite=rewrite))
            return True
        return False

    def overlapping_branch(self, whole, body, items) -> bool:
        """Alternatives under the repeat that match a common string."""
        for branch in self.branches(items):
            alts = branch[1]
            only = self.alternatives(body)
            alone = len(only) == len(alts) or len(items) == 1  # the branch is the whole body
            pairs = [(a, b, self.common(alts[a], alts[b], alone))
                     for a in range(len(alts)) for b in range(a + 1, len(alts))]
            pairs = sorted((p for p in pairs if p[2] is not None), key=lambda p: not p[2][2])  # exact first
            for a, b, common in pairs[:1]:
                if True:
                    fragment = unparse(whole)
                    singles = [self.charset(*alt[0]) if len(alt) == 1 else None for alt in alts]
                    if all(s is not None for s in singles):
                        if any(_name(alt[0][0]) == "ANY" for alt in alts):
                            merged = "(?s:.)" if _union(singles) == self.all else "."
                        else:
                            merged = "[" + "".join(_class_body(alt[0]) for alt in alts) + "]"
                        rewrite = f"merge the alternatives into one character class: `{merged}` repeated once"
                    else:
                        rewrite = "make the alternatives mutually exclusive so only one can match at each position"
                    if not alts[a] and not alts[b]:
                        pair = ("left by the parser after it factors out their common prefix (both empty)")
                    else:
                        pair = f"`{unparse(alts[a]) or '(empty)'}` and `{unparse(alts[b]) or '(empty)'}`"
                    self.found.append(Backtracking(
                        kind="exponential", fragment=fragment, certain=common[2],
                        reason=f"the alternatives {pair} both match {common[0]}, so each repetition can take "
                               "either and the ways to match grow exponentially",
                        attack=self.attack(common[1] or self.witness(body)),
                        rewrite=rewrite))
                    return True
        return False

    def branches(self, items):
        for op, av in items:
            name = _name(op)
            if name == "BRANCH":
                yield av
            elif name == "SUBPATTERN":
                yield from self.branches(av[-1])

    def common(self, a, b, alone: bool) -> tuple[str, str, bool] | None:
        """A description and a pump expression of a string both alternatives match, or None."""
        fa, fb = self.fixed(a), self.fixed(b)
        if fa is not None and fb is not None:
            if len(fa) == len(fb) and all(x & y for x, y in zip(fa, fb)):
                if not fa:
                    return "the empty string", "", True  # ambiguous as soon as the rest of the body is not empty
                text = "".join(self.sample(x & y) for x, y in zip(fa, fb))
                return f"`{_printable(text)}`", text, True
            if not alone:
                return None
        na, fa_first, ca, ma, _ = self.info(a)
        nb, fb_first, cb, mb, _ = self.info(b)
        shared = ca & cb
        if not shared or not (fa_first & fb_first & shared):
            return None
        if not (self.over(a, shared)[1] and self.over(b, shared)[1]):
            return None
        if not alone:
            # the same string, not only concatenations: the lengths must be able to agree
            lo_a, lo_b = self.min_length(a), self.min_length(b)
            if (ma >= 0 and ma < lo_b) or (mb >= 0 and mb < lo_a):
                return None
        pump = self.sample(fa_first & fb_first & shared)
        return f"runs of {_describe(pump)}", pump, False

    def check_adjacent(self, items, i, fails_after: list[bool]) -> None:
        op, av = items[i]
        lo, hi, body = av
        if not (hi == _MAXREPEAT or hi > _LARGE) or len(body) != 1:
            return
        first = self.charset(*body[0])
        if first is None:
            return
        for j in range(i + 1, len(items)):
            o, a = items[j]
            if _name(o) in ("MAX_REPEAT", "MIN_REPEAT") and (a[1] == _MAXREPEAT or a[1] > _LARGE) \
                    and len(a[2]) == 1 and self.charset(*a[2][0]) is not None:
                shared = first & self.charset(*a[2][0])
                rest_fails = fails_after[j + 1]
                between_ok = all(any(self.item_over(p, q, shared)) for p, q in items[i + 1:j])
                if shared and rest_fails and between_ok:
                    self.body_only = first | self.charset(*a[2][0])
                    self.breaking = self.breaker(first | self.charset(*a[2][0]) | self.everything)
                    pump = self.sample(shared)
                    self.found.append(Backtracking(
                        kind="polynomial", fragment=unparse(items[i:j + 1]),
                        reason=f"`{unparse([items[i]])}` and `{unparse([items[j]])}` both match runs of "
                               f"{_describe(pump)}, and every split between them is tried",
                        attack=self.attack(pump, 10000),
                        rewrite=f"keep one of the two repeats, or make them match disjoint characters"))
                return
            if not self.item_info(o, a)[0]:
                return

    # --- samples ------------------------------------------------------------------------------

    def sample(self, mask: int) -> str:
        preferred = "a0 _-.x!\n"
        for ch in preferred:
            if ord(ch) in self.alphabet and mask >> self.alphabet.index(ord(ch)) & 1:
                return ch
        for i, code in enumerate(self.alphabet):
            if mask >> i & 1:
                return chr(code)
        return "a"

    def shortest(self, seq) -> str:
        """A shortest text ``seq`` matches (an approximation: zero-width items are skipped)."""
        out = []
        for op, av in seq:
            single = self.charset(op, av)
            name = _name(op)
            if single is not None:
                out.append(self.sample(single))
            elif name == "SUBPATTERN":
                out.append(self.shortest(av[-1]))
            elif name == "ATOMIC_GROUP":
                out.append(self.shortest(av))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                out.append(self.shortest(av[2]) * min(av[0], _LARGE))
            elif name == "BRANCH" and av[1]:
                out.append(min((self.shortest(alt) for alt in av[1]), key=len))
        return "".join(out)

    def breaker(self, mask: int) -> str:
        """A character outside ``mask``, to make the rest of the pattern fail."""
        if mask & ~self.body_only and not (self.all & ~mask):
            mask = self.body_only  # every character appears somewhere: settle for one the group rejects
        return self.sample(self.all & ~mask) if self.all & ~mask else ""


def _union(masks) -> int:
    total = 0
    for m in masks:
        total |= m
    return total


def _children(op, av):
    name = _name(op)
    if name == "SUBPATTERN":
        yield av[-1]
    elif name == "ATOMIC_GROUP":
        yield av
    elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        yield av[2]
    elif name == "BRANCH":
        yield from av[1]
    elif name in ("ASSERT", "ASSERT_NOT"):
        yield av[1]
    elif name == "GROUPREF_EXISTS":
        yield from (p for p in av[1:] if p is not None)


def _member_test(op, av):
    name = _name(op)
    if name == "LITERAL":
        return lambda c: ord(c) == av
    if name == "RANGE":
        lo, hi = av
        return lambda c: lo <= ord(c) <= hi
    if name == "CATEGORY":
        return _category_test(_name(av))
    return lambda c: False


def _category_test(name: str):
    negate = "_NOT_" in name
    if "DIGIT" in name:
        base = str.isdecimal
    elif "SPACE" in name:
        base = lambda c: c.isspace() or c in "\x1c\x1d\x1e\x1f"  # noqa: E731
    elif "WORD" in name:
        base = lambda c: c.isalnum() or c == "_"  # noqa: E731
    elif "LINEBREAK" in name:
        base = lambda c: c == "\n"  # noqa: E731
    else:
        return lambda c: False
    return (lambda c: not base(c)) if negate else base


# --- writing a parsed pattern back as text -----------------------------------------------------

_CATEGORY_TEXT = {"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s", "NOT_SPACE": r"\S", "WORD": r"\w",
                  "NOT_WORD": r"\W"}
_AT_TEXT = {"AT_BEGINNING": "^", "AT_BEGINNING_LINE": "^", "AT_BEGINNING_STRING": r"\A", "AT_END": "$",
            "AT_END_LINE": "$", "AT_END_STRING": r"\Z", "AT_BOUNDARY": r"\b", "AT_NON_BOUNDARY": r"\B",
            "AT_UNI_BOUNDARY": r"\b", "AT_UNI_NON_BOUNDARY": r"\B", "AT_LOC_BOUNDARY": r"\b",
            "AT_LOC_NON_BOUNDARY": r"\B"}


def _category_text(av) -> str:
    name = _name(av).replace("CATEGORY_", "").replace("UNI_", "").replace("LOC_", "")
    return _CATEGORY_TEXT.get(name, "?")


def _char_text(code: int, in_class: bool = False) -> str:
    ch = chr(code)
    special = "\\]^-[" if in_class else "\\.^$*+?{}[]()|"
    if ch in special:
        return "\\" + ch
    if ch == "\n":
        return r"\n"
    if ch == "\t":
        return r"\t"
    if ch == "\r":
        return r"\r"
    if not ch.isprintable() or ch == " " and not in_class:
        return ch if ch == " " else f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"
    return ch


def _class_body(item) -> str:
    """The inside of a character class for a single-character item (for merging alternatives)."""
    op, av = item
    name = _name(op)
    if name == "LITERAL":
        return _char_text(av, in_class=True)
    if name == "IN" and not (av and _name(av[0][0]) == "NEGATE"):
        return "".join(_member_text(o, a) for o, a in av)
    return unparse([item])


def _member_text(op, av) -> str:
    name = _name(op)
    if name == "LITERAL":
        return _char_text(av, in_class=True)
    if name == "RANGE":
        return f"{_char_text(av[0], True)}-{_char_text(av[1], True)}"
    if name == "CATEGORY":
        return _category_text(av)
    return ""


def unparse(seq) -> str:
    """Regex text for a parsed (sub-)pattern; groups lose their names, not their meaning."""
    return "".join(_unparse_item(op, av, len(seq) > 1) for op, av in seq)


def _unparse_item(op, av, in_sequence: bool) -> str:
    name = _name(op)
    if name == "LITERAL":
        return _char_text(av)
    if name == "NOT_LITERAL":
        return f"[^{_char_text(av, True)}]"
    if name == "ANY":
        return "."
    if name == "IN":
        if len(av) == 1 and _name(av[0][0]) == "CATEGORY":
            return _category_text(av[0][1])
        negate = bool(av) and _name(av[0][0]) == "NEGATE"
        members = av[1:] if negate else av
        return "[" + ("^" if negate else "") + "".join(_member_text(o, a) for o, a in members) + "]"
    if name == "SUBPATTERN":
        group = av[0]
        return ("(" if group is not None else "(?:") + unparse(av[-1]) + ")"
    if name == "ATOMIC_GROUP":
        return "(?>" + unparse(av) + ")"
    if name == "BRANCH":
        text = "|".join(unparse(alt) for alt in av[1])
        return f"(?:{text})" if in_sequence else text
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        lo, hi, body = av
        inner = unparse(body)
        simple = len(body) == 1 and _name(body[0][0]) in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "SUBPATTERN",
                                                         "ATOMIC_GROUP")
        if not simple:
            inner = f"(?:{inner})"
        if (lo, hi) == (0, _MAXREPEAT):
            quant = "*"
        elif (lo, hi) == (1, _MAXREPEAT):
            quant = "+"
        elif (lo, hi) == (0, 1):
            quant = "?"
        elif hi == _MAXREPEAT:
            quant = f"{{{lo},}}"
        elif lo == hi:
            quant = f"{{{lo}}}"
        else:
            quant = f"{{{lo},{hi}}}"
        suffix = "?" if name == "MIN_REPEAT" else "+" if name == "POSSESSIVE_REPEAT" else ""
        return inner + quant + suffix
    if name == "AT":
        return _AT_TEXT.get(_name(av), "")
    if name in ("ASSERT", "ASSERT_NOT"):
        direction, body = av
        head = ("(?=" if direction == 1 else "(?<=") if name == "ASSERT" else ("(?!" if direction == 1 else "(?<!")
        return head + unparse(body) + ")"
    if name == "GROUPREF":
        return f"\\{av}"
    return "(?...)"


def _describe(ch: str) -> str:
    return f"`{_printable(ch)}`"


def _printable(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() or text.strip() != text \
        else text


def _pyrepr(text: str) -> str:
    return repr(text)


# --- entry point -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def analyse(pattern: str | bytes, flags: int = 0, fullmatch: bool = False) -> Backtracking | None:
    """The first catastrophic backtracking found in ``pattern``, or None (also when it does not parse).

    ``fullmatch``: the pattern must match the whole string (``re.fullmatch``), so its end can fail.
    """
    if isinstance(pattern, bytes):
        try:
            pattern = pattern.decode("latin-1")
        except Exception:  # pragma: no cover
            return None
    if not isinstance(pattern, str) or len(pattern) > _MAX_PATTERN:
        return None
    try:
        parsed = _sre.parse(pattern, flags & ~0x100)  # never re.DEBUG
    except Exception:
        return None  # not a valid pattern (or too deep): nothing to say about its complexity
    try:
        analysis = _Analysis(parsed, flags)
        analysis.everything = analysis.info(parsed.data)[2]
        analysis.walk(parsed.data, fullmatch)
    except RecursionError:
        return None
    found = analysis.found
    exponential = [f for f in found if f.kind == "exponential"]
    return (exponential or found or [None])[0]
