"""A push that fails at any step leaves nothing or the whole version, and a rerun finishes it."""

from __future__ import annotations

import hashlib
import json

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from case2code_hub import hub
from case2code_hub.errors import HubError
from hub_folder import write_dataset_folder

REPO = "org/case2code"
TOKEN = "hf_testtoken"



@pytest.fixture
def released(server, tmp_path):
    """v1.0.0 already on the Hub; a changed build waiting to become v1.1.0."""
    hub.push(write_dataset_folder(tmp_path / "v1", tag="a"), REPO, version="1.0.0", token=TOKEN)
    folder = write_dataset_folder(tmp_path / "v2", tag="b", eval_rows={"easy": 1, "medium": 1, "hard": 7})
    return folder


def _assert_nothing_or_whole(server, folder) -> None:
    """No v1.1.0 tag, and main is either still v1.0.0 or a complete copy of the new version."""
    repo = server.state.repos[REPO]
    assert "v1.1.0" not in repo.tags
    head = repo.branches["main"]
    if head == repo.tags["v1.0.0"]:
        return
    manifest = json.loads(server.state.read_file(REPO, head, "case2code.json"))
    assert manifest["version"] == "1.1.0"
    for path, entry in manifest["files"].items():
        data = server.state.read_file(REPO, head, path)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
        if path != "README.md" and (folder / path).exists():
            assert data == (folder / path).read_bytes()


# (step, fault, whether the commit lands before the failure)
FAULTS = [
    ("preupload", 500, False),
    ("lfs_batch", 503, False),
    ("lfs_upload", "drop", False),
    ("lfs_upload", 500, False),
    ("commit", 500, False),
    ("commit", 412, False),
    ("commit", "drop_after", True),
    ("tag", 500, True),
]


@pytest.mark.parametrize("step,action,landed", FAULTS, ids=[f"{s}-{a}" for s, a, _ in FAULTS])
def test_fault_leaves_nothing_or_the_whole_version_and_rerun_finishes(server, released, step, action, landed):
    commits_before = server.state.counts["commits"]
    server.state.fail(step, action)
    with pytest.raises(HubError) as err:
        hub.push(released, REPO, version="1.1.0", message="second", token=TOKEN)
    assert "1.1.0" in str(err.value) and "\n" not in str(err.value)
    _assert_nothing_or_whole(server, released)
    assert server.state.counts["commits"] == commits_before + int(landed)

    server.state.clear_faults()
    result = hub.push(released, REPO, version="1.1.0", message="second", token=TOKEN)
    assert result.resumed is landed
    assert server.state.counts["commits"] == commits_before + 1  # never a second commit for one version
    repo = server.state.repos[REPO]
    assert repo.tags["v1.1.0"] == repo.branches["main"] == result.commit
    hard = hub.load(REPO, "eval", version="1.1.0", difficulty="hard")
    assert sorted(hard["id"]) == [f"b-eval-hard-{i:06d}" for i in range(7)]


def test_tag_answer_lost_still_counts_as_published(server, released):
    server.state.fail("tag", "drop_after")
    result = hub.push(released, REPO, version="1.1.0", token=TOKEN)
    assert server.state.repos[REPO].tags["v1.1.0"] == result.commit


def test_server_refuses_a_stale_parent_commit(server, tmp_path):
    api = HfApi(token=TOKEN)
    api.create_repo(REPO, repo_type="dataset")
    start = api.list_repo_refs(REPO, repo_type="dataset").branches[0].target_commit
    api.create_commit(REPO, [CommitOperationAdd("a.txt", b"a")], commit_message="a", repo_type="dataset", parent_commit=start)
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit(REPO, [CommitOperationAdd("b.txt", b"b")], commit_message="b", repo_type="dataset", parent_commit=start)
    assert err.value.response.status_code == 412


def test_create_pr_commits_to_a_pull_request_and_tags_it(server, released):
    result = hub.push(released, REPO, version="1.1.0", create_pr=True, token=TOKEN)
    repo = server.state.repos[REPO]
    assert result.pr_url and repo.pulls == {1: result.commit}
    assert repo.branches["main"] == repo.tags["v1.0.0"]  # main untouched until the PR is merged
    assert repo.tags["v1.1.0"] == result.commit
    assert len(hub.load(REPO, "eval", version="1.1.0", split="hard")) == 7
