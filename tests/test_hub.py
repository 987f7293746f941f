"""Versioned releases against a Hub-protocol server on 127.0.0.1, with the real clients."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from case2code_hub import hub
from case2code_hub.dataset.plots import dataset_plots
from case2code_hub.errors import ConfigError, DatasetError, VersionError

from hub_folder import write_dataset_folder

REPO = "org/case2code"
TOKEN = "hf_testtoken"



def _assert_png(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    channels = {2: 3, 6: 4}[data[25]]  # RGB or RGBA, 8 bits each
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.setdefault(data[at + 4 : at + 8], b"")
        chunks[data[at + 4 : at + 8]] += data[at + 8 : at + 8 + length]
        at += 12 + length
    assert len(zlib.decompress(chunks[b"IDAT"])) == (width * channels + 1) * height and width > 100 and height > 100


def _ids(dataset) -> list[str]:
    return sorted(dataset["id"])


def test_two_versions_load_each_their_own_rows(server, tmp_path):
    v1 = write_dataset_folder(tmp_path / "v1", tag="a")
    v2 = write_dataset_folder(tmp_path / "v2", tag="b", eval_rows={"easy": 3, "medium": 3, "hard": 5})

    first = hub.push(v1, REPO, version="1.0.0", message="first release", token=TOKEN)
    second = hub.push(v2, REPO, version="1.1.0", message="more hard functions", token=TOKEN)

    assert first.commit and second.commit and first.commit != second.commit
    repo = server.state.repos[REPO]
    assert repo.tags == {"v1.0.0": first.commit, "v1.1.0": second.commit}

    old_hard = hub.load(REPO, "eval", version="1.0.0", difficulty="hard")
    new_hard = hub.load(REPO, "eval", version="1.1.0", split="hard")
    assert _ids(old_hard) == [f"a-eval-hard-{i:06d}" for i in range(4)]
    assert _ids(new_hard) == [f"b-eval-hard-{i:06d}" for i in range(5)]
    from datasets import load_dataset

    old_test = load_dataset(REPO, "eval", revision="v1.0.0", split="test")
    new_test = load_dataset(REPO, "eval", revision="v1.1.0", split="test")
    assert len(old_test) == 9 and all(i.startswith("a-") for i in old_test["id"])
    assert len(new_test) == 11 and all(i.startswith("b-") for i in new_test["id"])
    raw_hard = hub.load(REPO, "raw", version="1.0.0", difficulty="hard", split="train")
    assert len(raw_hard) == 4 and set(raw_hard["difficulty"]) == {2}  # the ClassLabel's code
    assert {raw_hard.features["difficulty"].int2str(code) for code in raw_hard["difficulty"]} == {"hard"}

    manifest = json.loads(server.state.read_file(REPO, "v1.1.0", "case2code.json"))
    assert manifest["version"] == "1.1.0" and manifest["previous_version"] == "1.0.0"
    assert manifest["rows"]["eval"] == {"test": 11, "easy": 3, "medium": 3, "hard": 5}
    assert manifest["difficulty"]["eval"]["test"] == {"easy": 3, "medium": 3, "hard": 5}
    assert manifest["metadata"]["build.json"]["corpus"] == "stdlib"
    import hashlib

    for path, entry in manifest["files"].items():
        assert hashlib.sha256(server.state.read_file(REPO, "v1.1.0", path)).hexdigest() == entry["sha256"], path

    card = server.state.read_file(REPO, "v1.1.0", "README.md").decode()
    assert "## Changelog" in card and "`v1.1.0`" in card and "`v1.0.0`" in card
    assert card.index("## Changelog") < card.index("## Citation")
    assert "| `v1.1.0` | this version | more hard functions | 12 (+0) | 24 (+0) | 11 (+2) |" in card

    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", card)
    assert sorted(images) == ["plots/cases_per_function.png", "plots/difficulty.png", "plots/outcomes.png", "plots/sources.png"]
    for image in images:  # each resolves at the version's tag and is a real, decodable PNG
        _assert_png(Path(HfApi().hf_hub_download(REPO, image, repo_type="dataset", revision="v1.1.0")).read_bytes())

    listed = hub.versions(REPO)
    assert [v.version for v in listed] == ["1.0.0", "1.1.0"]
    assert listed[1].message == "more hard functions" and listed[1].rows["eval"]["hard"] == 5
    assert listed[0].date is not None and listed[0].date < listed[1].date


def test_existing_or_lower_version_is_refused(server, tmp_path):
    folder = write_dataset_folder(tmp_path / "v", tag="a")
    hub.push(folder, REPO, version="1.0.0", token=TOKEN)
    hub.push(write_dataset_folder(tmp_path / "w", tag="b"), REPO, version="1.1.0", token=TOKEN)
    commits = server.state.counts["commits"]
    with pytest.raises(VersionError, match="1.1.0 already exists"):
        hub.push(folder, REPO, version="1.1.0", token=TOKEN)
    with pytest.raises(VersionError, match="1.0.5 is not above the latest version 1.1.0"):
        hub.push(folder, REPO, version="1.0.5", token=TOKEN)
    with pytest.raises(VersionError, match="must look like"):
        hub.push(folder, REPO, version="1.2", token=TOKEN)
    assert server.state.counts["commits"] == commits


def test_dry_run_lists_uploads_and_writes_nothing(server, tmp_path):
    folder = write_dataset_folder(tmp_path / "v", tag="a")
    plan = hub.push(folder, REPO, version="1.0.0", dry_run=True, token=TOKEN)
    assert plan.dry_run and plan.commit is None
    assert "eval/hard-00000-of-00001.parquet" in plan.uploaded and "case2code.json" in plan.uploaded
    assert REPO not in server.state.repos


def test_load_checks_its_options(tmp_path):
    with pytest.raises(ConfigError) as err:
        hub.load(tmp_path, "eval", difficulty="impossible")
    assert err.value.field == "difficulty"
    with pytest.raises(ConfigError) as err:
        hub.load(tmp_path, "eval", version="1.0.0")
    assert err.value.field == "version"
    with pytest.raises(DatasetError):
        hub.read_folder(tmp_path)


def test_files_a_version_no_longer_has_are_deleted(server, tmp_path):
    hub.push(write_dataset_folder(tmp_path / "v1", tag="a", raw_rows=12, raw_shards=3), REPO, version="1.0.0", token=TOKEN)
    result = hub.push(write_dataset_folder(tmp_path / "v2", tag="b", raw_rows=10, raw_shards=2), REPO, version="2.0.0", token=TOKEN)
    assert result.deleted == [f"raw/train-{i:05d}-of-00003.parquet" for i in range(3)]
    assert len(hub.load(REPO, "raw", version="2.0.0", split="train")) == 10
    assert len(hub.load(REPO, "raw", version="1.0.0", split="train")) == 12


def test_load_reads_a_local_folder(tmp_path):
    folder = write_dataset_folder(tmp_path / "local", tag="a")
    assert len(hub.load(folder, "eval", difficulty="medium")) == 3
    easy = hub.load(folder, "prompted", split="train", difficulty="easy")
    assert len(easy) == 8 and {easy.features["difficulty"].int2str(code) for code in easy["difficulty"]} == {"easy"}


def test_a_release_from_before_the_class_label_loads_and_counts_by_name(tmp_path):
    folder = write_dataset_folder(tmp_path / "old", tag="a", class_label=False)
    hard = hub.load(folder, "raw", split="train", difficulty="hard")
    assert len(hard) == 4 and set(hard["difficulty"]) == {"hard"}
    assert hub.read_folder(folder).difficulty == hub.read_folder(write_dataset_folder(tmp_path / "new", tag="a")).difficulty
    assert hub.read_folder(folder).difficulty["raw"]["train"] == {"easy": 4, "medium": 4, "hard": 4}


def test_manifest_is_deterministic(tmp_path):
    one = write_dataset_folder(tmp_path / "one", tag="a")
    two = write_dataset_folder(tmp_path / "two", tag="a")
    first = hub.build_manifest(hub.read_folder(one), version="1.0.0", message="m")
    assert first == hub.build_manifest(hub.read_folder(two), version="1.0.0", message="m")
    assert first["files"]["raw/train-00000-of-00001.parquet"]["size"] > 0
    facts = hub.read_folder(one)
    plots = dataset_plots(one, facts.difficulty, ["raw/train-00000-of-00001.parquet"])
    assert plots == dataset_plots(two, facts.difficulty, ["raw/train-00000-of-00001.parquet"]) and len(plots) == 4


def test_a_built_folder_is_published_with_its_own_plots_and_provenance(server, tmp_path):
    from case2code_hub.dataset import build_dataset

    from synthetic_records import make_records

    folder = tmp_path / "built"
    build_dataset(make_records(3), folder, seed=2, eval_share=0.25, provenance={"corpus": "synthetic", "writer": "offline"})
    hub.push(folder, REPO, version="1.0.0", message="a real build", token=TOKEN)
    card = server.state.read_file(REPO, "v1.0.0", "README.md").decode("utf-8")
    assert card.count("## Plots") == 1 and card.index("## Plots") < card.index("## Changelog")
    for name in sorted(p.name for p in (folder / "plots").iterdir()):
        assert server.state.read_file(REPO, "v1.0.0", f"plots/{name}") == (folder / "plots" / name).read_bytes()
    manifest = json.loads(server.state.read_file(REPO, "v1.0.0", "case2code.json"))
    assert manifest["metadata"]["build.json"]["corpus"] == "synthetic"
    assert manifest["metadata"]["build.json"]["dataset"]["seed"] == 2
    from datasets import load_dataset

    assert len(load_dataset(REPO, "rl", revision="v1.0.0", split="train")) > 0


def test_load_defaults_as_load_dataset_does_and_passes_its_options_through(tmp_path):
    folder = write_dataset_folder(tmp_path / "ds", tag="a")
    everything = hub.load(folder)  # the default config (raw), every split, as load_dataset gives
    assert list(everything) == ["train"] and len(everything["train"]) == 12
    streamed = hub.load(folder, "eval", difficulty="hard", streaming=True)
    assert type(streamed).__name__ == "IterableDataset"
    assert [streamed.features["difficulty"].int2str(row["difficulty"]) for row in streamed] == ["hard"] * 4
    easy = hub.load(folder, "raw", split="train", difficulty="easy", streaming=True)
    assert [easy.features["difficulty"].int2str(row["difficulty"]) for row in easy] == ["easy"] * 4
