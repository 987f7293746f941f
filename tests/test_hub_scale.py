"""A second version of a 200k-row build uploads only the files that changed."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq

from case2code_hub import hub
from hub_folder import write_dataset_folder

REPO = "org/case2code-large"
TOKEN = "hf_testtoken"



def test_second_version_of_a_200k_row_build_uploads_only_changed_files(server, tmp_path):
    v1 = write_dataset_folder(
        tmp_path / "v1", raw_rows=120_000, raw_shards=4, prompted_rows=70_000, eval_rows={"easy": 3_000, "medium": 3_000, "hard": 4_000}
    )
    first = hub.push(v1, REPO, version="1.0.0", token=TOKEN)
    parquet = sorted(p for p in first.manifest["files"] if p.endswith(".parquet"))
    assert len(parquet) == 8 and server.state.counts["lfs_uploads"] == 8 + 4  # and four plots
    assert sum(first.manifest["rows"][c][s] for c, s in [("raw", "train"), ("prompted", "train"), ("eval", "test")]) == 200_000

    # The next build changes one raw shard and the hard eval file; everything else is byte-identical.
    v2 = tmp_path / "v2"
    shutil.copytree(v1, v2)
    changed = ["eval/hard-00000-of-00001.parquet", "raw/train-00002-of-00004.parquet"]
    for name in changed:
        table = pq.read_table(v2 / name)
        pq.write_table(table.slice(0, table.num_rows - 10), v2 / name)
    uploads_before = server.state.counts["lfs_uploads"]

    plan = hub.push(v2, REPO, version="1.1.0", dry_run=True, token=TOKEN)
    redrawn = sorted(p for p, e in plan.manifest["files"].items() if p.startswith("plots/") and e != first.manifest["files"][p])
    assert "plots/difficulty.png" in redrawn  # the counts drawn in it changed
    assert plan.uploaded == sorted([*changed, *redrawn, "README.md", "case2code.json"])
    second = hub.push(v2, REPO, version="1.1.0", token=TOKEN)

    assert server.state.counts["lfs_uploads"] - uploads_before == len(changed) + len(redrawn)
    assert sorted(server.state.committed_paths[-1]) == plan.uploaded
    kept_plots = {p for p in first.manifest["files"] if p.startswith("plots/")} - set(redrawn)
    assert sorted(second.unchanged) == sorted(set(parquet) - set(changed) | {"build.json"} | kept_plots)
    assert second.manifest["rows"]["eval"]["hard"] == 3_990
    assert len(hub.load(REPO, "eval", version="1.1.0", difficulty="hard")) == 3_990
    assert len(hub.load(REPO, "eval", version="1.0.0", difficulty="hard")) == 4_000
