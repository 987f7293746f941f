"""Example strings that a regular expression accepts, for the coverage-guided input search.

Functions often guard a branch with a regex (``if _pat.search(text): raise ...``); random
strings almost never take that branch, so we walk the pattern's parse tree and build strings
it accepts. The walk is a heuristic (lookarounds, unicode categories, case folding), so every
example is checked with ``re.search`` and a wrong guess costs an example, never a bad one (except
for patterns with a repeat inside a repeat, which could backtrack for ages here: theirs go unchecked).
"""

from __future__ import annotations

import ast
import random
import re
import string
from collections.abc import Callable
from itertools import islice

try:  # Python 3.11 moved the parser under ``re``; older versions only have the top-level one.
    import re._constants as C
    import re._parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_DEPTH = 30
# Readable characters first so examples look like real input; latin-1 and beyond come last,
# only for negated classes that exclude all of ASCII.
LATIN = "".join(map(chr, range(128, 768)))
NICE = "".join(dict.fromkeys("ax0 -Z_.9!b1" + string.printable + LATIN))
_WORD = string.ascii_letters + string.digits + "_"
_CATEGORIES: dict[object, tuple[str, bool]] = {
    C.CATEGORY_DIGIT: (string.digits, True), C.CATEGORY_NOT_DIGIT: (string.digits, False),
    C.CATEGORY_SPACE: (" \t\n\r\f\v", True), C.CATEGORY_NOT_SPACE: (" \t\n\r\f\v", False),
    C.CATEGORY_WORD: (_WORD, True), C.CATEGORY_NOT_WORD: (_WORD, False),
    C.CATEGORY_LINEBREAK: ("\n", True), C.CATEGORY_NOT_LINEBREAK: ("\n", False),
}
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}
_ATOMIC = getattr(C, "ATOMIC_GROUP", None)


class _GiveUp(Exception):
    """The pattern needs more depth or length than allowed, or uses an opcode we do not model."""


def _in_category(category: object, ch: str) -> bool:
    members, positive = _CATEGORIES[category]
    return (ch in members) == positive


def _in_class(items: list, ch: str) -> bool:
    code = ord(ch)
    for op, av in items:
        if op is C.LITERAL and code == av or op is C.RANGE and av[0] <= code <= av[1]:
            return True
        if op is C.CATEGORY and _in_category(av, ch):
            return True
        if op not in (C.LITERAL, C.RANGE, C.CATEGORY):
            raise _GiveUp(op)
    return False


class _Builder:
    """One example under construction; ``minimal`` takes the least of every choice."""

    def __init__(self, rng: random.Random, *, minimal: bool, dotall: bool, max_len: int) -> None:
        self.rng, self.minimal, self.dotall, self.max_len = rng, minimal, dotall, max_len
        self.out: list[str] = []
        self.size = 0
        self.groups: dict[int, str] = {}

    def emit(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.max_len:  # also what stops huge repeats early
            raise _GiveUp("too long")
        self.out.append(text)

    def pick(self, ok: Callable[[str], bool]) -> str:
        fits = list(islice((ch for ch in NICE if ok(ch)), 6))
        if not fits:
            raise _GiveUp("no character fits")
        return fits[0] if self.minimal else self.rng.choice(fits)

    def one_of(self, items: list) -> str:
        if items and items[0][0] is C.NEGATE:
            return self.pick(lambda ch: not _in_class(items[1:], ch))
        op, av = items[0] if self.minimal else self.rng.choice(items)
        if op is C.LITERAL:
            return chr(av)
        if op is C.RANGE:
            lo, hi = max(av[0], 32), min(av[1], 126)  # the printable part when there is one
            return chr(self.rng.randint(lo, hi) if lo <= hi else self.rng.randint(*av))
        if op is C.CATEGORY:
            return self.pick(lambda ch: _in_category(av, ch))
        raise _GiveUp(op)

    def walk(self, items: list, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _GiveUp("too deep")
        for op, av in items:
            if op is C.LITERAL:
                self.emit(chr(av))
            elif op is C.NOT_LITERAL:
                self.emit(self.pick(lambda ch, av=av: ord(ch) != av))
            elif op is C.ANY:
                self.emit(self.pick(lambda ch: self.dotall or ch != "\n"))
            elif op is C.IN:
                self.emit(self.one_of(av))
            elif op is C.BRANCH:
                self.walk(av[1][0] if self.minimal else self.rng.choice(av[1]), depth + 1)
            elif op is C.SUBPATTERN:
                start = len(self.out)
                self.walk(av[-1], depth + 1)
                if av[0] is not None:
                    self.groups[av[0]] = "".join(self.out[start:])
            elif op in _REPEATS:
                lo, hi, body = av
                count = lo if self.minimal else self.rng.randint(lo, min(hi, lo + 3))
                for _ in range(count):
                    before = self.size
                    self.walk(body, depth + 1)
                    if self.size == before:  # an empty pass can repeat empty; skip the rest
                        break
            elif op is C.GROUPREF:
                self.emit(self.groups[av])  # an unset group can never match: KeyError gives up
            elif op is C.GROUPREF_EXISTS:
                group, yes, no = av
                side = yes if group in self.groups else no
                if side is not None:
                    self.walk(side, depth + 1)
            elif op is C.ASSERT:
                # Emitting a positive lookaround's text in place is usually right: a lookahead
                # at the end or a lookbehind before its match; verification drops the rest.
                self.walk(av[1], depth + 1)
            elif op is _ATOMIC:
                self.walk(av, depth + 1)
            elif op not in (C.AT, C.ASSERT_NOT):
                raise _GiveUp(op)


def _nested_repeat(items: list, inside: bool, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return True
    for op, av in items:
        repeat = op in _REPEATS
        if repeat and inside:
            return True
        for child in av if isinstance(av, (list, tuple)) else ():
            if isinstance(child, sre_parse.SubPattern) and _nested_repeat(list(child), inside or repeat, depth + 1):
                return True
            if isinstance(child, list) and child and isinstance(child[0], sre_parse.SubPattern):
                if any(_nested_repeat(list(sub), inside or repeat, depth + 1) for sub in child):
                    return True
    return False


def examples(
    pattern: str | bytes, rng: random.Random, *, n: int = 3, flags: int = 0, max_len: int = 40
) -> list[str | bytes]:
    """Up to ``n`` distinct strings (bytes for a bytes pattern) that ``re.search(pattern, s,
    flags)`` matches, shortest-ish first; [] when the pattern cannot be parsed or no example is
    found."""
    try:
        compiled = re.compile(pattern, flags)
        tree = sre_parse.parse(pattern, flags)
        dotall = bool(tree.state.flags & re.DOTALL)  # includes inline (?s)
        risky = _nested_repeat(list(tree), False, 0)
    except Exception:  # noqa: BLE001 - re.error, RecursionError, OverflowError: no examples
        return []
    found: list[str | bytes] = []
    for attempt in range(4 * n):
        if len(found) >= n:
            break
        builder = _Builder(rng, minimal=attempt == 0, dotall=dotall, max_len=max_len)
        try:
            builder.walk(tree, 0)
            text = "".join(builder.out)
            example = text.encode("latin-1") if isinstance(pattern, bytes) else text
        except Exception:  # noqa: BLE001, S112 - _GiveUp, KeyError, UnicodeEncodeError: try again
            continue
        # A repeat inside a repeat (``(a+)+$``) can backtrack for ages on a near miss: such a
        # pattern's examples go unchecked (a wrong one costs the sandbox a call, never a hang here).
        if example not in found and (risky or compiled.search(example)):
            found.append(example)
    return sorted(found, key=len)


#: The functions of ``re``, and methods of a compiled pattern, that apply a pattern to text
#: (``re.compile`` only builds one).
PATTERN_METHODS = ("match", "search", "fullmatch", "findall", "finditer", "sub", "subn", "split")


def flags_named(nodes: list[ast.expr], modules: frozenset[str] | set[str] = frozenset({"re"})) -> int:
    """``re.I | re.DOTALL``'s value, read from the names (``modules``: what ``re`` is called there;
    flags we cannot read count as none). Read from the code, never evaluated."""
    flags = 0
    for node in nodes:
        for part in ast.walk(node):
            if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id in modules:
                flag = getattr(re.RegexFlag, part.attr, None)
                flags |= int(flag) if isinstance(flag, re.RegexFlag) else 0
    return flags
