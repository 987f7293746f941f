"""The writer prompt: show a function, ask for an analysis of its arguments and N diverse inputs.

Like the Case2Code paper's writer prompt (analyse the argument types, then write N example inputs
as ``dict(arg=value)`` entries), and asks besides for edge cases and for inputs that reach
different branches. ``grammar_schema`` is the JSON schema for servers that constrain decoding.
"""

from __future__ import annotations

import inspect
from typing import Any

from ...schema import Function

PROMPT_VERSION = "writer-v3"  # part of every cache key: a changed prompt is a new request

_RULES = """Rules:
- Use only literal values: numbers, strings, bytes, None, True, False, and lists, tuples, dicts and sets of them. \
No variables, no expressions, no function calls except set(), frozenset(), float('inf'), float('nan'), \
decimal.Decimal('1.5'), fractions.Fraction(1, 3) and datetime.date(2024, 1, 31).
- Make the {n} inputs different from each other. Include edge cases (empty strings and containers, zero, \
negative and very large numbers, None where it is allowed, unusual characters) and inputs that reach \
different branches of the function, including one or two that make it raise an error.
- Keep every input small: a few elements per container, short strings.
- Name every argument: dict({example})."""

_FREE_TEXT_TAIL = """
First write a short analysis of the type and meaning of each argument. Then write the {n} inputs \
in one ```python code block, one dict(...) per line and nothing else in the block."""

_JSON_TAIL = """
Answer with a JSON object: "analysis" is a short analysis of the type and meaning of each argument, \
"inputs" is a list of {n} objects, one per input, that map each argument's name to the Python source \
of its value (a string, for example "[1, 2]" or "'abc'")."""


def _params(signature_names: list[str]) -> str:
    return ", ".join(signature_names) if signature_names else "no arguments"


def _example(signature_names: list[str]) -> str:
    return ", ".join(f"{name}=..." for name in signature_names[:3]) or ""


def writer_instructions(function: Function, *, n_inputs: int, params: list[str], structured: bool = False) -> str:
    """The instructions of the writer prompt for ``function``, shared by both routes.

    Args:
        function: the function to write inputs for; its code is shown verbatim.
        n_inputs: how many inputs to ask for.
        params: the names of its parameters, in order (``*args``/``**kwargs`` without stars).
        structured: ask for a JSON answer (for a server that constrains decoding to the schema).

    Returns:
        The instruction text, without any chat template.
    """
    code = function.code.strip("\n")
    head = (
        f"You are an expert Python tester. Here is a Python function `{function.entry_point}` "
        f"with arguments ({_params(params)}):\n\n```python\n{code}\n```\n\n"
        f"Write {n_inputs} different example inputs for `{function.entry_point}`.\n"
    )
    rules = _RULES.format(n=n_inputs, example=_example(params))
    tail = (_JSON_TAIL if structured else _FREE_TEXT_TAIL).format(n=n_inputs)
    return head + rules + "\n" + tail.strip("\n")


def completion_prompt(function: Function, *, n_inputs: int, params: list[str], structured: bool = False) -> str:
    """The prompt for a plain text-generation route (TGI ``/generate``): instructions and a cue."""
    cue = "\n\nAnswer:\n" if structured else "\n\nAnalysis:\n"
    return writer_instructions(function, n_inputs=n_inputs, params=params, structured=structured) + cue


def chat_messages(function: Function, *, n_inputs: int, params: list[str], structured: bool = False) -> list[dict[str, str]]:
    """The messages for an OpenAI-style chat route: the instructions as one user turn."""
    text = writer_instructions(function, n_inputs=n_inputs, params=params, structured=structured)
    return [{"role": "user", "content": text}]


# Bounds on the free text of a constrained answer: a small model that rambles through its analysis
# (or repeats a value) runs into the token limit before it reaches the inputs, and the cut JSON is
# lost whole. The prompt asks for small inputs anyway.
MAX_ANALYSIS_CHARS = 600
MAX_VALUE_CHARS = 300


def grammar_schema(n_inputs: int, signature: inspect.Signature | None = None) -> dict[str, Any]:
    """JSON schema of a structured answer, built from the function's parameters.

    ``{"analysis": str, "inputs": [{"<param>": "<Python source of its value>", ...}, ...]}``: each
    input names the parameters that can be passed by name (those without a default required), so a
    constrained model cannot forget an argument or invent one. A function with no such parameter
    (only ``*args`` / ``**kwargs``) gets ``dict(...)`` strings instead.
    """
    named = [p for p in (signature.parameters.values() if signature is not None else ())
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if named:
        item: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: {"type": "string", "maxLength": MAX_VALUE_CHARS} for p in named},
            "required": [p.name for p in named if p.default is p.empty],
            "additionalProperties": False,
        }
    else:
        item = {"type": "string", "maxLength": MAX_VALUE_CHARS}
    return {
        "type": "object",
        "properties": {
            "analysis": {"type": "string", "maxLength": MAX_ANALYSIS_CHARS},
            "inputs": {"type": "array", "items": item, "minItems": 1, "maxItems": n_inputs},
        },
        "required": ["analysis", "inputs"],
    }
