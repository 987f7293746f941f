"""``case2code build --generator tgi|openai`` end to end through a TGI-protocol server on 127.0.0.1."""

from __future__ import annotations

import pytest
from datasets import load_dataset
from sample_corpus import write_corpus
import tgi_server
from tgi_server import MODEL_ID, Faults, FakeTGI
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
    # The model's inputs seed the coverage search; what the search adds is the offline writer's.
    assert writers <= {f"llm:{MODEL_ID}" if generator == "tgi" else "llm:writer-model", "offline"}, writers
    assert any(w.startswith("llm:") for w in writers), writers
    assert set(raw["generator"]) == {generator}


def test_llm_generator_without_endpoint_is_one_line(tmp_path):
    result = runner.invoke(app, ["build", "--generator", "tgi", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "--endpoint" in result.output and "Traceback" not in result.output


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "datatrove" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def test_wrong_protocol_wrong_url_and_401_are_one_line_each(tmp_path, monkeypatch):
    import socket

    monkeypatch.delenv("HF_TOKEN", raising=False)
    corpus = write_corpus(tmp_path / "corpus")

    def build(endpoint: str, generator: str, name: str):
        return runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(tmp_path / name), "--workers", "1",
                                   "--generator", generator, "--endpoint", endpoint, "--model", "m"])

    with FakeTGI(openai_only=True) as server:  # vLLM / llama.cpp: no /info, no /generate
        line = _one_error_line(build(server.url, "tgi", "wrong-protocol"))
    assert "OpenAI-style" in line and "--generator openai" in line, line
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = _one_error_line(build(f"http://127.0.0.1:{port}", "openai", "no-server"))
    assert f"127.0.0.1:{port}" in line and "not reachable" in line, line
    with FakeTGI(require_token="hf_secret") as server:
        line = _one_error_line(build(server.url, "tgi", "unauthorised"))
    assert "401" in line and "token" in line.lower(), line
    assert not any((tmp_path / name).exists() for name in ("wrong-protocol", "no-server", "unauthorised"))


def test_a_second_build_without_a_work_dir_asks_the_server_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CASE2CODE_CACHE", str(tmp_path / "user-cache"))  # this test's own user cache
    corpus = write_corpus(tmp_path / "corpus")
    with FakeTGI() as server:
        def build(name: str):
            result = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(tmp_path / name), "--workers", "2",
                                         "--generator", "tgi", "--endpoint", server.url, "--eval-share", "0.2"])
            assert result.exit_code == 0, result.output
            return server.snapshot()["stats"].get("requests", 0)

        first = build("one")
        assert first > 0 and build("two") == first  # no request more
    assert list((tmp_path / "user-cache" / "llm-answers").glob("??/*.json"))
    one, two = (sorted(p.relative_to(tmp_path / n).as_posix() for p in (tmp_path / n).rglob("*.parquet")) for n in ("one", "two"))
    assert one == two


def test_a_model_that_gives_nothing_usable_costs_no_function(tmp_path, monkeypatch):
    """The LLM adds, never subtracts: with answers that hold no input, the build keeps what the
    offline build of the same corpus keeps, and says the model contributed nothing."""
    monkeypatch.setenv("CASE2CODE_CACHE", "off")
    monkeypatch.setattr(tgi_server, "writer_answer", lambda prompt, **kw: "I am not sure what inputs to give.")
    corpus = write_corpus(tmp_path / "corpus")
    common = ["--corpus", str(corpus), "--workers", "2", "--eval-share", "0.2"]
    offline = runner.invoke(app, ["build", *common, "--out", str(tmp_path / "offline")])
    assert offline.exit_code == 0, offline.output
    with FakeTGI() as server:
        weak = runner.invoke(app, ["build", *common, "--out", str(tmp_path / "weak"), "--generator", "tgi",
                                   "--endpoint", server.url])
    assert weak.exit_code == 0, weak.output
    rows = {name: load_dataset(str(tmp_path / name), "raw", split="train", cache_dir=str(tmp_path / "c"))
            for name in ("offline", "weak")}
    assert len(rows["weak"]) == len(rows["offline"]) > 0
    assert {case["writer"] for row in rows["weak"] for case in row["cases"]} == {"offline"}
    assert "the writer model contributed" in weak.output


def test_generate_takes_the_writer_options_and_ranks_share_the_servers_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("CASE2CODE_CACHE", "off")
    corpus = write_corpus(tmp_path / "corpus")
    work, out = tmp_path / "work", tmp_path / "ds"
    with FakeTGI(max_concurrent=4, latency=0.05) as server:
        result = runner.invoke(app, ["generate", "--corpus", str(corpus), "--work-dir", str(work), "--tasks", "2",
                                     "--task-workers", "2", "--workers", "1", "--generator", "tgi", "--endpoint", server.url])
        assert result.exit_code == 0, result.output
        stats = server.snapshot()["stats"]
    assert stats["requests"] > 0 and stats.get("429", 0) == 0  # two ranks, each within half of the limit
    assembled = runner.invoke(app, ["assemble", "--work-dir", str(work), "--out", str(out), "--eval-share", "0.2"])
    assert assembled.exit_code == 0, assembled.output
    raw = load_dataset(str(out), "raw", split="train", cache_dir=str(tmp_path / "cache"))
    assert any(case["writer"].startswith("llm:") for row in raw for case in row["cases"])


def test_a_rerun_asks_again_what_the_server_left_unanswered(tmp_path, monkeypatch):
    """A server that answers nothing but 503s: the build still finishes (offline search alone) and
    says how many requests went unanswered; the same command against a working server asks them
    again, and a third run asks nothing (the finished rank stays finished, the answers are cached)."""
    monkeypatch.setenv("CASE2CODE_CACHE", "off")  # the work dir's own cache only
    corpus = write_corpus(tmp_path / "corpus")
    work, cache = tmp_path / "work", str(tmp_path / "hf")

    def build(server, name: str) -> tuple[str, int, list[str]]:
        out = tmp_path / name
        result = runner.invoke(app, ["build", "--corpus", str(corpus), "--out", str(out), "--work-dir", str(work),
                                     "--workers", "2", "--eval-share", "0.2", "--generator", "tgi", "--endpoint", server.url])
        assert result.exit_code == 0, result.output
        raw = load_dataset(str(out), "raw", split="train", cache_dir=cache)
        return result.output, server.snapshot()["stats"].get("requests", 0), [c["writer"] for r in raw for c in r["cases"]]

    with FakeTGI(faults=Faults(p_503=1.0)) as down:
        said, asked, writers = build(down, "down")
        prompts = len(down.received)  # each asked up to max_attempts times
    assert asked > prompts > 0 and set(writers) == {"offline"}
    assert "got no answer after every retry" in said and "unanswered" in said
    with FakeTGI() as up:
        said, asked_again, writers = build(up, "up")
    assert asked_again == prompts and any(w.startswith("llm:") for w in writers)
    assert "got no answer" not in said
    with FakeTGI() as idle:
        _, asked_third, writers_third = build(idle, "third")
    assert asked_third == 0 and writers_third == writers
