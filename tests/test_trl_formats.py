"""The training configs as TRL reads them: the real ``trl.data_utils`` (installed without torch),
a real chat template applied by a small tokenizer built here, under several hash seeds.

TRL picks a dataset's format from the keys of a row, and ``is_conversational`` looks at one
arbitrary key of a set: a row with two formats' keys is read differently per ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types

import pytest

from case2code_hub.dataset import build_dataset

from synthetic_records import make_records
from trl_calls import grpo_reward_call, sft_add_eos

trl_data = pytest.importorskip(
    "trl.data_utils", reason="TRL is not installed: `pip install --no-deps trl` (its data utilities need no torch)"
)
transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install transformers)")
tokenizers = pytest.importorskip("tokenizers", reason="tokenizers is not installed (pip install tokenizers)")

# The configs and what TRL must take them for.
CONVERSATIONAL = {"prompted": False, "chat": True, "text": False, "rl": True}
EOS = "<|im_end|>"
# ChatML, as Qwen's templates render it; the end-of-turn token doubles as EOS.
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Qwen2 / Llama 3's pre-tokenizer split: newlines gather with the punctuation before them.
SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
         r"|\s+(?!\S)|\s+")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("trl") / "case2code"
    build_dataset(make_records(4), out, seed=3, eval_share=0.25)
    return out


@pytest.fixture(scope="module")
def rows(folder) -> dict[str, list[dict]]:
    from datasets import load_dataset

    cache = str(folder.parent / "cache")
    return {config: list(load_dataset(str(folder), config, split="train", cache_dir=cache)) for config in CONVERSATIONAL}


@pytest.fixture(scope="module")
def tokenizer(rows):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    corpus = [row["text"] for row in rows["text"]]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=600, special_tokens=["<|im_start|>", EOS],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS, chat_template=CHAT_TEMPLATE)


_PROBE = """
import json, sys
from trl.data_utils import is_conversational
rows = json.load(open(sys.argv[1]))
print(json.dumps({config: [is_conversational(row) for row in batch] for config, batch in rows.items()}))
"""


def test_each_config_is_read_as_its_format_whatever_the_hash_seed(rows, tmp_path):
    sample = tmp_path / "rows.json"
    sample.write_text(json.dumps({config: batch[:5] for config, batch in rows.items()}))
    for seed in ("0", "1", "2", "3", "7", "11", "42", "1234"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _PROBE, str(sample)], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen == {config: [want] * len(seen[config]) for config, want in CONVERSATIONAL.items()}, seed


def test_chat_rows_get_the_chat_template_and_end_of_turn_after_the_completion(rows, tokenizer):
    for row in rows["chat"]:
        applied = trl_data.maybe_apply_chat_template(row, tokenizer)
        user, assistant = (m["content"] for m in row["messages"])
        assert applied["text"] == f"<|im_start|>user\n{user}{EOS}\n<|im_start|>assistant\n{assistant}{EOS}\n"
        ids = trl_data._tokenize(tokenizer, row["messages"])["input_ids"]
        assert tokenizer.eos_token_id in ids[-3:]  # EOS, then the template's newline


def test_rl_prompts_end_in_the_generation_prompt(rows, tokenizer):
    for row in rows["rl"]:
        applied = trl_data.maybe_apply_chat_template(row, tokenizer)
        assert applied["prompt"] == f"<|im_start|>user\n{row['prompt'][0]['content']}{EOS}\n<|im_start|>assistant\n"
        assert row["hidden_cases"] and row["entry_point"]


def test_prompt_completion_rows_keep_the_prompt_a_token_prefix_and_take_eos_on_the_completion(rows, tokenizer):
    for row in rows["prompted"]:
        assert trl_data.maybe_apply_chat_template(row, tokenizer) is row  # strings: left as they are
        # SFTTrainer appends EOS to a "text" column when there is one, else to the completion: a
        # prompt-completion row must have no "text", or the EOS lands there.
        assert "text" not in row
        completion = row["completion"] + EOS
        prompt_ids = trl_data._tokenize(tokenizer, row["prompt"])["input_ids"]
        full_ids = trl_data._tokenize(tokenizer, row["prompt"] + completion)["input_ids"]
        # TRL masks the prompt by the common prefix; a prompt that is not a token prefix loses its end.
        assert trl_data.common_prefix_length(prompt_ids, full_ids) == len(prompt_ids)
        assert full_ids[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(full_ids[len(prompt_ids):]) == completion


def test_text_rows_are_plain_language_modelling(rows):
    for row, prompted in zip(rows["text"], rows["prompted"]):
        assert not trl_data.is_conversational(row)
        assert row["text"] == prompted["prompt"] + prompted["completion"]


def _snippet(card: str, trainer: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", card, re.DOTALL)
    [block] = [b for b in blocks if trainer in b]
    return block


class _Recorded:
    """A config class of the fake ``trl``: keeps its keyword arguments."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs


def test_the_cards_sft_and_grpo_snippets_run_against_trls_data_handling(folder, rows, tokenizer, monkeypatch):
    """The card's snippets, as written, with TRL's trainers replaced by stand-ins that do what the
    trainers do to the data (the real trainers need torch and a model): format detection, chat
    template or EOS, and for GRPO the reward call on right answers."""
    from datasets import load_dataset

    card = (folder / "README.md").read_text(encoding="utf-8")
    references = {row["id"]: row["code"] for row in load_dataset(str(folder), "raw", split="train",
                                                                   cache_dir=str(folder.parent / "cache"))}
    seen: dict[str, object] = {}

    class SFTTrainer:
        def __init__(self, model, train_dataset, args):
            self.dataset = train_dataset

        def train(self):
            for row in self.dataset:
                assert not trl_data.is_conversational(row)
                row = sft_add_eos(row, EOS)
                assert row["completion"].endswith("```" + EOS) and not row["prompt"].endswith(EOS)
            seen["sft"] = len(self.dataset)

    class GRPOTrainer:
        def __init__(self, model, reward_funcs, train_dataset, args):
            self.reward, self.dataset = reward_funcs, train_dataset

        def train(self):
            batch = [dict(row) for row in self.dataset.select(range(min(4, len(self.dataset))))]
            assert all(trl_data.is_conversational(row) for row in batch)
            trl_data.maybe_apply_chat_template(batch[0], tokenizer)
            answers = [[{"role": "assistant", "content": f"```python\n{references[row['id']]}```"}] for row in batch]
            seen["grpo"] = grpo_reward_call(self.reward, batch, answers, num_generations=1)
            self.reward.close()

    fake = types.ModuleType("trl")
    fake.SFTTrainer, fake.GRPOTrainer, fake.SFTConfig, fake.GRPOConfig = SFTTrainer, GRPOTrainer, _Recorded, _Recorded
    monkeypatch.setitem(sys.modules, "trl", fake)
    monkeypatch.chdir(folder.parent)  # the card loads the folder by its name
    for trainer in ("SFTTrainer", "GRPOTrainer"):
        exec(compile(_snippet(card, trainer), f"<card {trainer}>", "exec"), {})  # our own card's code
    assert seen["sft"] == len(rows["prompted"])
    assert seen["grpo"] == [1.0] * len(seen["grpo"]) and seen["grpo"]
