"""Name heuristics: the kind a parameter's name suggests (``n`` -> int, ``text`` -> str)."""

from __future__ import annotations

import re

_NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"^(is|has|should|use|allow|enable|can)_|^(flag|verbose|strict|reverse|recursive|inplace|debug)$", "bool"),
    (r"^(n|m|k|i|j|num|count|size|length|len|width|height|depth|idx|index|pos|start|end|stop|step|"
     r"offset|limit|level|times|base|digits|year|month|day|hour|minute|second|port)$|^(n|num)_|_(count|size|"
     r"len|index|idx|num)$", "int"),
    (r"^(x|y|z|a|b|c|value|val|number|amount|total|rate|ratio|factor|weight|score|"
     r"temperature|temp|angle|radius|price|t)$", "number"),
    (r"^(s|st|string|text|txt|name|word|words_str|line|sentence|path|filename|fname|file_name|prefix|"
     r"suffix|sep|delimiter|char|ch|pattern|pat|url|email|key|title|message|msg|label|tag|code|"
     r"password|username|host|encoding|mode|fmt|format|template|version|hex_str|dna|sequence_str)$|"
     r"_(str|string|name|text|path|char)$|^(str|string)_|.str$", "str"),
    (r"^(items|lst|list|arr|array|nums|numbers|values|vals|seq|sequence|elements|xs|data|l|li|"
     r"collection|iterable|vec|vector|matrix|grid|rows|points|words|strings|names|lines|args|"
     r"stack|queue|heap|coords|scores|prices|weights)$|_(list|lst|arr|array|items|seq)$|s$", "list"),
    (r"^(d|dct|dic|dict|mapping|map|kwargs|config|cfg|options|opts|params|attrs|headers|table|"
     r"counts|freq|graph|env|record|row|obj|data_dict)$|_(dict|map|mapping)$", "dict"),
    (r"^(b|buf|buffer|data_bytes|raw|payload)$|_bytes$", "bytes"),
)  # fmt: skip
_NAME_PATTERNS = tuple((re.compile(pattern), kind) for pattern, kind in _NAME_RULES)


def name_kind(name: str) -> str | None:
    """The kind a parameter's name suggests (``n`` -> int, ``text`` -> str), or None."""
    lowered = name.lower().lstrip("_")
    for pattern, kind in _NAME_PATTERNS:
        if pattern.search(lowered):
            return kind
    return None
