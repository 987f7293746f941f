"""The model's inputs widened by the offline writer: type-aware mutants of them (as in EvalPlus),
or the coverage-guided search seeded with them.

Both are input writers (:class:`~..base.InputWriter`) over an :class:`~.writer.LLMInputWriter`:
:class:`LLMWithMutations` (``--search none``: the model's inputs and their mutants, run once) and
:class:`LLMSeededSearch` (``--search coverage``: the model adds inputs, the search keeps those
that reach something).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

from ...schema import Function
from ..base import OFFLINE, WrittenInputs

if TYPE_CHECKING:
    from ..search import SearchConfig
    from .writer import LLMInputWriter


def mix_with_mutations(
    function: Function,
    inputs: list[str],
    *,
    n_mutants: int = 10,
    seed: int = 0,
    writer: str = "llm",
) -> list[tuple[str, str]]:
    """The model's inputs, then type-aware mutants of them by the offline writer (as in EvalPlus).

    Args:
        function: the function the inputs are for (read statically, never run).
        inputs: argument-list sources from the model.
        n_mutants: how many distinct mutants to add at most.
        seed: seeds the mutation; the same arguments give the same mutants.
        writer: the label of the model's inputs; mutants are labelled ``<writer>+mutation``.

    Returns:
        ``(source, writer)`` pairs: every model input first, then the new mutants, all distinct
        and each round-tripping through ``literals.parse_arguments``.
    """
    from ... import literals
    from ...errors import LiteralSyntaxError
    from ..reading.analysis import analyse
    from ..offline import Candidate, propose

    out = [(source, writer) for source in inputs]
    seen = set(inputs)
    analysis = analyse(function)
    parents = []
    for source in inputs:
        args, kwargs = literals.parse_arguments(source)
        parents.append(Candidate(list(args), dict(kwargs), origin="llm"))
    if analysis.parse_error or not parents or n_mutants <= 0:
        return out
    rng = random.Random(f"{seed}:{function.id}:mutation")  # a str seed: independent of PYTHONHASHSEED
    budget = 30 * n_mutants
    added = 0
    for candidate in propose(analysis, rng, parents=parents):
        budget -= 1
        if budget < 0 or added >= n_mutants:
            break
        if candidate.origin != "mutation":
            continue  # the offline writer's own seeds: not a mutation of the model's inputs
        try:
            source = candidate.source()
            literals.parse_arguments(source)
        except (LiteralSyntaxError, RecursionError, ValueError, MemoryError):
            continue
        if source not in seen and len(source) <= 2_000:
            seen.add(source)
            out.append((source, f"{writer}+mutation"))
            added += 1
    return out


class LLMWithMutations:
    """The model's inputs, then type-aware mutants of them (:func:`mix_with_mutations`), up to
    ``n_candidates`` inputs per function; an input writer (``--search none`` with a model)."""

    def __init__(self, llm: LLMInputWriter, *, n_candidates: int, seed: int = 0) -> None:
        self.llm = llm
        self.n_candidates = n_candidates
        self.seed = seed

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        for written in self.llm.write_many(functions):
            if written.inputs:
                pairs = mix_with_mutations(written.function, written.inputs,
                                           n_mutants=self.n_candidates - len(written.inputs), seed=self.seed,
                                           writer=written.writers[0])
                written = replace(written, inputs=[source for source, _ in pairs], writers=[who for _, who in pairs])
            yield written

    def counters(self) -> dict[str, int]:
        return self.llm.counters()


class LLMSeededSearch:
    """The writer model's inputs as seeds of the coverage-guided search; an input writer.

    The model adds inputs, never takes a function away (one it gives nothing usable for is
    searched from the offline writer's own seeds). A chosen input the model wrote is labelled with
    the model, every other one ``offline``. ``counters`` adds ``llm/functions_with_inputs`` and
    ``llm/functions_without_inputs`` (the model's answers) to the model's own.
    """

    def __init__(self, llm: LLMInputWriter, sandbox, config: SearchConfig | None = None,
                 call_sites: Mapping[str, list[list[str]]] | None = None) -> None:
        from ..search import SearchingWriter

        self.llm = llm
        self.seeds: dict[str, list[str]] = {}  # the model's inputs by function id, filled as functions pass
        self.written: dict[str, set[str]] = {}  # the same, normalised: which chosen inputs are the model's
        self.answers: Counter[str] = Counter()
        self.search = SearchingWriter(sandbox, config, call_sites=call_sites, seeds=self.seeds)

    def write_many(self, functions: Iterable[Function]) -> Iterator[WrittenInputs]:
        def answered() -> Iterator[Function]:
            for written in self.llm.write_many(functions):  # in order
                self.seeds[written.function.id] = written.inputs
                self.written[written.function.id] = {n for n in map(_normal, written.inputs) if n is not None}
                self.answers["functions_with_inputs" if written.inputs else "functions_without_inputs"] += 1
                yield written.function

        for written in self.search.write_many(answered()):
            model = self.written.get(written.function.id, ())
            writers = [self.llm.writer if _normal(source) in model else OFFLINE for source in written.inputs]
            yield replace(written, writers=writers)

    def counters(self) -> dict[str, int]:
        return {**{f"llm/{key}": value for key, value in self.answers.items()}, **self.llm.counters()}


def _normal(source: str) -> str | None:
    """An argument list as the grammar writes it back, or None when it is not in the grammar."""
    from ... import literals

    try:
        return literals.format_arguments(*literals.parse_arguments(source))
    except Exception:  # noqa: BLE001 - not in the grammar: matches no chosen input
        return None
