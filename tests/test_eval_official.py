"""``import-official``: the official test set's format becomes an eval-config folder; items that
cannot be reproduced are flagged with a reason, and the references pass every other item."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from case2code_hub.cli import app
from case2code_hub.evaluate import EvalConfig, evaluate
from case2code_hub.evaluate.official import _canonical, convert_inputs, import_official, official_case

runner = CliRunner()


def _shared() -> Path | None:
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        top = str(Path(__file__).resolve().parents[1])
    path = Path(top).parent / "shared" / "reference" / "case2code-test.jsonl"
    return path if path.is_file() else None


def _ret(text: str) -> dict:
    return {"return": json.dumps(text)}


def _err(text: str, printed: str = "") -> dict:
    return {"error": printed + '<|EXCEPTION|> ' + json.dumps(text)}


def _row(ident: str, code: str, name: str, examples: list[str], outputs: list[dict], shown=(0, 1, 2)) -> dict:
    body = "examples = [\n" + "".join(f"    {e},\n" for e in examples) + "]"
    prompt = f"Function: {name}\n\nWrite a function that generates the output from the input.\n" + "".join(
        f"Input: {examples[i]}, Output: {json.dumps(outputs[i].get('return', 'err'))}\n" for i in shown)
    return {"id": ident, "code": code, "exec_code": code, "func_name": name, "example_str": body,
            "example_inputs": [], "parsed_inputs": [], "example_outputs": outputs,
            "choosed_example_idx": list(shown), "prompt": prompt, "exec_status": True,
            "output": f"The function is:\n\n```python\n{code}\n```"}


def _official_rows() -> list[dict]:
    double = "def double(x):\n    return x * 2\n"
    evens = "def evens(xs):\n    return {x for x in xs if x % 2 == 0}\n"
    safe_div = "def safe_div(a, b):\n    print('dividing')\n    return a / b\n"
    gen = "def gen(n):\n    return (i for i in range(n))\n"
    uses_helper = "def uses(x):\n    return helper(x)\n"
    hashed = "def hashed(s):\n    return hash(s)\n"
    stale = "def stale(x):\n    return x + 1\n"
    lam = "def apply(f, x):\n    return f(x)\n"
    return [
        _row("ok", double, "double", [f"dict(x={i})" for i in range(6)], [_ret(str(2 * i)) for i in range(6)]),
        # The official run printed sets in hash order; ours sorts them: still the same value.
        _row("sets", evens, "evens", ["dict(xs=[8, 6])", "dict(xs=[1])", "dict(xs=[40, 30, 3])", "dict(xs=[])"],
             [_ret("{8, 6}"), _ret("set()"), _ret("{40, 30}"), _ret("set()")]),
        # Printed text before the exception mark.
        _row("raises", safe_div, "safe_div", ["dict(a=1, b=2)", "dict(a=1, b=0)", "dict(a=3, b=4)"],
             [_ret("0.5"), _err("<class 'ZeroDivisionError'>: division by zero", printed="dividing\n"), _ret("0.75")]),
        _row("address", gen, "gen", ["dict(n=1)", "dict(n=2)", "dict(n=3)"],
             [_ret("<generator object gen.<locals>.<genexpr> at 0x7f00deadbeef>")] * 3),
        _row("nameerror", uses_helper, "uses", ["dict(x=1)", "dict(x=2)", "dict(x=3)"],
             [_err("<class 'NameError'>: name 'helper' is not defined")] * 3),
        _row("random", hashed, "hashed", ["dict(s='a')", "dict(s='bb')", "dict(s='ccc')"], [_ret("1"), _ret("2"), _ret("3")]),
        _row("differs", stale, "stale", ["dict(x=1)", "dict(x=2)", "dict(x=3)"], [_ret("2"), _ret("3"), _ret("5")]),
        _row("lambda", lam, "apply", ["dict(f=lambda v: v, x=1)", "dict(f=abs, x=-1)", "dict(f=str, x=2)"],
             [_ret("1"), _ret("1"), _ret("'2'")]),
    ]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("official")
    source = root / "test.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in _official_rows()))
    out = root / "official"
    report = import_official(source, out, timeout=1.0, workers=2)
    return source, out, report


def test_every_unreproducible_item_is_flagged_with_its_reason(imported):
    _, out, report = imported
    assert report.items == 8
    assert report.flagged == {"address": 1, "differs_from_official": 1, "name_error": 1, "non_literal_input": 1,
                              "nondeterministic": 1}
    rows = {row["id"]: row for row in load_dataset(str(out), "eval", split="test")}
    assert set(rows) == {"ok", "sets", "raises", "address", "nameerror", "random", "differs", "lambda"}
    for ident, reason in [("address", "address"), ("nameerror", "name_error"), ("random", "nondeterministic"),
                          ("differs", "differs_from_official"), ("lambda", "non_literal_input")]:
        assert rows[ident]["flag"].startswith(reason), rows[ident]["flag"]
    for ident in ("ok", "sets", "raises"):
        assert rows[ident]["flag"] == ""


def test_references_pass_every_item_not_flagged(imported):
    _, out, report = imported
    assert report.reference_pass_at_1 == 1.0 and report.reference_failures == []
    assert report.kept == 3


def test_cases_hold_our_outputs_with_the_official_ones_beside(imported):
    _, out, _ = imported
    loaded = load_dataset(str(out), "eval", split="test")
    rows = {row["id"]: row for row in loaded}
    sets = rows["sets"]
    assert [c["input"] for c in sets["observed_cases"]] == ["xs=[8, 6]", "xs=[1]", "xs=[40, 30, 3]"]
    assert sets["observed_cases"][0]["output"] == "{6, 8}"
    assert sets["official_cases"][0]["output"] == "{8, 6}"
    assert [c["input"] for c in sets["hidden_cases"]] == ["xs=[]"]
    raised = rows["raises"]["observed_cases"][1]
    assert raised["outcome"] == "raised" and raised["output"].startswith("ZeroDivisionError")
    assert rows["ok"]["prompt"].startswith("Function: double")  # the official prompt, kept as is
    assert loaded.features["difficulty"].names == ["easy", "medium", "hard"]  # a ClassLabel, as a build writes
    assert 'ds.features["difficulty"].int2str(row["difficulty"])' in (out / "README.md").read_text(encoding="utf-8")
    assert {loaded.features["difficulty"].int2str(row["difficulty"]) for row in rows.values()} <= {"easy", "medium", "hard"}


def test_eval_skips_flagged_items_unless_asked(imported):
    source, out, _ = imported
    references = {row["id"]: [row["output"]] for row in _official_rows()}
    report = evaluate(out, references, config=EvalConfig(timeout=1.0, workers=2))
    assert report.summary["items"] == 3 and report.summary["pass@k"]["1"] == 1.0
    assert report.summary["skipped"] == {"flagged": 5}
    everything = evaluate(out, references, config=EvalConfig(timeout=1.0, workers=2, include_flagged=True))
    assert everything.summary["items"] == 8 and everything.summary["pass@k"]["1"] < 1.0


def test_conversion_helpers():
    inputs, reason = convert_inputs("examples = [dict(a=1, b='x')]\nexamples += [dict(c={1, 2}), dict(d=float('inf'))]")
    assert inputs == ["a=1, b='x'", "c={1, 2}", "d=float('inf')"] and reason is None
    _, reason = convert_inputs("from datetime import datetime\nexamples = [dict(d=datetime(2020, 1, 1))]")
    assert reason == "non_literal_input"
    assert official_case({"return": '"[1, 2]"'}) == {"output": "[1, 2]", "outcome": "returned"}
    assert official_case({"error": '<|EXCEPTION|> "<class \'json.decoder.JSONDecodeError\'>: bad"'}) == {
        "output": "JSONDecodeError: bad", "outcome": "raised"}


def test_official_outputs_are_re_printed_only_where_they_are_a_builtin_repr():
    def canonical(text):
        return _canonical({"output": text, "outcome": "returned"})["output"]

    assert canonical("{8, 6}") == "{6, 8}" and canonical("frozenset({'b', 'a'})") == "frozenset({'a', 'b'})"
    # The grammar reads builtin names and SimpleNamespace calls, but no repr prints them: such an
    # output is an object's own repr (int's is <class 'int'>), kept as written.
    for text in ("int", "[len, {2, 1}]", "str.lower", "SimpleNamespace(a={2, 1})", "types.SimpleNamespace(a=1)"):
        assert canonical(text) == text
    assert canonical("Ellipsis") == "Ellipsis"
    inputs, reason = convert_inputs("examples = [dict(xs=[3, -1], key=abs), dict(e=types.SimpleNamespace(errcode=-1))]")
    assert inputs == ["xs=[3, -1], key=abs", "e=types.SimpleNamespace(errcode=-1)"] and reason is None


def test_cli_import_official_refuses_a_foreign_folder_and_writes_ours(imported, tmp_path):
    source, _, _ = imported
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["import-official", str(source), "--out", str(foreign), "--workers", "2"])
    assert result.exit_code == 1 and "refusing" in result.output
    out = tmp_path / "official"
    result = runner.invoke(app, ["import-official", str(source), "--out", str(out), "--workers", "2", "--no-check-references"])
    assert result.exit_code == 0, result.output
    assert "flagged: name_error" in result.output
    assert len(load_dataset(str(out), "eval", split="test")) == 8


def test_the_official_test_set_references_pass_all_unflagged_items(tmp_path):
    path = _shared()
    if path is None:
        pytest.skip("shared/reference/case2code-test.jsonl is not beside the checkout")
    # The first 120 items keep this test quick; the full set is measured in the issue note.
    report = import_official(path, tmp_path / "official", timeout=2.0, workers=2, limit=120)
    assert report.items == 120
    assert report.kept >= 90
    assert set(report.flagged) <= {"non_literal_input", "misaligned_outputs", "address", "name_error",
                                   "nondeterministic", "not_reproducible", "differs_from_official"}
    assert report.flagged.get("name_error", 0) >= 1
    assert report.reference_pass_at_1 == 1.0, report.reference_failures
