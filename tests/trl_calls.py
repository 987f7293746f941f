"""How TRL's trainers call into a dataset and a reward function, for tests that cannot import the
trainers (they need torch). Each function follows TRL 1.16's code, cited where it is used."""

from __future__ import annotations


def grpo_reward_call(reward, rows: list[dict], completions: list, num_generations: int) -> list[float]:
    """``GRPOTrainer._calculate_rewards``'s call of a plain-function reward, as in TRL 1.16."""
    inputs = [row for row in rows for _ in range(num_generations)]
    prompts = [row["prompt"] for row in inputs]
    keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
    reward_kwargs = {key: [example[key] for example in inputs] for key in keys}
    reward_kwargs["trainer_state"] = object()
    reward_kwargs["log_extra"] = lambda *a, **k: None
    reward_kwargs["log_metric"] = lambda *a, **k: None
    completion_ids = [[0] * 3 for _ in completions]
    return reward(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)


def sft_add_eos(example: dict, eos_token: str, dataset_text_field: str = "text") -> dict:
    """``SFTTrainer``'s EOS step for a non-conversational row (``_prepare_dataset``'s ``add_eos``):
    the text field when the row has one, else the completion."""
    example = dict(example)
    if dataset_text_field in example and not example[dataset_text_field].endswith(eos_token):
        example[dataset_text_field] = example[dataset_text_field] + eos_token
    elif "completion" in example and not example["completion"].endswith(eos_token):
        example["completion"] = example["completion"] + eos_token
    return example
