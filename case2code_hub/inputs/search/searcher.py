"""The search loop (:class:`SearchingWriter`): rounds of candidates per function, run with coverage.

Per function: the seeds are executed with coverage on; a candidate that reaches a new line or
branch outcome, or gives a new output (errors count by their shape), joins the parent pool; the
next round's candidates are made from the pool (:func:`_candidates`, :func:`_child`) until the
search stops, then :mod:`.choice` picks the cases. See :mod:`case2code_hub.inputs.search`.

Many functions are searched at the same time, as a pipeline: a function's next round is proposed
as soon as its last one's results are read and goes to the sandbox behind the other functions'
rounds, so proposing (here) and running (the workers) overlap and every core stays busy.

Determinism: each function has its own ``random.Random`` seeded by ``(seed, function id)`` and
its own pool, and every decision depends only on that function's execution results (which the
sandbox returns in input order), never on wall-clock time or on which function finished first.
The time cap is a safety net for pathological searches, far above what normal rounds take; when it
fires it is logged and counted, and the result may then differ. Time spent waiting for the next
function (a writer model answering the question its seeds come from) does not count.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Iterable, Iterator, Mapping

from ... import literals
from ...errors import ConfigError, LiteralSyntaxError
from ...quality import FunctionQuality, measure
from ...sandbox.coverage import EMPTY, CoverageMap, coverage_map
from ...schema import KEPT_OUTCOMES, Case, CaseCoverage, ExecutionTask, Function
from ...utils.logging import get_logger
from ..base import OFFLINE, WrittenInputs
from ..reading.analysis import FunctionAnalysis, analyse
from .choice import Trial, choose
from ..offline import Candidate, _mutant, _reads_back, _slots, _small_source, seeds
from .repair import Blame, error_shape, repaired
from .target import TARGET_SHARE, Targets
from .splice import (HAVOC_SHARE, SPLICE_SHARE, Frontier, cross, havoc, helper_constants, mix, splice, splice_constants,
                     switch_type)
from ..values import Limits

logger = get_logger(__name__)

# Distinct errors of one function that still count as progress (new error messages can be endless).
MAX_NEW_ERRORS = 12
# Repaired calls that return without reaching anything new, kept as parents all the same.
MAX_FIXED = 6
# Outcomes that cost a whole deadline (or a fork) each: a function that keeps producing them stops early.
EXPENSIVE = ("timeout", "memory", "crashed")


@dataclass
class SearchConfig:
    """Options of the coverage-guided search.

    Args:
        n_cases: inputs chosen per function at the end.
        seed: the run's seed; with the function id it fixes every choice.
        max_calls: budget of executed candidates per function.
        first_round: candidates in the first round (the seeds come first).
        round_size: candidates in each later round.
        patience: rounds in a row without new coverage or new output before giving up; eight
            times that while some line is unreached.
        max_expensive: timeouts, memory errors and crashes a function may cause before its
            search stops (each costs a full deadline).
        max_raised_share: largest share of raised calls among the chosen inputs.
        batch_size: functions searched at the same time (their rounds keep the workers busy).
        seconds_per_function: safety cap on the search's wall time, per function admitted so
            far; normal searches finish far below it, so it does not change results.
        max_str_len / max_container_len / max_abs_int: size bounds of generated values.
    """

    n_cases: int = 10
    seed: int = 0
    max_calls: int = 720
    first_round: int = 32
    round_size: int = 16
    patience: int = 6
    max_expensive: int = 3
    max_raised_share: float = 0.3
    batch_size: int = 64
    seconds_per_function: float = 30.0
    max_str_len: int = 40
    max_container_len: int = 8
    max_abs_int: int = 10**6

    def __post_init__(self) -> None:
        for name in ("n_cases", "max_calls", "first_round", "round_size", "patience", "max_expensive", "batch_size",
                     "max_str_len", "max_container_len", "max_abs_int"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        if self.max_calls < self.n_cases:
            raise ConfigError(f"max_calls must be >= n_cases ({self.n_cases}), got {self.max_calls}", field="max_calls")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}", field="seed")
        if not 0.0 <= self.max_raised_share < 1.0:
            raise ConfigError(f"max_raised_share must be in [0, 1), got {self.max_raised_share}", field="max_raised_share")
        if not self.seconds_per_function > 0:
            raise ConfigError(f"seconds_per_function must be positive, got {self.seconds_per_function}",
                              field="seconds_per_function")

    @property
    def limits(self) -> Limits:
        return Limits(self.max_str_len, self.max_container_len, self.max_abs_int)


@dataclass
class SearchResult:
    """What the search found for one function.

    Attributes:
        function: the function.
        inputs: the chosen argument-list sources, in the order they were found.
        cases: their executed cases (parallel to ``inputs``).
        coverages: their coverage (parallel to ``inputs``).
        quality: quality of the chosen cases.
        calls: candidates executed; rounds: rounds run.
        stop: why the search stopped (``covered``, ``budget``, ``stale``, ``exhausted``,
            ``expensive``, ``time_cap``, ``no_inputs``, ``not_loaded``).
    """

    function: Function
    inputs: list[str]
    cases: list[Case]
    coverages: list[CaseCoverage | None]
    quality: FunctionQuality | None
    calls: int = 0
    rounds: int = 0
    stop: str = ""


@dataclass
class _State:
    function: Function
    cmap: CoverageMap
    stream: Iterator[Candidate] | None
    blame: Blame | None = None
    frontier: Frontier | None = None
    targets: Targets | None = None
    pool: list[Candidate] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    trials: list[Trial] = field(default_factory=list)
    covered: set = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    returned_outputs: set[str] = field(default_factory=set)
    pending: list[tuple[str, Candidate]] = field(default_factory=list)
    rounds: int = 0
    fixed: int = 0
    stale: int = 0
    expensive: int = 0
    stop: str = ""
    session: str = ""


class SearchingWriter:
    """Coverage-guided input writer: searches each function's inputs in the given sandbox.

    The sandbox must be started; coverage is asked for per task, so any ``SandboxConfig`` works
    (``runs=1`` halves the cost: the executor that runs the chosen inputs again checks determinism).
    """

    name = "offline-search"

    def __init__(self, sandbox, config: SearchConfig | None = None,
                 call_sites: Mapping[str, list[list[str]]] | None = None,
                 seeds: Mapping[str, list[str]] | None = None) -> None:
        self.sandbox = sandbox
        self.config = config or SearchConfig()
        # The corpus's own calls of a function, as ``harvest.callsites`` indexes them: seeds like doctests.
        self.call_sites = call_sites or {}
        # Argument lists written for a function by someone else (a writer model), by function id:
        # seeds like its doctests, read when its search starts (the mapping may fill as functions
        # are handed over).
        self.seeds = seeds if seeds is not None else {}
        self.time_capped = 0

    def search(self, functions: Iterable[Function]) -> Iterator[SearchResult]:
        """Search inputs for every function; yields one result per function, in input order.

        Up to ``batch_size`` functions are searched at a time, as a pipeline: a function's next
        round goes to the sandbox as soon as its last round's results are read, while the
        sandbox runs the other functions' rounds, so this process's proposing and the workers'
        running overlap instead of taking turns, and no round waits for another (results are
        taken as they complete; each function's choices depend on its own results only).

        Args:
            functions: the functions (a lazy iterable is read as room frees up).

        Returns:
            An iterator of :class:`SearchResult`.

        Raises:
            SandboxError: the sandbox failed (never for a function's own misbehaviour).
        """
        from ...sandbox import NOT_READY

        cfg = self.config
        incoming = iter(functions)
        order: deque[_State] = deque()  # admitted, in input order: results go out in this order
        ready: deque[_State] = deque()  # a round proposed, waiting for the sandbox
        sent: dict[int, _State] = {}  # a round in the sandbox, by id() of its task
        done: dict[int, SearchResult] = {}  # by id() of the state, until the states before it are done
        active = 0
        admitted = 0
        exhausted = False
        started = time.monotonic()
        # Time spent waiting for the next function (a writer model's answer it is seeded with) is
        # not the search's: the time cap counts only the rest.
        waited = 0.0
        # Each function's rounds run in one child that keeps it loaded (a session): exploring
        # needs no fresh process per round; the cases kept are run again in fresh children.
        close_session = getattr(self.sandbox, "close_session", None)
        has_room = getattr(self.sandbox, "has_room", None)

        def settle(state: _State) -> None:
            nonlocal active
            if state.stop:
                done[id(state)] = self._finish(state)
                active -= 1
                if state.rounds and close_session is not None:
                    close_session(state.session)
                return
            self._next_round(state)
            if state.stop:
                settle(state)
            else:
                ready.append(state)

        def tasks() -> Iterator[Any]:
            nonlocal exhausted, active, admitted, waited
            while True:
                # Room for another function: as many active as a batch, and a bounded backlog of
                # finished results behind a slow one.
                while not exhausted and active < cfg.batch_size and len(order) < 4 * cfg.batch_size:
                    asked = time.monotonic()
                    function = next(incoming, None)
                    waited += time.monotonic() - asked
                    if function is None:
                        exhausted = True
                        break
                    state = self._start(function)
                    state.session = f"{admitted}:{function.id}"
                    order.append(state)
                    active += 1
                    admitted += 1
                    settle(state)
                # The first waiting round whose worker has room (a session's rounds all go to the
                # worker that keeps its child; one busy with a slow call should not hold them all).
                state = next((s for s in ready if s.stop or has_room is None or has_room(s.session)), None)
                if state is None and ready and not sent:
                    state = ready[0]  # nothing of ours is in flight: whatever holds the room, go
                if state is not None:
                    ready.remove(state)
                    if state.stop:  # stopped by the time cap while it waited
                        settle(state)
                        continue
                    task = ExecutionTask(id=state.function.id, code=state.function.code,
                                         entry_point=state.function.entry_point,
                                         inputs=[source for source, _ in state.pending], coverage=True, operands=True,
                                         session=state.session)
                    sent[id(task)] = state
                    yield task
                elif sent:
                    yield NOT_READY
                else:
                    return

        def finished() -> Iterator[SearchResult]:
            while order and id(order[0]) in done:
                yield done.pop(id(order.popleft()))

        # As completed: a round that times out holds one worker, not every round behind it.
        for task, result in self.sandbox.run_as_completed(tasks()):
            state = sent.pop(id(task))
            if not state.stop:
                self._absorb(state, result)
            if not state.stop and time.monotonic() - started - waited > cfg.seconds_per_function * admitted:
                self._time_cap(order)
            settle(state)
            yield from finished()
        yield from finished()
        if order:  # every state is settled once the sandbox has answered all it was given
            raise RuntimeError("input search: functions left unfinished")  # pragma: no cover

    def _time_cap(self, order: deque) -> None:
        active = [state for state in order if not state.stop]
        self.time_capped += len(active)
        logger.warning("input search: over its time cap; stopping %d functions early", len(active))
        for state in active:
            state.stop = "time_cap"

    def write(self, function: Function) -> list[str]:
        """The chosen inputs of one function (searches it alone)."""
        return next(iter(self.search([function]))).inputs

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        """``search`` as the :class:`~..base.InputWriter` interface: each function's chosen inputs,
        counted by ``search/stop/<why>`` and ``search/calls``."""
        for result in self.search(functions):
            yield WrittenInputs(result.function, result.inputs, [OFFLINE] * len(result.inputs),
                                counters={f"search/stop/{result.stop}": 1, "search/calls": result.calls})

    def counters(self) -> dict[str, int]:
        """Nothing is counted over the writer's life (each function's counters come with it)."""
        return {}

    def _start(self, function: Function) -> _State:
        try:
            analysis = analyse(function)
        except Exception:  # static analysis of odd code must cost one function, not the run
            logger.debug("input search: analysis failed on %s", function.id, exc_info=True)
            return _State(function, EMPTY, None, stop="no_inputs")
        if analysis.parse_error:
            return _State(function, EMPTY, None, stop="no_inputs")
        examples = _given_examples(analysis, self.seeds.get(function.id, ()))
        examples += _call_site_examples(function, analysis, self.call_sites.get(function.entry_point, ()))
        if examples:
            analysis = replace(analysis, doctests=[*analysis.doctests, *examples])
        # A string seed: random.Random hashes it with sha512, independent of PYTHONHASHSEED.
        rng = random.Random(f"{self.config.seed}:{function.id}")
        cmap = coverage_map(function.code, function.entry_point)
        blame = Blame(function.code, analysis)
        state = _State(function, cmap, None, blame, Frontier(function.code, cmap), Targets(function.code, analysis, cmap, blame))
        state.stream = _candidates(analysis, rng, state.pool, self.config.limits, state.frontier.constants, state.targets)
        return state

    def _next_round(self, state: _State) -> None:
        """Fill ``state.pending`` with the next round's new candidates, or set ``state.stop``."""
        cfg = self.config
        calls = len(state.trials)
        if calls >= cfg.max_calls:
            state.stop = "budget"
            return
        want = min(cfg.first_round if state.rounds == 0 else cfg.round_size, cfg.max_calls - calls)
        pending: list[tuple[str, Candidate]] = []
        attempts = want * 20
        try:
            while len(pending) < want and attempts > 0:
                attempts -= 1
                candidate = next(state.stream)
                if candidate is None:  # no parent yet: the seeds are all this round has
                    break
                # Most proposals repeat one seen before (measured: 87%): look that up before
                # parsing the source back, which is most of a proposal's cost.
                source = _small_source(candidate)
                if source is not None and source not in state.seen:
                    state.seen.add(source)
                    if _reads_back(source):
                        pending.append((source, candidate))
        except StopIteration:
            pass
        except Exception:  # a mutation that trips over an odd value ends this function's search
            logger.debug("input search: proposing failed on %s", state.function.id, exc_info=True)
        if not pending:
            state.stop = "exhausted" if state.trials else "no_inputs"
            return
        state.pending = pending
        state.rounds += 1

    def _absorb(self, state: _State, result) -> None:
        if result.status != "ok":
            state.stop = "not_loaded"
            state.pending = []
            return
        coverages = result.coverage or [None] * len(result.cases)
        progress = False
        for (source, candidate), case, coverage in zip(state.pending, result.cases, coverages):
            units = state.cmap.units(coverage)
            if coverage is not None and coverage.operands:
                state.targets.observe(state.frontier.observe(coverage.operands, candidate))
            trial = Trial(len(state.trials), source, case, coverage, units)
            state.trials.append(trial)
            if case.outcome in EXPENSIVE:
                state.expensive += 1
                continue
            new_units = not units <= state.covered
            output = error_shape(case.output) if case.outcome == "raised" else case.output
            new_output = case.outcome in KEPT_OUTCOMES and output not in state.outputs
            candidate.reached = units
            if new_units or new_output:
                if case.outcome == "raised":
                    candidate.error = case.output
                    candidate.blamed = state.blame.places(candidate, coverage)
                state.pool.append(candidate)
                state.covered |= units
                state.outputs.add(output)
                if case.outcome == "returned":
                    state.returned_outputs.add(case.output)
                # A new error is progress too while they are few: a chain of repairs walks through
                # several (KeyError, then a type error one level down) before it reaches new lines.
                new_error = case.outcome == "raised" and len(state.outputs) - len(state.returned_outputs) <= MAX_NEW_ERRORS
                progress = progress or new_units or case.outcome == "returned" or new_error
            elif candidate.origin == "repair" and case.outcome == "returned" and state.fixed < MAX_FIXED:
                # A repair that made the call return has the structure the body wants, even where
                # it reaches nothing new yet (``c['name'] == name`` now runs, and is false): a
                # parent for the splice that makes it true.
                state.fixed += 1
                state.pool.append(candidate)
        state.pending = []
        state.frontier.update(state.covered)
        state.targets.update(state.covered)
        state.stale = 0 if progress else state.stale + 1
        if state.expensive >= self.config.max_expensive:
            state.stop = "expensive"
        elif len(state.covered) >= state.cmap.n_units and len(state.returned_outputs) >= self.config.n_cases:
            state.stop = "covered"
        elif state.stale >= self.config.patience * (LINES_LEFT_PATIENCE if self._lines_left(state) else 1):
            state.stop = "stale"

    @staticmethod
    def _lines_left(state: _State) -> bool:
        """Whether some line is still unreached: such a search is worth eight times the patience
        (the lines are what the data promises; a function fully reached but short of distinct
        outputs is not)."""
        return any(("l", line) not in state.covered for line in state.cmap.lines)

    def _finish(self, state: _State) -> SearchResult:
        chosen = choose(state.trials, n=self.config.n_cases, max_raised_share=self.config.max_raised_share)
        cases = [t.case for t in chosen]
        coverages = [t.coverage for t in chosen]
        quality = measure(state.function.code, state.function.entry_point, cases, coverages, cmap=state.cmap) if chosen else None
        return SearchResult(
            function=state.function, inputs=[t.source for t in chosen], cases=cases, coverages=coverages,
            quality=quality, calls=len(state.trials), rounds=state.rounds, stop=state.stop,
        )


#: Call sites of a function taken as seeds (its own module's and its tests' first).
MAX_CALL_SITES = 8


def _call_site_examples(function: Function, analysis: FunctionAnalysis, found) -> list[tuple[list[Any], dict[str, Any]]]:
    """The corpus's calls of ``function``'s name whose arguments fit its signature."""
    if not found:
        return []
    module = PurePosixPath(function.source.path).stem
    related = {module, f"test_{module}"} if module not in ("", "__init__") else set()
    order = sorted(range(len(found)), key=lambda i: (found[i][0] not in related, i))
    out = []
    for i in order:
        try:
            args, kwargs = literals.parse_arguments(found[i][1])
        except (LiteralSyntaxError, RecursionError, ValueError, TypeError, MemoryError, OverflowError):
            continue
        if _fits(analysis, args, kwargs):
            out.append((args, kwargs))
            if len(out) >= MAX_CALL_SITES:
                break
    return out


def _given_examples(analysis: FunctionAnalysis, sources) -> list[tuple[list[Any], dict[str, Any]]]:
    """Argument lists given for the function (``SearchingWriter.seeds``) that parse and fit it."""
    out = []
    for source in sources:
        try:
            args, kwargs = literals.parse_arguments(source)
        except (LiteralSyntaxError, RecursionError, ValueError, TypeError, MemoryError, OverflowError):
            continue
        if _fits(analysis, args, kwargs):
            out.append((args, kwargs))
    return out


def _fits(analysis: FunctionAnalysis, args: list[Any], kwargs: dict[str, Any]) -> bool:
    params = analysis.params
    positional = [p for p in params if p.kind in ("positional_only", "positional")]
    named = {p.name for p in params if p.kind in ("positional", "keyword_only")}
    if len(args) > len(positional) and not any(p.kind == "var_positional" for p in params):
        return False
    if not set(kwargs) <= named and not any(p.kind == "var_keyword" for p in params):
        return False
    given = {p.name for p in positional[: len(args)]} | set(kwargs)
    return all(p.name in given for p in params if p.required and p.kind not in ("var_positional", "var_keyword"))


def _candidates(
    analysis: FunctionAnalysis, rng: random.Random, pool: list[Candidate], limits: Limits, focus: dict[type, list[Any]],
    targets: Targets,
) -> Iterator[Candidate | None]:
    """Every seed, then mutants of a parent drawn from ``pool``; ``None`` while the pool is empty.

    Unlike ``offline.propose``, an empty pool pauses the stream instead of ending it: the pool
    fills only once the seeds have been executed. A parent that raised is often repaired as its
    error suggests instead of mutated at random; the newest parents are drawn more often, so a
    chain of repairs (each a new error) is followed to its end. Half the constant splices take
    their constant from ``focus`` (the frontier's, which the search updates) when it has any. A
    mutation that fails on an odd value is logged and another drawn; the stream ends only after
    ``MAX_FAILED_MUTATIONS`` of them.
    """
    slots = _slots(analysis, random.Random(rng.random()), limits)
    yield from seeds(analysis, rng, limits=limits)
    constants = splice_constants(analysis)
    helpers = helper_constants(analysis)
    strs = tuple(s for s in constants.get(str, ()) if s)
    tokens = [*constants.get(str, ()), *constants.get(bytes, ()), *helpers.get(str, ()), *helpers.get(bytes, ())]
    failures = 0
    while True:
        if not pool:
            yield None
            continue
        try:
            child = _child(rng, pool, slots, constants, helpers, focus, targets, strs, tokens)
        except Exception:  # an odd value one mutation trips over: the next draw takes another path
            failures += 1
            logger.debug("input search: a mutation failed", exc_info=True)
            if failures >= MAX_FAILED_MUTATIONS:
                raise
            continue
        yield child


#: Mutations that may fail (each logged) before the function's stream ends.
MAX_FAILED_MUTATIONS = 50


def _child(rng: random.Random, pool: list[Candidate], slots, constants: dict, helpers: dict, focus: dict,
           targets: Targets, strs: tuple[str, ...], tokens: list[Any]) -> Candidate:
    """One new candidate made from a parent drawn from ``pool``."""
    parent = rng.choice(pool[-RECENT:]) if rng.random() < RECENT_SHARE else rng.choice(pool)
    if parent.error and rng.random() < REPAIR_SHARE:
        fixed = repaired(parent, parent.error, rng, strs)
        if fixed is not None:
            return fixed
    if targets.open and rng.random() < TARGET_SHARE:
        aimed = targets.child(pool, rng)
        if aimed is not None:
            return aimed
    if tokens and rng.random() < HAVOC_SHARE:
        hit = havoc(parent, tokens + [*focus.get(str, ()), *focus.get(bytes, ())], rng)
        if hit is not None:
            return hit
    draw = rng.random()
    child = None
    if (constants or helpers or focus) and draw < SPLICE_SHARE:
        source = _splice_source(constants, helpers, focus, rng)
        child = splice(parent, source, rng, tuple(focus.get(int, ())) if source is focus else ())
    elif draw < SPLICE_SHARE + CROSS_SHARE:
        child = cross(parent, rng)
    elif draw < SPLICE_SHARE + CROSS_SHARE + SWITCH_SHARE:
        child = switch_type(parent, rng, strs)
    elif draw < SPLICE_SHARE + CROSS_SHARE + SWITCH_SHARE + MIX_SHARE:
        child = mix(parent, pool, rng)
    return child if child is not None else _mutant(parent, slots, rng)


def _splice_source(constants: dict, helpers: dict, focus: dict, rng: random.Random) -> dict:
    # The frontier first (its tests are the ones waiting), then the entry's own literals; a helper's
    # get a share, or all splices when the entry has none (``fnmatch``: its literals are in ``translate``).
    if focus and rng.random() < FOCUS_SHARE:
        return focus
    if helpers and (not constants or rng.random() < HELPER_SHARE):
        return helpers
    return constants or focus


#: Share of the entry-or-helper splices that take a helper function's constant (when both have some).
HELPER_SHARE = 0.3
#: Share of constant splices that take a constant from the frontier (when it has one).
FOCUS_SHARE = 0.5
#: Shares of mutants that copy a value between places of the call, or switch a value's type.
CROSS_SHARE = 0.12
SWITCH_SHARE = 0.06
#: How many times the patience a search gets while some line is unreached.
LINES_LEFT_PATIENCE = 8
#: Share of mutants that take one argument from another call of the pool.
MIX_SHARE = 0.06
#: Share of draws of a raised parent that try to repair its error first.
REPAIR_SHARE = 0.6
#: Share of parent draws from the ``RECENT`` newest pool members.
RECENT_SHARE = 0.3
RECENT = 4
