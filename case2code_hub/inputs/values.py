"""Values of a TypeSpec for the offline writers (one-shot and search): typical and edge values, and type-aware mutation.

Mutation follows EvalPlus's type-aware operators: grow and shrink containers, flip signs, step to
boundaries (for ints: 2 ** 64 and +-2 ** 1024 too; for floats: inf, -inf and nan; a Decimal steps to
its NaN and Infinity), empty / unicode / long strings, and now and then an element of a neighbouring
type. Every value but those boundary ints stays small (see ``Limits``): huge inputs make slow cases
that teach nothing.
Beyond data, four kinds are built from the grammar's objects (``literals``): ``callable`` (a key
function, ``abs``, ``len``), ``type`` (a class, ``int``, ``ValueError``), ``exception`` (a class an
``except`` clause catches, ``TypeError``) and ``namespace`` (a ``types.SimpleNamespace`` with the
attributes the body reads); they mutate within their kind (``ValueError``, in two, among the classes).
"""

from __future__ import annotations

import datetime
import decimal
import fractions
import math
import random
import re
import types
from dataclasses import dataclass
from typing import Any

from .. import literals
from .reading.analysis import TypeSpec

INT = TypeSpec("int")


@dataclass(frozen=True)
class Limits:
    """Size bounds on generated values."""

    max_str_len: int = 40
    max_container_len: int = 8
    max_abs_int: int = 10**6
    max_depth: int = 3


@dataclass(frozen=True)
class Context:
    """What the function's body offers as seeds: its literals, and this parameter's own ones."""

    ints: tuple[int, ...] = ()
    floats: tuple[float, ...] = ()
    strs: tuple[str, ...] = ()
    param_constants: tuple[Any, ...] = ()
    element_constants: tuple[Any, ...] = ()  # compared with its elements (``for c in s: c == '*'``)
    keys: tuple[str, ...] = ()
    name: str = ""
    limits: Limits = Limits()


_TYPICAL_INTS = (0, 1, 2, 3, 5, -1, 10, 7, 42, -5, 100, 12, 1000)
_TYPICAL_FLOATS = (0.0, 1.0, 0.5, -2.5, 3.14, 10.0, 1e-3, -1.0, 100.25, 2.0)
_TYPICAL_STRS = (
    "hello", "", "a", "Hello World", "abc", "123", "a,b,c", "racecar", "  padded  ", "héllo wörld ñ",
    "The quick brown fox", "x1_y2-z3", "AbCdEf", "line1\nline2", "Python3.11", "aaa bbb aaa",
)  # fmt: skip
# Besides letters of other scripts: a right-to-left letter, a soft hyphen (invisible, dropped by
# IDNA's nameprep), a combining accent and a private-use character (refused by it).
_UNICODE = ("é", "ß", "中", "😀", "ñ", "Ω", "א", "\u00ad", "\u0301", "\ue000")
_ISO_DATETIMES = ("2024-01-02T03:04:05", "2024-01-02T03:04:05.123456+01:00", "2024-W01-3T12:30", "20240102T030405Z",
                  "2024-01-02 03:04")
_ISO_TIMES = ("12:30:45.123456", "12:30", "123045", "12:30:45+05:30", "23:59:60.5", "12:30:45.1234567")
_NAMED_STRS = (
    ("path", ("dir/file.txt", "/usr/local/bin", "a/b/../c.py", "file")),
    ("file", ("data.csv", "notes.txt", "archive.tar.gz")),
    ("url", ("https://example.com/a/b?x=1#top", "http://localhost:8080/", "ftp://host/file")),
    ("email", ("user@example.com", "first.last+tag@mail.org", "no-at-sign")),
    # ISO 8601 as datetime.fromisoformat reads it (dtstr, tstr): extended, basic and week forms.
    ("datetime", _ISO_DATETIMES), ("dtstr", _ISO_DATETIMES), ("iso", _ISO_DATETIMES),
    ("date", ("2024-01-02", "1999-12-31", "2024-02-29")),
    ("tstr", _ISO_TIMES), ("time", _ISO_TIMES),
    ("hex", ("ff", "0x1A", "deadbeef")),
    ("ip", ("192.168.0.1", "10.0.0.255", "::1")),
    ("sep", (",", " ", "-", "")),
    ("delim", (",", ";", "|")),
    ("char", ("a", "Z", " ", "7")),
    ("ch", ("a", "Z", " ", "7")),
    ("word", ("apple", "level", "Banana")),
    ("name", ("alice", "Bob Smith", "x")),
    ("dna", ("ACGT", "GATTACA", "TTTT")),
    ("version", ("1.2.3", "0.10", "2.0.0rc1")),
)


# Builtin objects the grammar names (``key=abs``, ``int``), for parameters that are called or that
# the body treats as a class; a key function on strings wants ``len``, on numbers ``abs``.
_CALLABLES = ("abs", "len", "str", "int", "repr", "str.lower", "sorted", "bool")
_CLASSES = ("int", "str", "list", "dict", "object", "type", "ValueError", "float", "tuple", "bool", "decimal.Decimal",
            "fractions.Fraction")
# Values an attribute of an object takes when nothing says more (the repair's too).
ATTRIBUTE_VALUES = (None, 0, 1, -1, "", "a", True, [], {})


def named_values(names: tuple[str, ...]) -> list[Any]:
    """The grammar's builtin objects of ``names`` (``literals.NAMED_VALUES``), in that order."""
    return [literals.NAMED_VALUES[name] for name in names if name in literals.NAMED_VALUES]


# The table is fixed: the pools are looked up once, not on every mutation.
_CALLABLE_VALUES = tuple(named_values(_CALLABLES))
_CLASS_VALUES = tuple(named_values(_CLASSES))
_EXCEPTION_VALUES = tuple(named_values(("ValueError", "TypeError", "Exception", "KeyError")))


# Integer parameters whose names fix their range: a month of 13 only tests the error path.
_NAMED_INTS = (
    (re.compile(r"month"), (1, 2, 6, 12, 11)),
    (re.compile(r"^(day|mday|dd)$|_day$"), (1, 15, 28, 31, 2)),
    (re.compile(r"year"), (2024, 2000, 1999, 1900, 2023)),
    (re.compile(r"hour"), (0, 12, 23, 9)),
    (re.compile(r"minute|second|^sec$|^min$"), (0, 30, 59, 1)),
    (re.compile(r"weekday|dow"), (0, 3, 6)),
    (re.compile(r"port"), (80, 8080, 443)),
    (re.compile(r"base|radix"), (10, 2, 16, 8)),
)


def _named_ints(name: str) -> list[int]:
    lowered = name.lower()
    for pattern, values in _NAMED_INTS:
        if pattern.search(lowered):
            return list(values)
    return []


def _char_mixes(chars: list[str]) -> list[str]:
    """Strings made of the characters the body compares against, so its branches fire."""
    if not chars:
        return []
    return ["a" + "b".join(chars[:6]) + "c", chars[0], "x" + chars[-1] + "y" + chars[0]]


def _clamp_int(value: int, limits: Limits) -> int:
    return max(-limits.max_abs_int, min(limits.max_abs_int, value))


def typical_values(spec: TypeSpec, ctx: Context, rng: random.Random) -> list[Any]:
    """A short ordered list of good first values for ``spec``: its own constants, then typical ones.

    The order is deterministic for a given ``rng`` state; the first entries are the most telling.
    """
    kind = spec.kind
    own = [c for c in ctx.param_constants if _fits_kind(c, kind)]
    if kind == "int":
        near = [c + d for c in own if isinstance(c, int) for d in (0, 1, -1)]
        named = _named_ints(ctx.name)
        if named:  # a month or an hour: stay in range, with one step outside for the error path
            return _unique([*near, *named, 0, named[0] - 1])
        return _unique([*near, *_TYPICAL_INTS[:8], *ctx.ints[:4], rng.randint(-20, 50)])
    if kind == "float":
        near = [float(c) + d for c in own for d in (0.0, 0.5, -0.5)]
        return _unique([*near, *_TYPICAL_FLOATS[:7], *ctx.floats[:4], round(rng.uniform(-50, 50), 2)])
    if kind == "bool":
        return [True, False]
    if kind == "none":
        return [None]
    if kind == "str":
        chars = [c for c in ctx.element_constants if isinstance(c, str) and 0 < len(c) <= 3]
        return _unique([
            *own, *_named_strs(ctx.name), *_char_mixes(chars), *_TYPICAL_STRS[:10], *_body_strs(ctx), _random_str(rng, ctx),
        ])  # fmt: skip
    if kind == "bytes":
        return [b"hello", b"", b"\x00\xff\x10", b"abc def"]
    if kind == "complex":
        return [1 + 2j, 0j, -1.5 + 0.5j]
    if kind == "decimal":
        return [decimal.Decimal("1.5"), decimal.Decimal("0"), decimal.Decimal("-3.25")]
    if kind == "fraction":
        return [fractions.Fraction(1, 3), fractions.Fraction(0), fractions.Fraction(-7, 2)]
    if kind == "date":
        return [datetime.date(2024, 1, 2), datetime.date(1999, 12, 31), datetime.date(2024, 2, 29)]
    if kind == "datetime":
        return [datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.datetime(2000, 1, 1)]
    if kind == "callable":
        return list(_CALLABLE_VALUES)
    if kind == "type":
        return list(_CLASS_VALUES)
    if kind == "exception":  # ``except exc``: the one a call raises, a base of it, and others
        return list(_EXCEPTION_VALUES)
    if kind == "namespace":
        return _namespaces(spec.values, rng)
    if kind == "literal":
        return list(spec.values)
    if kind == "union":
        merged: list[Any] = []
        for member in spec.args:
            merged.extend(typical_values(member, ctx, rng)[:4])
        return _unique(merged)
    if kind in ("list", "tuple", "set", "frozenset", "dict"):
        return _container_values(spec, ctx, rng)
    return _unique([*_TYPICAL_INTS[:3], *_TYPICAL_STRS[:2], [1, 2, 3]])  # "any": a spread


def _namespaces(attrs: tuple[str, ...], rng: random.Random) -> list[Any]:
    """Objects with the attributes the body reads: all None, all 0, mixed, and one short of one."""
    if not attrs:
        return [types.SimpleNamespace()]
    values = [types.SimpleNamespace(**dict.fromkeys(attrs, fill)) for fill in (None, 0, "", 1)]
    values.append(types.SimpleNamespace(**{a: rng.choice(ATTRIBUTE_VALUES) for a in attrs}))
    if len(attrs) > 1:  # the AttributeError path
        values.append(types.SimpleNamespace(**dict.fromkeys(attrs[1:], 0)))
    return values


def _fits_kind(value: Any, kind: str) -> bool:
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return {"int": int, "str": str, "bytes": bytes}.get(kind) is type(value)


def _named_strs(name: str) -> list[str]:
    lowered = name.lower()
    for key, values in _NAMED_STRS:
        if key in lowered:
            return list(values)
    return []


def _body_strs(ctx: Context) -> list[str]:
    # Separators and tokens from the body make strings the body's own code paths react to.
    out = [s for s in ctx.strs[:4] if s]
    seps = [s for s in ctx.strs if 0 < len(s) <= 2]
    if seps:
        out.append(seps[0].join(["ab", "cd", "ef"]))
    return out


def _random_str(rng: random.Random, ctx: Context) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz ABC0123456789"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, min(12, ctx.limits.max_str_len))))


def _element_type(spec: TypeSpec, index: int = 0) -> TypeSpec:
    if not spec.args:
        return INT
    if spec.kind == "tuple" and not spec.homogeneous:
        return spec.args[index % len(spec.args)]
    if spec.kind == "dict":
        return spec.args[1] if len(spec.args) > 1 else INT
    return spec.args[0]


def _container_values(spec: TypeSpec, ctx: Context, rng: random.Random) -> list[Any]:
    limits = ctx.limits
    if spec.kind == "tuple" and spec.args and not spec.homogeneous:
        # A fixed-shape tuple: vary each position together.
        columns = [typical_values(a, _inner(ctx), rng) for a in spec.args]
        return [tuple(col[i % len(col)] for col in columns) for i in range(4)]
    element = _element_type(spec)
    pool = typical_values(element, _inner(ctx), rng) if ctx.limits.max_depth > 0 else [0]
    pool = [v for v in pool if _hashable(v)] if spec.kind in ("set", "frozenset") else pool
    pool = pool or [0]
    sizes = [0, 1, 3, 5, limits.max_container_len]
    values: list[Any] = []
    for size in sizes:
        start = rng.randrange(len(pool))
        items = [pool[(start + i) % len(pool)] for i in range(size)]
        values.append(_build(spec, items, ctx, rng))
    if element.kind in ("int", "float"):  # sorted, reversed, and with duplicates
        nums = [pool[i % len(pool)] for i in range(5)]
        values.insert(3, _build(spec, sorted(nums), ctx, rng))
        values.append(_build(spec, sorted(nums, reverse=True) + nums[:1], ctx, rng))
    return _unique(values)


def _inner(ctx: Context) -> Context:
    limits = ctx.limits
    return Context(
        ints=ctx.ints, floats=ctx.floats, strs=ctx.strs, name="", param_constants=ctx.element_constants,
        limits=Limits(min(limits.max_str_len, 12), min(limits.max_container_len, 4), limits.max_abs_int, limits.max_depth - 1),
    )  # fmt: skip


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _build(spec: TypeSpec, items: list[Any], ctx: Context, rng: random.Random) -> Any:
    if spec.kind == "list":
        return list(items)
    if spec.kind == "tuple":
        return tuple(items)
    if spec.kind in ("set", "frozenset"):
        items = [i for i in items if _hashable(i)]
        return set(items) if spec.kind == "set" else frozenset(items)
    keys = list(ctx.keys) or list("abcdefgh")
    key_type = spec.args[0] if spec.args else TypeSpec("str")
    if key_type.kind == "int":
        keys = list(range(1, 9))
    elif key_type.kind not in ("str", "any", "object"):
        keys = [k for k in typical_values(key_type, _inner(ctx), rng) if _hashable(k)] or keys
    # Keys the body reads (``d['name']``) come first: they are what makes the function work.
    return {keys[i % len(keys)]: v for i, v in enumerate(items)}


def _unique(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = f"{type(value).__name__}:{value!r}"
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


# --- mutation ---------------------------------------------------------------------------------


def mutate(value: Any, rng: random.Random, *, spec: TypeSpec | None = None, ctx: Context | None = None) -> Any:
    """One type-aware mutation of ``value``; the result stays within ``ctx.limits``.

    Args:
        value: the value to change (not modified in place).
        rng: the writer's seeded random source.
        spec: the parameter's expected type, used to fill empty containers and replace None.
        ctx: the function's literals and limits.

    Returns:
        A new value, usually of the same type.
    """
    ctx = ctx or Context()
    limits = ctx.limits
    if value is None or (spec is not None and spec.kind == "literal"):
        if spec is not None and spec.kind not in ("none", "any", "object"):
            return rng.choice(typical_values(spec, ctx, rng))
        return rng.choice([0, "", []])
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return _mutate_int(value, rng, ctx)
    if isinstance(value, float):
        if not math.isfinite(value):  # back to the finite numbers (``round`` refuses these)
            return rng.choice(ctx.floats or (1.5, 0.0, -2.0))
        ops = (lambda v: -v, lambda v: v * 2, lambda v: v / 2, lambda v: v + 0.5, lambda v: float(round(v)),
               lambda v: 0.0, lambda v: rng.choice(ctx.floats or (1.5,)), lambda v: v + 1e-9,
               lambda v: round(rng.random(), 3),  # a fraction: hues, probabilities
               lambda v: rng.choice((1e-12, -1e-300, 5e-324)),  # tiny: tails, underflow
               lambda v: rng.choice((math.inf, -math.inf, math.nan)))  # fmt: skip  # the special floats
        result = rng.choice(ops)(value)
        return result if not math.isfinite(result) else max(-1e9, min(1e9, result))
    if isinstance(value, str):
        return _mutate_str(value, rng, ctx)
    if isinstance(value, bytes):
        return _mutate_str(value.decode("latin-1"), rng, ctx).encode("utf-8")[: limits.max_str_len]
    if isinstance(value, (list, tuple, set, frozenset)):
        return _mutate_sequence(value, rng, spec, ctx)
    if isinstance(value, dict):
        return _mutate_dict(value, rng, spec, ctx)
    if type(value) is types.SimpleNamespace:
        return _mutate_namespace(value, rng, ctx)
    if type(value) is decimal.Decimal:
        return _mutate_decimal(value, rng)
    if type(value) is fractions.Fraction:
        return rng.choice((-value, value + 1, value / 2, fractions.Fraction(1, 3), fractions.Fraction(0)))
    for options in (_CALLABLE_VALUES, _CLASS_VALUES, _EXCEPTION_VALUES):
        if any(value is option for option in options):
            return rng.choice(options)
    return value


def _mutate_decimal(value: decimal.Decimal, rng: random.Random) -> decimal.Decimal:
    if not value.is_finite():
        return decimal.Decimal(rng.choice(("1.5", "-2", "0.125")))
    special = decimal.Decimal(rng.choice(("NaN", "Infinity", "-Infinity", "1E+3", "-0")))
    return rng.choice((-value, value + 1, value / 4, special))


def _mutate_namespace(value: types.SimpleNamespace, rng: random.Random, ctx: Context) -> types.SimpleNamespace:
    items = dict(vars(value))
    if not items:
        return value
    name = rng.choice(sorted(items))
    choice = rng.randrange(3)
    if choice == 0:
        items[name] = mutate(items[name], rng, ctx=_inner(ctx))
    elif choice == 1:
        items[name] = rng.choice(ATTRIBUTE_VALUES)
    else:
        del items[name]  # the object that lacks it
    return types.SimpleNamespace(**items)


#: Integers past the bounds of machine words and of float (``2 ** 1024`` overflows a conversion to
#: float): written as they are, never reached by arithmetic on a mutated value, which stays small.
_HUGE_INTS = (2**64, 2**1024, -(2**1024))


def _mutate_int(value: int, rng: random.Random, ctx: Context) -> int:
    ops = (
        lambda v: v + 1, lambda v: v - 1, lambda v: -v, lambda v: v * 2, lambda v: v // 2,
        lambda v: 0, lambda v: rng.choice(ctx.ints or (1,)) + rng.choice((-1, 0, 1)),
        lambda v: rng.randint(-10, 100), lambda v: rng.choice((255, 256, 1023, 1024, 99999, *_HUGE_INTS)),
    )  # fmt: skip
    result = rng.choice(ops)(value)
    return result if result in _HUGE_INTS else _clamp_int(result, ctx.limits)


def _mutate_str(value: str, rng: random.Random, ctx: Context) -> str:
    limit = ctx.limits.max_str_len
    pos = rng.randint(0, len(value))
    choice = rng.randrange(12)
    if choice == 0:
        result = ""
    elif choice == 1:
        result = value[:pos] + rng.choice("abcxyzXYZ019 _-.,") + value[pos:]
    elif choice == 2 and value:
        result = value[:pos] + value[pos + 1 :]
    elif choice == 3:
        result = value.swapcase()
    elif choice == 4:
        result = value[::-1]
    elif choice == 5:
        result = value[:pos] + rng.choice(_UNICODE) + value[pos:]
    elif choice == 6 and ctx.strs:
        result = value[:pos] + rng.choice(ctx.strs) + value[pos:]
    elif choice == 7:
        result = (value or "ab") * 8  # long
    elif choice == 8:
        result = value + " " + value
    elif choice == 9 and ctx.param_constants:
        constant = rng.choice(ctx.param_constants)
        result = str(constant) + value if rng.random() < 0.5 else value + str(constant)
    elif choice == 10:  # a control character: escapers and tokenizers branch on them
        result = value[:pos] + rng.choice("\t\n\r\x00\x01\x1b\x7f") + value[pos:]
    else:
        result = value.upper() if value != value.upper() else value.lower() + "1"
    return result[:limit]


def _mutate_sequence(value: Any, rng: random.Random, spec: TypeSpec | None, ctx: Context) -> Any:
    items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else list(value)
    element_spec = _element_type(spec) if spec is not None and spec.args else None
    choice = rng.randrange(8)
    if (choice == 0 or not items) and len(items) < ctx.limits.max_container_len:  # grow
        fresh = _fresh_element(items, rng, element_spec, ctx)
        items.insert(rng.randint(0, len(items)), fresh)
    elif choice == 1:  # shrink
        del items[rng.randrange(len(items))]
    elif choice == 2:
        rng.shuffle(items)
    elif choice == 3:
        items = []
    elif choice == 4 and len(items) < ctx.limits.max_container_len:
        items.append(items[rng.randrange(len(items))])  # a duplicate
    elif choice == 5:
        items.sort(key=repr)
        if rng.random() < 0.5:
            items.reverse()
    else:
        i = rng.randrange(len(items))
        items[i] = mutate(items[i], rng, spec=element_spec, ctx=_inner(ctx))
    if isinstance(value, tuple):
        return tuple(items)
    if isinstance(value, (set, frozenset)):
        items = [i for i in items if _hashable(i)]
        return type(value)(items)
    return items


def _fresh_element(items: list[Any], rng: random.Random, spec: TypeSpec | None, ctx: Context) -> Any:
    if items and rng.random() < 0.7:
        return mutate(rng.choice(items), rng, spec=spec, ctx=_inner(ctx))
    if spec is not None and rng.random() < 0.9:
        return rng.choice(typical_values(spec, _inner(ctx), rng))
    # Now and then an element of a neighbouring type: 1 -> 1.5 or '1'.
    return rng.choice([1.5, "x", 0, -3, None])


def _mutate_dict(value: dict, rng: random.Random, spec: TypeSpec | None, ctx: Context) -> dict:
    items = list(value.items())
    value_spec = _element_type(spec) if spec is not None and spec.args else None
    choice = rng.randrange(4)
    if (choice == 0 or not items) and len(items) < ctx.limits.max_container_len:
        candidates = [k for k in (*ctx.keys, *"abcdefghij") if k not in value]
        key = candidates[0] if candidates else f"k{len(items)}"
        if items and isinstance(items[0][0], int) and not isinstance(items[0][0], bool):
            key = max(k for k, _ in items if isinstance(k, int)) + 1
        items.append((key, _fresh_element([v for _, v in items], rng, value_spec, ctx)))
    elif choice == 1:
        del items[rng.randrange(len(items))]
    elif choice == 2:
        return {}
    else:
        i = rng.randrange(len(items))
        items[i] = (items[i][0], mutate(items[i][1], rng, spec=value_spec, ctx=_inner(ctx)))
    return dict(items)
