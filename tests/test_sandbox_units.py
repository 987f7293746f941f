"""Sandbox units: the bwrap command line, and how disagreeing runs are classified."""

from __future__ import annotations

from case2code_hub.sandbox import isolation


def test_paths_under_tmp_are_bound_back_read_only(monkeypatch):
    monkeypatch.setattr(
        isolation, "_needed_paths", lambda: ["/tmp/ci/main/.venv", "/tmp/ci/main/.venv/lib/python3.11/site-packages", "/usr/bin"]
    )
    args = list(isolation.bwrap_prefix(scratch_mb=64, environ={}))
    tmpfs = args.index("/tmp", args.index("--tmpfs"))
    binds = [i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 1].startswith("/tmp/")]
    # The outermost path only, after the tmpfs that would hide it.
    assert [args[i + 1] for i in binds] == ["/tmp/ci/main/.venv"]
    assert args[binds[0] + 2] == "/tmp/ci/main/.venv" and binds[0] > tmpfs
    assert "/usr/bin" not in args  # visible through the read-only root already


def test_runs_that_disagree_because_one_hit_a_limit_are_classified_by_the_limit():
    from case2code_hub.sandbox.pool import _disagreement

    assert _disagreement([("timeout", "Timeout: over 1s"), ("memory", "MemoryError: over 128 MB")]) == (
        "memory", "MemoryError: over 128 MB")
    assert _disagreement([("returned", "1"), ("timeout", "Timeout: over 1s")]) == ("timeout", "Timeout: over 1s")
    assert _disagreement([("crashed", "Crashed: SIGSEGV"), ("returned", "1")]) == ("crashed", "Crashed: SIGSEGV")
    assert _disagreement([("returned", "{'a', 'b'}"), ("returned", "{'b', 'a'}")]) == ("nondeterministic", "{'a', 'b'}")


def test_an_idle_worker_is_not_killed_for_silence_when_work_arrives_later():
    import time

    from case2code_hub.sandbox import Sandbox, SandboxConfig
    from case2code_hub.schema import ExecutionTask

    task = ExecutionTask(id="a", code="def f(x):\n    return x + 1\n", entry_point="f", inputs=["1", "2"])
    with Sandbox(SandboxConfig(workers=1, timeout=0.2, grace=0.05, load_timeout=0.2)) as sandbox:
        first = list(sandbox.run([task]))
        pids = sorted(z.proc.pid for z in sandbox._zygotes)
        time.sleep(1.6)  # longer than the watchdog (0.2 + 2 * 0.05 + 1.0 s) while idle
        second = list(sandbox.run([task]))
        assert sorted(z.proc.pid for z in sandbox._zygotes) == pids, "an idle worker was replaced"
    assert [c.output for c in first[0].cases] == [c.output for c in second[0].cases] == ["2", "3"]


def test_a_good_frame_is_handed_over_before_the_garbage_that_follows_it():
    # A child's 'armed' and the function's first garbage can arrive in one read: the zygote must see
    # 'armed' (the function ran: its fault) before the error, or it would blame its own set-up and
    # stop the whole run.
    import pytest

    from case2code_hub.sandbox import protocol

    buffer = protocol.FrameBuffer(max_size=1 << 20)
    frames = buffer.feed_with_bodies(protocol.encode({"k": "armed"}) + protocol.frame(b"not json"))
    assert next(frames)[0] == {"k": "armed"}
    with pytest.raises(protocol.ProtocolError):
        next(frames)
    split = protocol.encode_split({"k": "cases", "o": "rr"}, "v", ["1", "[2]"])
    assert protocol.FrameBuffer(max_size=1 << 20).feed(split) == [{"k": "cases", "o": "rr", "v": ["1", "[2]"], "~": [1, 3]}]
    # A plain frame that claims checked lengths: "~" is for split frames alone, or a child could
    # send outputs over the cap under lengths that pass the check.
    with pytest.raises(protocol.ProtocolError, match="may not carry"):
        protocol.FrameBuffer(max_size=1 << 20).feed(protocol.encode({"k": "cases", "o": "r", "v": ["x" * 50], "~": [1]}))
    # Lengths that do not add up to the text, a negative length, text that is not UTF-8.
    for lengths, text in (([1, 9], b"1[2]"), ([5, -1], b"1[2]"), ([2], b"\xff\xfe")):
        with pytest.raises(protocol.ProtocolError):
            protocol.FrameBuffer(max_size=1 << 20).feed(protocol.split_frame({"k": "cases"}, "v", lengths, text))
