"""The dataset builder end to end: synthetic functions with real cases in, a folder that stock
``datasets.load_dataset`` reads out (raw / prompted / eval, difficulty splits, the card)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from case2code_hub import schema
from case2code_hub.dataset import folder as build_mod
from case2code_hub.dataset import build_dataset
from case2code_hub.dataset.card import CARD_MARKER, configs_metadata, is_case2code_folder
from case2code_hub.errors import ConfigError, DatasetError

from synthetic_records import make_records

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def records() -> list[dict]:
    return make_records()


@pytest.fixture(scope="module")
def built(records, tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "case2code"
    report = build_dataset(records, out, seed=1, eval_share=0.25, summary={"corpus": "synthetic", "writer": "offline"})
    return out, report


def _load(*args, **kwargs):
    from datasets import load_dataset

    return load_dataset(*args, **kwargs)


def test_report_counts(built, records):
    out, report = built
    assert report.out_dir == out.absolute()
    assert report.n_input == len(records) == 60
    assert report.n_train + report.n_eval == 60
    assert report.n_eval >= 5
    assert report.raw_rows == report.n_train and report.prompted_rows == 3 * report.n_train
    assert report.eval_rows == report.n_eval
    assert report.cases == sum(len(r["cases"]) for r in records)
    # count_* has 6 cases: never enough for eval (3 observed + 5 hidden), so drawn ones are demoted.
    assert report.eval_demoted >= 1
    assert sorted(report.files) == sorted(
        str(p.relative_to(out).as_posix()) for p in out.rglob("*") if p.is_file()
    )
    t1, t2 = report.thresholds
    assert t1 <= t2
    # Tertiles: each level holds a fair share of the 60 functions.
    assert all(12 <= n <= 28 for n in report.by_difficulty.values()), report.by_difficulty


def test_load_every_config_with_contract_features(built):
    import pyarrow.parquet as pq
    from datasets import ClassLabel

    out, report = built
    for config in schema.CONFIGS:
        dataset = _load(str(out), config)
        for split in dataset:
            assert dataset[split].features == schema.features(config), (config, split)
            label = dataset[split].features["difficulty"]
            assert isinstance(label, ClassLabel) and label.names == ["easy", "medium", "hard"], (config, split)
            codes = dataset[split]["difficulty"]
            assert codes and set(codes) <= {0, 1, 2}, (config, split)
            assert {label.int2str(code) for code in codes} <= set(schema.DIFFICULTIES)
        # The file holds the ClassLabel's int64 codes, and its schema says so without the card.
        arrow = pq.read_schema(next((out / config).glob("*.parquet")))
        assert str(arrow.field("difficulty").type) == "int64"
        assert b'"_type": "ClassLabel"' in arrow.metadata[b"huggingface"], config
    default = _load(str(out))
    assert list(default) == ["train"] and default["train"].num_rows == report.n_train
    assert default["train"].features == schema.features("raw")


def test_eval_difficulty_splits_share_files_with_test(built):
    out, report = built
    test = _load(str(out), "eval", split="test")
    hard = _load(str(out), "eval", split="hard")
    assert hard.num_rows == report.counts["eval"]["test"]["hard"] > 0
    assert {hard.features["difficulty"].int2str(code) for code in hard["difficulty"]} == {"hard"}
    assert set(hard["difficulty"]) == {schema.difficulty_code("hard")} == {2}
    assert set(hard["id"]) <= set(test["id"])
    by_level = sum(_load(str(out), "eval", split=level).num_rows for level in report.counts["eval"]["test"]
                   if report.counts["eval"]["test"][level])
    assert by_level == test.num_rows
    # No copies: three eval files, one per level.
    assert sorted(p.name.split("-")[0] for p in (out / "eval").glob("*.parquet")) == sorted(
        level for level, n in report.counts["eval"]["test"].items() if n
    )


def test_no_function_in_both_sides(built):
    out, _ = built
    raw_ids = set(_load(str(out), "raw", split="train")["id"])
    prompted_ids = set(_load(str(out), "prompted", split="train")["function_id"])
    eval_ids = set(_load(str(out), "eval", split="test")["id"])
    assert raw_ids and eval_ids
    assert not raw_ids & eval_ids
    assert prompted_ids == raw_ids


def test_eval_rows_hold_observed_and_hidden_cases(built, records):
    out, _ = built
    by_id = {r["id"]: r for r in records}
    for row in _load(str(out), "eval", split="test"):
        source = by_id[row["id"]]
        assert 3 <= len(row["observed_cases"]) <= 5
        assert len(row["hidden_cases"]) >= 5
        assert [c["input"] for c in row["observed_cases"] + row["hidden_cases"]] == [c["input"] for c in source["cases"]]
        assert row["reference_code"] == source["code"]
        assert f">>> {row['entry_point']}(" in row["prompt"]
        for case in row["observed_cases"]:
            assert case["output"].replace("\n", "\\n") in row["prompt"]
        for case in row["hidden_cases"]:
            assert f"{row['entry_point']}({case['input']})" not in row["prompt"]


def test_training_configs_hold_the_same_samples_one_format_each(built):
    out, _ = built
    prompted, chat, text = (_load(str(out), config, split="train") for config in ("prompted", "chat", "text"))
    assert prompted["id"] == sorted(prompted["id"]) == chat["id"] == text["id"]
    templates_seen = set()
    for row, chat_row, text_row in zip(prompted, chat, text):
        assert row["id"].startswith(row["function_id"] + "-")
        # One TRL format per config: TRL picks the format from the keys it finds.
        assert {"prompt", "completion"} <= set(row) and not {"messages", "text"} & set(row)
        assert "messages" in chat_row and not {"prompt", "completion", "text"} & set(chat_row)
        assert "text" in text_row and not {"prompt", "completion", "messages"} & set(text_row)
        assert row["prompt"].endswith("\n\n") and not row["completion"].startswith("\n")
        assert chat_row["messages"] == [
            {"role": "user", "content": row["prompt"][:-2]},
            {"role": "assistant", "content": row["completion"]},
        ]
        assert text_row["text"] == row["prompt"] + row["completion"]
        assert "```python\ndef " in row["completion"]
        assert row["template"] == chat_row["template"] == text_row["template"]
        templates_seen.add(row["template"])
    assert any(t.endswith("-named") for t in templates_seen) and any(t.endswith("-anon") for t in templates_seen)
    per_function: dict[str, list[str]] = {}
    for row in prompted:
        per_function.setdefault(row["function_id"], []).append(row["template"])
    assert all(len(set(t)) == len(t) == 3 for t in per_function.values())


def test_rl_rows_grade_train_functions_on_hidden_cases(built):
    out, _ = built
    raw = {row["id"]: row for row in _load(str(out), "raw", split="train")}
    rows = _load(str(out), "rl", split="train")
    assert len(rows) and set(rows["id"]) <= set(raw)
    for row in rows:
        source = raw[row["id"]]
        assert [m["role"] for m in row["prompt"]] == ["user"]
        assert row["observed_cases"] + row["hidden_cases"] == [{k: c[k] for k in c} for c in source["cases"]]
        assert len(row["hidden_cases"]) >= 5
        for case in row["hidden_cases"]:
            assert f"{row['entry_point']}({case['input']})" not in row["prompt"][0]["content"]


def test_the_eval_hold_out_takes_about_a_third_of_each_level(built):
    _, report = built
    held = report.counts["eval"]["test"]
    assert max(held.values()) - min(held.values()) <= 1, held


def test_two_builds_are_byte_identical(records, tmp_path, built):
    first, _ = built
    second = tmp_path / "case2code"
    build_dataset(list(reversed(records)), second, seed=1, eval_share=0.25,
                  summary={"corpus": "synthetic", "writer": "offline"})
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_another_seed_draws_another_split(records, tmp_path, built):
    _, first = built
    other = build_dataset(records, tmp_path / "other", seed=2, eval_share=0.25)
    eval_1 = set(_load(str(built[0]), "eval", split="test")["id"])
    eval_2 = set(_load(str(tmp_path / "other"), "eval", split="test")["id"])
    assert eval_1 != eval_2
    assert other.thresholds == first.thresholds  # thresholds come from all functions, whatever the split


def test_card_parses_and_declares_the_configs(built):
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    out, report = built
    text = (out / "README.md").read_text(encoding="utf-8")
    assert CARD_MARKER in text and is_case2code_folder(out)
    card = DatasetCard.load(out / "README.md")
    data = card.data.to_dict()
    present = {config: ["train"] for config in ("raw", "prompted", "chat", "text", "rl")}
    present["eval"] = [level for level, n in report.counts["eval"]["test"].items() if n]
    assert data["configs"] == configs_metadata(present)
    assert [c["config_name"] for c in data["configs"]] == ["raw", "prompted", "chat", "text", "rl", "eval"]
    assert data["configs"][0]["default"] is True
    assert set(MetadataConfigs.from_dataset_card_data(card.data)) == set(present)
    # dataset_info as datasets reads it: features and rows per split, for every config.
    from datasets import load_dataset_builder
    from datasets.info import DatasetInfosDict

    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    assert set(infos) == set(present)
    for config, info in infos.items():
        assert info.features == schema.features(config)
        builder = load_dataset_builder(str(out), config, cache_dir=str(out.parent / "cache-info"))
        want = {split: sum(report.counts[config]["test" if config == "eval" else split].values())
                for split in (["test", *present["eval"]] if config == "eval" else ["train"])}
        if config == "eval":
            want.update({level: report.counts["eval"]["test"][level] for level in present["eval"]})
        assert {name: split.num_examples for name, split in builder.info.splits.items()} == want, config
        assert all(split.num_bytes > 0 for split in builder.info.splits.values())
    # The YAML itself: difficulty is a class_label with its names, in every config; the text says
    # how to get a name back.
    assert sorted(info["config_name"] for info in data["dataset_info"]) == sorted(present)
    for info in data["dataset_info"]:
        (difficulty,) = [f for f in info["features"] if f["name"] == "difficulty"]
        assert difficulty["dtype"] == {"class_label": {"names": {"0": "easy", "1": "medium", "2": "hard"}}}, info["config_name"]
    assert 'ds.features["difficulty"].int2str(row["difficulty"])' in card.text
    assert data["license"] == "other" and data["task_categories"] == ["text-generation"]
    assert data["language"] == ["en", "code"] and data["size_categories"] == ["n<1K"]
    assert {"code", "synthetic", "case2code"} <= set(data["tags"])
    assert "arXiv:2407.12504" in card.text and 'load_dataset("case2code", "eval", split="hard")' in card.text
    assert "@inproceedings{shao-etal-2025-case2code" in card.text and 'pages = "11056--11069"' in card.text
    assert data["annotations_creators"] == ["machine-generated"] and data["source_datasets"] == ["original"]
    for section in ("## Training with TRL", "## Grading", "## Example rows", "## Lengths", "## Limitations"):
        assert section in card.text, section
    for config in present:  # an example of every config, difficulty as load_dataset gives it (a code)
        assert f"`{config}`:\n\n```json\n{{" in card.text, config
    assert re.search(r'"difficulty": [012],?\n', card.text) and '"difficulty": "' not in card.text
    assert "| prompted: completion (characters) |" in card.text
    # Plots drawn at build time, linked from the card.
    for name in ("difficulty.png", "lengths.png", "outcomes.png"):
        assert (out / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](plots/{name})" in card.text
    t1, t2 = report.thresholds
    assert f"easy below {t1:g}" in card.text and f"| `raw` | `train` | {report.n_train} |" in card.text
    assert "| corpus | synthetic |" in card.text


def test_refuses_to_overwrite_a_foreign_folder(records, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="not a case2code dataset folder"):
        build_dataset(records, target)
    assert (target / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no leftover staging folder


def test_rebuild_replaces_a_previous_build(records, tmp_path):
    out = tmp_path / "ds"
    build_dataset(records, out, eval_share=0.25)
    (out / "raw" / "stale-00000-of-00001.parquet").write_bytes(b"old")
    report = build_dataset(records[:30], out, eval_share=0.25)
    assert not (out / "raw" / "stale-00000-of-00001.parquet").exists()
    assert report.n_input == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_failed_build_keeps_the_previous_one(records, tmp_path, monkeypatch):
    out = tmp_path / "ds"
    build_dataset(records, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken_card(*args, **kwargs):
        raise DatasetError("card exploded")

    monkeypatch.setattr(build_mod.card_mod, "render_card", broken_card)
    with pytest.raises(DatasetError, match="card exploded"):
        build_dataset(records[:10], out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_empty_input_gives_one_clear_error(tmp_path):
    with pytest.raises(DatasetError) as info:
        build_dataset([], tmp_path / "ds")
    message = str(info.value)
    assert "no functions" in message and "\n" not in message
    assert not (tmp_path / "ds").exists()


def test_unusable_records_are_dropped_and_counted(records, tmp_path):
    broken = dict(records[0], id="broken", code="def other(x):\n    return x\n")
    no_cases = dict(records[1], id="nocases", cases=[{"input": "1", "output": "", "outcome": "timeout"}])
    report = build_dataset([broken, no_cases, *records[:20], records[5]], tmp_path / "ds")
    assert report.dropped == {
        "code does not define its entry point": 1,
        "no cases": 1,
        "case outcome timeout": 1,
        "duplicate id": 1,
    }
    assert report.n_train + report.n_eval == 20


def test_malformed_record_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="record 0 lacks"):
        build_dataset([{"id": "x", "code": "def f(x):\n    return x\n"}], tmp_path / "ds")


@pytest.mark.parametrize(
    ("options", "field"),
    [({"eval_share": 1.5}, "eval_share"), ({"samples_per_function": 0}, "samples_per_function"),
     ({"max_observed": 11}, "max_observed"), ({"shard_rows": 0}, "shard_rows")],
)
def test_bad_options_name_the_field(records, tmp_path, options, field):
    with pytest.raises(ConfigError) as info:
        build_dataset(records, tmp_path / "ds", **options)
    assert info.value.field == field


def test_large_builds_are_sharded(records, tmp_path):
    out = tmp_path / "ds"
    report = build_dataset(records, out, shard_rows=40, eval_share=0.0)
    assert sorted(p.name for p in (out / "prompted").iterdir()) == [
        f"train-{i:05d}-of-00005.parquet" for i in range(5)
    ]
    assert report.n_eval == 0 and not (out / "eval").exists()
    assert _load(str(out), "prompted", split="train").num_rows == 180
    text = (out / "README.md").read_text()
    assert "config_name: eval" not in text


def test_builds_do_not_depend_on_the_hash_seed(tmp_path):
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from synthetic_records import make_records; from case2code_hub.dataset import build_dataset;"
        "build_dataset(make_records(3), sys.argv[3], eval_share=0.3)"
    )
    for hash_seed in ("1", "2"):
        env = {"PYTHONHASHSEED": hash_seed, "CASE2CODE_DISABLE_PROGRESS_BARS": "1", "PATH": "/usr/bin:/bin"}
        subprocess.run([sys.executable, "-c", script, str(REPO), str(REPO / "tests"), str(tmp_path / hash_seed / "ds")],
                       check=True, env=env, timeout=120)
    first, second = tmp_path / "1" / "ds", tmp_path / "2" / "ds"
    for path in first.rglob("*.parquet"):
        assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path


def test_missing_card_template_is_a_clear_error(monkeypatch, tmp_path, records):
    from case2code_hub.dataset import card

    monkeypatch.setattr(card, "TEMPLATE_PATH", tmp_path / "missing.md")
    with pytest.raises(DatasetError, match="missing.md"):
        build_dataset(records[:12], tmp_path / "ds")
    assert not (tmp_path / "ds").exists()
