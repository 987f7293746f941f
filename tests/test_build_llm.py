"""``case2code build --generator tgi|openai`` end to end through a TGI-protocol server on 127.0.0.1."""

from __future__ import annotations

import pytest
from datasets import load_dataset
from sample_corpus import write_corpus
from tgi_server import Faults, FakeTGI
from typer.testing import CliRunner

from case2code_hub.cli import app

runner = CliRunner()


@pytest.mark.parametrize("generator", ["tgi", "openai"])
def test_build_through_a_writer_server_records_each_cases_writer(tmp_path, generator):
    corpus = write_corpus(tmp_path / "corpus")
    out = tmp_path / "ds"
    work = tmp_path / "work"
    faults = Faults(p_503=0.2, p_chatty=0.2, p_malformed=0.1)
    with FakeTGI(latency=0.0, max_concurrent=4, faults=faults, openai_only=generator == "openai") as server:
        args = ["build", "--corpus", str(corpus), "--out", str(out), "--work-dir", str(work)]
        args += ["--generator", generator, "--endpoint", server.url, "--eval-share", "0.2", "--workers", "2"]
        if generator == "openai":
            args += ["--model", "writer-model"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        first = server.snapshot()
        assert first["schema_errors"] == []
        # (A malformed answer is retried, so the server may answer one prompt twice in run one.)
        # A rerun on the same work dir finds every rank done and sends nothing.
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert server.snapshot()["stats"] == first["stats"]
    assert "writer requests" in result.output
    raw = load_dataset(str(out), "raw", split="train", cache_dir=str(tmp_path / "cache"))
    writers = {case["writer"] for row in raw for case in row["cases"]}
    assert any(w.startswith("llm:") and not w.endswith("+mutation") for w in writers), writers
    assert all(w.startswith("llm:") for w in writers), writers
    assert set(raw["generator"]) == {generator}


def test_llm_generator_without_endpoint_is_one_line(tmp_path):
    result = runner.invoke(app, ["build", "--generator", "tgi", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "--endpoint" in result.output and "Traceback" not in result.output
