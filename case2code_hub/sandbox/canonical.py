"""Canonical output text: the builtin ``repr``, except that sets and frozensets list their elements
sorted by canonical repr, so a set of strings prints the same under every hash seed. Containers
(lists, tuples, dicts, ``types.SimpleNamespace``) print their items canonically, so a set inside one
is sorted too.

Outputs that would depend on the process (memory addresses), exceed the size cap, or whose repr
fails are not data: ``Unserializable`` says why, in words that do not vary between runs.
"""

from __future__ import annotations

import builtins
import itertools
import types

from ..schema import has_address

# Saved before any user code runs: a function may replace builtins.repr, len, sorted, ...
_repr = builtins.repr
_type = builtins.type
_len = builtins.len
_id = builtins.id
_sorted = builtins.sorted
_sum = builtins.sum
_str = builtins.str
_bytes = builtins.bytes
_vars = builtins.vars
_isinstance = builtins.isinstance
_list = builtins.list
_chain = itertools.chain.from_iterable
_namespace = _type(types.SimpleNamespace())

_LEAVES = frozenset({int, float, complex, bool, type(None), type(Ellipsis)})


class Unserializable(Exception):
    """The value has no canonical text; the message is the case's output."""


class _Printer:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0
        self.active: set[int] = set()

    def _account(self, text: str, inner: list[str] | tuple = ()) -> str:
        """``text`` counted against the cap, less the ``inner`` parts it holds (counted already).

        A container's brackets and separators count like its leaves do: a list of 1000 empty
        frozensets is 13,000 characters with no leaf at all. Counting as the text is built stops
        a huge value early, before all of its text exists.
        """
        self.used += _len(text) - _sum(_len(part) for part in inner)
        if self.used > self.cap:
            raise Unserializable(f"<unserializable: repr longer than {self.cap} characters>")
        return text

    def __call__(self, value: object) -> str:
        kind = _type(value)
        if kind in _LEAVES:
            return self._account(_repr(value))
        if kind is _str or kind is _bytes or kind is bytearray:
            if _len(value) > self.cap:
                raise Unserializable(f"<unserializable: repr longer than {self.cap} characters>")
            return self._account(_repr(value))
        if kind is list or kind is tuple or kind is dict or kind is set or kind is frozenset or kind is _namespace:
            return self._container(value, kind)
        return self._account(_repr(value))

    def _container(self, value, kind) -> str:
        key = _id(value)
        if key in self.active:  # a cycle: print it the way the builtin repr does
            return self._account("[...]" if kind is list else "namespace(...)" if kind is _namespace else "{...}")
        self.active.add(key)
        try:
            if kind is list:
                items = [self(v) for v in value]
                return self._account("[" + ", ".join(items) + "]", items)
            if kind is tuple:
                items = [self(v) for v in value]
                return self._account("(" + items[0] + ",)" if _len(items) == 1 else "(" + ", ".join(items) + ")", items)
            if kind is dict:
                pairs = [(self(k), self(v)) for k, v in value.items()]
                text = "{" + ", ".join([k + ": " + v for k, v in pairs]) + "}"
                return self._account(text, [part for pair in pairs for part in pair])
            if kind is _namespace:
                # As the builtin repr: attributes in insertion order, names that are non-empty strs only.
                names = [(_str.__str__(k), v) for k, v in _vars(value).items() if _isinstance(k, _str)]
                pairs = [(k, self(v)) for k, v in names if k]
                text = "namespace(" + ", ".join([k + "=" + v for k, v in pairs]) + ")"
                return self._account(text, [v for _, v in pairs])
            items = _sorted([self(v) for v in value])
            if kind is set:
                return self._account("{" + ", ".join(items) + "}" if items else "set()", items)
            return self._account("frozenset({" + ", ".join(items) + "})" if items else "frozenset()", items)
        finally:
            self.active.discard(key)


# Values built only of these exact types print canonically with the builtin repr (in C): no set to
# sort, no object whose repr could vary, hang or lie.
_SIZED_LEAVES = frozenset({str, bytes, bytearray})
_DICT = dict
_PLAIN_CONTAINERS = frozenset({list, tuple, dict})
_PLAIN = _LEAVES | _SIZED_LEAVES | _PLAIN_CONTAINERS
_SIZED = _SIZED_LEAVES | _PLAIN_CONTAINERS | {set, frozenset}
_PLAIN_LEVELS = 100


def _builtin_if_canonical(value: object, cap: int) -> str | None:
    """The builtin repr of ``value`` (in C) when it is exactly what the printer would write, else
    ``None`` (the printer then decides).

    The printer differs from the builtin repr only inside exact sets, frozensets and namespaces it
    reaches through exact containers; every other object it hands to the builtin repr as the
    container's own repr would. The builtin repr of each of those three always shows ``{``,
    ``set()`` or ``namespace(``: a text with none of them came from none of them. A text with one
    (a dict, a brace in a string) is checked by a walk over the value's types. Values longer than
    the cap, and reprs that fail, are left to the printer, which stops at the cap and words the
    failure its own way.
    """
    if _type(value) in _SIZED and _len(value) > cap:
        return None
    try:
        text = _repr(value)
    except Exception:
        return None
    if _type(text) is not _str:
        return None
    if ("{" in text or "set()" in text or "namespace(" in text) and not _only_plain(value, cap):
        return None
    if _len(text) > cap:
        raise Unserializable(f"<unserializable: repr longer than {cap} characters>")
    return text


def _only_plain(value: object, cap: int) -> bool:
    """Whether every node of ``value`` is an exact list, tuple, dict or leaf, within ``cap`` nodes.

    One level of the value at a time, each with C-level passes (``set(map(type, level))``).
    """
    level = [value]
    budget = cap  # every node prints at least one character
    for _ in range(_PLAIN_LEVELS):
        budget -= _len(level)
        if budget < 0:
            return False
        kinds = set(map(_type, level))
        if not kinds <= _PLAIN:
            return False
        nested = kinds & _PLAIN_CONTAINERS
        if not nested:
            return True
        containers = level if _len(kinds) == 1 else [v for v in level if _type(v) in _PLAIN_CONTAINERS]
        if _DICT in nested:
            following = []
            for item in containers:
                if _type(item) is _DICT:
                    following += item.keys()
                    following += item.values()
                else:
                    following += item
            level = following
        else:
            level = _list(_chain(containers))
    return False


def canonical_repr(value: object, *, cap: int = 10_000) -> str:
    """Canonical text of ``value``.

    Raises:
        Unserializable: the text holds a memory address, is longer than ``cap``, or repr failed.
    """
    try:
        text = _builtin_if_canonical(value, cap)
        if text is None:
            text = _Printer(cap)(value)
    except Unserializable:
        raise
    except RecursionError:
        raise Unserializable("<unserializable: repr nested too deeply>") from None
    except MemoryError:
        raise Unserializable("<unserializable: repr ran out of memory>") from None
    except Exception as exc:
        raise Unserializable(f"<unserializable: repr raised {_type(exc).__name__}>") from None
    if _type(text) is not _str:
        raise Unserializable("<unserializable: repr did not return a str>")
    if has_address(text):
        raise Unserializable("<unserializable: repr shows a memory address>")
    return text
