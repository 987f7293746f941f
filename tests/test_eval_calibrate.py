"""``case2code calibrate``: difficulty relabelled from measured pass rates, splits rewritten, card updated."""

from __future__ import annotations

import json
import shutil

import pytest
from datasets import load_dataset
from typer.testing import CliRunner

from case2code_hub.builder import build
from case2code_hub.cli import app
from case2code_hub.errors import DatasetError
from case2code_hub.evaluate.calibration import calibrate, level_for
from case2code_hub.schema import DIFFICULTIES, difficulty_code, features

from sample_corpus import write_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrate")
    out = root / "ds"
    build(str(write_corpus(root / "corpus")), out, eval_share=0.5, workers=2)
    return out


def _results(path, rows):
    path.write_text("".join(json.dumps({"id": i, "difficulty": "x", "n": n, "passed": p, "results": []}) + "\n"
                            for i, n, p in rows))
    return path


def test_levels_follow_pass_rates_and_the_folder_still_loads(built, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(built, folder)
    before = load_dataset(str(folder), "eval", split="test", cache_dir=str(tmp_path / "c0"))
    items = sorted(before, key=lambda r: r["id"])
    ids = [item["id"] for item in items]
    static = {item["id"]: before.features["difficulty"].int2str(item["difficulty"]) for item in items}
    # Model A solves the first item always, the second half the time, the third never; model B
    # agrees on the first and never solves the second: its mean (0.25) is hard. The rest: unmeasured.
    a = _results(tmp_path / "model-a.jsonl", [(ids[0], 4, 4), (ids[1], 4, 2), (ids[2], 4, 0)])
    b = _results(tmp_path / "model-b.jsonl", [(ids[0], 2, 2), (ids[1], 2, 0)])
    result = runner.invoke(app, ["calibrate", "--dataset", str(folder), "--results", str(a), "--results", str(b)])
    assert result.exit_code == 0, result.output
    after = load_dataset(str(folder), "eval", split="test", cache_dir=str(tmp_path / "c1"))
    assert after.features["difficulty"] == features("eval")["difficulty"]  # still the ClassLabel
    rows = {r["id"]: {**r, "difficulty": after.features["difficulty"].int2str(r["difficulty"])} for r in after}
    assert len(rows) == len(items)
    assert rows[ids[0]]["difficulty"] == "easy" and rows[ids[0]]["pass_rate"] == 1.0
    assert rows[ids[1]]["difficulty"] == "hard" and rows[ids[1]]["pass_rate"] == 0.25
    assert rows[ids[2]]["difficulty"] == "hard"
    for ident in ids[3:]:
        assert rows[ident]["difficulty"] == static[ident] and rows[ident]["pass_rate"] == -1.0
    assert after.features["static_difficulty"] == features("eval")["difficulty"]  # a ClassLabel too
    assert all(after.features["static_difficulty"].int2str(rows[i]["static_difficulty"]) == static[i] for i in ids)
    for level in {r["difficulty"] for r in rows.values()}:
        split = load_dataset(str(folder), "eval", split=level, cache_dir=str(tmp_path / "c2"))
        assert {split.features["difficulty"].int2str(r["difficulty"]) for r in split} == {level}
    card = (folder / "README.md").read_text()
    assert "`model-a`, `model-b`" in card and card.count("## Difficulty calibration") == 1
    # Raw and prompted are untouched and still load.
    assert len(load_dataset(str(folder), "raw", split="train", cache_dir=str(tmp_path / "c3"))) > 0


def test_calibrating_twice_keeps_the_first_static_level_and_one_section(built, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(built, folder)
    loaded = load_dataset(str(folder), "eval", split="test", cache_dir=str(tmp_path / "c0"))
    first = {**loaded[0], "difficulty": loaded.features["difficulty"].int2str(loaded[0]["difficulty"])}
    results = _results(tmp_path / "m.jsonl", [(first["id"], 1, 0)])
    calibrate(folder, [results])
    report = calibrate(folder, [_results(tmp_path / "m2.jsonl", [(first["id"], 1, 1)])], models=["second"])
    assert report.measured == 1
    rows = {r["id"]: r for r in load_dataset(str(folder), "eval", split="test", cache_dir=str(tmp_path / "c1"))}
    assert rows[first["id"]]["static_difficulty"] == difficulty_code(first["difficulty"])
    assert rows[first["id"]]["difficulty"] == difficulty_code("easy")
    assert (folder / "README.md").read_text().count("## Difficulty calibration") == 1


def test_a_folder_from_before_the_class_label_is_calibrated_into_one(built, tmp_path):
    """Eval files whose difficulty is still a string are read by name and written as a build
    writes them now."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Value

    folder = tmp_path / "ds"
    shutil.copytree(built, folder)
    old = features("eval").copy()
    old["difficulty"] = Value("string")
    names = {}
    for path in sorted((folder / "eval").glob("*.parquet")):
        table = pq.read_table(path)
        level = path.name.split("-")[0]
        assert set(table.column("difficulty").to_pylist()) == {difficulty_code(level)}
        column = pa.array([level] * table.num_rows, pa.string())
        table = table.set_column(table.schema.get_field_index("difficulty"), "difficulty", column)
        pq.write_table(table.cast(old.arrow_schema), path)
        names.update(dict.fromkeys(table.column("id").to_pylist(), level))
    first = min(names)
    report = calibrate(folder, [_results(tmp_path / "m.jsonl", [(first, 1, 0)])])
    assert report.before == {level: list(names.values()).count(level) for level in DIFFICULTIES}
    rows = load_dataset(str(folder), "eval", split="test", cache_dir=str(tmp_path / "c"))
    assert rows.features["difficulty"] == features("eval")["difficulty"]
    for row in rows:
        want = "hard" if row["id"] == first else names[row["id"]]
        assert rows.features["difficulty"].int2str(row["difficulty"]) == want
        assert rows.features["static_difficulty"].int2str(row["static_difficulty"]) == names[row["id"]]


def test_thresholds_and_refusals(tmp_path):
    assert [level_for(x) for x in (1.0, 0.7, 0.5, 1 / 3, 0.2, 0.0)] == ["easy", "easy", "medium", "medium", "hard", "hard"]
    with pytest.raises(DatasetError):
        calibrate(tmp_path, [tmp_path / "r.jsonl"])
