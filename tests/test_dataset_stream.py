"""The streaming dataset build: sorted runs on disk, folded quality, Parquet written row group by
row group, and a build that is the same bytes however its input was cut into runs; a killed build
leaves no half folder behind."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from case2code_hub import quality as quality_mod
from case2code_hub import schema
from case2code_hub.dataset import folder as build_mod
from case2code_hub.dataset import build_dataset, shards, templates
from case2code_hub.dataset.external import SortedRuns
from case2code_hub.quality import QualityTally
from synthetic_records import make_records

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return make_records()


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- sorted runs -----------------------------------------------------------------------------


@pytest.mark.parametrize(("run_bytes", "fan_in"), [(1 << 30, 64), (2_000, 64), (2_000, 2), (500, 3)])
def test_sorted_runs_give_every_item_in_key_order(tmp_path, run_bytes, fan_in):
    rng = random.Random(7)
    items = [((f"id{rng.randrange(300):03d}", index), {"payload": "x" * rng.randrange(50)}) for index in range(1000)]
    runs = SortedRuns(tmp_path / "runs", run_bytes=run_bytes, fan_in=fan_in)
    for key, item in items:
        runs.add(key, item, size=len(item["payload"]))
    runs.finish()
    assert len(runs.paths) <= fan_in
    if run_bytes < 1 << 30:
        assert runs.paths, "a small run size must spill to disk"
    else:
        assert not (tmp_path / "runs").exists(), "an input that fits the buffer never touches the disk"
    expected = sorted(items, key=lambda pair: pair[0])
    assert list(runs.merged()) == expected
    assert list(runs.merged()) == expected  # a second pass reads the same
    runs.cleanup()
    assert not (tmp_path / "runs").exists()


class Payload:
    """A weak-referenceable item, to see which items the merge keeps alive."""

    def __init__(self, n: int):
        self.n = n
        self.blob = b"x" * 100


def test_merging_runs_keeps_no_item_alive(tmp_path):
    import gc
    import weakref

    runs = SortedRuns(tmp_path / "runs", run_bytes=25_000, fan_in=64)
    order = list(range(200))
    random.Random(3).shuffle(order)  # every run spans the whole key range
    for n in order:
        runs.add((f"{n:04d}", n), Payload(n), size=100)
    runs.finish()
    assert len(runs.paths) == 3
    merged = runs.merged()
    refs = [weakref.ref(item) for _key, item in itertools.islice(merged, 150)]
    gc.collect()
    # Mid-merge. An unpickler reused across items memoises every item it loaded: all alive here.
    assert sum(ref() is not None for ref in refs) <= len(runs.paths)
    assert len(list(merged)) == 50
    runs.cleanup()


# --- quality folded one function at a time ---------------------------------------------------


def _random_quality(rng: random.Random) -> dict:
    n = rng.randrange(0, 20)
    share = rng.choice([rng.random(), 1, 0, 1.0, 0.5])
    return {
        "line_coverage": rng.choice([rng.random(), 1.0, 1, 0.0]),
        "branch_coverage": rng.choice([rng.random(), 1.0]),
        "returned_share": share,
        "raised_share": rng.choice([1 - share, rng.random(), 0]),
        "distinct_outputs": rng.randrange(0, 10),
        "n_cases": n,
        "measured": rng.random() < 0.8,
    }


def _summary_of_all_at_once(rows, *, harvested=None, dropped=None):
    """The build summary computed from every function's quality at once (the former
    ``quality.summarise``): the reference the streaming tally must equal, key for key."""
    rows = [q.to_dict() if isinstance(q, quality_mod.FunctionQuality) else dict(q) for q in rows]
    measured = [row for row in rows if row.get("measured", True)]
    n_cases = sum(int(row["n_cases"]) for row in rows)

    def mean(key, items):
        return round(sum(float(row[key]) for row in items) / len(items), 4) if items else 0.0

    out = {"functions": len(rows)}
    if measured:
        out["mean line coverage"] = mean("line_coverage", measured)
        out["full line coverage share"] = round(sum(1 for r in measured if r["line_coverage"] >= 1.0) / len(measured), 4)
        out["mean branch coverage"] = mean("branch_coverage", measured)
        out["full branch coverage share"] = round(sum(1 for r in measured if r["branch_coverage"] >= 1.0) / len(measured), 4)
    if rows:
        out["returning calls share"] = round(sum(r["returned_share"] * r["n_cases"] for r in rows) / max(n_cases, 1), 4)
        out["raised calls share"] = round(sum(r["raised_share"] * r["n_cases"] for r in rows) / max(n_cases, 1), 4)
        out["mean distinct outputs"] = mean("distinct_outputs", rows)
        out["mean cases"] = round(n_cases / len(rows), 2)
    if harvested is not None:
        out["harvested"] = harvested
        out["yield (kept / harvested)"] = round(len(rows) / harvested, 4) if harvested else 0.0
    if dropped:
        out["dropped"] = {reason: int(count) for reason, count in sorted(dropped.items())}
    return out


@pytest.mark.parametrize("seed", range(6))
def test_quality_tally_equals_the_summary_of_all_at_once(seed):
    rng = random.Random(seed)
    qualities = [_random_quality(rng) for _ in range(rng.choice([0, 1, 5, 300]))]
    if seed == 1:
        qualities = [dict(q, measured=False) for q in qualities]
    if seed == 2:
        qualities.append(quality_mod.FunctionQuality(0.5, 1.0, 0.25, 0.75, 3, 4))
    tally = QualityTally()
    for q in qualities:
        tally.add(q)
    for harvested, dropped in [(None, None), (0, {}), (len(qualities) + 3, {"b": 2, "a": 1})]:
        expected = _summary_of_all_at_once(qualities, harvested=harvested, dropped=dropped)
        got = tally.summary(harvested=harvested, dropped=dropped)
        assert list(got.items()) == list(expected.items())
        assert list(quality_mod.summarise(qualities, harvested=harvested, dropped=dropped).items()) == list(expected.items())


# --- Parquet written as it goes --------------------------------------------------------------


def _one_shot(rows: list[dict], folder: Path, name: str, config: str, shard_rows: int, group_rows: int) -> None:
    """The builder's former writer, the reference: every row of a split at once (difficulty as
    its ClassLabel code)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_schema = schema.features(config).arrow_schema
    rows = [{**row, "difficulty": schema.difficulty_code(row["difficulty"])} for row in rows]
    n_shards = max(1, -(-len(rows) // shard_rows))
    folder.mkdir(parents=True, exist_ok=True)
    for shard in range(n_shards):
        chunk = rows[shard * shard_rows : (shard + 1) * shard_rows]
        path = folder / f"{name}-{shard:05d}-of-{n_shards:05d}.parquet"
        with pq.ParquetWriter(path, arrow_schema, **shards._PARQUET_OPTIONS) as writer:
            if chunk:
                writer.write_table(pa.Table.from_pylist(chunk, schema=arrow_schema), row_group_size=group_rows)


@pytest.mark.parametrize(
    ("n_functions", "shard_rows", "group_rows", "batch_rows"),
    [(60, 50_000, 10_000, 500), (60, 40, 17, 5), (60, 41, 10, 3), (45, 1, 10, 4), (60, 200, 7, 7), (13, 30, 30, 1000)],
)
def test_shard_writer_writes_the_bytes_of_the_one_shot_writer(
    records, tmp_path, n_functions, shard_rows, group_rows, batch_rows
):
    import pyarrow.parquet as pq

    rows = []
    for index, record in enumerate(records[:n_functions]):
        function = dict(record, difficulty=schema.DIFFICULTIES[index % 3])
        rows += templates.render_samples(function, n=3, seed=0)
    _one_shot(rows, tmp_path / "reference", "train", "prompted", shard_rows, group_rows)
    writer = shards.ShardWriter(tmp_path / "streamed", "train", "prompted", shard_rows, row_group_rows=group_rows, batch_rows=batch_rows)
    for row in rows:
        writer.add(row)
    paths = writer.close()
    assert [p.name for p in paths] == sorted(p.name for p in (tmp_path / "reference").iterdir())
    assert _digests(tmp_path / "streamed") == _digests(tmp_path / "reference")
    # The files hold the codes, in row order; the rows given keep the name.
    codes = [code for path in paths for code in pq.read_table(path, columns=["difficulty"]).column("difficulty").to_pylist()]
    assert [schema.difficulty_name(code) for code in codes] == [row["difficulty"] for row in rows]
    assert {row["difficulty"] for row in rows} == set(schema.DIFFICULTIES)


def test_an_empty_split_writes_no_file(tmp_path):
    writer = shards.ShardWriter(tmp_path / "eval", "easy", "eval", 10)
    assert writer.close() == [] and not (tmp_path / "eval").exists()


# --- the whole build -------------------------------------------------------------------------


def _awkward(records: list[dict]) -> list[dict]:
    """The test records with every kind of drop, and duplicates on both sides of a broken copy."""
    broken_copy = dict(records[3], code="def other(x):\n    return x\n")  # records[3]'s id, broken
    return [
        broken_copy,
        dict(records[0], id="broken", code="def other(x):\n    return x\n"),
        dict(records[1], id="nocases", cases=[{"input": "1", "output": "", "outcome": "timeout"}]),
        dict(records[2], id="mixed", cases=records[2]["cases"] + [{"input": "1", "output": "", "outcome": "crashed"}]),
        *records,
        records[5],
        broken_copy,
        records[3],
    ]


def test_spilled_build_is_byte_identical_to_an_in_memory_one(records, tmp_path, monkeypatch):
    awkward = _awkward(records)
    kwargs = {"seed": 2, "eval_share": 0.2, "shard_rows": 25, "summary": {"corpus": "synthetic", "harvest/kept": 90}}
    in_memory = build_dataset(awkward, tmp_path / "memory" / "ds", **kwargs)

    spilled: list[int] = []
    original_finish = SortedRuns.finish

    def finish(self):
        original_finish(self)
        spilled.append(len(self.paths))

    monkeypatch.setattr(SortedRuns, "finish", finish)
    monkeypatch.setattr(build_mod, "_RUN_BYTES", 3_000)
    on_disk = build_dataset(awkward, tmp_path / "disk" / "ds", **kwargs)
    assert spilled and spilled[0] > 3, "the small run size should have spilled several runs"
    assert _digests(tmp_path / "disk" / "ds") == _digests(tmp_path / "memory" / "ds")
    assert on_disk == type(on_disk)(**{**vars(in_memory), "out_dir": on_disk.out_dir})
    assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == ["ds"]  # no staging or spill left


def test_drop_reasons_are_listed_in_input_order(records, tmp_path):
    first, second = sorted(records[:2], key=lambda r: r["id"])
    # In id order the duplicate of ``first`` comes before the broken ``zzz``; in input order, after.
    broken = dict(records[2], id="zzz", code="def other(x):\n    return x\n")
    timeout = dict(records[4], cases=records[4]["cases"] + [{"input": "1", "output": "", "outcome": "timeout"}])
    report = build_dataset([first, second, broken, first, timeout, *records[5:20]], tmp_path / "ds")
    assert list(report.dropped.items()) == [
        ("code does not define its entry point", 1), ("duplicate id", 1), ("case outcome timeout", 1),
    ]


def test_a_scoring_crash_stops_the_build_unless_the_record_is_a_duplicate(records, tmp_path, monkeypatch):
    real_score = build_mod.difficulty.score

    def score(code, entry_point, cases):
        if "CRASH" in code:
            raise RuntimeError("scorer crashed")
        return real_score(code, entry_point, cases)

    monkeypatch.setattr(build_mod.difficulty, "score", score)
    crashing_copy = dict(records[0], code=records[0]["code"] + "# CRASH\n")
    report = build_dataset([*records[:20], crashing_copy], tmp_path / "ok")
    assert report.dropped == {"duplicate id": 1}
    with pytest.raises(RuntimeError, match="scorer crashed"):
        build_dataset([crashing_copy, *records[:20]], tmp_path / "crash")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]


_KILLED_BUILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from synthetic_records import make_records
from case2code_hub.dataset import folder as build_mod

build_mod._RUN_BYTES = 2_000  # spill runs into the staging folder before the kill
records = make_records()

def slow():
    for index, record in enumerate(records):
        if index == 40:
            Path(sys.argv[4]).touch()
            time.sleep(60)
        yield record

build_mod.build_dataset(slow(), sys.argv[3])
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_build_leaves_no_half_folder(records, tmp_path, sig):
    out = tmp_path / "parent" / "ds"
    build_dataset(records[:20], out)  # a previous build, to be kept
    before = _digests(out)
    marker = tmp_path / "reached"
    env = {**os.environ, "CASE2CODE_DISABLE_PROGRESS_BARS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(REPO), str(REPO / "tests"), str(out), str(marker)],
                            env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the build ended before it was killed"
            assert time.monotonic() < deadline, "the build never reached the kill point"
            time.sleep(0.05)
        staging = [p for p in out.parent.iterdir() if p.name.startswith(".ds.building-")]
        assert staging and any(staging[0].rglob("run-*.pkl")), "runs should be spilled by now"
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == -sig
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _digests(out) == before  # the previous build, untouched
    left = sorted(p.name for p in out.parent.iterdir())
    if sig == signal.SIGTERM:
        assert left == ["ds"]  # staging folder and its spilled runs removed
    else:  # SIGKILL cannot be caught: only the hidden staging folder may remain
        assert left[-1] == "ds" and all(name.startswith(".ds.building-") for name in left[:-1])
