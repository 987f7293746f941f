"""The scorer's pure parts: code extraction, output comparison, pass@k. No sandbox, no dataset."""

from __future__ import annotations

import json
from math import comb

import pytest

from case2code_hub.errors import ConfigError, InputFileError
from case2code_hub.evaluate import case_matches, extract_code, load_predictions, mean_pass_at_k, pass_at_k, values_close
from case2code_hub.evaluate.passk import parse_ks


# -- pass@k ------------------------------------------------------------------------------------


def test_pass_at_k_matches_a_hand_computed_value():
    # n=5 completions, c=2 correct, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # k=1 is the share of correct completions.
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # Fewer wrong completions than k: some draw always holds a correct one.
    assert pass_at_k(4, 3, 2) == 1.0
    assert pass_at_k(4, 0, 4) == 0.0
    # The product form of Chen et al. agrees.
    n, c, k = 20, 7, 5
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1 - k / i
    assert pass_at_k(n, c, k) == pytest.approx(1 - product)
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(13, 5) / comb(20, 5))


def test_mean_pass_at_k_over_items_and_k_above_n():
    items = [{"n": 5, "passed": 2}, {"n": 5, "passed": 0}, {"n": 5, "passed": 5}]
    means = mean_pass_at_k(items, [1, 2, 10])
    assert means["1"] == pytest.approx((0.4 + 0 + 1) / 3)
    assert means["2"] == pytest.approx((0.7 + 0 + 1) / 3)
    assert means["10"] is None


def test_pass_at_k_rejects_impossible_arguments():
    with pytest.raises(ConfigError):
        pass_at_k(3, 1, 4)
    with pytest.raises(ConfigError):
        pass_at_k(3, 4, 1)
    assert parse_ks("10, 1,5,1") == [1, 5, 10]
    with pytest.raises(ConfigError) as info:
        parse_ks("1,x")
    assert info.value.field == "k"


# -- comparison --------------------------------------------------------------------------------


def _r(output: str, outcome: str = "returned") -> dict[str, str]:
    return {"output": output, "outcome": outcome}


def test_floats_compare_with_tolerance_but_exact_match_is_reported_apart():
    assert case_matches(_r("0.3"), _r("0.30000000000000004"))
    assert not case_matches(_r("0.3"), _r("0.30000000000000004"), tolerant=False)
    assert case_matches(_r("[1.0, (2.5, 'a')]"), _r("[1.0000000001, (2.5, 'a')]"))
    assert not case_matches(_r("0.3"), _r("0.31"))
    assert not case_matches(_r("1"), _r("1.0"))  # int and float differ
    assert not case_matches(_r("'0.3'"), _r("'0.30000000000000004'"))  # strings never get tolerance
    assert values_close("nan", "nan") and values_close("[inf]", "[inf]") and not values_close("inf", "nan")
    assert values_close("(1+2j)", "(1.0000000001+2j)")
    assert values_close("Point(x=1.0, y=2)", "Point(x=1.0000000001, y=2)")  # reprs that parse, never run


def test_exceptions_match_by_type_and_other_outcomes_never_match():
    expected = _r("ValueError: bad input", "raised")
    assert case_matches(expected, _r("ValueError: another message", "raised"))
    assert not case_matches(expected, _r("TypeError: bad input", "raised"))
    assert not case_matches(expected, _r("ValueError: another message", "raised"), tolerant=False)
    assert not case_matches(_r("1"), _r("1", "raised"))
    assert not case_matches(_r("", "timeout"), _r("", "timeout"))


# -- extraction --------------------------------------------------------------------------------


def test_fenced_block_with_prose_and_the_entry_point_chosen_among_several():
    completion = """Sure! Here is a helper and the function.

```python
import math

def helper(x):
    return math.sqrt(x)

def target(x):
    return helper(x) + 1

print(target(4))
```
It works because..."""
    found = extract_code(completion, "target")
    assert found is not None and found.entry_point == "target" and found.where == "fenced"
    assert "import math" in found.code and "def helper" in found.code
    assert "print(" not in found.code  # test code around the function is not run


def test_official_lead_and_bare_code_with_trailing_prose():
    official = "The function is:\n\n```python\ndef f(a):\n    return a * 2\n\n```"
    found = extract_code(official, "f")
    assert found is not None and "return a * 2" in found.code
    bare = "def g(a):\n    return a + 1\nThis function adds one."
    found = extract_code(bare, "g")
    assert found is not None and found.where == "bare" and "This function" not in found.code
    lead = "The function is: def h(s):\n    return s[::-1]"
    assert extract_code(lead, "h") is not None


def test_only_function_is_taken_whatever_its_name_and_none_when_ambiguous():
    found = extract_code("```python\ndef other(x):\n    return x\n```", "wanted")
    assert found is not None and found.entry_point == "other"
    assert extract_code("```python\ndef a(x):\n    return x\ndef b(x):\n    return x\n```", "wanted") is None
    assert extract_code("I cannot solve this.", "f") is None
    assert extract_code("", "f") is None


def test_unclosed_fence_and_unresolved_names_keep_definitions():
    found = extract_code("```python\ndef f(x):\n    return x + 1\n", "f")
    assert found is not None and "return x + 1" in found.code
    # ``np`` is bound nowhere: everything that defines something is kept, calls are not.
    found = extract_code("def f(x):\n    return np.sum(x)\nf([1])\n", "f")
    assert found is not None and "np.sum" in found.code and "f([1])" not in found.code


# -- predictions file --------------------------------------------------------------------------


def test_predictions_file_accepts_both_shapes_and_names_bad_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a", "completions": ["x", "y"]}) + "\n" + json.dumps({"id": "b", "completion": "z"}) + "\n")
    assert load_predictions(path) == {"a": ["x", "y"], "b": ["z"]}
    path.write_text(json.dumps({"id": "a", "completion": "x"}) + "\n{not json\n")
    with pytest.raises(InputFileError) as info:
        load_predictions(path)
    assert info.value.line == 2
    path.write_text(json.dumps({"id": "a", "completion": "x"}) + "\n" + json.dumps({"id": "a", "completion": "y"}) + "\n")
    with pytest.raises(InputFileError, match="twice"):
        load_predictions(path)
