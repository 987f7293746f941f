"""The one-shot offline input writer: candidate argument lists for a function without any model,
from its source alone, nothing run (``--search none``).

Seeds come first (doctest calls, defaults, type-driven typical and edge values), then mutations of
earlier candidates. ``propose`` is an endless generator over a caller-owned parent pool, so the
coverage-guided search (:mod:`.search`, the default writer) starts from the same seeds, feeds back
which candidates were interesting and mutates those; the LLM writer's mutants come from it too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from .. import literals
from ..errors import ConfigError, LiteralSyntaxError
from ..schema import Function
from ..utils.logging import get_logger
from .base import OFFLINE, WrittenInputs
from .reading.analysis import FunctionAnalysis, ParamInfo, TypeSpec, analyse, ranked_types
from .values import Context, Limits, mutate, typical_values

logger = get_logger(__name__)

MAX_INPUT_CHARS = 400


@dataclass
class OfflineWriterConfig:
    """Options of the offline writer.

    Args:
        n_candidates: how many distinct argument lists ``write`` returns at most.
        seed: the run's seed; with the function id it fixes every choice.
        max_str_len: longest generated string.
        max_container_len: most elements in a generated container.
        max_abs_int: largest generated integer magnitude.
        max_attempts_factor: proposals tried per wanted candidate before giving up (small input
            spaces, such as one bool parameter, run out of distinct inputs).
    """

    n_candidates: int = 24
    seed: int = 0
    max_str_len: int = 40
    max_container_len: int = 8
    max_abs_int: int = 10**6
    max_attempts_factor: int = 20

    def __post_init__(self) -> None:
        for name in ("n_candidates", "max_str_len", "max_container_len", "max_abs_int", "max_attempts_factor"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}", field="seed")

    @property
    def limits(self) -> Limits:
        return Limits(self.max_str_len, self.max_container_len, self.max_abs_int)


@dataclass
class Candidate:
    """One proposed call: positional and keyword argument values, and where it came from.

    ``error`` is the ``Type: message`` the call raised once run (a search fills it in, so that
    error-guided repair can read what the input lacked), and ``blamed`` the indices into
    ``[*args, *kwargs.values()]`` of the arguments the failing line names; empty otherwise. ``reached`` is the coverage units
    the call reached once run (an aimed mutation picks a parent that reached its test).
    """

    args: list[Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    origin: str = "seed"
    error: str = ""
    blamed: tuple[int, ...] = ()
    reached: frozenset = frozenset()

    def source(self) -> str:
        """The argument-list source in the data contract's grammar."""
        return literals.format_arguments(self.args, self.kwargs)


@dataclass
class _Slot:
    """A parameter prepared for generation: its ranked types and its column of seed values."""

    param: ParamInfo
    types: list[tuple[TypeSpec, float]]
    ctx: Context
    column: list[Any]

    def spec(self, rng: random.Random) -> TypeSpec:
        weights = [w for _, w in self.types]
        return rng.choices([t for t, _ in self.types], weights=weights)[0]


def _slots(analysis: FunctionAnalysis, rng: random.Random, limits: Limits) -> list[_Slot]:
    slots = []
    positional = [p for p in analysis.params if p.kind in ("positional_only", "positional")]
    for param in analysis.params:
        if param.kind == "var_keyword":
            continue
        examples = _doctest_values(analysis, param, positional)
        types, nullable = ranked_types(param, examples)
        if param.kind == "var_positional":  # *args: the votes on the tuple describe its elements
            element = types[0][0].args[0] if types[0][0].args else TypeSpec("int")
            types = [(element, 1.0)]
        ctx = Context(
            ints=analysis.int_constants, floats=analysis.float_constants, strs=analysis.str_constants,
            param_constants=param.constants, element_constants=param.element_constants, keys=param.keys,
            name=param.name, limits=limits,
        )  # fmt: skip
        column: list[Any] = []
        for i, (spec, weight) in enumerate(types):
            values = typical_values(spec, ctx, rng)
            column.extend(values if i == 0 else values[: max(1, int(len(values) * weight / 2))])
        if nullable:
            column.insert(min(2, len(column)), None)
        slots.append(_Slot(param, types, ctx, _unique_sources(column)))
    return slots


def _doctest_values(analysis: FunctionAnalysis, param: ParamInfo, positional: list[ParamInfo]) -> list[Any]:
    values = []
    index = positional.index(param) if param in positional else None
    for args, kwargs in analysis.doctests:
        if param.name in kwargs:
            values.append(kwargs[param.name])
        elif index is not None and index < len(args):
            values.append(args[index])
    return values


def _unique_sources(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for value in values:
        try:
            source = literals.to_source(value)
        except LiteralSyntaxError:
            continue
        if source not in seen:
            seen.add(source)
            out.append(value)
    return out


def _call(slots: list[_Slot], values: dict[str, Any], extras: list[Any]) -> Candidate:
    """Bind chosen values to a call: positional for required and positional-only parameters,
    keywords for optional ones; ``extras`` go to ``*args`` after every positional parameter."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    positional_open = True
    for slot in slots:
        param = slot.param
        if param.kind == "var_positional":
            if extras and positional_open:
                args.extend(extras)
            continue
        supplied = param.name in values
        if param.kind == "keyword_only":
            if supplied:
                kwargs[param.name] = values[param.name]
            continue
        if param.required or (extras and positional_open):
            value = values.get(param.name, param.default)
            if not supplied and not param.default_is_literal:
                positional_open = False
                continue
            args.append(value)
        elif supplied and param.kind == "positional":
            kwargs[param.name] = values[param.name]
            positional_open = False
        elif supplied and positional_open:  # positional-only with a default
            args.append(values[param.name])
        else:
            positional_open = False
    return Candidate(args, kwargs)


def seeds(analysis: FunctionAnalysis, rng: random.Random, *, limits: Limits | None = None) -> list[Candidate]:
    """The seed candidates of a function: doctest calls, then defaults, then type-driven rows.

    Args:
        analysis: the function's static analysis.
        rng: the seeded random source.
        limits: size bounds on values.

    Returns:
        Candidates in priority order (may contain duplicates; ``propose`` removes them).
    """
    limits = limits or Limits()
    out = [Candidate(list(a), dict(k), origin="doctest") for a, k in analysis.doctests]
    slots = _slots(analysis, rng, limits)
    required = [s for s in slots if s.param.required]
    out.append(Candidate(**_as_call(_call(slots, {s.param.name: s.column[0] for s in required if s.column}, [])), origin="default"))
    width = max((len(s.column) for s in slots), default=0)
    for row in range(width):
        values: dict[str, Any] = {}
        extras: list[Any] = []
        for offset, slot in enumerate(slots):
            if not slot.column:
                continue
            # Offsetting each column decorrelates parameters: row r does not pair everyone's r-th.
            value = slot.column[(row + offset) % len(slot.column)]
            if slot.param.kind == "var_positional":
                if row % 3 == 2:
                    extras = [value, slot.column[(row + 1) % len(slot.column)]][: 1 + row % 2]
            elif slot.param.required or row % 2 == 1:
                values[slot.param.name] = value
        out.append(Candidate(**_as_call(_call(slots, values, extras)), origin="typed"))
    return out


def _as_call(candidate: Candidate) -> dict[str, Any]:
    return {"args": candidate.args, "kwargs": candidate.kwargs}


def _mutant(parent: Candidate, slots: list[_Slot], rng: random.Random) -> Candidate:
    """A copy of ``parent`` with one or two arguments mutated, or an optional one added or removed."""
    by_position = [s for s in slots if s.param.kind in ("positional_only", "positional")]
    varargs = next((s for s in slots if s.param.kind == "var_positional"), None)
    by_name = {s.param.name: s for s in slots}
    args, kwargs = list(parent.args), dict(parent.kwargs)
    optional = [s for s in slots if not s.param.required and s.param.kind in ("positional", "keyword_only")]
    for _ in range(1 if rng.random() < 0.7 else 2):
        if optional and rng.random() < 0.15:  # toggle an optional keyword argument
            slot = rng.choice(optional)
            if slot.param.name in kwargs:
                del kwargs[slot.param.name]
            elif slot.column and not (slot.param.kind == "positional" and by_position.index(slot) < len(args)):
                kwargs[slot.param.name] = rng.choice(slot.column)
            continue
        names = list(kwargs)
        total = len(args) + len(names)
        if total == 0:
            break
        pick = rng.randrange(total)
        if pick < len(args):
            slot = by_position[pick] if pick < len(by_position) else varargs
            args[pick] = _mutate_value(args[pick], slot, rng)
        else:
            name = names[pick - len(args)]
            kwargs[name] = _mutate_value(kwargs[name], by_name.get(name), rng)
    return Candidate(args, kwargs, origin="mutation")


def _mutate_value(value: Any, slot: _Slot | None, rng: random.Random) -> Any:
    if slot is None:
        return mutate(value, rng)
    if slot.column and rng.random() < 0.15:  # jump to another seed value (maybe another type)
        return rng.choice(slot.column)
    return mutate(value, rng, spec=slot.spec(rng), ctx=slot.ctx)


def propose(
    analysis: FunctionAnalysis,
    rng: random.Random,
    *,
    parents: list[Candidate] | None = None,
    limits: Limits | None = None,
) -> Iterator[Candidate]:
    """Endless stream of candidates: every seed, then mutants of ``parents``.

    Args:
        analysis: the function's static analysis.
        rng: the seeded random source.
        parents: the pool mutants are drawn from. The caller owns it: a coverage-guided search
            appends only the candidates that reached new code. When None, every yielded candidate
            joins the pool.
        limits: size bounds on values.

    Yields:
        Candidates, possibly repeating; the caller dedupes by source.
    """
    limits = limits or Limits()
    slots = _slots(analysis, random.Random(rng.random()), limits)
    own_pool = parents is None
    pool: list[Candidate] = [] if parents is None else parents
    for candidate in seeds(analysis, rng, limits=limits):
        if own_pool:
            pool.append(candidate)
        yield candidate
    while True:
        if not pool:
            return
        candidate = _mutant(rng.choice(pool), slots, rng)
        if own_pool:
            pool.append(candidate)
        yield candidate


class OfflineInputWriter:
    """Writes candidate inputs for a function from its source alone (no model, no execution).

    ``OfflineInputWriter(n_candidates=24, seed=0)`` or ``OfflineInputWriter(config)``.
    """

    name = "offline"

    def __init__(self, config: OfflineWriterConfig | None = None, /, **options: Any) -> None:
        try:
            self.config = replace(config or OfflineWriterConfig(), **options)
        except TypeError as exc:  # an unknown option name
            raise ConfigError(f"unknown offline writer option: {exc}", field=next(iter(options), None)) from None

    def write(self, function: Function) -> list[str]:
        """Candidate argument-list sources for ``function``, best first, distinct, at most n_candidates.

        Args:
            function: the harvested function (its code is read, never run).

        Returns:
            Sources such as ``"[1, 2], key='a'"``; each one parses with ``literals.parse_arguments``.
            Empty when the code does not parse or does not define its entry point.
        """
        config = self.config
        analysis = analyse(function)
        if analysis.parse_error:
            logger.debug("no inputs for %s: code does not define %s", function.id, function.entry_point)
            return []
        # A string seed: random.Random hashes it with sha512, independent of PYTHONHASHSEED.
        rng = random.Random(f"{config.seed}:{function.id}")
        out: list[str] = []
        seen: set[str] = set()
        attempts = config.n_candidates * config.max_attempts_factor
        for candidate in propose(analysis, rng, limits=config.limits):
            attempts -= 1
            if attempts < 0 or len(out) >= config.n_candidates:
                break
            source = _checked_source(candidate)
            if source is not None and source not in seen:
                seen.add(source)
                out.append(source)
        return out

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        """``write`` for each function, in order (the :class:`~.base.InputWriter` interface); a
        function the writer fails on is yielded with no inputs, ``dropped="writer_error"``."""
        for function in functions:
            try:
                inputs = self.write(function)
            except Exception:  # static analysis of odd code must cost one function, not the run
                logger.debug("input writer failed on %s", function.id, exc_info=True)
                yield WrittenInputs(function, [], [], dropped="writer_error")
                continue
            yield WrittenInputs(function, inputs, [OFFLINE] * len(inputs))

    def counters(self) -> dict[str, int]:
        """Nothing is counted over the writer's life."""
        return {}


def _checked_source(candidate: Candidate) -> str | None:
    """The candidate's source if it is small and reads back to the same values, else None."""
    source = _small_source(candidate)
    return source if source is not None and _reads_back(source) else None


def _small_source(candidate: Candidate) -> str | None:
    """The candidate's source if it can be written and is small, else None (not checked further)."""
    try:
        source = candidate.source()
    except (LiteralSyntaxError, RecursionError, ValueError):
        return None
    return source if len(source) <= MAX_INPUT_CHARS else None


def _reads_back(source: str) -> bool:
    """Whether the literal parser takes ``source`` (what the sandbox's child will parse)."""
    try:
        literals.parse_arguments(source)
    except (LiteralSyntaxError, RecursionError, ValueError, MemoryError):
        return False
    return True
