"""The RL reward and the one-completion grader, on a real build's ``rl`` rows, called the way
TRL's ``GRPOTrainer`` calls reward functions (``trl/trainer/grpo_trainer.py``,
``_calculate_rewards``: every column but prompt/completion as a keyword list, plus
``trainer_state``, ``log_extra`` and ``log_metric``)."""

from __future__ import annotations


import pytest

from case2code_hub import CaseReward, grade
from case2code_hub.dataset import build_dataset
from case2code_hub.evaluate import EvalConfig

from synthetic_records import make_records
from trl_calls import grpo_reward_call as _trl_call


@pytest.fixture(scope="module")
def rl_rows(tmp_path_factory) -> list[dict]:
    from datasets import load_dataset

    out = tmp_path_factory.mktemp("rl") / "case2code"
    build_dataset(make_records(3), out, seed=5, eval_share=0.25)
    cache = str(out.parent / "cache")
    raw = {row["id"]: row for row in load_dataset(str(out), "raw", split="train", cache_dir=cache)}
    rows = [dict(row) for row in load_dataset(str(out), "rl", split="train", cache_dir=cache)]
    for row in rows:  # the reference, to write completions from
        row["_reference"] = raw[row["id"]]["code"]
    return rows


def _count_timeouts(reward: CaseReward) -> list:
    """The timed-out cases of every sandbox run the reward makes from now on (a spy on its sandbox)."""
    timeouts: list = []
    sandbox = reward.sandbox
    run = sandbox.run

    def counting_run(tasks, *args, **kwargs):
        for result in run(tasks, *args, **kwargs):
            timeouts.extend(case for case in result.cases if case.outcome == "timeout")
            yield result

    sandbox.run = counting_run
    return timeouts


def _answer(code: str) -> str:
    return f"Here is the function:\n\n```python\n{code.strip()}\n```"


def test_reward_scores_a_batch_as_grpo_calls_it(rl_rows):
    rows = rl_rows[:6]
    completions = []
    wanted = []
    for row in rows:
        name = row["entry_point"]
        completions += [
            _answer(row["_reference"]),  # right: every hidden case
            f"```python\ndef {name}(*args, **kwargs):\n    return None\n```",  # wrong on every case
            "I cannot write this function.",  # no code
            f"```python\ndef {name}(*args, **kwargs):\n    while True:\n        pass\n```",  # hangs: a timeout
        ]
        wanted += ["one", "zero", "zero", "zero"]
    with CaseReward(config=EvalConfig(timeout=0.3, workers=2)) as reward:
        timeouts = _count_timeouts(reward)
        rewards = _trl_call(reward, rows, completions, num_generations=4)
        assert reward.calls == 1
        assert len(rewards) == len(completions)
        assert [{"one": 1.0, "zero": 0.0}[w] for w in wanted] == rewards
        # The hanging completions are stopped at their first case: one timeout each, not one per case.
        hanging = sum("while True" in c for c in completions)
        assert hanging == len(rows) and len(timeouts) == hanging
        # Conversational completions (lists of messages) score as their last message's text.
        chat = [[{"role": "assistant", "content": c}] for c in completions]
        assert _trl_call(reward, rows, chat, num_generations=4) == rewards


def test_partial_credit_is_the_share_of_hidden_cases_passed(rl_rows):
    row = next(r for r in rl_rows if r["entry_point"].startswith("scale_"))
    factor = int(row["entry_point"].split("_")[1])
    hidden = row["hidden_cases"]
    # Right for even inputs only.
    partial = f"def {row['entry_point']}(x):\n    return x * {factor} if x % 2 == 0 else None\n"
    right = sum(1 for case in hidden if int(case["input"]) % 2 == 0)
    with CaseReward(config=EvalConfig(workers=1)) as reward:
        [score] = _trl_call(reward, [row], [_answer(partial)], num_generations=1)
    assert 0 < right < len(hidden)
    assert score == pytest.approx(right / len(hidden))


def test_grade_grades_one_completion_as_eval_does(rl_rows):
    row = rl_rows[0]
    good = grade(_answer(row["_reference"]), entry_point=row["entry_point"], cases=row["hidden_cases"])
    assert good.all_passed and good.status == "ok" and good.exact == good.cases == len(row["hidden_cases"])
    bad = grade("def nothing(): pass", entry_point=row["entry_point"], cases=row["hidden_cases"])
    assert not bad.all_passed and bad.failing is not None and bad.failing["input"] == row["hidden_cases"][0]["input"]
    none = grade("no code here", entry_point=row["entry_point"], cases=row["hidden_cases"])
    assert none.status == "no_code" and none.pass_rate == 0.0


def test_the_reward_refuses_a_dataset_without_hidden_cases(rl_rows):
    reward = CaseReward()
    with pytest.raises(KeyError, match="hidden_cases"):
        reward(["x"], entry_point=["f"], prompts=["p"])
    assert reward._sandbox is None  # nothing started for a call that could not be scored
