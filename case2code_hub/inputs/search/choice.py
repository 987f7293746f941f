"""The final choice of a searched function's cases: most coverage first, then new outputs.

Greedy over the executed trials: while some trial adds coverage, the one adding most lines (then
most lines and branch outcomes); then returned trials with new outputs, raised ones with new
exception types, then repeats. Raised trials stay under a set share, except raised calls that alone
reach lines (a ``raise`` statement runs in no returning call): those may fill up to half of the
cases, so a validator with five checks keeps its five raising lines. When
the greedy picks fill every place, swaps of one pick for another trial follow while they reach
more lines (the greedy's first pick can shadow two that reach more together).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...schema import KEPT_OUTCOMES, Case, CaseCoverage, exception_type, has_address



@dataclass
class Trial:
    """One executed candidate: its source, case, coverage, and the coverage units it reached."""

    index: int
    source: str
    case: Case
    coverage: CaseCoverage | None
    units: frozenset



def choose(trials: list[Trial], *, n: int = 10, max_raised_share: float = 0.3) -> list[Trial]:
    """The at most ``n`` trials worth keeping, in the order they were found.

    Greedy: while some trial adds coverage units, take the one adding most lines, then most units
    (ties: returned before raised, a new output first, found earlier first); then fill with returned trials with new
    outputs, raised trials with new exception types, then repeats. Raised trials make up at most
    ``max(1, max_raised_share * n)`` of the result; over that, up to half of ``n``, only raised
    trials needed for lines no other chosen trial reaches; only ``returned``/``raised`` ones count.

    Args:
        trials: executed candidates, in the order they were run.
        n: most trials to keep.
        max_raised_share: share of raised trials allowed.

    Returns:
        The chosen trials, sorted by ``index``.
    """
    usable = [t for t in trials if t.case.outcome in KEPT_OUTCOMES and not has_address(t.case.output)]
    max_raised = max(1, int(max_raised_share * n + 1e-9))
    # Raised calls over the share, each for lines no other call reaches: a small share overall
    # (the build's raised share is ~5%), and the coverage the data promises.
    over_share = max(0, n // 2 - max_raised)
    chosen: list[Trial] = []
    taken: set[int] = set()
    covered: set = set()
    outputs: set[str] = set()
    n_raised = 0

    def allowed(trial: Trial, extra: int = 0) -> bool:
        return trial.index not in taken and (trial.case.outcome == "returned" or n_raised < max_raised + extra)

    def take(trial: Trial) -> None:
        nonlocal n_raised
        chosen.append(trial)
        taken.add(trial.index)
        covered.update(trial.units)
        outputs.add(trial.case.output)
        n_raised += trial.case.outcome == "raised"

    while len(chosen) < n:
        best, best_key = None, None
        for trial in usable:
            if not allowed(trial, extra=over_share):
                continue
            new = trial.units - covered
            if not new:
                continue
            # Lines first: line coverage is what the data promises; branch outcomes break ties.
            lines = sum(1 for unit in new if unit[0] == "l")
            if trial.case.outcome == "raised" and n_raised >= max_raised and not lines:
                continue  # raised calls over the share are for lines only a raise reaches
            key = (lines, len(new), trial.case.outcome == "returned", trial.case.output not in outputs, -trial.index)
            if best_key is None or key > best_key:
                best, best_key = trial, key
        if best is None:
            break
        take(best)
    if len(chosen) == n:  # every place taken: the fill below adds nothing, swaps may reach more
        _swap_in(chosen, usable, max_raised, max_raised + over_share)
    exception_types = {exception_type(t.case.output) for t in chosen if t.case.outcome == "raised"}
    tiers = (
        lambda t: t.case.outcome == "returned" and t.case.output not in outputs,
        lambda t: t.case.outcome == "raised" and exception_type(t.case.output) not in exception_types,
        lambda t: t.case.outcome == "returned",
        lambda t: True,
    )
    for tier in tiers:
        for trial in usable:
            if len(chosen) >= n:
                break
            if allowed(trial) and tier(trial):
                if trial.case.outcome == "raised":
                    exception_types.add(exception_type(trial.case.output))
                take(trial)
    return sorted(chosen, key=lambda t: t.index)


def _lines(units) -> int:
    return sum(1 for unit in units if unit[0] == "l")


def _swap_in(chosen: list[Trial], usable: list[Trial], max_raised: int, most_raised: int, rounds: int = 3) -> None:
    """Swaps, in ``chosen``, one trial for another with which the chosen reach more lines (then more
    units), while some swap does (at most ``rounds`` passes).

    Greedy takes the trial that adds most first, and that one can shadow a pair that covers more
    (``a85decode``: two picks share lines, and the line a third call reaches is left out). Raised
    trials stay within ``max_raised``, or ``most_raised`` for a swap that reaches more lines.
    """
    for _ in range(rounds):
        improved = False
        for position in range(len(chosen)):
            old = chosen[position]
            rest = [t for t in chosen if t is not old]
            base = set().union(*(t.units for t in rest))
            current = (_lines(base | old.units), len(base | old.units))
            n_raised = sum(t.case.outcome == "raised" for t in rest)
            taken = {t.index for t in chosen}
            best, best_key = None, current
            for trial in usable:
                if trial.index in taken or (trial.case.outcome == "raised" and n_raised >= most_raised):
                    continue
                reached = base | trial.units
                key = (_lines(reached), len(reached))
                if key <= best_key:
                    continue
                if trial.case.outcome == "raised" and n_raised >= max_raised and key[0] <= current[0]:
                    continue  # raised calls over the share are for lines only
                best, best_key = trial, key
            if best is not None:
                chosen[position] = best
                improved = True
        if not improved:
            return
