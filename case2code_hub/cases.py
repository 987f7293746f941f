"""Choosing the cases a function keeps after execution, and deciding when to drop the function.

Returned cases with new outputs come first, then raised cases with new exception types, then the
rest; raised cases never exceed a set share. The chosen cases keep their original order.
"""

from __future__ import annotations


from .errors import ConfigError
from .schema import KEPT_OUTCOMES, Case, exception_type, has_address



def select_cases(
    cases: list[Case],
    *,
    n: int = 10,
    max_raised_share: float = 0.3,
    min_returned: int = 1,
) -> list[Case]:
    """The at most ``n`` executed cases worth keeping, in their original order.

    Only ``returned`` and ``raised`` cases are usable, one per distinct input, and none whose output
    shows a memory address. Priority: returned cases with an output not seen yet, raised cases with
    an exception type not seen yet, returned cases repeating an output, other raised cases. Raised
    cases make up at most ``max_raised_share`` of the result.

    Args:
        cases: executed cases, in the order the writer proposed their inputs.
        n: most cases to keep.
        max_raised_share: largest share of raised cases in the result, from 0 to 1.
        min_returned: fewer usable returned cases than this and the function tells too little:
            nothing is kept (``drop_reason([])`` is ``too_few_cases``).

    Returns:
        The chosen cases, a sub-list of ``cases`` in the same order.

    Raises:
        ConfigError: ``n`` below 1, ``max_raised_share`` outside [0, 1], or ``min_returned`` below 0.
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}", field="n")
    if not 0.0 <= max_raised_share <= 1.0:
        raise ConfigError(f"max_raised_share must be within [0, 1], got {max_raised_share}", field="max_raised_share")
    if min_returned < 0:
        raise ConfigError(f"min_returned must be at least 0, got {min_returned}", field="min_returned")

    usable: list[tuple[int, Case]] = []
    seen_inputs: set[str] = set()
    for index, case in enumerate(cases):
        key = case.input.strip()
        if case.outcome not in KEPT_OUTCOMES or key in seen_inputs or has_address(case.output):
            continue
        seen_inputs.add(key)
        usable.append((index, case))
    returned = [item for item in usable if item[1].outcome == "returned"]
    raised = [item for item in usable if item[1].outcome == "raised"]
    if len(returned) < min_returned:
        return []

    max_raised = _raised_allowance(len(returned), len(raised), n, max_raised_share)
    fresh_returned, repeated_returned = _tiers(returned, key=lambda c: c.output)
    fresh_raised, repeated_raised = _tiers(raised, key=lambda c: exception_type(c.output))
    chosen: list[tuple[int, Case]] = []
    n_raised = 0
    for tier in (fresh_returned, fresh_raised, repeated_returned, repeated_raised):
        for item in tier:
            if len(chosen) >= n:
                break
            if item[1].outcome == "raised":
                if n_raised >= max_raised:
                    continue
                n_raised += 1
            chosen.append(item)
    return [case for _, case in sorted(chosen, key=lambda item: item[0])]


def _tiers(items: list[tuple[int, Case]], *, key) -> tuple[list[tuple[int, Case]], list[tuple[int, Case]]]:
    """Split into first occurrences of ``key`` and repeats, each in original order."""
    fresh, repeated = [], []
    seen: set[str] = set()
    for item in items:
        value = key(item[1])
        (repeated if value in seen else fresh).append(item)
        seen.add(value)
    return fresh, repeated


def _raised_allowance(n_returned: int, n_raised: int, n: int, share: float) -> int:
    """Most raised cases k such that k <= share * (k + returned cases that still fit beside them)."""
    for k in range(min(n_raised, n), 0, -1):
        total = k + min(n_returned, n - k)
        if k <= share * total + 1e-9:
            return k
    return 0


def drop_reason(selected: list[Case], *, min_cases: int = 5, min_returned: int = 5) -> str | None:
    """Why a function with these selected cases cannot go into the dataset, or None if it can.

    Args:
        selected: the output of ``select_cases``.
        min_cases: fewest cases a function needs.
        min_returned: fewest returning cases a function needs (the data promises five per function).

    Returns:
        ``too_few_cases`` (fewer than ``min_cases``), ``too_few_returning`` (fewer than
        ``min_returned`` returned cases), ``mostly_raised`` (returned cases are not a
        majority), ``constant_output`` (every returned output is the same), or None.
    """
    if len(selected) < min_cases:
        return "too_few_cases"
    returned = [c for c in selected if c.outcome == "returned"]
    if len(returned) < min_returned:
        return "too_few_returning"
    if 2 * len(returned) <= len(selected):
        return "mostly_raised"
    if len({c.output for c in returned}) == 1:
        return "constant_output"
    return None
