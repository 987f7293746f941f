"""The LLM writer against a real TGI-protocol HTTP server on 127.0.0.1 (tests/tgi_server.py).

Each server checks every request and response body against TGI's OpenAPI contract when the
contract is found (``shared/contracts``); the tests assert it saw no violation.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from case2code_hub import literals
from case2code_hub.errors import ConfigError, InferenceServerError
from case2code_hub.inputs.llm import LLMInputWriter, LLMWriterConfig
from case2code_hub.schema import Function

sys.path.insert(0, str(Path(__file__).parent))
from sample_corpus import numbered_functions  # noqa: E402
from tgi_server import MODEL_ID, FakeTGI, Faults, contract_path  # noqa: E402

pytestmark = pytest.mark.timeout(60)

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


functions = numbered_functions


def answers(writer: LLMInputWriter, fns: list[Function]) -> list[tuple[Function, list[str], dict]]:
    """``(function, inputs, info)`` of every written function, in order."""
    out = []
    for written in writer.write_many(fns):
        assert written.writers == [written.info.get("writer") or writer.writer] * len(written.inputs)
        out.append((written.function, written.inputs, written.info))
    return out


def checked(server: FakeTGI) -> None:
    assert not [k for k in server.stats if k.startswith("handler_error/")]
    if server.contract is None:  # the test claims the bodies follow TGI's contract: say it could not check
        pytest.skip(f"TGI's contract (tgi-openapi.json) not found near {Path(__file__).parent}; set CASE2CODE_CONTRACTS")
    assert server.schema_errors == []


def test_contract_is_found_or_reason_printed():
    path = contract_path()
    if path is None:
        pytest.skip("shared/contracts/tgi-openapi.json is not beside the repo; set CASE2CODE_CONTRACTS")
    assert path.name == "tgi-openapi.json"


def test_config_errors_name_the_field():
    cases = [
        ({"generator": "vllm"}, "generator"),
        ({"endpoint": "localhost:8080"}, "endpoint"),
        ({"n_inputs": 0}, "n_inputs"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"temperature": -1}, "temperature"),
        ({"grammar": "maybe"}, "grammar"),
        ({"max_retry_seconds": 0}, "max_retry_seconds"),
    ]
    for options, field in cases:
        with pytest.raises(ConfigError) as info:
            LLMWriterConfig(**options)
        assert info.value.field == field
    with pytest.raises(ConfigError):
        LLMInputWriter(no_such_option=1)


def test_tgi_route_with_grammar_keeps_order_and_records_writer():
    fns = functions(12)
    with FakeTGI(latency=0.01, max_concurrent=4) as server:
        writer = LLMInputWriter(endpoint=server.url, n_inputs=6, **FAST)
        results = answers(writer, fns)
        checked(server)
        assert server.stats["GET /info"] == 1
        assert server.stats["requests"] == 12
    assert [fn.id for fn, _, _ in results] == [fn.id for fn in fns]
    for fn, inputs, info in results:
        assert len(inputs) == 6, (fn.entry_point, inputs, info)
        for source in inputs:
            args, kwargs = literals.parse_arguments(source)
            assert set(kwargs) <= {"xs", "k", "name"} and not args
        assert info["writer"] == f"llm:{MODEL_ID}" and info["error"] is None
        assert info["finish_reason"] == "eos_token" and info["tokens_out"] > 0 and info["tokens_in"] > 0
    assert writer.writer == f"llm:{MODEL_ID}"
    stats = writer.summary()
    assert stats["requests"] == 12 and stats["answered"] == 12 and stats["inputs"] == 72
    assert stats["tokens_in"] > 0 and stats["tokens_out"] > 0


def test_openai_route_and_a_server_without_info():
    fns = functions(5)
    with FakeTGI(latency=0.0, openai_only=True) as server:
        writer = LLMInputWriter(generator="openai", endpoint=server.url + "/", n_inputs=4, **FAST)
        results = answers(writer, fns)
        checked(server)
        assert server.stats["GET /v1/models"] == 1
    assert all(len(inputs) == 4 for _, inputs, _ in results)
    assert writer.info.model_id == MODEL_ID and writer.stats["tokens_in"] > 0
    with FakeTGI(latency=0.0) as server:  # TGI serves the chat route too
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="my-model", n_inputs=3, **FAST)
        assert all(len(inputs) == 3 for _, inputs, _ in answers(writer, fns))
        checked(server)
    assert writer.writer == "llm:my-model"


def test_grammar_refused_falls_back_to_free_text():
    with FakeTGI(grammar_support=False) as server:
        writer = LLMInputWriter(endpoint=server.url, n_inputs=5, **FAST)
        results = answers(writer, functions(4))
        checked(server)
    assert all(len(inputs) == 5 for _, inputs, _ in results)
    assert writer.stats["grammar_fallbacks"] >= 1 and writer.stats["rejected"] == 0


def test_never_more_in_flight_than_the_server_allows():
    with FakeTGI(latency=0.05, max_concurrent=3) as server:
        writer = LLMInputWriter(endpoint=server.url, concurrency=50, **FAST)
        results = answers(writer, functions(30))
        checked(server)
        assert server.peak_active == 3 and server.stats["429"] == 0
    assert writer.concurrency == 3
    assert all(inputs for _, inputs, _ in results)
    with FakeTGI(latency=0.02, max_concurrent=8) as server:  # two processes share the server
        writer = LLMInputWriter(endpoint=server.url, parallel_writers=2, **FAST)
        answers(writer, functions(10))
        assert writer.concurrency == 4 and server.peak_active <= 4


def test_faults_never_crash_a_run_and_drops_are_counted():
    faults = Faults(p_503=0.1, p_drop=0.1, p_malformed=0.1, p_truncated=0.15, p_chatty=0.2, p_hostile=0.15)
    fns = functions(40)
    for generator in ("tgi", "openai"):
        with FakeTGI(latency=0.0, max_concurrent=8, faults=faults, seed=3) as server:
            writer = LLMInputWriter(generator=generator, grammar="off", endpoint=server.url, max_attempts=8, **FAST)
            results = answers(writer, fns)
            checked(server)
        assert [fn.id for fn, _, _ in results] == [fn.id for fn in fns]
        assert all(info["error"] is None for _, _, info in results), [i["error"] for _, _, i in results]
        stats = writer.stats
        assert stats["malformed_responses"] > 0 and stats["connection_errors"] > 0 and stats["http_503"] > 0
        assert stats["truncated"] > 0 and stats["dropped/not_literal"] > 0 and stats["dropped/syntax"] > 0
        assert stats["retries"] == stats["requests"] - stats["answered"]
        assert not os.path.exists("/tmp/case2code-pwned")
        for _, inputs, _ in results:
            for source in inputs:
                literals.parse_arguments(source)


def test_retries_are_bounded_by_attempts_and_by_time():
    with FakeTGI(faults=Faults(script=["503"] * 10)) as server:
        writer = LLMInputWriter(endpoint=server.url, max_attempts=3, **FAST)
        ((_, inputs, info),) = answers(writer, functions(1))
        assert server.stats["requests"] == 3
    assert inputs == [] and info["error"].startswith("gave up") and info["attempts"] == 3
    assert writer.stats["http_503"] == 3 and writer.stats["retries"] == 2 and writer.stats["failed_functions"] == 1

    with FakeTGI(faults=Faults(script=["503"] * 50)) as server:
        writer = LLMInputWriter(endpoint=server.url, max_attempts=50, max_retry_seconds=0.5, backoff_base=0.2, backoff_max=0.2)
        ((_, inputs, info),) = answers(writer, functions(1))
        assert 2 <= server.stats["requests"] <= 5  # of 50 attempts allowed: the 0.5 s window ended them
    assert inputs == [] and "within" in info["error"]


def test_validation_errors_are_not_retried():
    with FakeTGI(faults=Faults(script=["validation"])) as server:
        writer = LLMInputWriter(endpoint=server.url, **FAST)
        results = answers(writer, functions(2))
        checked(server)
        assert server.stats["requests"] == 2
    # The scripted 422 goes to whichever request reaches the server first: either function.
    rejected = [(inputs, info) for _, inputs, info in results if info["error"]]
    answered = [inputs for _, inputs, info in results if not info["error"]]
    assert len(rejected) == 1 and rejected[0][0] == [] and rejected[0][1]["error"].startswith("rejected (422)")
    assert len(answered) == 1 and answered[0]
    assert writer.stats["rejected"] == 1 and writer.stats["retries"] == 0
    # TGI's "inputs tokens + max_new_tokens must be <= 8192": counted by what it means.
    assert writer.stats["rejected/context_length_exceeded"] == 1


def test_slow_answers_time_out_and_are_retried():
    with FakeTGI(faults=Faults(script=["slow"], slow_seconds=2.0)) as server:
        writer = LLMInputWriter(endpoint=server.url, request_timeout=0.3, **FAST)
        ((_, inputs, info),) = answers(writer, functions(1))
    assert inputs and info["attempts"] == 2 and writer.stats["timeouts"] == 1


def test_cache_answers_a_rerun_and_twins_share_a_request(tmp_path):
    fns = functions(6)
    with FakeTGI() as server:
        first = answers(LLMInputWriter(endpoint=server.url, cache_dir=str(tmp_path), **FAST), fns + fns[:2])
        assert server.stats["requests"] == 6  # the two twins waited for the first asking
        writer = LLMInputWriter(endpoint=server.url, cache_dir=str(tmp_path), **FAST)
        second = answers(writer, fns)
        assert server.stats["requests"] == 6
    assert writer.stats["cached"] == 6 and writer.stats["requests"] == 0
    assert [i for _, i, _ in second] == [i for _, i, _ in first[:6]]
    assert all(info["cached"] for _, _, info in second)


def test_same_seed_same_requests_and_inputs():
    fns = functions(5)
    runs = []
    for _ in range(2):
        with FakeTGI(latency=0.0) as server:
            writer = LLMInputWriter(endpoint=server.url, seed=7, **FAST)
            runs.append([inputs for _, inputs, _ in answers(writer, fns)])
            runs.append(sorted(server.received))
    assert runs[0] == runs[2] and runs[1] == runs[3]


def test_token_never_leaks(tmp_path, caplog):
    canary = "hf_CANARYxYzzy0123456789"
    caplog.set_level(logging.DEBUG)
    with FakeTGI(require_token=canary, faults=Faults(script=["503", "validation"])) as server:
        config = LLMWriterConfig(endpoint=server.url, token=canary, cache_dir=str(tmp_path / "cache"), **FAST)
        writer = LLMInputWriter(config)
        results = answers(writer, functions(3))
        assert server.authorizations == {f"Bearer {canary}"}
        assert sum(1 for _, inputs, _ in results if inputs) == 2
        with pytest.raises(InferenceServerError) as refused:
            answers(LLMInputWriter(endpoint=server.url, token="hf_wrong", **FAST), functions(1))
        assert refused.value.status == 401 and "hf_wrong" not in str(refused.value)
    texts = [caplog.text, repr(config), str(config.to_json()), str(writer.summary()), str(results)]
    texts += [p.read_text() for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert all(canary not in text for text in texts)


def test_stopping_early_stops_the_loop():
    with FakeTGI(latency=0.05, max_concurrent=2) as server:
        writer = LLMInputWriter(endpoint=server.url, **FAST)
        for _ in writer.write_many(functions(50)):
            break
        assert server.stats["requests"] < 50
    assert not [t for t in __import__("threading").enumerate() if t.name == "case2code-llm-writer"]


def test_unreachable_server_is_one_clear_error():
    with FakeTGI() as server:
        url = server.url
    writer = LLMInputWriter(endpoint=url, max_attempts=2, **FAST)
    with pytest.raises(InferenceServerError, match="not reachable"):
        answers(writer, functions(1))


KILLED_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from sample_corpus import numbered_functions as functions
    from case2code_hub.inputs.llm import LLMInputWriter

    writer = LLMInputWriter(endpoint=sys.argv[1], cache_dir=sys.argv[2], concurrency=3, backoff_base=0.01)
    for written in writer.write_many(functions(int(sys.argv[3]))):
        print(written.function.entry_point, len(written.inputs), written.info["cached"], flush=True)
    """
)


def test_kill_midway_and_rerun_sends_no_request_twice(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN.format(tests=str(Path(__file__).parent)))
    cache = tmp_path / "cache"
    n, answered_before_kill = 15, 6
    with FakeTGI(latency=0.02, max_concurrent=8, hold_after=answered_before_kill) as server:
        command = [sys.executable, str(script), server.url, str(cache), str(n)]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        # Kill once the held requests are in flight and every answer sent is on disk.
        while time.monotonic() < deadline:
            files = list(cache.rglob("*.json")) if cache.exists() else []
            if len(files) == answered_before_kill and server.stats["held"] == 3:
                break
            time.sleep(0.02)
        assert server.stats["held"] == 3, server.snapshot()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        server.release()
        received_first = dict(server.received)
        answered_first = set(server.answered)
        assert len(answered_first) == answered_before_kill

        rerun = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        lines = rerun.stdout.split()
        checked(server)
    assert len(lines) == 3 * n
    assert lines[2::3].count("True") == answered_before_kill  # the answered ones came from the cache
    assert all(count == 1 for count in server.answered.values()), server.snapshot()
    assert len(server.answered) == n
    resent = {k: v for k, v in server.received.items() if k in answered_first and v != received_first[k]}
    assert resent == {}


def test_the_contract_check_catches_a_bad_body():
    if contract_path() is None:
        pytest.skip("shared/contracts/tgi-openapi.json is not beside the repo; set CASE2CODE_CONTRACTS")
    import httpx2

    with FakeTGI() as server:
        bad = httpx2.post(server.url + "/generate", json={"inputs": 1, "parameters": {"seed": 0, "top_p": 2}})
        good = httpx2.post(server.url + "/generate", json={"inputs": "Write 2 different", "parameters": {"seed": 1}})
    assert bad.status_code == 422 and bad.json()["error_type"] == "validation"
    assert good.status_code == 200 and "generated_text" in good.json()
    assert len(server.schema_errors) == 3  # inputs not a string, seed not > 0, top_p above 1


def test_openai_route_asks_for_answers_in_a_schema_of_the_functions_parameters():
    fns = functions(4)
    with FakeTGI(openai_only=True) as server:  # vLLM / llama.cpp: OpenAI's response_format
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=4, **FAST)
        results = answers(writer, fns)
        checked(server)
        forms = list(server.response_formats)
    assert len(forms) == 4 and all(f["type"] == "json_schema" for f in forms)
    item = forms[0]["json_schema"]["schema"]["properties"]["inputs"]["items"]
    assert set(item["properties"]) == {"xs", "k", "name"} and item["required"] == ["xs", "k"]
    assert item["additionalProperties"] is False
    for _, inputs, info in results:  # every structured answer read back: no entry dropped
        assert len(inputs) == 4 and not info["dropped"], info
        assert all({"xs", "k"} <= set(literals.parse_arguments(source)[1]) for source in inputs)
    assert writer.stats["grammar_fallbacks"] == 0
    with FakeTGI(openai_only=True, grammar_support=False) as server:  # a server that refuses the schema
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=4, **FAST)
        results = answers(writer, fns)
    assert all(len(inputs) == 4 for _, inputs, _ in results)
    assert writer.stats["grammar_fallbacks"] == 1 and writer.stats["rejected"] == 0


def test_a_llama_cpp_server_is_sent_no_more_requests_than_its_slots():
    with FakeTGI(openai_only=True, slots=2, max_concurrent=2, latency=0.02) as server:
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=3, **FAST)
        results = answers(writer, functions(8))
        checked(server)
        assert server.stats["GET /props"] == 1 and server.stats.get("429", 0) == 0 and server.peak_active <= 2
    assert writer.concurrency == 2 and all(len(inputs) == 3 for _, inputs, _ in results)


def test_a_request_that_ran_into_its_timeout_is_retried_even_past_the_retry_window():
    # A retry window far shorter than the request timeout: the timed-out request is still retried.
    with FakeTGI(faults=Faults(script=["slow", "ok"], slow_seconds=0.6)) as server:
        writer = LLMInputWriter(endpoint=server.url, request_timeout=0.3, max_retry_seconds=0.1, n_inputs=3, **FAST)
        [(_, inputs, info)] = answers(writer, functions(1))
    assert len(inputs) == 3 and info["attempts"] == 2 and writer.stats["timeouts"] == 1


def test_a_server_that_takes_only_json_object_gets_the_schema_in_that_form():
    # llama-cpp-python's server: response_format "text" or "json_object" (with "schema"), and a 500
    # that names the field for anything else; the schema is still sent, in the form it takes.
    with FakeTGI(openai_only=True, response_forms=("json_object",)) as server:
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=4, concurrency=1, **FAST)
        results = answers(writer, functions(3))
        forms = [f["type"] for f in server.response_formats]
    # Each function is answered once, in the form the server takes; a request built before the
    # switch may still be refused once, never retried as an outage.
    assert forms.count("json_object") == 3 and 1 <= forms.count("json_schema") <= 3
    assert all(len(inputs) == 4 and not info["dropped"] for _, inputs, info in results)
    assert writer.stats["grammar_fallbacks"] == 0 and writer.stats["retries"] == 0


def test_a_server_that_states_no_limit_gets_an_adaptive_number_of_requests():
    # One decoder, no limit stated (llama-cpp-python): more in flight only wait in its queue, and
    # each waits longer, so the client stays near where it started.
    with FakeTGI(openai_only=True, serial=True, max_concurrent=64, latency=0.1) as server:
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=3, **FAST)
        results = answers(writer, functions(12))
        serial_peak = server.peak_active
    assert all(len(inputs) == 3 for _, inputs, _ in results)
    assert serial_peak <= 3, serial_peak
    # Many decoders, no limit stated (a vLLM behind a proxy): answers stay as fast, so it grows.
    # (L = 0.1 s: a busy machine's milliseconds of overhead stay well inside the 1.5x margin.)
    with FakeTGI(openai_only=True, max_concurrent=64, latency=0.1) as server:
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=3, **FAST)
        results = answers(writer, functions(40))
        parallel_peak = server.peak_active
    assert all(len(inputs) == 3 for _, inputs, _ in results)
    assert parallel_peak >= 4 and writer.stats["concurrency_reached"] >= 4, (parallel_peak, dict(writer.stats))
    # Told how many: no adaptation.
    with FakeTGI(openai_only=True, serial=True, max_concurrent=64, latency=0.01) as server:
        writer = LLMInputWriter(generator="openai", endpoint=server.url, model="m", n_inputs=3, concurrency=5, **FAST)
        answers(writer, functions(12))
        assert server.peak_active == 5
