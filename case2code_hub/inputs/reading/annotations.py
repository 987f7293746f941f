"""Annotation parsing for static parameter analysis: ``TypeSpec`` and ``annotation_spec``.

Turns annotation AST nodes (``list[int]``, ``Optional[str]``, ``str | None``) into the input writer's
small type vocabulary. Parsed with ``ast`` only; nothing is imported or run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from ... import literals
from ...errors import LiteralSyntaxError
from ...utils.syntax import parse_ast


@dataclass(frozen=True)
class TypeSpec:
    """A type in the writer's small vocabulary: ``kind`` plus element types in ``args``.

    ``tuple[int, ...]`` is ``TypeSpec("tuple", (INT,), homogeneous=True)``; ``Literal['a', 1]``
    keeps its choices in ``values``; unions list their members in ``args``.
    """

    kind: str
    args: tuple["TypeSpec", ...] = ()
    homogeneous: bool = False
    values: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.kind == "literal":
            return f"Literal{list(self.values)}"
        if not self.args:
            return self.kind
        inner = ", ".join(str(a) for a in self.args) + (", ..." if self.homogeneous else "")
        return f"{self.kind}[{inner}]"


ANY = TypeSpec("any")

_NAME_KINDS = {
    "int": "int", "integral": "int", "supportsint": "int", "supportsindex": "int",
    "float": "float", "real": "float", "number": "float", "supportsfloat": "float",
    "complex": "complex", "bool": "bool",
    "str": "str", "text": "str", "anystr": "str", "pathlike": "str", "path": "str", "purepath": "str",
    "bytes": "bytes", "bytearray": "bytes", "memoryview": "bytes",
    "list": "list", "sequence": "list", "mutablesequence": "list", "iterable": "list", "iterator": "list",
    "collection": "list", "reversible": "list", "deque": "list",
    "tuple": "tuple",
    "dict": "dict", "mapping": "dict", "mutablemapping": "dict", "ordereddict": "dict",
    "defaultdict": "dict", "counter": "dict",
    "set": "set", "abstractset": "set", "mutableset": "set", "frozenset": "frozenset",
    "decimal": "decimal", "fraction": "fraction", "date": "date", "datetime": "datetime",
    "type": "type", "callable": "callable",
    "none": "none", "nonetype": "none", "any": "any", "object": "any",
}  # fmt: skip


def _dotted_tail(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def annotation_spec(node: ast.AST | None) -> TypeSpec | None:
    """The TypeSpec of an annotation node (``list[int]``, ``Optional[str]``, ``str | None``, ...).

    Returns None when there is no annotation; ``TypeSpec("object")`` for a type we cannot build.
    """
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return TypeSpec("none")
        if isinstance(node.value, str):  # a forward reference: "list[int]"
            try:
                return annotation_spec(parse_ast(node.value, mode="eval").body)
            except SyntaxError:
                return TypeSpec("object")
        return TypeSpec("object")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([annotation_spec(node.left), annotation_spec(node.right)])
    if isinstance(node, ast.Subscript):
        base = (_dotted_tail(node.value) or "").lower()
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base == "optional":
            return _union([annotation_spec(items[0]), TypeSpec("none")])
        if base == "union":
            return _union([annotation_spec(i) for i in items])
        if base == "annotated":
            return annotation_spec(items[0])
        if base == "literal":
            values = []
            for item in items:
                try:
                    values.append(literals.evaluate(item))
                except LiteralSyntaxError:
                    pass
            return TypeSpec("literal", values=tuple(values)) if values else TypeSpec("object")
        kind = _NAME_KINDS.get(base)
        if kind is None or kind in ("any", "none"):
            return TypeSpec("object")
        if kind == "tuple":
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return TypeSpec("tuple", (annotation_spec(items[0]) or ANY,), homogeneous=True)
            return TypeSpec("tuple", tuple(annotation_spec(i) or ANY for i in items))
        if kind in ("list", "set", "frozenset"):
            return TypeSpec(kind, (annotation_spec(items[0]) or ANY,))
        if kind == "dict" and len(items) == 2:
            return TypeSpec("dict", (annotation_spec(items[0]) or ANY, annotation_spec(items[1]) or ANY))
        if kind == "dict" and base == "counter":
            return TypeSpec("dict", (annotation_spec(items[0]) or ANY, TypeSpec("int")))
        return TypeSpec(kind)
    name = _dotted_tail(node)
    if name is not None:
        return TypeSpec(_NAME_KINDS.get(name.lower(), "object"))
    return TypeSpec("object")


def _union(members: list[TypeSpec | None]) -> TypeSpec:
    flat: list[TypeSpec] = []
    for member in members:
        member = member or ANY
        for m in member.args if member.kind == "union" else (member,):
            if m not in flat:
                flat.append(m)
    return flat[0] if len(flat) == 1 else TypeSpec("union", tuple(flat))
