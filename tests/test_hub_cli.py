"""``case2code push`` / ``case2code versions`` end to end, and a canary token that must never leak."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from typer.testing import CliRunner

from case2code_hub.cli import app
from hub_folder import write_dataset_folder

REPO = "org/case2code"
CANARY = "hf_CANARY7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e"



def _files_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in sorted(root.rglob("*")) if p.is_file())


def _repo_text(server) -> str:
    """Every file of every commit of every repo on the server, and every LFS object."""
    chunks = [blob.content or b"" for repo in server.state.repos.values() for c in repo.commits.values() for blob in c.files.values()]
    chunks += list(server.state.lfs.values())
    chunks += [c.title.encode() + c.message.encode() for repo in server.state.repos.values() for c in repo.commits.values()]
    return b"\n".join(chunks).decode("latin-1")


def test_push_and_versions_cli_never_show_the_token(server, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    v1 = write_dataset_folder(tmp_path / "v1", tag="a")
    v2 = write_dataset_folder(tmp_path / "v2", tag="b")

    dry = runner.invoke(app, ["push", str(v1), "--repo", REPO, "--version", "1.0.0", "--dry-run", "--token", CANARY])
    assert dry.exit_code == 0, dry.output
    assert "dry run:" in dry.output and "eval/hard-00000-of-00001.parquet" in dry.output
    assert REPO not in server.state.repos

    first = runner.invoke(app, ["push", str(v1), "--repo", REPO, "--version", "1.0.0", "--message", "first", "--private", "--token", CANARY])
    assert first.exit_code == 0, first.output
    assert server.state.repos[REPO].private
    # The second push takes the token from huggingface_hub's own resolution (HF_TOKEN).
    monkeypatch.setenv("HF_TOKEN", CANARY)
    second = runner.invoke(app, ["push", str(v2), "--repo", REPO, "--version", "1.1.0", "--message", "second", "-v"])
    assert second.exit_code == 0, second.output
    again = runner.invoke(app, ["push", str(v2), "--repo", REPO, "--version", "1.1.0"])
    assert again.exit_code == 1
    assert "version 1.1.0 already exists" in again.output and "Traceback" not in again.output
    lower = runner.invoke(app, ["push", str(v2), "--repo", REPO, "--version", "1.0.5"])
    assert lower.exit_code == 1 and "not above the latest version 1.1.0" in lower.output
    server.state.fail("commit", 500)
    failed = runner.invoke(app, ["push", str(v1), "--repo", REPO, "--version", "2.0.0", "--token", CANARY])
    assert failed.exit_code == 1 and "rerun the same command" in failed.output
    server.state.clear_faults()

    listed = runner.invoke(app, ["versions", REPO])
    assert listed.exit_code == 0, listed.output
    assert "v1.1.0" in listed.output and "v1.0.0" in listed.output and "second" in listed.output
    assert listed.output.index("v1.1.0") < listed.output.index("v1.0.0")  # newest first

    monkeypatch.delenv("HF_TOKEN")
    hidden = runner.invoke(app, ["versions", REPO])  # private repo, no token: one clear line
    assert hidden.exit_code == 1 and "not found" in hidden.output

    # The token did reach the server, and nothing else: outputs, logs, local files, repo contents.
    assert f"Bearer {CANARY}" in server.state.authorizations
    outputs = [dry, first, second, again, lower, failed, listed, hidden]
    assert all(CANARY not in r.output for r in outputs)
    assert CANARY not in caplog.text
    assert CANARY not in _files_text(tmp_path)
    assert CANARY not in _files_text(Path(os.environ["HF_HOME"]))
    assert CANARY not in _repo_text(server)
    assert all(CANARY.encode() not in body for body in server.state.request_bodies)


def test_push_cli_reports_a_folder_that_is_not_a_dataset(tmp_path, server):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["push", str(tmp_path / "empty"), "--repo", REPO, "--version", "1.0.0", "--token", "hf_x"])
    assert result.exit_code == 1 and "no README.md" in result.output
