"""Train / eval split by function id: a stable hash decides, so a function keeps its side across
builds, machines and corpus growth, and no function is ever on both sides.

A function is an eval *candidate* iff ``int(sha256(f"{seed}:{id}"), 16) % 10000 < eval_share * 10000``.
A candidate becomes eval only if it has enough cases to be graded: ``min_observed`` to show in the
prompt plus ``min_hidden`` to grade on (3 + 5 by default). Candidates with fewer cases go to train
instead (counted as ``demoted``), so the eval share is a ceiling, not an exact fraction.

A held-out set too small to score on is no use, so :func:`effective_share` raises the share of a
small build (never above ``max_share``) until at least ``min_eval_items`` gradable functions fall
under it.

The share sets how many functions are held out; :func:`level_thresholds` sets which, so that each
difficulty level gives about a third of them: within a level, the gradable functions with the
smallest buckets. Hard functions are less often gradable (fewer cases survive), and one threshold
for every id held out 13 hard of 56 in a default build. A function's side so depends on its id, its
level and its level's buckets: a grown corpus moves the thresholds a little, as it moves the
difficulty tertiles, and a few functions change side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Literal, Mapping, Sequence

from ..errors import ConfigError

Side = Literal["train", "eval"]
_BUCKETS = 10_000


@dataclass(frozen=True)
class SplitConfig:
    """How functions are split.

    Attributes:
        seed: salts the hash, so another seed draws another eval set.
        eval_share: fraction of function ids drawn as eval candidates, in ``[0, 1]``.
        min_observed: cases an eval prompt shows at least.
        min_hidden: cases an eval item is graded on at least.
    """

    seed: int = 0
    eval_share: float = 0.05
    min_observed: int = 3
    min_hidden: int = 5

    def __post_init__(self) -> None:
        if not 0.0 <= self.eval_share <= 1.0:
            raise ConfigError(f"eval_share must be between 0 and 1, got {self.eval_share}", field="eval_share")
        if self.min_observed < 1:
            raise ConfigError(f"min_observed must be at least 1, got {self.min_observed}", field="min_observed")
        if self.min_hidden < 1:
            raise ConfigError(f"min_hidden must be at least 1, got {self.min_hidden}", field="min_hidden")

    @property
    def min_eval_cases(self) -> int:
        return self.min_observed + self.min_hidden


def bucket(function_id: str, *, seed: int = 0) -> int:
    """The function's bucket in ``[0, 10000)``: ``int(sha256(f"{seed}:{id}"), 16) % 10000``."""
    digest = hashlib.sha256(f"{seed}:{function_id}".encode("utf-8")).hexdigest()
    return int(digest, 16) % _BUCKETS


def is_eval_candidate(function_id: str, *, seed: int = 0, eval_share: float = 0.05) -> bool:
    """Whether the hash draws this function id for eval (before the case-count check)."""
    # Integer comparison: ``0.05 * 10000`` is not exactly 500 in floating point.
    return bucket(function_id, seed=seed) < round(eval_share * _BUCKETS)


def assign(function_id: str, n_cases: int, *, config: SplitConfig | None = None) -> Side:
    """``"eval"`` for a drawn function with at least ``min_observed + min_hidden`` cases, else ``"train"``."""
    config = config or SplitConfig()
    if not is_eval_candidate(function_id, seed=config.seed, eval_share=config.eval_share):
        return "train"
    return "eval" if n_cases >= config.min_eval_cases else "train"


def effective_share(
    eval_buckets: Iterable[int], *, eval_share: float = 0.05, min_eval_items: int = 50, max_share: float = 0.15
) -> float:
    """The eval share a build uses: ``eval_share``, raised just enough for ``min_eval_items`` items.

    Args:
        eval_buckets: :func:`bucket` of every function with enough cases to be an eval item.
        eval_share: the share asked for.
        min_eval_items: the fewest eval items wanted; the share grows until that many buckets fall
            under it, but never beyond ``max_share`` (nor below ``eval_share``).
        max_share: the largest share the raise may reach.

    Returns:
        A share in ``[eval_share, max(eval_share, max_share)]``, a multiple of 1/10000; a share of
        0 stays 0.
    """
    wanted = round(eval_share * _BUCKETS)
    if wanted == 0:  # no eval asked for: nothing to raise
        return eval_share
    ordered = sorted(eval_buckets)
    if min_eval_items <= 0 or sum(1 for b in ordered if b < wanted) >= min_eval_items or not ordered:
        return eval_share
    needed = ordered[min(min_eval_items, len(ordered)) - 1] + 1
    cap = max(wanted, round(max_share * _BUCKETS))
    return max(wanted, min(needed, cap)) / _BUCKETS


def level_thresholds(buckets_by_level: Mapping[str, Iterable[int]], n_eval: int,
                     levels: Sequence[str] | None = None) -> dict[str, int]:
    """Bucket thresholds per level that hold out ``n_eval`` gradable functions, about a third per level.

    Args:
        buckets_by_level: :func:`bucket` of every gradable function, by difficulty level.
        n_eval: how many to hold out in all (those under the effective share's threshold).
        levels: the order in which levels take a remainder and the room a short level leaves.

    Returns:
        ``{level: t}``: a gradable function of that level is eval iff its bucket is below ``t``.
    """
    levels = list(levels or buckets_by_level)
    ordered = {level: sorted(buckets_by_level.get(level, ())) for level in levels}
    quota = dict.fromkeys(levels, 0)
    left = n_eval
    while left > 0:  # deal one at a time to the levels that still have room, in order
        open_levels = [level for level in levels if quota[level] < len(ordered[level])]
        if not open_levels:
            break
        for level in open_levels:
            if left == 0:
                break
            quota[level] += 1
            left -= 1
    return {level: (ordered[level][quota[level] - 1] + 1 if quota[level] else 0) for level in levels}
