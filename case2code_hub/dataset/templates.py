"""Prompt rendering for the training, ``rl`` and ``eval`` configs: instruction phrasings × case formats.

A prompt is an instruction, a blank line, then 3-10 of the function's cases in one case format.
Template ids read ``i07-f03-named``: instruction 7, case format 3, function name shown.

*Named* prompts call the function by its real name. *Anonymous* prompts hide it: cases call it
``f``, the instruction speaks of "the hidden function" and a closing note asks for a fitting name.
The completion is the same in both: the real code, defining the real entry point. A model so learns
to name a function from its behaviour, and the completion stays runnable as is. The eval and rl
configs always use one fixed named template (:data:`EVAL_TEMPLATE`), so graded completions define
``entry_point``.

Every choice is drawn from a ``random.Random`` seeded by sha256 of ``(seed, function id)``:
the same inputs render the same samples on any machine, whatever ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigError

ANON_NAME = "f"
MIN_SHOWN, MAX_SHOWN = 3, 10

INSTRUCTIONS: tuple[str, ...] = (
    "Write {fn} in Python that reproduces the following input/output examples.",
    "Implement {fn} so that it behaves as shown below.",
    "Given the examples below, infer the code of {fn}.",
    "Here are some calls and their results. Write {fn} that produces them.",
    "Reverse-engineer {fn} from these test cases.",
    "The following cases were produced by running {fn}. Reconstruct its source code.",
    "Can you write {fn} that satisfies every example below?",
    "Study the input/output behaviour below, then implement {fn}.",
    "Your task: write {fn} whose behaviour matches these examples exactly.",
    "Deduce the implementation of {fn} from the examples that follow.",
    "Below are observed inputs and outputs of {fn}. Write Python code for it.",
    "Please provide {fn}, consistent with the cases listed here.",
    "Figure out what {fn} computes from these examples and write it in Python.",
    "Using only the examples below as a specification, implement {fn}.",
    "I ran {fn} on several inputs and recorded the results. Write its code.",
    "Create {fn} that passes all of these checks.",
    "These examples describe {fn}. Write a Python implementation of it.",
    "Infer the logic of {fn} from the input/output pairs and implement it.",
    "Generate Python code for {fn}, given how it behaves on these inputs.",
    "Look at the examples and write {fn} that maps each input to its output.",
    "From the following test cases, derive {fn} and write its full definition.",
    "Write the code of {fn}. It must agree with every example below.",
)
ANON_NOTE = f"Its real name is not shown (the examples call it `{ANON_NAME}`); give it a fitting name."
COMPLETION_LEADS: tuple[str, ...] = (
    "",
    "The function is:",
    "Here is the function:",
    "Here is an implementation that matches the examples:",
    "Solution:",
)


def _one_line(text: str) -> str:
    # Exception messages may span lines; line-based formats must keep one case per line.
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def _call(name: str, case: Mapping[str, str]) -> str:
    return f"{name}({_one_line(case['input'])})"


def _raised(case: Mapping[str, str]) -> bool:
    return case["outcome"] == "raised"


def _value(case: Mapping[str, str]) -> str:
    return _one_line(case["output"])


def _result(case: Mapping[str, str]) -> str:
    """``1`` for a returned value, ``raises ValueError: msg`` for a raised exception."""
    return f"raises {_value(case)}" if _raised(case) else _value(case)


def _fmt_input_output(cases, name):
    return "\n\n".join(f"Input: {_one_line(c['input'])}\nOutput: {_result(c)}" for c in cases)


def _fmt_doctest(cases, name):
    def one(c):
        if _raised(c):
            return f">>> {_call(name, c)}\nTraceback (most recent call last):\n  ...\n{_value(c)}"
        return f">>> {_call(name, c)}\n{_value(c)}"

    return "\n".join(one(c) for c in cases)


def _fmt_assert(cases, name):
    def one(c):
        if _raised(c):
            return f"{_call(name, c)}  # raises {_value(c)}"
        return f"assert {_call(name, c)} == {_value(c)}"

    return "\n".join(one(c) for c in cases)


def _fmt_arrow(cases, name):
    return "\n".join(f"({_one_line(c['input'])}) -> {_result(c)}" for c in cases)


def _fmt_table(cases, name):
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [f"| {cell(_call(name, c))} | {cell(_result(c))} |" for c in cases]
    return "\n".join(["| Call | Result |", "| --- | --- |", *rows])


def _fmt_jsonl(cases, name):
    def one(c):
        key = "raises" if _raised(c) else "output"
        return json.dumps({"input": c["input"], key: c["output"]}, ensure_ascii=False)

    return "\n".join(one(c) for c in cases)


def _fmt_numbered(cases, name):
    def one(i, c):
        verb = "raises" if _raised(c) else "returns"
        return f"{i}. {_call(name, c)} {verb} {_value(c)}"

    return "\n".join(one(i, c) for i, c in enumerate(cases, 1))


def _fmt_equation(cases, name):
    return "\n".join(
        f"{_call(name, c)} raises {_value(c)}" if _raised(c) else f"{_call(name, c)} = {_value(c)}" for c in cases
    )


def _fmt_docstring(cases, name):
    lines = ['"""', "Examples", "--------"]
    for c in cases:
        lines += [_call(name, c), f"    {_result(c)}"]
    return "\n".join([*lines, '"""'])


def _fmt_csv(cases, name):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["arguments", "outcome", "value"])
    for c in cases:
        writer.writerow([_one_line(c["input"]), "raised" if _raised(c) else "returned", _value(c)])
    return buffer.getvalue().rstrip("\n")


def _fmt_yaml(cases, name):
    def one(c):
        key = "raises" if _raised(c) else "returns"
        return f"- call: {_call(name, c)}\n  {key}: {_value(c)}"

    return "\n".join(one(c) for c in cases)


def _fmt_prose(cases, name):
    def one(c):
        if _raised(c):
            return f"Calling {_call(name, c)} raises {_value(c)}."
        return f"Calling {_call(name, c)} gives {_value(c)}."

    return "\n".join(one(c) for c in cases)


@dataclass(frozen=True)
class CaseFormat:
    """One way of writing a list of cases; ``render(cases, call_name)`` returns the block."""

    name: str
    render: Callable[[Sequence[Mapping[str, str]], str], str]


CASE_FORMATS: tuple[CaseFormat, ...] = (
    CaseFormat("input-output", _fmt_input_output),
    CaseFormat("doctest", _fmt_doctest),
    CaseFormat("assert", _fmt_assert),
    CaseFormat("arrow", _fmt_arrow),
    CaseFormat("markdown-table", _fmt_table),
    CaseFormat("json-lines", _fmt_jsonl),
    CaseFormat("numbered-list", _fmt_numbered),
    CaseFormat("equation", _fmt_equation),
    CaseFormat("docstring", _fmt_docstring),
    CaseFormat("csv", _fmt_csv),
    CaseFormat("yaml", _fmt_yaml),
    CaseFormat("prose", _fmt_prose),
)

#: The one template of the eval config: instruction 0, doctest cases, real name shown.
EVAL_TEMPLATE = "i00-f01-named"


def template_id(instruction: int, case_format: int, *, named: bool) -> str:
    """``"i07-f03-named"`` / ``"i07-f03-anon"``."""
    return f"i{instruction:02d}-f{case_format:02d}-{'named' if named else 'anon'}"


def parse_template_id(template: str) -> tuple[int, int, bool]:
    """Inverse of :func:`template_id`.

    Raises:
        ConfigError: not a template id of this module.
    """
    try:
        inst, fmt, mode = template.split("-")
        i, f = int(inst[1:]), int(fmt[1:])
        if inst[0] != "i" or fmt[0] != "f" or mode not in ("named", "anon"):
            raise ValueError
        INSTRUCTIONS[i], CASE_FORMATS[f]
    except (ValueError, IndexError):
        raise ConfigError(f"unknown template id {template!r}", field="template") from None
    return i, f, mode == "named"


def render_prompt(entry_point: str, cases: Sequence[Mapping[str, str]], *, template: str) -> str:
    """The prompt of one template over the given cases (all of them, in order).

    Args:
        entry_point: the function's real name.
        cases: dicts with ``input``, ``output``, ``outcome``.
        template: a template id such as ``"i07-f03-named"``.

    Raises:
        ConfigError: unknown template id.
    """
    i, f, named = parse_template_id(template)
    fn = f"the function `{entry_point}`" if named else "the hidden function"
    parts = [INSTRUCTIONS[i].format(fn=fn), CASE_FORMATS[f].render(cases, entry_point if named else ANON_NAME)]
    if not named:
        parts.append(ANON_NOTE)
    return "\n\n".join(parts)


def render_completion(code: str, *, lead: str = "") -> str:
    """The function's code in a ```python fence, after an optional short lead phrase."""
    fence = f"```python\n{code.strip()}\n```"
    return f"{lead}\n\n{fence}" if lead else fence


def rng_for(seed: int, function_id: str, purpose: str) -> random.Random:
    """A ``random.Random`` for one function and purpose, independent of hash seed and call order."""
    digest = hashlib.sha256(f"{seed}:{function_id}:{purpose}".encode("utf-8")).hexdigest()
    return random.Random(int(digest[:16], 16))


def _case_dict(case: Any) -> dict[str, str]:
    if isinstance(case, Mapping):
        return {"input": case["input"], "output": case["output"], "outcome": case["outcome"]}
    return {"input": case.input, "output": case.output, "outcome": case.outcome}


def render_samples(
    function: Mapping[str, Any], *, n: int = 3, seed: int = 0, named_share: float = 0.5
) -> list[dict[str, Any]]:
    """Training samples for one function: ``n`` samples with distinct instructions and formats.

    Args:
        function: a raw row (``id``, ``entry_point``, ``code``, ``cases``, ``difficulty``).
        n: samples to render, at most the number of case formats.
        seed: build seed; with the function id it fixes every random choice.
        named_share: probability that a sample shows the real function name.

    Returns:
        Samples (``id``, ``function_id``, ``template``, ``prompt``, ``completion``, ``difficulty``),
        ids ``f"{function_id}-{k}"``; :func:`training_row` puts one in each training config's format.

    Raises:
        ConfigError: ``n`` out of range.
    """
    if not 1 <= n <= len(CASE_FORMATS):
        raise ConfigError(f"samples per function must be between 1 and {len(CASE_FORMATS)}, got {n}", field="n")
    rng = rng_for(seed, function["id"], "prompted")
    cases = [_case_dict(c) for c in function["cases"]]
    instructions = rng.sample(range(len(INSTRUCTIONS)), n)
    formats = rng.sample(range(len(CASE_FORMATS)), n)
    rows = []
    for k in range(n):
        named = rng.random() < named_share
        shown = min(len(cases), rng.randint(MIN_SHOWN, MAX_SHOWN))
        picked = [cases[j] for j in sorted(rng.sample(range(len(cases)), shown))]
        template = template_id(instructions[k], formats[k], named=named)
        prompt = render_prompt(function["entry_point"], picked, template=template)
        completion = render_completion(function["code"], lead=rng.choice(COMPLETION_LEADS))
        rows.append(
            {
                "id": f"{function['id']}-{k}",
                "function_id": function["id"],
                "template": template,
                "prompt": prompt,
                "completion": completion,
                "difficulty": function["difficulty"],
            }
        )
    return rows


#: Ends a ``prompted`` prompt: TRL's SFTTrainer joins prompt and completion with nothing between
#: them, and a blank line is a token boundary for BPE tokenizers (the tokenized prompt stays a
#: prefix of the tokenized prompt + completion, which TRL's completion mask relies on).
PROMPT_END = "\n\n"


def training_row(sample: Mapping[str, Any], config: str) -> dict[str, Any]:
    """One sample in the TRL format of a training config.

    - ``prompted``: prompt-completion strings, the prompt ending in :data:`PROMPT_END`. TRL's
      SFTTrainer trains on the completion only and appends the tokenizer's EOS to it.
    - ``chat``: ``messages`` (user, then assistant). TRL applies the model's chat template, whose
      end-of-turn token follows the assistant's answer.
    - ``text``: the paper's plain form, prompt, a blank line, completion; TRL appends EOS to it.

    Raises:
        ConfigError: not a training config.
    """
    head = {"id": sample["id"], "function_id": sample["function_id"], "template": sample["template"]}
    tail = {"difficulty": sample["difficulty"]}
    if config == "prompted":
        return {**head, "prompt": sample["prompt"] + PROMPT_END, "completion": sample["completion"], **tail}
    if config == "chat":
        messages = [{"role": "user", "content": sample["prompt"]}, {"role": "assistant", "content": sample["completion"]}]
        return {**head, "messages": messages, **tail}
    if config == "text":
        return {**head, "text": sample["prompt"] + PROMPT_END + sample["completion"], **tail}
    raise ConfigError(f"unknown training config {config!r}", field="config")


def render_eval_prompt(entry_point: str, observed: Sequence[Any]) -> str:
    """The eval config's prompt: :data:`EVAL_TEMPLATE` over the observed cases."""
    return render_prompt(entry_point, [_case_dict(c) for c in observed], template=EVAL_TEMPLATE)
