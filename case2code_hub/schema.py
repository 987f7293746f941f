"""The data contract: records that cross stage boundaries and the ``datasets.Features`` of each config.

Field names here are what the stages, the tests, the card and users' code rely on (see the
README's "Data contract"). Add fields freely; rename none without changing every reader.
"""

from __future__ import annotations

import ast
import hashlib
import operator
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import DatasetError
from .utils.syntax import parse_ast

Outcome = Literal["returned", "raised", "timeout", "memory", "crashed", "unserializable", "nondeterministic"]
OUTCOMES: tuple[str, ...] = ("returned", "raised", "timeout", "memory", "crashed", "unserializable", "nondeterministic")
#: The outcomes a dataset keeps and a grader compares: the call returned, or raised (the exception
#: is the output). The others say the call could not be observed reproducibly.
KEPT_OUTCOMES: tuple[str, ...] = ("returned", "raised")
#: A memory address (``<generator object f at 0x7f3a...>``) differs from run to run, so no output
#: holding one is ever reproducible: the sandbox masks them in exception messages (``at 0x...``),
#: refuses reprs that show one, and no case with one reaches the data.
ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")
#: Every match of :data:`ADDRESS` holds this text. Looking for it first (a C substring search) spares
#: the regex, whose leading ``\b`` makes it try every position: 15 us on a 700-character output,
#: more than the builtin repr that made the text, and the sandbox checks every output.
ADDRESS_MARK = "at 0x"


def has_address(text: str) -> bool:
    """Whether ``text`` shows a memory address (see :data:`ADDRESS`)."""
    return ADDRESS_MARK in text and ADDRESS.search(text) is not None


def mask_addresses(text: str) -> str:
    """``text`` with every memory address written ``at 0x...``, the same in every run."""
    return ADDRESS.sub("at 0x...", text) if ADDRESS_MARK in text else text


def exception_type(output: str) -> str:
    """``"ValueError"`` of a raised case's output ``"ValueError: bad value"`` (the whole text when
    there is no colon)."""
    return output.split(":", 1)[0].strip()


Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
#: The columns that hold a level (``static_difficulty``: calibration keeps the static one there).
DIFFICULTY_COLUMNS: tuple[str, ...] = ("difficulty", "static_difficulty")


# ``difficulty`` is a ``ClassLabel`` in every config: our rows carry the level's name, the Parquet
# files its int code (the index in DIFFICULTIES). Writers encode, readers decode.
def difficulty_code(name: str) -> int:
    """The ``difficulty`` ClassLabel code of a level name (``easy`` 0, ``medium`` 1, ``hard`` 2).

    Raises:
        DatasetError: not a level name.
    """
    try:
        return DIFFICULTIES.index(name)
    except ValueError:
        raise DatasetError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {name!r}") from None


def with_difficulty_codes(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as a Parquet file holds it: every level column (:data:`DIFFICULTY_COLUMNS`) as its
    ClassLabel code. A shallow copy: the caller's row keeps the names."""
    return {**row, **{name: difficulty_code(row[name]) for name in DIFFICULTY_COLUMNS if row.get(name) is not None}}


def difficulty_name(value: int | str) -> str:
    """The level name of a ``difficulty`` value read back: a ClassLabel code, or a string (a folder
    written before the column was a ClassLabel), returned unchanged.

    Raises:
        DatasetError: an int that is no level's code, or neither an int nor a string.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, bool):
        try:
            code = operator.index(value)
        except TypeError:
            code = -1
        if 0 <= code < len(DIFFICULTIES):
            return DIFFICULTIES[code]
    raise DatasetError(f"not a difficulty code (0 to {len(DIFFICULTIES) - 1}): {value!r}")


def normalise_source(code: str) -> str:
    """Source with formatting and comments normalised away (``ast.unparse`` of the parse)."""
    return ast.unparse(parse_ast(code))


def function_id(code: str) -> str:
    """Stable id of a function: sha256 of its normalised source, 16 hex digits.

    The same on every machine and run for a given Python minor version (``ast.unparse`` is the
    normaliser). Falls back to the raw text for code that does not parse.
    """
    try:
        text = normalise_source(code)
    except SyntaxError:
        text = code
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Source:
    """Where a function came from: corpus name, file path, and The Stack's provenance columns."""

    corpus: str
    path: str
    repo: str | None = None
    license: str | None = None


@dataclass
class Function:
    """A harvested, self-contained function: ``code`` defines ``entry_point`` with all it needs."""

    id: str
    entry_point: str
    code: str
    source: Source
    params: list[str] = field(default_factory=list)
    # Normalised-AST fingerprint used for near-duplicate removal across shards.
    fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> "Function":
        row = dict(row)
        row["source"] = Source(**row["source"])
        return cls(**{k: v for k, v in row.items() if k in cls.__dataclass_fields__})


@dataclass
class Case:
    """One call ``entry_point(<input>)`` and what it gave.

    ``input`` is the source of the argument list (``3, b='x'``); ``output`` is the canonical repr of
    the returned value, or ``"ExcType: message"`` when ``outcome == "raised"``.
    """

    input: str
    output: str
    outcome: str
    writer: str = "offline"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> "Case":
        return cls(**{k: v for k, v in row.items() if k in cls.__dataclass_fields__})


@dataclass
class ExecutionTask:
    """What the sandbox runs: one function and its argument lists (``coverage``: measure it;
    ``operands``: with it, report what the comparisons compared, see ``sandbox.operands``)."""

    id: str
    code: str
    entry_point: str
    inputs: list[str]
    coverage: bool = False
    # With coverage: also report the scalar operands of the code's comparisons (the search's hint).
    operands: bool = False
    # Tasks with the same key are rounds of one search: their function stays loaded in one child
    # between them (``Sandbox.close_session`` ends it). Never for data that is kept: a kept case
    # is run in a fresh child.
    session: str | None = None


@dataclass
class CaseCoverage:
    """What one call executed of the function's own code: sorted line numbers, and arcs
    ``(from_line, to_line)`` within a frame (a negative line is the entry or exit of the code
    object starting at that line, as in coverage.py)."""

    lines: list[int]
    arcs: list[tuple[int, int]]
    # ``(line, source)`` of scalar operands the code's comparisons saw (``ExecutionTask.operands``).
    operands: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ExecutionResult:
    """What the sandbox returns for one task. ``status`` is ``ok`` when the function could be run
    at all; otherwise a short reason (``load_error``, ``load_timeout``, ``no_entry_point``, ...)."""

    id: str
    status: str
    cases: list[Case]
    detail: str = ""
    # One entry per case when coverage was measured (None for a case that reported none).
    coverage: list[CaseCoverage | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "detail": self.detail, "cases": [c.to_dict() for c in self.cases]}


#: The configs of a dataset folder, in card order. The training configs hold the same samples, one
#: TRL format each (see ``dataset/templates.py``); ``rl`` and ``eval`` are one row per function.
TRAINING_CONFIGS: tuple[str, ...] = ("prompted", "chat", "text")
CONFIGS: tuple[str, ...] = ("raw", *TRAINING_CONFIGS, "rl", "eval")


def _features():
    # Imported lazily: the sandbox's zygote imports this module and must stay light.
    from datasets import ClassLabel, Features, List, Value

    # Stored as int64 codes; ``features["difficulty"].int2str(code)`` gives the name.
    difficulty = ClassLabel(names=list(DIFFICULTIES))
    case = {"input": Value("string"), "output": Value("string"), "outcome": Value("string"), "writer": Value("string")}
    source = {"corpus": Value("string"), "path": Value("string"), "repo": Value("string"), "license": Value("string")}
    raw = Features(
        {
            "id": Value("string"),
            "entry_point": Value("string"),
            "code": Value("string"),
            "cases": List(case),
            "source": source,
            "generator": Value("string"),
            "difficulty": difficulty,
            "stats": {
                "difficulty_score": Value("float64"),
                "ast_nodes": Value("int64"),
                "branches": Value("int64"),
                "loops": Value("int64"),
                "max_depth": Value("int64"),
                "params": Value("int64"),
                "n_cases": Value("int64"),
                "n_raised": Value("int64"),
                "distinct_outputs": Value("int64"),
                # Measured by the sandbox on the kept cases; null where coverage was not measured.
                "line_coverage": Value("float64"),
                "branch_coverage": Value("float64"),
            },
        }
    )
    # The training configs carry the same samples in one TRL format each: TRL picks a dataset's
    # format from the keys it finds (``prompt``/``completion``, ``messages``, ``text``), so a row
    # must never carry two of them.
    sample = {"id": Value("string"), "function_id": Value("string"), "template": Value("string")}
    message = List({"role": Value("string"), "content": Value("string")})
    prompted = Features({**sample, "prompt": Value("string"), "completion": Value("string"), "difficulty": difficulty})
    chat = Features({**sample, "messages": message, "difficulty": difficulty})
    text = Features({**sample, "text": Value("string"), "difficulty": difficulty})
    # RL with verifiable rewards: a conversational prompt showing the observed cases; the hidden
    # cases (and the entry point) reach a reward function as keyword columns.
    rl = Features(
        {
            "id": Value("string"),
            "entry_point": Value("string"),
            "prompt": message,
            "observed_cases": List(case),
            "hidden_cases": List(case),
            "difficulty": difficulty,
        }
    )
    eval_ = Features(
        {
            "id": Value("string"),
            "entry_point": Value("string"),
            "prompt": Value("string"),
            "observed_cases": List(case),
            "hidden_cases": List(case),
            "reference_code": Value("string"),
            # Where the function came from, its license included (as in raw).
            "source": source,
            "difficulty": difficulty,
        }
    )
    return {"raw": raw, "prompted": prompted, "chat": chat, "text": text, "rl": rl, "eval": eval_}


def features(config: Literal["raw", "prompted", "chat", "text", "rl", "eval"]):
    """``datasets.Features`` of one config of the dataset folder."""
    return _features()[config]
