"""A verifiable reward for reinforcement learning on the ``rl`` config: each completion's pass rate
on its row's hidden cases, graded in the sandbox by the rule ``eval`` uses (:mod:`.grading`).

It is called the way TRL's ``GRPOTrainer`` calls reward functions::

    reward(prompts=[...], completions=[...], completion_ids=[...], entry_point=[...],
           hidden_cases=[...], <every other column>=[...], trainer_state=..., ...) -> list[float]

with one list entry per completion; a completion is a string, or a list of messages (the last one
holds the answer). The whole batch is one sandbox batch, spread over the workers. A completion
with no code to run, one that does not load, and one whose call runs out of time (or memory) score
0; otherwise the score is the share of hidden cases that match.
"""

from __future__ import annotations

import atexit
from typing import Any, Mapping, Sequence

from ..utils.logging import get_logger
from .grading import grade_programs, program_for
from .grading import EvalConfig

logger = get_logger(__name__)


class CaseReward:
    """Pass rate on the hidden cases, as a TRL reward function.

    Args:
        config: the sandbox's limits (per-call timeout, memory, workers, isolation); ``eval``'s
            defaults when ``None``.
        cases_column: the column whose cases grade a completion (``hidden_cases``).
        name: the name TRL logs the reward under.

    The sandbox starts on the first call and stays up between calls (a training run calls the
    reward once per step); :meth:`close`, or leaving a ``with`` block, stops it, and so does the
    interpreter's exit.

    Example::

        from trl import GRPOConfig, GRPOTrainer
        from case2code_hub import CaseReward

        trainer = GRPOTrainer(model=..., reward_funcs=CaseReward(), train_dataset=load_dataset(..., "rl", split="train"))
    """

    def __init__(self, *, config: EvalConfig | None = None, cases_column: str = "hidden_cases",
                 name: str = "case2code_pass_rate") -> None:
        self.config = config or EvalConfig()
        self.cases_column = cases_column
        self.__name__ = name
        self._sandbox = None
        self.calls = 0

    def __call__(self, completions: Sequence[Any], *, entry_point: Sequence[str], **columns: Any) -> list[float]:
        cases = columns.get(self.cases_column)
        if cases is None:
            raise KeyError(f"the reward needs the dataset's {self.cases_column!r} column (the rl config has it)")
        if not len(completions) == len(entry_point) == len(cases):
            raise ValueError(f"{len(completions)} completions, {len(entry_point)} entry points and {len(cases)} case lists: "
                             "one of each per completion")
        programs = [program_for(c, name, row_cases) for c, name, row_cases in zip(completions, entry_point, cases)]
        runnable = [p for p in programs if p is not None]
        grades = iter(grade_programs(self.sandbox, runnable)) if runnable else iter(())
        rewards = []
        for program in programs:
            if program is None:
                rewards.append(0.0)
                continue
            grade = next(grades)
            rewards.append(0.0 if grade.status != "ok" or grade.timed_out else grade.pass_rate)
        self.calls += 1
        return rewards

    @property
    def sandbox(self):
        """The running sandbox (started on first use)."""
        if self._sandbox is None:
            from ..sandbox import Sandbox

            sandbox = Sandbox(self.config.sandbox_config())
            sandbox.start()
            self._sandbox = sandbox
            atexit.register(self.close)
            logger.info("reward sandbox started: %s", ", ".join(sandbox.protections))
        return self._sandbox

    def close(self) -> None:
        """Stop the sandbox (a later call starts a new one)."""
        if self._sandbox is not None:
            sandbox, self._sandbox = self._sandbox, None
            sandbox.close()
            atexit.unregister(self.close)

    def __enter__(self) -> "CaseReward":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def pass_rates(completions: Sequence[Any], rows: Sequence[Mapping[str, Any]], *, config: EvalConfig | None = None) -> list[float]:
    """Score completions against ``rl`` (or ``eval``) rows in one batch, outside a trainer.

    Args:
        completions: one per row.
        rows: rows with ``entry_point`` and ``hidden_cases``.
        config: sandbox limits.
    """
    with CaseReward(config=config) as reward:
        return reward(completions, entry_point=[r["entry_point"] for r in rows],
                      hidden_cases=[r["hidden_cases"] for r in rows])
