"""Widening the model's inputs with type-aware mutants from the offline writer (as in EvalPlus)."""

from __future__ import annotations

import random

from ...schema import Function


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
