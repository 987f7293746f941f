"""A static, deterministic difficulty score for a function and its cases, and the easy/medium/hard cut.

Nothing here runs the code: the function is read with ``ast`` and each output repr is parsed with
``ast`` (never evaluated) to measure how deeply its containers nest.

The score (higher is harder) is a weighted sum, chosen so that no single feature dominates on
typical stdlib functions::

    score = 2.0 * log2(1 + ast_nodes)     # size, with diminishing returns
          + 1.0 * branches                # if / elif / ternary / except / match case / comprehension if
          + 1.5 * loops                   # for / while / comprehension generators
          + 1.0 * max_depth               # deepest nesting of compound statements in the entry point
          + 0.5 * params                  # parameters of the entry point
          + 1.5 * output_depth            # mean container depth of the returned values
          + 1.0 * output_kinds            # distinct top-level output types, minus one
          + 2.0 * raised_share            # share of cases that raise

``ast_nodes``, ``branches`` and ``loops`` count the whole self-contained code (the helpers it
carries are part of what has to be inferred) but skip import statements. Levels come from
tertiles of the scores of all functions of a build (:func:`thresholds`), so each level holds about
a third of the functions whatever the corpus.
"""

from __future__ import annotations

import ast
import math
from typing import Any, Iterable, Mapping

from ..errors import DatasetError
from ..utils.syntax import parse_ast

WEIGHTS: dict[str, float] = {
    "ast_nodes_log2": 2.0,
    "branches": 1.0,
    "loops": 1.5,
    "max_depth": 1.0,
    "params": 0.5,
    "output_depth": 1.5,
    "output_kinds": 1.0,
    "raised_share": 2.0,
}

_BRANCH_NODES = (ast.If, ast.IfExp, ast.ExceptHandler, ast.match_case)
_LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.comprehension)
_NESTING_NODES = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
)
# Reprs wrap these in a call: the call is one more container level, as a list would be.
_CONTAINER_NODES = (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call)


def _entry_point_def(tree: ast.Module, entry_point: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            return node
    raise DatasetError(f"the code does not define a module-level function {entry_point!r}")


def _nesting_depth(node: ast.AST, depth: int = 0) -> int:
    deepest = depth
    for child in ast.iter_child_nodes(node):
        child_depth = depth + 1 if isinstance(child, _NESTING_NODES) else depth
        deepest = max(deepest, _nesting_depth(child, child_depth))
    return deepest


def _param_count(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = func.args
    count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
    return count + (args.vararg is not None) + (args.kwarg is not None)


def code_stats(code: str, entry_point: str) -> dict[str, int]:
    """Size and control-flow counts of ``code``, whose module-level ``entry_point`` is the function.

    Raises:
        DatasetError: the code does not parse or does not define ``entry_point``.
    """
    try:
        tree = parse_ast(code)
    except SyntaxError as exc:
        raise DatasetError(f"the code of {entry_point!r} does not parse: {exc.msg}") from None
    func = _entry_point_def(tree, entry_point)
    nodes = branches = loops = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.alias)):
            continue
        nodes += 1
        branches += isinstance(node, _BRANCH_NODES)
        loops += isinstance(node, _LOOP_NODES)
        if isinstance(node, ast.comprehension):
            branches += len(node.ifs)
    # ``elif`` is an If nested in ``orelse``, so it is counted above as its own branch.
    return {
        "ast_nodes": nodes,
        "branches": branches,
        "loops": loops,
        # Depth inside the entry point: its own ``def`` is level 0.
        "max_depth": _nesting_depth(func),
        "params": _param_count(func),
    }


def _container_depth(node: ast.AST) -> int:
    inner = max((_container_depth(child) for child in ast.iter_child_nodes(node)), default=0)
    return inner + 1 if isinstance(node, _CONTAINER_NODES) else inner


def output_shape(output: str) -> tuple[str, int]:
    """Top-level kind and container depth of an output repr, read with ``ast`` (never evaluated).

    A repr that does not parse (``<Foo object>``) is kind ``"opaque"`` of depth 0.
    """
    try:
        node = parse_ast(output.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return "opaque", 0
    if isinstance(node, ast.Constant):
        kind = type(node.value).__name__
    elif isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        kind = type(node.operand.value).__name__
    elif isinstance(node, ast.Call):
        func = node.func
        kind = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "call")
    else:
        kind = type(node).__name__.lower()
    return kind, _container_depth(node)


def _get(case: Any, key: str) -> str:
    return case[key] if isinstance(case, Mapping) else getattr(case, key)


def case_stats(cases: Iterable[Any]) -> dict[str, float]:
    """Counts over a function's cases (dicts or :class:`schema.Case`): raised share, output structure."""
    outputs: list[str] = []
    n_raised = 0
    depths: list[int] = []
    kinds: set[str] = set()
    for case in cases:
        output = _get(case, "output")
        outputs.append(output)
        if _get(case, "outcome") == "raised":
            n_raised += 1
            continue
        kind, depth = output_shape(output)
        kinds.add(kind)
        depths.append(depth)
    n_cases = len(outputs)
    return {
        "n_cases": n_cases,
        "n_raised": n_raised,
        "distinct_outputs": len(set(outputs)),
        "output_depth": sum(depths) / len(depths) if depths else 0.0,
        "output_kinds": max(len(kinds) - 1, 0),
        "raised_share": n_raised / n_cases if n_cases else 0.0,
    }


def score(code: str, entry_point: str, cases: Iterable[Any]) -> tuple[float, dict[str, Any]]:
    """Difficulty score of one function, with the ``stats`` struct of the ``raw`` config.

    Args:
        code: the self-contained source defining ``entry_point``.
        entry_point: the function's name.
        cases: its cases (dicts with ``output`` and ``outcome``, or :class:`schema.Case`).

    Returns:
        ``(score, stats)``; ``stats`` has exactly the fields of ``schema.features("raw")["stats"]``.

    Raises:
        DatasetError: the code does not parse or does not define ``entry_point``.
    """
    code_part = code_stats(code, entry_point)
    case_part = case_stats(cases)
    terms = {
        "ast_nodes_log2": math.log2(1 + code_part["ast_nodes"]),
        "branches": code_part["branches"],
        "loops": code_part["loops"],
        "max_depth": code_part["max_depth"],
        "params": code_part["params"],
        "output_depth": case_part["output_depth"],
        "output_kinds": case_part["output_kinds"],
        "raised_share": case_part["raised_share"],
    }
    # Rounded so that the score, and so the level, cannot differ in the last bit across platforms.
    value = round(sum(WEIGHTS[name] * term for name, term in terms.items()), 6)
    stats = {
        "difficulty_score": value,
        **code_part,
        "n_cases": case_part["n_cases"],
        "n_raised": case_part["n_raised"],
        "distinct_outputs": case_part["distinct_outputs"],
        # Not static: the builder fills them from the sandbox's measurement when there is one.
        "line_coverage": None,
        "branch_coverage": None,
    }
    return value, stats


def thresholds(scores: Iterable[float]) -> tuple[float, float]:
    """Tertile cut points ``(t1, t2)``: below ``t1`` is easy, below ``t2`` medium, the rest hard.

    Each cut is the midpoint between the last score of one third and the first of the next, so a
    level holds a third of the functions unless ties straddle a cut (ties go to the harder level).

    Raises:
        DatasetError: no scores.
    """
    ordered = sorted(scores)
    n = len(ordered)
    if n == 0:
        raise DatasetError("cannot set difficulty thresholds without any function")

    def cut(k: int) -> float:
        if k <= 0:
            return ordered[0]
        if k >= n:
            return ordered[-1]
        return round((ordered[k - 1] + ordered[k]) / 2, 6)

    return cut(round(n / 3)), cut(round(2 * n / 3))


def level(value: float, cuts: tuple[float, float]) -> str:
    """``"easy"``, ``"medium"`` or ``"hard"`` for a score, given :func:`thresholds`' cut points."""
    t1, t2 = cuts
    if value < t1:
        return "easy"
    if value < t2:
        return "medium"
    return "hard"
