"""Reading writer-model answers with ast only: formats accepted, drops counted, nothing executed."""

from __future__ import annotations

import builtins
import inspect
import json
import random

import pytest

from case2code_hub import literals
from case2code_hub.inputs.reading.analysis import analyse  # noqa: F401  (imported before exec is forbidden)
from case2code_hub.inputs.llm import mix_with_mutations
from case2code_hub.inputs.offline import propose  # noqa: F401
from case2code_hub.inputs.llm.parse import function_def, parse_answer, static_signature
from case2code_hub.inputs.llm.prompts import chat_messages, completion_prompt, grammar_schema
from case2code_hub.schema import Function, Source, function_id


def make(code: str, entry_point: str) -> Function:
    return Function(id=function_id(code), entry_point=entry_point, code=code, source=Source("test", "t.py"))


ADD = make("def add(a, b=1, *, c=None):\n    return a + b\n", "add")
TOTAL = make("def total(xs):\n    return sum(xs)\n", "total")


@pytest.fixture(autouse=True)
def _no_eval(monkeypatch):
    """Parsing must never run the model's text: eval, exec and compile-to-exec are off limits."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the model's answer was evaluated")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)


def test_static_signature_binds_like_python():
    code = "def f(a, /, b, c=2, *args, d, e=5, **kw):\n    pass\n"
    sig = static_signature(function_def(make(code, "f")))
    assert [p.kind for p in sig.parameters.values()] == [
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.VAR_KEYWORD,
    ]
    sig.bind(1, 2, d=4)
    with pytest.raises(TypeError):
        sig.bind(a=1, b=2, d=4)  # a is positional-only
    with pytest.raises(TypeError):
        sig.bind(1, 2)  # d is required


def test_every_accepted_format():
    text = "\n".join(
        [
            "dict(a=1, b=2)",
            "{'a': 'x'}",
            "add(4, b=5)",
            "[6, 7]",
            "(8,)",
            "dict(a=float('inf'), c=decimal.Decimal('1.5'))",
            "dict(a={1, 2}, b=frozenset())",
        ]
    )
    parsed = parse_answer(text, ADD)
    assert parsed.inputs == [
        "a=1, b=2",
        "a='x'",
        "4, b=5",
        "6, 7",
        "8",
        "a=float('inf'), c=decimal.Decimal('1.5')",
        "a={1, 2}, b=frozenset()",
    ]
    assert not parsed.dropped
    for source in parsed.inputs:
        literals.parse_arguments(source)


def test_drops_are_counted_by_reason():
    text = "\n".join(
        [
            "dict(a=__import__('os').system('echo pwned'))",  # not a literal
            "dict(a=open('/etc/passwd').read())",  # not a literal
            "dict(a=x + 1)",  # a name: not a literal
            "dict(z=1)",  # unknown argument
            "dict(b=2)",  # missing required a
            "dict(a=1, a=2)",  # repeated keyword
            "dict(a=1)",
            "dict(a=1)",  # duplicate
            "dict(a=[1, 2",  # cut off
        ]
    )
    parsed = parse_answer(text, ADD)
    assert parsed.inputs == ["a=1"]
    assert parsed.dropped == {"not_literal": 3, "not_bindable": 3, "duplicate": 1, "syntax": 1}


def test_prose_code_fences_and_numbered_lists():
    chatty = (
        "Sure! `total` takes a list such as [1, 2] (of numbers).\n"
        "```python\n"
        "dict(xs=[])\n"
        "dict(xs=[3, 1, 2])\n"
        "```\n"
        "Hope this helps (really)!"
    )
    assert parse_answer(chatty, TOTAL).inputs == ["xs=[]", "xs=[3, 1, 2]"]
    numbered = "Here you go:\n1. dict(xs=[1])  -- a single element\n2) `dict(xs=[-1, 0])`\nInput 3: total([5, 5])\n- [9, 9]"
    assert parse_answer(numbered, TOTAL).inputs == ["xs=[1]", "xs=[-1, 0]", "[5, 5]", "[9, 9]"]


def test_a_list_is_one_argument_for_a_one_parameter_function():
    parsed = parse_answer("[1, 2, 3]\n5\n{'a': 1}", TOTAL)
    assert parsed.inputs == ["[1, 2, 3]", "5", "{'a': 1}"]


def test_assignments_prints_and_asserts_in_code():
    code = "inputs = [\n    dict(xs=[1]),\n    dict(xs=[2]),\n]\nprint(total([3]))\nassert total([4]) == 4\n"
    assert parse_answer(f"```python\n{code}```", TOTAL).inputs == ["xs=[1]", "xs=[2]", "[3]", "[4]"]


def test_grammar_json_answer_and_its_truncation():
    answer = json.dumps({"analysis": "a list", "inputs": ["dict(xs=[1])", "dict(xs=[1", "total([2])"]})
    parsed = parse_answer(answer, TOTAL)
    assert parsed.inputs == ["xs=[1]", "[2]"]
    assert parsed.dropped == {"syntax": 1}
    cut = answer[: answer.index("total")]  # a generation that ran out of tokens
    assert parse_answer(cut, TOTAL).inputs == ["xs=[1]"]


def test_truncated_fence_keeps_complete_lines():
    parsed = parse_answer("Analysis.\n```python\ndict(a=1)\ndict(a=2, b=[1, 2,", ADD)
    assert parsed.inputs == ["a=1"]
    assert parsed.dropped == {"syntax": 1}


def test_positional_only_names_move_to_positions():
    fn = make("def f(x, /, y=0):\n    return x\n", "f")
    assert parse_answer("dict(x=1, y=2)\ndict(y=3)", fn).inputs == ["1, y=2"]


def test_no_definition_gives_nothing():
    assert parse_answer("dict(a=1)", make("x = 1\n", "add")).inputs == []
    assert parse_answer("dict(a=1)", make("def add(:\n", "add")).inputs == []


def test_garbage_never_raises():
    rng = random.Random(0)
    alphabet = "dict(a=1)[]{}'\"\\,:#`\n xyz0123456789.-+*/@!?" + "\u00e9\u4e2d"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
        for source in parse_answer(text, ADD).inputs:
            literals.parse_arguments(source)
    deep = "dict(a=" + "[" * 5000 + "]" * 5000 + ")"
    parse_answer(deep, ADD)  # too deep: dropped, not a RecursionError


def test_prompts_name_the_function_and_count():
    params = ["a", "b", "c"]
    prompt = completion_prompt(ADD, n_inputs=7, params=params)
    assert "def add(a, b=1, *, c=None)" in prompt and "Write 7 different" in prompt
    assert "dict(a=..., b=..., c=...)" in prompt and "edge cases" in prompt and "branches" in prompt
    structured = completion_prompt(ADD, n_inputs=7, params=params, structured=True)
    assert "JSON" in structured
    (message,) = chat_messages(ADD, n_inputs=3, params=params)
    assert message["role"] == "user" and "Write 3 different" in message["content"]
    assert grammar_schema(4)["properties"]["inputs"]["maxItems"] == 4


def test_mutants_of_the_model_inputs_are_labelled_and_deterministic():
    fn = make("def clip(xs: list, low: int, high: int = 10):\n    return [min(max(x, low), high) for x in xs]\n", "clip")
    model_inputs = ["xs=[1, 5, 20], low=2", "xs=[], low=0, high=3"]
    mixed = mix_with_mutations(fn, model_inputs, n_mutants=6, seed=1, writer="llm:m")
    assert mixed[:2] == [(s, "llm:m") for s in model_inputs]
    mutants = [s for s, w in mixed[2:] if w == "llm:m+mutation"]
    assert len(mutants) == len(mixed) - 2 >= 3
    assert len({s for s, _ in mixed}) == len(mixed)
    for source in mutants:
        literals.parse_arguments(source)
    assert mix_with_mutations(fn, model_inputs, n_mutants=6, seed=1, writer="llm:m") == mixed
    assert mix_with_mutations(fn, [], n_mutants=6) == []


def test_schema_answers_map_argument_names_to_value_sources():
    answer = json.dumps({"analysis": "a, b and c", "inputs": [
        {"a": "[1, 2]", "b": "3"},
        {"a": "'x'", "c": "None"},
        {"a": 7, "b": [1, True]},  # an unconstrained model gave JSON values, not sources
        {"a": "open('/etc/passwd')"},  # not a literal: dropped, never run
        {"not a name": "1"},
        {"a": "(1,"},
    ]})
    parsed = parse_answer(answer, ADD)
    assert parsed.inputs == ["a=[1, 2], b=3", "a='x', c=None", "a=7, b=[1, True]"]
    assert sum(parsed.dropped.values()) == 3


def test_the_schema_follows_the_parameters():
    from case2code_hub.inputs.llm.parse import function_def, static_signature
    from case2code_hub.inputs.llm.prompts import grammar_schema

    item = grammar_schema(4, static_signature(function_def(ADD)))["properties"]["inputs"]["items"]
    value = {"type": "string", "maxLength": 300}
    assert item["properties"] == {"a": value, "b": value, "c": value}
    assert item["required"] == ["a"] and item["additionalProperties"] is False
    star_only = make("def g(*args, **kwargs):\n    return args\n", "g")
    assert grammar_schema(4, static_signature(function_def(star_only)))["properties"]["inputs"]["items"] == value


def test_a_schema_answer_with_raw_newlines_in_its_strings_is_still_read():
    # llama.cpp's JSON grammar lets a raw newline into a string; strict JSON would refuse the answer.
    answer = '{"analysis": "two lines:\nhere", "inputs": [{"a": "1"}, {"a": "[2,\n 3]"}]}'
    assert parse_answer(answer, ADD).inputs == ["a=1", "a=[2, 3]"]
