"""Mutations that splice known values into an argument list: the body's constants, or values of one
argument into another.

Comparisons with literals (``s == '7.5'``, ``row['name']``) and relations between arguments
(``if x in items``, ``d[key]``, ``name.find(part)``) are what random mutation misses: a constant
splice puts a body literal (or compared key) at one nested place, twice now and then when a test
checks two places (``s[0] == 4 and s[1] == 4``); a cross splice copies a value, or a dict's key, from
one place of the call to another (or into a string there); a mix takes one argument from another
call of the pool; a type switch replaces a value with one of another type made from it, for
``isinstance`` branches. The frontier's constants include what the sandbox saw its tests compare
(``Frontier.observe``: the operands of a comparison whose value the code computed, say a key
decoded from the input and looked up in a table); a splice from the frontier may write one of its
ints over a string's digits (a number the code parses out of a string and then compares: ``'#12;'``
becomes ``'#7;'`` when 7 was seen compared). Splices reach into lists, tuples, dicts and the
attributes of ``types.SimpleNamespace`` objects, nested ones too (``obj.inner.name``).
"""

from __future__ import annotations

import ast
import decimal
import fractions
import random
import re
import types
from typing import Any

from ... import literals
from ...errors import LiteralSyntaxError
from ...sandbox.coverage import CoverageMap
from ...utils.syntax import parse_ast
from ..reading.analysis import FunctionAnalysis
from ..offline import Candidate
from .repair import converted
from .trees import alike, nodes, replace_at
from ..reading.usage import constant_names, folded, named_collections

#: Share of mutants made by splicing a constant of the function's body into an argument.
SPLICE_SHARE = 0.35


def splice_constants(analysis: FunctionAnalysis) -> dict[type, list[Any]]:
    """The body's literals, the keys / constants its parameters are compared with and strings the
    module's regular expressions match, by type."""
    values: list[Any] = [*analysis.str_constants, *analysis.int_constants, *analysis.float_constants, *analysis.bytes_constants,
                         *analysis.pattern_examples]
    for param in analysis.params:
        values += [*param.constants, *param.element_constants, *param.keys]
    return _by_type(values)


def helper_constants(analysis: FunctionAnalysis) -> dict[type, list[Any]]:
    """The literals of the module's other functions, by type (kept apart from the entry's own, which
    are the likelier ones: a helper's literals only get a share of the splices)."""
    return _by_type(list(analysis.helper_constants))


#: Leaf types a constant splice replaces (bytes too: ``s.find(b"\0")``, base64's ``b'='``).
_SPLICED = (str, int, float, bytes)
#: Values of a line's comparisons the frontier takes from running calls (``Frontier.observe``).
MAX_OBSERVED_PER_LINE = 12


def _by_type(values: list[Any]) -> dict[type, list[Any]]:
    by_type: dict[type, list[Any]] = {}
    for value in values:
        kind = type(value)
        if kind in _SPLICED and value not in by_type.setdefault(kind, []):
            by_type[kind].append(value)
    return {kind: found for kind, found in by_type.items() if found}


class Frontier:
    """The constants on the tests the search has reached but not yet seen go both ways.

    ``if sexo == 'f' or sexo == 'm'`` reached and always false: its ``'f'`` and ``'m'`` are what
    the next splice should try, not the other thirty literals of the body. ``constants`` is kept
    up to date by :meth:`update` and read by the candidate stream (the same dict object).
    """

    def __init__(self, code: str, cmap: CoverageMap) -> None:
        self.cmap = cmap
        self.constants: dict[type, list[Any]] = {}
        self.by_line: dict[int, list[Any]] = {}
        self.observed: dict[int, int] = {}  # values added by ``observe``, per line
        try:
            tree = parse_ast(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        # A name every binding of which is a constant (``date_separator = "-"``, a module's
        # ``ESCAPE = '='``) stands for those constants where a test uses it, and arithmetic over
        # them is folded (``sep * 2``, ``(1 << 63) - 1``) to the values a test compares with.
        named = constant_names(tree)
        collections = named_collections(tree)
        for node in ast.walk(tree):
            if not hasattr(node, "lineno") or isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                continue
            if isinstance(node, ast.Name) and node.id in collections:
                self.by_line.setdefault(node.lineno, []).extend(collections[node.id])
            values = folded(node, named) if isinstance(node, ast.expr) else []
            self.by_line.setdefault(node.lineno, []).extend(v for v in values if not isinstance(v, bool))

    def observe(self, operands: list[tuple[int, str]], call: Candidate | None = None) -> list[tuple[int, Any]]:
        """Add the values a call's comparisons compared (the sandbox's operand records) to their
        lines' constants: ``xid in xids`` with ``xid`` read out of bytes, ``module in IMPORT_MAPPING``
        with the table imported, have no constant in the code to splice. What the call passed in
        comes back too (``xids``' members, a slice of its string): those are left out, being
        already there. Returns the ``(line, value)`` pairs that were news."""
        echoes, texts = _echoes(call) if call is not None else (set(), [])
        news: list[tuple[int, Any]] = []
        for line, source in operands:
            if self.observed.get(line, 0) >= MAX_OBSERVED_PER_LINE:
                continue
            try:
                value = literals.parse_value(source)
            except (LiteralSyntaxError, RecursionError, MemoryError, ValueError):
                continue
            kind = type(value)
            if kind not in _SPLICED or (kind, value) in echoes:
                continue
            if kind in (str, bytes) and any(type(text) is kind and value in text for text in texts):
                continue
            known = self.by_line.setdefault(line, [])
            if not any(type(k) is kind and k == value for k in known):
                known.append(value)
                self.observed[line] = self.observed.get(line, 0) + 1
                news.append((line, value))
        return news

    def update(self, covered: set) -> None:
        """Recompute the frontier's constants from the coverage units reached so far."""
        found: list[Any] = []
        for point in self.cmap.one_way(covered):
            for line in range(point.first, point.last + 1):
                found += self.by_line.get(line, [])
        self.constants.clear()
        self.constants.update(_by_type(found))


def _echoes(call: Candidate) -> tuple[set, list]:
    """The scalars a call passed (with their types, so ``1`` is not ``True``), dict keys included,
    and its strings and bytes (a comparison often sees a slice of one)."""
    echoes: set = set()
    texts: list = []
    for path, value in nodes([*call.args, *call.kwargs.values()]):
        for item in (value, *(step[1] for step in path[-1:] if type(step) is tuple and step[0] == "key")):
            if type(item) in _SPLICED:
                echoes.add((type(item), item))
                if type(item) in (str, bytes):
                    texts.append(item)
    return echoes, texts


def _splice_once(parent: Candidate, constants: dict[type, list[Any]], rng: random.Random, numbers: tuple = ()) -> Candidate:
    """A copy of ``parent`` where one leaf value (however deeply nested) becomes a body constant of
    its type, or one dict gains a key from the body: what comparisons like ``s == '7.5'`` or
    ``row['name']`` need, and random mutation rarely finds."""
    values: list[Any] = [*parent.args, *parent.kwargs.values()]
    spots: list[tuple[int, ...]] = []
    _spots(values, (), spots, 0)
    if not spots:
        return Candidate(list(parent.args), dict(parent.kwargs), origin="splice")
    path = rng.choice(spots)
    values = _replaced(values, path, constants, rng, numbers)
    n = len(parent.args)
    return Candidate(values[:n], dict(zip(parent.kwargs, values[n:])), origin="splice")


def _spots(value: Any, path: tuple[int, ...], out: list[tuple[int, ...]], depth: int) -> None:
    kind = type(value)
    if kind in _SPLICED and path:
        out.append(path)
    elif kind in (list, tuple) and depth < 4:
        if path and kind is list and not value:
            out.append(path)
        for index, item in enumerate(value):
            _spots(item, path + (index,), out, depth + 1)
    elif kind is dict and depth < 4:
        out.append(path)
        for index, item in enumerate(value.values()):
            _spots(item, path + (index,), out, depth + 1)
    elif kind is types.SimpleNamespace and depth < 4:  # ``frame.f_code.co_filename``: its attributes' values
        for index, item in enumerate(vars(value).values()):
            _spots(item, path + (index,), out, depth + 1)


def _replaced(value: Any, path: tuple[int, ...], constants: dict[type, list[Any]], rng: random.Random,
              numbers: tuple = ()) -> Any:
    kind = type(value)
    if path:
        head, rest = path[0], path[1:]
        if kind is dict:
            return {k: (_replaced(v, rest, constants, rng, numbers) if i == head else v) for i, (k, v) in enumerate(value.items())}
        if kind is types.SimpleNamespace:
            return types.SimpleNamespace(**{k: (_replaced(v, rest, constants, rng, numbers) if i == head else v)
                                            for i, (k, v) in enumerate(vars(value).items())})
        items = [(_replaced(v, rest, constants, rng, numbers) if i == head else v) for i, v in enumerate(value)]
        return tuple(items) if kind is tuple else items
    if kind is dict:  # add (or overwrite) a key the body uses
        key = rng.choice(constants.get(str) or constants.get(int) or [0])
        copy = dict(value)
        sample = next(iter(value.values()), None)
        copy[key] = _constant_like(sample, constants, rng) if sample is not None else rng.choice(_all(constants))
        return copy
    if kind is list:  # an empty list gets one body constant
        return [rng.choice(_all(constants))]
    # ``'&#1;'`` parsed, then compared as ``num in _invalid_charrefs``: a number compared there goes
    # over the digits (only then: a random rewrite of every numeral is noise to other parsers).
    digits = list(_DIGITS.finditer(value)) if numbers and kind is str else []
    if digits and rng.random() < NUMBER_IN_TEXT_SHARE:
        run = rng.choice(digits)
        return value[:run.start()] + str(rng.choice(numbers)) + value[run.end():]
    return _constant_like(value, constants, rng)


def _constant_like(value: Any, constants: dict[type, list[Any]], rng: random.Random) -> Any:
    same = constants.get(type(value))
    if same and rng.random() < 0.85:
        constant = rng.choice(same)
        if type(value) in (str, bytes) and value and rng.random() < 0.4:  # ``'XXXXX' in s``, ``s.split('; ')``
            position = rng.randint(0, len(value))
            if type(value) is str and rng.random() < 0.5:  # a word of its own, for ``s.split()`` tokens
                constant = f" {constant} "
            return value[:position] + constant + value[position:]
        return constant
    return rng.choice(_all(constants))


def _all(constants: dict[type, list[Any]]) -> list[Any]:
    return [value for kind in sorted(constants, key=lambda t: t.__name__) for value in constants[kind]]


def splice(parent: Candidate, constants: dict[type, list[Any]], rng: random.Random, numbers: tuple = ()) -> Candidate:
    """``parent`` with one body constant spliced in, or two (a test of two places at once); a string
    with digits may get one of ``numbers`` written over them instead (ints its tests compared)."""
    child = _splice_once(parent, constants, rng, numbers)
    if rng.random() < DOUBLE_SPLICE_SHARE:
        child = _splice_once(child, constants, rng, numbers)
    return child


#: Share of frontier splices into a string with digits that write one of the frontier's ints over
#: them (the text of a number a parser reads, then compares).
NUMBER_IN_TEXT_SHARE = 0.3
_DIGITS = re.compile(r"[0-9]+")
#: Share of constant splices that splice a second constant into the result.
DOUBLE_SPLICE_SHARE = 0.3
_LEAVES = (str, int, float)


def cross(parent: Candidate, rng: random.Random) -> Candidate | None:
    """``parent`` with a value (or a dict key) from one place copied to another place of the call.

    Returns None when the call has fewer than two places to copy between.
    """
    values: list[Any] = [*parent.args, *parent.kwargs.values()]
    found = [(path, value) for path, value in nodes(values) if path]
    donors = [value for _, value in found if type(value) in _LEAVES]
    donors += [key for _, value in found if type(value) is dict for key in value if type(key) in _LEAVES]
    donors += [value for _, value in found if type(value) in (list, tuple) and 0 < len(value) <= 4]
    if not donors or len(found) < 2:
        return None
    donor = rng.choice(donors)
    targets = [path for path, value in found if type(value) in _LEAVES or type(value) in (list, dict) and not value]
    same = [path for path, value in found if type(value) is type(donor) and value != donor]
    targets = same if same and rng.random() < 0.7 else targets
    if not targets:
        return None
    target = rng.choice(targets)

    def put(old: Any) -> Any:
        if type(old) is list:
            return [donor]
        if type(old) is dict:
            return {donor: 1} if type(donor) in _LEAVES else old
        if type(old) is str and type(donor) is str and rng.random() < 0.4:  # ``part in text``, ``text.find(part)``
            return old + " " + donor if rng.random() < 0.5 else donor + old
        return donor

    values = replace_at(values, target, put)
    n = len(parent.args)
    return Candidate(values[:n], dict(zip(parent.kwargs, values[n:])), origin="cross")


def mix(parent: Candidate, pool: list[Candidate], rng: random.Random) -> Candidate | None:
    """``parent`` with one argument taken from another call of the pool (the same position, or the
    same keyword): ``subst('echo %t', 'audio/*')`` reaches ``%t`` and a type it refuses, another call
    passes a safe type, and the call that takes one from each reaches the substitution.

    Returns None when no other call differs from ``parent`` in a place they share.
    """
    other = rng.choice(pool)
    places: list[int | str] = [i for i in range(min(len(parent.args), len(other.args))) if parent.args[i] is not other.args[i]]
    places += [name for name, value in other.kwargs.items() if name not in parent.kwargs or parent.kwargs[name] is not value]
    if not places:
        return None
    place = rng.choice(places)
    args, kwargs = list(parent.args), dict(parent.kwargs)
    if type(place) is int:
        args[place] = other.args[place]
    else:
        kwargs[place] = other.kwargs[place]
    return Candidate(args, kwargs, origin="mix")


_SWITCH_TYPES = (int, str, list, dict, tuple, float, bool, type(None), bytes)


def switch_type(parent: Candidate, rng: random.Random, strs: tuple[str, ...] = ()) -> Candidate | None:
    """``parent`` with one value (or the same place in every sibling row) changed to another type."""
    values: list[Any] = [*parent.args, *parent.kwargs.values()]
    found = [path for path, value in nodes(values) if path and type(value) in _SWITCH_TYPES]
    if not found:
        return None
    path = rng.choice(found)
    chosen = alike(path, found) if rng.random() < 0.5 else [path]
    old = next(value for p, value in nodes(values) if p == path)
    new = rng.choice([t for t in _SWITCH_TYPES if t is not type(old)])
    if type(old) in (str, bytes) and rng.random() < 0.3:  # the text twin: many functions take both
        new = bytes if type(old) is str else str
    elif type(old) in (int, float) and rng.random() < 0.3:  # the numeric tower: Decimal and Fraction data
        new = rng.choice((decimal.Decimal, fractions.Fraction))
    for target in chosen:
        values = replace_at(values, target, lambda v: converted(v, new, rng, strs) if type(v) is type(old) else v)
    n = len(parent.args)
    return Candidate(values[:n], dict(zip(parent.kwargs, values[n:])), origin="switch")


#: Share of mutants made by ``havoc`` (when the call holds a string and the body has short literals).
HAVOC_SHARE = 0.1


def havoc(parent: Candidate, tokens: list[Any], rng: random.Random) -> Candidate | None:
    """``parent`` with one string (or bytes) value edited several times over (AFL's havoc, with the
    body's short literals as its dictionary): tokens put in, next to the last one half the time, and
    spans cut or doubled. A character-scanning parser's deeper branches want several of its tokens
    in order (``fnmatch``'s ``'[!a-z]'``), which one splice at a time rarely builds.

    Returns None when the call has no string value or there is no token of its kind.
    """
    values: list[Any] = [*parent.args, *parent.kwargs.values()]
    found = [(path, value) for path, value in nodes(values) if path and type(value) in (str, bytes)]
    if not found:
        return None
    path, old = rng.choice(found)
    kind = type(old)
    words = [t for t in tokens if type(t) is kind and 0 < len(t) <= 4]
    if not words:
        return None
    text, cursor = old, rng.randint(0, len(old))
    for _ in range(rng.choice((2, 3, 4, 6, 8))):
        draw = rng.random()
        if draw < 0.7:
            if rng.random() < 0.5:
                cursor = rng.randint(0, len(text))
            word = rng.choice(words)
            text = text[:cursor] + word + text[cursor:]
            cursor += len(word)
        elif text and draw < 0.85:
            start = rng.randrange(len(text))
            text = text[:start] + text[start + rng.randint(1, 3):]
            cursor = min(cursor, len(text))
        elif text:
            start = rng.randrange(len(text))
            chunk = text[start:start + rng.randint(1, 4)]
            text = text[:start] + chunk + text[start:]
    if len(text) > 60:
        text = text[:60]
    values = replace_at(values, path, lambda _: text)
    n = len(parent.args)
    return Candidate(values[:n], dict(zip(parent.kwargs, values[n:])), origin="havoc")
