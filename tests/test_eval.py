"""Scoring in the sandbox on an eval config made by the builder: references pass, wrong or hostile
completions fail (and cost at most their timeout), the CLI writes the promised files, and
completions can come from a TGI-protocol server."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from case2code_hub.builder import build
from case2code_hub.cli import app
from case2code_hub.evaluate import EvalConfig, evaluate, load_items, score

from sample_corpus import write_corpus

runner = CliRunner()
FAST = dict(timeout=0.5, workers=2)


@pytest.fixture(scope="module")
def eval_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    out = root / "ds"
    build(str(write_corpus(root / "corpus")), out, eval_share=0.5, workers=2)
    return out


@pytest.fixture(scope="module")
def items(eval_folder):
    rows = load_items(eval_folder)
    assert len(rows) >= 5
    return rows


def _fenced(code: str) -> str:
    return f"Here you go:\n\n```python\n{code}\n```\n"


def _wrong(item) -> str:
    """A function with the right name that returns something no case expects."""
    return f"def {item['entry_point']}(*args, **kwargs):\n    return ('wrong', args)\n"


def test_references_score_one_and_wrong_solutions_zero(items):
    predictions = {item["id"]: [_fenced(item["reference_code"]), _wrong(item)] for item in items}
    report = score(items, predictions, config=EvalConfig(ks=[1, 2], **FAST))
    for row in report.items:
        reference, wrong = row["results"]
        assert reference["passed"] and reference["exact"], (row["id"], reference)
        assert not wrong["passed"] and wrong["failing"] is not None
        assert wrong["failing"]["outcome"] in ("returned", "raised")
    assert report.summary["pass@k"] == {"1": 0.5, "2": 1.0}
    assert report.summary["items"] == len(items)
    levels = {item["difficulty"] for item in items}
    assert levels <= {"easy", "medium", "hard"}  # load_items gives the ClassLabel's names
    assert set(report.summary["by_difficulty"]) == levels
    assert sum(b["items"] for b in report.summary["by_difficulty"].values()) == len(items)


def test_rows_straight_from_load_dataset_are_reported_by_name(eval_folder, items):
    from datasets import load_dataset

    rows = load_dataset(str(eval_folder), "eval", split="test")
    assert set(rows["difficulty"]) <= {0, 1, 2}
    predictions = {item["id"]: [_fenced(item["reference_code"])] for item in items}
    report = score(rows, predictions, config=EvalConfig(ks=[1], **FAST))
    names = {item["id"]: item["difficulty"] for item in items}
    assert [row["difficulty"] for row in report.items] == [names[row["id"]] for row in report.items]
    assert set(report.summary["by_difficulty"]) == set(names.values())


def test_a_solution_broken_on_one_hidden_case_fails_and_names_it(items):
    item = max(items, key=lambda i: len(i["hidden_cases"]))
    last = item["hidden_cases"][-1]
    # Same as the reference except on the last hidden input.
    code = item["reference_code"] + (
        f"\n\n_reference = {item['entry_point']}\n\n"
        f"def {item['entry_point']}(*args, **kwargs):\n"
        f"    if (args, kwargs) == _parse({last['input']!r}):\n"
        f"        return 'broken'\n"
        f"    return _reference(*args, **kwargs)\n\n"
        f"def _parse(text):\n"
        f"    from case2code_hub.literals import parse_arguments\n"
        f"    args, kwargs = parse_arguments(text)\n"
        f"    return tuple(args), kwargs\n"
    )
    report = score([item], {item["id"]: [code]}, config=EvalConfig(**FAST))
    result = report.items[0]["results"][0]
    assert not result["passed"]
    assert result["cases_passed"] == result["cases"] - 1
    assert result["failing"]["input"] == last["input"] and result["failing"]["got"] == "'broken'"


def test_hanging_crashing_and_printing_completions_fail_within_their_timeout(items):
    item = max(items, key=lambda i: len(i["observed_cases"]) + len(i["hidden_cases"]))
    n_cases = len(item["observed_cases"]) + len(item["hidden_cases"])
    name = item["entry_point"]
    hostile = [
        f"def {name}(*a, **k):\n    while True:\n        pass\n",
        f"def {name}(*a, **k):\n    while True:\n        print('x' * 10000)\n",
        f"import os\ndef {name}(*a, **k):\n    os._exit(3)\n",
        f"import os, signal\ndef {name}(*a, **k):\n    os.kill(os.getpid(), signal.SIGSEGV)\n",
        f"while True:\n    pass\ndef {name}(*a, **k):\n    return 1\n",  # hangs while loading
        f"def {name}(*a, **k):\n    return [0] * (1 << 40)\n",
    ]
    timeout = 0.5
    started = time.monotonic()
    report = score([item], {item["id"]: hostile}, config=EvalConfig(timeout=timeout, workers=2))
    elapsed = time.monotonic() - started
    results = report.items[0]["results"]
    assert not any(r["passed"] for r in results)
    assert report.items[0]["passed"] == 0
    # Each hanging candidate costs about one timeout, not one per case: far below n_cases * timeout.
    assert n_cases >= 5
    assert elapsed < 2 * n_cases * timeout, elapsed
    assert elapsed < 12, elapsed


def test_predictions_for_other_items_are_ignored_and_missing_items_score_zero(items):
    first, second = items[0], items[1]
    predictions = {first["id"]: [_fenced(first["reference_code"])], "not-an-item": ["def f(): pass"]}
    report = score([first, second], predictions, config=EvalConfig(**FAST))
    by_id = {row["id"]: row for row in report.items}
    assert by_id[first["id"]]["passed"] == 1
    assert by_id[second["id"]]["passed"] == 0 and by_id[second["id"]]["results"][0]["status"] == "no_code"
    assert report.summary["missing"] == 1
    assert report.summary["pass@k"]["1"] == 0.5


def test_identical_completions_run_once_and_score_alike(items):
    item = items[0]
    predictions = {item["id"]: [_fenced(item["reference_code"])] * 4 + [item["reference_code"]]}
    report = score([item], predictions, config=EvalConfig(ks=[1, 5], **FAST))
    assert report.items[0]["passed"] == 5
    assert report.summary["pass@k"] == {"1": 1.0, "5": 1.0}


def test_cli_eval_writes_results_and_summary(eval_folder, items, tmp_path):
    predictions = tmp_path / "preds.jsonl"
    with open(predictions, "w") as handle:
        for item in items:
            handle.write(json.dumps({"id": item["id"], "completions": [_fenced(item["reference_code"]), _wrong(item)]}) + "\n")
    output, summary = tmp_path / "results.jsonl", tmp_path / "summary.json"
    result = runner.invoke(app, ["eval", "--dataset", str(eval_folder), "--predictions", str(predictions), "--k", "1,2",
                                 "--output", str(output), "--summary", str(summary), "--workers", "2", "--timeout", "0.5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "0.5000"
    assert "pass@1" in result.output
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == len(items)
    for line in lines:
        assert {"id", "difficulty", "n", "passed", "results"} <= set(line)
        assert line["n"] == 2 and line["passed"] == 1
    data = json.loads(summary.read_text())
    assert data["pass@k"] == {"1": 0.5, "2": 1.0} and data["items"] == len(items)
    assert set(data["by_difficulty"]) <= {"easy", "medium", "hard"}


def test_cli_eval_split_and_user_errors(eval_folder, items, tmp_path):
    hard = [item for item in items if item["difficulty"] == "hard"]
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text("".join(json.dumps({"id": i["id"], "completion": i["reference_code"]}) + "\n" for i in items))
    summary = tmp_path / "summary.json"
    result = runner.invoke(app, ["eval", "--dataset", str(eval_folder), "--predictions", str(predictions),
                                 "--split", "hard", "--summary", str(summary), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(summary.read_text())["items"] == len(hard)
    bad = runner.invoke(app, ["eval", "--dataset", str(eval_folder)])
    assert bad.exit_code == 1 and "exactly one of" in bad.output
    bad = runner.invoke(app, ["eval", "--dataset", str(eval_folder), "--predictions", str(predictions), "--k", "0"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_evaluate_reads_the_folder_and_writes_files(eval_folder, items, tmp_path):
    predictions = {item["id"]: [item["reference_code"]] for item in items}
    report = evaluate(eval_folder, predictions, split="test", config=EvalConfig(**FAST),
                      output=tmp_path / "r.jsonl", summary=tmp_path / "s.json")
    assert report.summary["pass@k"]["1"] == 1.0
    assert json.loads((tmp_path / "s.json").read_text())["pass@k"]["1"] == 1.0


@pytest.mark.parametrize("generator", ["tgi", "openai"])
def test_eval_through_a_tgi_protocol_server_end_to_end(eval_folder, items, tmp_path, monkeypatch, generator):
    import tgi_server

    # The fake model answers each eval prompt with the reference of the function it names
    # (every second item: a wrong function), in the official "The function is:" form.
    by_name = {item["entry_point"]: item for item in items}
    wrong = {item["entry_point"] for index, item in enumerate(sorted(items, key=lambda i: i["id"])) if index % 2}

    def answer(prompt: str, *, structured: bool = False, fault: str = "ok") -> str:
        name = next(n for n in sorted(by_name, key=len, reverse=True) if f"`{n}`" in prompt)
        code = _wrong(by_name[name]) if name in wrong else by_name[name]["reference_code"]
        return f"The function is:\n\n```python\n{code}\n```"

    monkeypatch.setattr(tgi_server, "writer_answer", answer)
    faults = tgi_server.Faults(script=["503", "ok"])  # the first request is refused once and retried
    saved, summary = tmp_path / "generated.jsonl", tmp_path / "summary.json"
    with tgi_server.FakeTGI(faults=faults) as server:
        result = runner.invoke(app, ["eval", "--dataset", str(eval_folder), "--endpoint", server.url, "--protocol", generator,
                                     "--model", "fake", "--n", "2", "--temperature", "0.8", "--k", "1,2",
                                     "--save-predictions", str(saved), "--summary", str(summary), "--workers", "2"])
        stats = server.snapshot()
    assert result.exit_code == 0, result.output
    assert stats["schema_errors"] == []
    assert stats["stats"]["requests"] == 2 * len(items) + 1
    data = json.loads(summary.read_text())
    expected = (len(items) - len(wrong)) / len(items)
    assert data["pass@k"]["1"] == pytest.approx(expected) and data["pass@k"]["2"] == pytest.approx(expected)
    assert len(saved.read_text().splitlines()) == len(items)


def test_eval_generation_stays_within_the_servers_concurrency(items, monkeypatch):
    import tgi_server

    from case2code_hub.evaluate.completions import CompletionConfig, generate_completions

    monkeypatch.setattr(tgi_server, "writer_answer", lambda prompt, **_: "def f(x):\n    return x\n")
    # /info says 3 at once; every fourth request past that would be a 429. Two 503s are retried.
    with tgi_server.FakeTGI(latency=0.05, max_concurrent=3, faults=tgi_server.Faults(script=["503", "ok", "503"])) as server:
        completions = generate_completions(items, config=CompletionConfig(endpoint=server.url, n=3, temperature=0.5, backoff_base=0.01))
        stats = server.snapshot()
    assert stats["stats"].get("429", 0) == 0
    assert stats["peak_active"] == 3
    assert stats["stats"]["requests"] == 3 * len(items) + 2
    assert sorted(completions) == sorted(item["id"] for item in items)
    assert all(c == ["def f(x):\n    return x\n"] * 3 for c in completions.values())


def test_eval_generation_keeps_what_arrived_and_a_rerun_asks_only_for_the_rest(items, tmp_path, monkeypatch):
    import tgi_server

    from case2code_hub.errors import InferenceServerError
    from case2code_hub.evaluate.completions import CompletionConfig, generate_completions

    monkeypatch.setattr(tgi_server, "writer_answer", lambda prompt, **_: "def f(x):\n    return x\n")
    saved = tmp_path / "completions.jsonl"
    config = CompletionConfig(endpoint="http://127.0.0.1:1", n=2, temperature=0.5, backoff_base=0.01)  # set below
    # The first request is refused (422): its item gets nothing, every other item's answers are kept.
    with tgi_server.FakeTGI(faults=tgi_server.Faults(script=["validation"])) as server:
        config.endpoint = server.url
        with pytest.raises(InferenceServerError, match=f"1 of {len(items)} items got no completion"):
            generate_completions(items, config=config, out=saved)
        first = server.snapshot()["stats"]["requests"]
    kept = [json.loads(line)["id"] for line in saved.read_text().splitlines()]
    assert len(kept) == len(items) - 1 and first == 2 * len(items)
    with tgi_server.FakeTGI() as server:
        config.endpoint = server.url
        completions = generate_completions(items, config=config, out=saved)
        assert server.snapshot()["stats"]["requests"] == 2  # the one missing item, n=2
    assert sorted(completions) == sorted(item["id"] for item in items)
    assert [json.loads(line)["id"] for line in saved.read_text().splitlines()] == [item["id"] for item in items]
