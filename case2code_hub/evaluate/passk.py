"""The unbiased pass@k estimator of Chen et al. (2021), per item and averaged over items."""

from __future__ import annotations

from math import comb
from typing import Iterable, Mapping

from ..errors import ConfigError


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` completions drawn from ``n`` (``c`` correct) passes.

    ``1 - C(n - c, k) / C(n, k)``, computed exactly with integers.

    Raises:
        ConfigError: ``k`` is not in ``1..n`` or ``c`` is not in ``0..n``.
    """
    if not 1 <= k <= n:
        raise ConfigError(f"pass@{k} needs at least {k} completions per item, got {n}", field="k")
    if not 0 <= c <= n:
        raise ConfigError(f"passed count {c} is not between 0 and {n}", field="c")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def parse_ks(text: str | Iterable[int]) -> list[int]:
    """``"1,5,10"`` (or a list of ints) as a sorted list of distinct positive ints.

    Raises:
        ConfigError: an entry that is not a positive integer.
    """
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    ks: set[int] = set()
    for part in parts:
        try:
            value = int(part)
        except (TypeError, ValueError):
            raise ConfigError(f"k must be positive integers such as 1,5,10, got {part!r}", field="k") from None
        if value < 1:
            raise ConfigError(f"k must be positive, got {value}", field="k")
        ks.add(value)
    if not ks:
        raise ConfigError("no k given", field="k")
    return sorted(ks)


def mean_pass_at_k(items: Iterable[Mapping[str, int]], ks: Iterable[int]) -> dict[str, float | None]:
    """Mean pass@k over items ``{"n", "passed"}``; ``None`` for a k larger than some item's ``n``.

    Keys are ``str(k)``, the summary file's layout.
    """
    items = list(items)
    out: dict[str, float | None] = {}
    for k in ks:
        if not items or any(item["n"] < k for item in items):
            out[str(k)] = None
            continue
        out[str(k)] = sum(pass_at_k(item["n"], item["passed"], k) for item in items) / len(items)
    return out
