"""The builder's parts on their own: difficulty score and levels, the id-hash split, prompt templates."""

from __future__ import annotations

import json

import pytest

from case2code_hub import schema
from case2code_hub.dataset import difficulty, split, templates
from case2code_hub.errors import ConfigError, DatasetError

SIMPLE = "def inc(x):\n    return x + 1\n"
NESTED = """
import math

def _helper(v):
    return v * 2

def walk(grid, limit, *, scale=1):
    out = []
    for row in grid:
        for v in row:
            if v > limit:
                try:
                    out.append(math.sqrt(_helper(v)))
                except ValueError:
                    continue
            elif v < 0:
                out.append([x for x in range(v, 0) if x % 2])
    return out
"""


def _case(output: str, outcome: str = "returned") -> dict:
    return {"input": "1", "output": output, "outcome": outcome, "writer": "offline"}


def test_code_stats_count_what_the_docstring_says():
    stats = difficulty.code_stats(NESTED, "walk")
    assert stats["params"] == 3
    assert stats["loops"] == 3  # two for-loops and one comprehension
    assert stats["branches"] == 4  # if, elif, except, comprehension if
    # for > for > if > try (the elif's If sits at the same level as the try).
    assert stats["max_depth"] == 4
    assert stats["ast_nodes"] > difficulty.code_stats(SIMPLE, "inc")["ast_nodes"]


def test_score_fills_the_raw_stats_struct():
    cases = [_case("[1, (2, [3])]"), _case("[]"), _case("ValueError: bad", "raised"), _case("[]")]
    value, stats = difficulty.score(NESTED, "walk", cases)
    assert set(stats) == set(schema.features("raw")["stats"])
    assert stats["difficulty_score"] == value
    assert (stats["n_cases"], stats["n_raised"], stats["distinct_outputs"]) == (4, 1, 3)
    simple, _ = difficulty.score(SIMPLE, "inc", [_case("2"), _case("3")])
    assert simple < value


def test_output_structure_is_read_not_evaluated():
    assert difficulty.output_shape("[(1, [2])]") == ("list", 3)
    assert difficulty.output_shape("{'a': {1, 2}}")[1] == 2
    assert difficulty.output_shape("42") == ("int", 0)
    assert difficulty.output_shape("-1.5") == ("float", 0)
    assert difficulty.output_shape("<Foo object at 0x1>") == ("opaque", 0)
    # A repr that would run code if evaluated is only parsed: a call counts as one container level.
    kind, depth = difficulty.output_shape("__import__('os').system('exit 1')")
    assert (kind, depth) == ("system", 2)
    deep = difficulty.case_stats([_case("[[[[1]]]]"), _case("1")])
    assert deep["output_depth"] == 2.0 and deep["output_kinds"] == 1


def test_score_rejects_code_without_the_entry_point():
    with pytest.raises(DatasetError, match="'missing'"):
        difficulty.score(SIMPLE, "missing", [])
    with pytest.raises(DatasetError, match="does not parse"):
        difficulty.score("def f(:\n", "f", [])


def test_thresholds_are_tertiles_and_levels_follow_them():
    scores = [float(i) for i in range(30)]
    cuts = difficulty.thresholds(scores)
    assert cuts == (9.5, 19.5)
    levels = [difficulty.level(s, cuts) for s in scores]
    assert levels.count("easy") == levels.count("medium") == levels.count("hard") == 10
    assert difficulty.thresholds(reversed(scores)) == cuts
    assert difficulty.level(1.0, difficulty.thresholds([1.0])) == "hard"
    with pytest.raises(DatasetError):
        difficulty.thresholds([])


def test_split_is_a_stable_hash_of_seed_and_id():
    ids = [f"{i:016x}" for i in range(2000)]
    drawn = [i for i in ids if split.is_eval_candidate(i, seed=0, eval_share=0.05)]
    assert 60 <= len(drawn) <= 140  # about 5% of 2000
    assert drawn == [i for i in ids if split.is_eval_candidate(i, seed=0, eval_share=0.05)]
    assert drawn != [i for i in ids if split.is_eval_candidate(i, seed=1, eval_share=0.05)]
    assert split.bucket("abc", seed=3) == int(__import__("hashlib").sha256(b"3:abc").hexdigest(), 16) % 10000
    assert not any(split.is_eval_candidate(i, eval_share=0.0) for i in ids)
    assert all(split.is_eval_candidate(i, eval_share=1.0) for i in ids)


def test_eval_needs_enough_cases():
    config = split.SplitConfig(eval_share=1.0)
    assert split.assign("abc", 8, config=config) == "eval"
    assert split.assign("abc", 7, config=config) == "train"
    assert split.assign("abc", 100, config=split.SplitConfig(eval_share=0.0)) == "train"


@pytest.mark.parametrize("field", ["eval_share", "min_observed", "min_hidden"])
def test_split_config_names_the_bad_field(field):
    with pytest.raises(ConfigError) as info:
        split.SplitConfig(**{field: -1})
    assert info.value.field == field


CASES = [
    {"input": "3, b='x|y'", "output": "[1, (2, 3)]", "outcome": "returned"},
    {"input": "0", "output": "ValueError: bad\nvalue", "outcome": "raised"},
    {"input": "'a,b'", "output": "'done'", "outcome": "returned"},
]


def test_enough_phrasings_and_formats_all_render():
    assert len(templates.INSTRUCTIONS) >= 20 and len(set(templates.INSTRUCTIONS)) == len(templates.INSTRUCTIONS)
    assert len(templates.CASE_FORMATS) >= 10
    blocks = set()
    for f, fmt in enumerate(templates.CASE_FORMATS):
        block = fmt.render(CASES, "solve")
        blocks.add(block)
        assert "3, b=" in block and "a,b" in block, fmt.name  # every case's input is shown
        assert "ValueError: bad\\nvalue" in block, fmt.name  # raised case shown as the exception
        assert "'done'" in block, fmt.name
    assert len(blocks) == len(templates.CASE_FORMATS)
    for i in range(len(templates.INSTRUCTIONS)):
        for named in (True, False):
            prompt = templates.render_prompt("solve", CASES, template=templates.template_id(i, i % 12, named=named))
            assert ("`solve`" in prompt) is named
            assert ("solve(" in prompt) is (named and "solve(" in templates.CASE_FORMATS[i % 12].render(CASES, "solve"))


def test_structured_formats_stay_parseable():
    jsonl = templates.CASE_FORMATS[5].render(CASES, "f")
    rows = [json.loads(line) for line in jsonl.splitlines()]
    assert rows[1] == {"input": "0", "raises": "ValueError: bad\nvalue"}
    table = templates.CASE_FORMATS[4].render(CASES, "f").splitlines()
    assert all(line.count(" | ") - line.count("\\| ") == 1 for line in table[2:])
    import csv

    assert list(csv.reader(templates.CASE_FORMATS[9].render(CASES, "f").splitlines()))[3] == ["'a,b'", "returned", "'done'"]


def test_template_ids_round_trip_and_reject_unknown():
    assert templates.parse_template_id("i07-f03-named") == (7, 3, True)
    assert templates.template_id(7, 3, named=False) == "i07-f03-anon"
    for bad in ("i99-f00-named", "x01-f01-named", "i01-f01-maybe", "nonsense"):
        with pytest.raises(ConfigError):
            templates.parse_template_id(bad)


FUNCTION = {
    "id": "0123456789abcdef",
    "entry_point": "solve",
    "code": "def solve(x, b=''):\n    return x\n",
    "cases": [{"input": str(i), "output": str(i), "outcome": "returned"} for i in range(12)],
    "difficulty": "easy",
}


def test_samples_are_seeded_distinct_and_complete():
    rows = templates.render_samples(FUNCTION, n=3, seed=5)
    assert rows == templates.render_samples(FUNCTION, n=3, seed=5)
    assert rows != templates.render_samples(FUNCTION, n=3, seed=6)
    assert [r["id"] for r in rows] == [f"{FUNCTION['id']}-{k}" for k in range(3)]
    assert len({r["template"] for r in rows}) == 3
    assert len({r["template"][:3] for r in rows}) == 3 and len({r["template"][4:7] for r in rows}) == 3
    for row in rows:
        assert row["completion"].endswith("```python\ndef solve(x, b=''):\n    return x\n```")
        if row["template"].endswith("-anon"):
            assert "solve" not in row["prompt"] and templates.ANON_NOTE in row["prompt"]
        shown = sum(f"{i}" in row["prompt"] for i in range(12))
        assert 3 <= shown <= 12


def test_many_samples_cover_named_anonymous_and_all_shown_counts():
    counts, modes = set(), set()
    for seed in range(40):
        for row in templates.render_samples(dict(FUNCTION, cases=FUNCTION["cases"][:10]), n=2, seed=seed):
            modes.add(row["template"].rsplit("-", 1)[1])
            counts.add(row["prompt"].count("\n"))
    assert modes == {"named", "anon"}
    assert len(counts) > 5


def test_sample_count_is_checked():
    with pytest.raises(ConfigError):
        templates.render_samples(FUNCTION, n=0)
    with pytest.raises(ConfigError):
        templates.render_samples(FUNCTION, n=len(templates.CASE_FORMATS) + 1)


def test_eval_prompt_uses_the_fixed_template():
    prompt = templates.render_eval_prompt("solve", CASES)
    assert prompt == templates.render_prompt("solve", CASES, template=templates.EVAL_TEMPLATE)
    assert prompt.startswith("Write the function `solve` in Python")
    assert ">>> solve(3, b='x|y')\n[1, (2, 3)]" in prompt


def test_effective_share_raises_small_builds_to_the_minimum():
    from case2code_hub.dataset.split import bucket, effective_share

    buckets = [bucket(f"fn{i}") for i in range(400)]
    at_five = sum(b < 500 for b in buckets)
    assert at_five < 50  # 5% of 400 is about 20
    share = effective_share(buckets, eval_share=0.05, min_eval_items=50, max_share=0.15)
    assert 0.05 < share <= 0.15
    assert sum(b < round(share * 10000) for b in buckets) == 50
    # A large build keeps the share it asked for; the ceiling holds; zero means no eval at all.
    big = [bucket(f"fn{i}") for i in range(5000)]
    assert effective_share(big, eval_share=0.05, min_eval_items=50) == 0.05
    assert effective_share(buckets[:100], eval_share=0.05, min_eval_items=50, max_share=0.15) <= 0.15
    assert effective_share(buckets, eval_share=0.0, min_eval_items=50) == 0.0


def test_level_thresholds_hold_out_about_a_third_per_level():
    from case2code_hub.dataset.split import level_thresholds

    buckets = {"easy": list(range(0, 100, 2)), "medium": list(range(1, 100, 2)), "hard": [5, 50, 70]}
    cut = level_thresholds(buckets, 30, ["easy", "medium", "hard"])
    held = {level: sum(1 for b in found if b < cut[level]) for level, found in buckets.items()}
    # Hard has only 3: it gives all of them, the rest is shared by the others, and the total holds.
    assert held == {"easy": 14, "medium": 13, "hard": 3} and sum(held.values()) == 30
    assert held == {level: sum(1 for b in found if b < cut[level]) for level, found in buckets.items()}
    even = level_thresholds({"easy": list(range(90)), "medium": list(range(90)), "hard": list(range(90))}, 9)
    assert even == {"easy": 3, "medium": 3, "hard": 3}
    assert level_thresholds(buckets, 0) == {"easy": 0, "medium": 0, "hard": 0}
