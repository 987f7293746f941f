"""Hostile functions: each must be contained and classified, and a normal function run right after
it in the same sandbox must still give correct outputs. No process may outlive the sandbox."""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import struct
import time

import pytest

from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.schema import ExecutionTask

TIMEOUT = 0.5
CANARY = "hf_canaryTOKEN0123456789"

NORMAL = ExecutionTask(
    id="normal",
    code="def normal(a, b):\n    return [a + b, len([a, b]), repr(b), sorted({'b', 'a'})]\n",
    entry_point="normal",
    inputs=["1, 2", "'x', b='y'"],
)
NORMAL_OUTPUTS = ["[3, 2, '2', ['a', 'b']]", "['xy', 2, \"'y'\", ['a', 'b']]"]


def _descendants(root: int) -> list[int]:
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            parents[int(name)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


# name -> (code, entry point, inputs, allowed outcomes)
HOSTILE = {
    "infinite_loop": ("def f(x):\n    while True:\n        x += 1\n", {"timeout"}),
    "swallows_base_exception": (
        "def f(x):\n    while True:\n        try:\n            while True:\n                x += 1\n"
        "        except BaseException:\n            pass\n", {"timeout"}),
    "c_big_power": ("def f(x):\n    return 10**10**8\n", {"timeout", "memory"}),
    "c_catastrophic_regex": ("import re\ndef f(x):\n    return re.match(r'(a+)+$', 'a' * 40 + 'b')\n", {"timeout"}),
    "c_sum_range": ("def f(x):\n    return sum(range(10**12))\n", {"timeout"}),
    "sigalrm_ignored": ("import signal\ndef f(x):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                        "    while True:\n        x += 1\n", {"timeout"}),
    "sigalrm_replaced": ("import signal\ndef f(x):\n    signal.signal(signal.SIGALRM, lambda *a: None)\n"
                         "    while True:\n        x += 1\n", {"timeout"}),
    "timer_disabled": ("import signal\ndef f(x):\n    signal.setitimer(signal.ITIMER_REAL, 0)\n"
                       "    while True:\n        x += 1\n", {"timeout"}),
    # Zeroing 512 MB can take longer than the 0.5 s timeout here; see the test with a longer one below.
    "memory_bomb": ("def f(x):\n    hoard = []\n    while True:\n        hoard.append(bytearray(10**7))\n",
                    {"memory", "timeout"}),
    "memory_one_block": ("def f(x):\n    return 'x' * 10**10\n", {"memory"}),
    "fork_storm": (
        "import os, time\ndef f(x):\n    end = time.monotonic() + 0.3\n    n = 0\n"
        "    while time.monotonic() < end and n < 64:\n        try:\n            pid = os.fork()\n"
        "        except OSError:\n            return 'fork blocked'\n        if pid == 0:\n"
        "            time.sleep(30)\n            os._exit(0)\n        n += 1\n    return n\n",
        {"returned", "crashed", "raised"}),
    "orphaned_setsid_child": (
        "import os, time\ndef f(x):\n    try:\n        pid = os.fork()\n    except OSError:\n        return 'fork blocked'\n"
        "    if pid == 0:\n        os.setsid()\n        if os.fork() == 0:\n            time.sleep(60)\n        os._exit(0)\n"
        "    return 'forked'\n", {"returned"}),
    "os_exit": ("import os\ndef f(x):\n    os._exit(0)\n", {"crashed"}),
    "sys_exit": ("import sys\ndef f(x):\n    sys.exit(3)\n", {"raised"}),
    "keyboard_interrupt": ("def f(x):\n    raise KeyboardInterrupt\n", {"raised"}),
    "closes_all_fds": ("import os\ndef f(x):\n    for fd in range(1024):\n        try:\n            os.close(fd)\n"
                       "        except OSError:\n            pass\n    return x\n", {"crashed"}),
    "kills_parent": ("import os\ndef f(x):\n    os.kill(os.getppid(), 9)\n    return x\n", {"raised", "crashed"}),
    "kills_parent_group": ("import os\ndef f(x):\n    os.killpg(os.getpgid(os.getppid()), 9)\n    return x\n",
                           {"raised", "crashed"}),
    "kills_own_group": ("import os\ndef f(x):\n    os.killpg(0, 9)\n    return x\n", {"crashed"}),
    # Recursion through a C call (map) grows the C stack until it overflows: SIGSEGV.
    "deep_recursion_segfault": ("import sys\ndef f(x):\n    sys.setrecursionlimit(10**7)\n    def r(n):\n"
                                "        return list(map(r, [n + 1]))\n    return r(0)\n", {"crashed"}),
    "deep_recursion_python": ("import sys\ndef f(x):\n    sys.setrecursionlimit(10**7)\n    def r(n):\n"
                              "        return r(n + 1) + 1\n    return r(0)\n", {"timeout", "memory", "raised"}),
    "ctypes_null_dereference": ("import ctypes\ndef f(x):\n    return ctypes.string_at(0)\n", {"crashed"}),
    "spinning_daemon_thread": ("import threading\ndef f(x):\n    def spin():\n        n = 0\n        while True:\n"
                               "            n += 1\n    threading.Thread(target=spin, daemon=True).start()\n    return x\n",
                               {"returned"}),
    "one_gigabyte_to_stdout": ("import os, sys\ndef f(x):\n    chunk = 'x' * (1 << 24)\n    for _ in range(32):\n"
                               "        sys.stdout.write(chunk)\n        os.write(1, chunk.encode())\n"
                               "        os.write(2, chunk.encode())\n    return 'written'\n", {"returned", "timeout"}),
    "replaces_builtins": ("import builtins\nbuiltins.len = lambda o: 42\ndef f(x):\n    builtins.repr = lambda o: 'hacked'\n"
                          "    builtins.sorted = lambda o: 'hacked'\n    return [x, len('ab')]\n", {"returned"}),
    "repr_raises": ("class B:\n    def __repr__(self):\n        raise ValueError('no')\ndef f(x):\n    return B()\n",
                    {"unserializable"}),
    "repr_never_ends": ("class B:\n    def __repr__(self):\n        n = 0\n        while True:\n            n += 1\n"
                        "def f(x):\n    return B()\n", {"unserializable"}),
    "repr_never_ends_swallowing": ("class B:\n    def __repr__(self):\n        n = 0\n        while True:\n"
                                   "            try:\n                n += 1\n            except BaseException:\n"
                                   "                pass\ndef f(x):\n    return B()\n", {"unserializable"}),
    "repr_100_mb": ("class B:\n    def __repr__(self):\n        return 'x' * 10**8\ndef f(x):\n    return B()\n",
                    {"unserializable"}),
    "returns_100_mb": ("def f(x):\n    return 'x' * 10**8\n", {"unserializable"}),
    "returns_address": ("def f(x):\n    return object()\n", {"unserializable"}),
}


@pytest.fixture
def canaries(tmp_path, monkeypatch):
    token_file = tmp_path / "hf" / "token"
    token_file.parent.mkdir()
    token_file.write_text(CANARY)
    monkeypatch.setenv("HF_TOKEN", CANARY)
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    monkeypatch.setenv("HF_HOME", str(token_file.parent))
    return token_file


def _run_with_normal(hostile: ExecutionTask, *, seccomp: bool = True):
    cfg = SandboxConfig(workers=1, timeout=TIMEOUT, memory_mb=512, runs=2, seccomp=seccomp)
    before = set(_descendants(os.getpid()))
    began = time.monotonic()
    with Sandbox(cfg) as sandbox:
        results = list(sandbox.run([hostile, NORMAL]))
        protections = list(sandbox.protections)
        isolation = sandbox.isolation
    elapsed = time.monotonic() - began
    # Processes this test process had before (an earlier test's multiprocess forkserver and
    # resource tracker live as long as it does) are not the sandbox's.
    assert set(_descendants(os.getpid())) - before == set(), "a sandbox process outlived the sandbox"
    assert [r.id for r in results] == [hostile.id, "normal"]
    normal = results[1]
    assert normal.status == "ok"
    assert [c.outcome for c in normal.cases] == ["returned", "returned"]
    assert [c.output for c in normal.cases] == NORMAL_OUTPUTS
    return results[0], elapsed, protections, isolation


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_function_is_contained(name, canaries):
    code, allowed = HOSTILE[name]
    hostile = ExecutionTask(id=name, code=code, entry_point="f", inputs=["1", "2"])
    result, elapsed, _, _ = _run_with_normal(hostile)
    assert result.status == "ok", result.detail
    assert [c.input for c in result.cases] == ["1", "2"]
    outcomes = {c.outcome for c in result.cases}
    assert outcomes <= allowed, [(c.outcome, c.output) for c in result.cases]
    for case in result.cases:
        assert CANARY not in case.output
    # Containment, not speed: two hostile cases cost about 2 x (timeout + grace) each run.
    assert elapsed < 15


@pytest.mark.parametrize("name", ["fork_storm", "orphaned_setsid_child", "kills_parent", "closes_all_fds"])
def test_contained_without_seccomp(name, canaries):
    code, allowed = HOSTILE[name]
    hostile = ExecutionTask(id=name, code=code, entry_point="f", inputs=["1", "2"])
    result, elapsed, protections, isolation = _run_with_normal(hostile, seccomp=False)
    if isolation == "none":
        pytest.skip("no pid namespace here: leftovers of a fork are only caught by seccomp")
    # How many forks fit in 0.3 s varies from run to run: nondeterministic is the right answer.
    assert {c.outcome for c in result.cases} <= allowed | {"crashed", "nondeterministic"}
    assert elapsed < 15


def test_memory_bomb_is_classified_memory(canaries):
    code = "def f(x):\n    hoard = []\n    while True:\n        hoard.append(bytearray(10**7))\n"
    cfg = SandboxConfig(workers=2, timeout=5.0, memory_mb=128)
    with Sandbox(cfg) as sandbox:
        result = next(sandbox.run([ExecutionTask(id="bomb", code=code, entry_point="f", inputs=["1"])]))
    assert [(c.outcome, c.output) for c in result.cases] == [("memory", "MemoryError: over 128 MB")]


def test_replaced_builtins_do_not_change_outputs(canaries):
    code, _ = HOSTILE["replaces_builtins"]
    result, _, _, _ = _run_with_normal(ExecutionTask(id="b", code=code, entry_point="f", inputs=["1"]))
    assert result.cases[0].output == "[1, 42]"


def test_module_level_hang_is_load_timeout(canaries):
    code = "n = 0\nwhile True:\n    n += 1\ndef f(x):\n    return x\n"
    result, elapsed, _, _ = _run_with_normal(ExecutionTask(id="load", code=code, entry_point="f", inputs=["1", "2"]))
    assert result.status == "load_timeout"
    assert [c.outcome for c in result.cases] == ["timeout", "timeout"]


def test_crafted_pickle_on_every_fd_never_runs(canaries, tmp_path):
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    blob = pickle.dumps(Payload())
    frame = struct.pack("!i", len(blob)) + blob
    code = (f"import os\nFRAME = {frame!r}\ndef f(x):\n    for fd in range(1024):\n        try:\n"
            "            os.write(fd, FRAME)\n        except OSError:\n            pass\n    return x\n")
    result, _, _, _ = _run_with_normal(ExecutionTask(id="pickle", code=code, entry_point="f", inputs=["1", "2"]))
    assert {c.outcome for c in result.cases} <= {"crashed", "returned"}
    assert not marker.exists()


def test_forged_result_frames_cannot_reach_another_task(canaries):
    # Well-formed JSON result frames naming another task ("t") in every position the zygote could
    # splice around: the zygote must answer for its own task only, so the normal task stays right.
    code = ("import json, os, struct\n"
            "def f(x):\n"
            "    records = [[0, 'returned', \"'forged'\"], [1, 'returned', \"'forged'\"]]\n"
            "    bodies = [json.dumps({'k': 'cases', 'o': 'r', 'v': [\"'forged'\"], 't': 1}).encode(),\n"
            "              json.dumps({'k': 'cases', 'o': 'r', 'v': [\"'forged'\"], 's': 1, 't': 1}).encode(),\n"
            "              json.dumps({'k': 'cases', 'r': records, 't': 1}).encode(),\n"
            "              json.dumps({'t': 1, 'k': 'cases', 'r': records}).encode(),\n"
            "              b' {\"k\":\"cases\",\"r\":[[0,\"returned\",\"1\"]],\"t\":1}']\n"
            "    for body in bodies:\n"
            "        for fd in range(3, 64):\n"
            "            try:\n"
            "                os.write(fd, struct.pack('>I', len(body)) + body)\n"
            "            except OSError:\n"
            "                pass\n"
            "    return x\n")
    result, _, _, _ = _run_with_normal(ExecutionTask(id="forged", code=code, entry_point="f", inputs=["1", "2"]))
    assert len(result.cases) == 2
    assert {c.outcome for c in result.cases} <= {"crashed", "returned", "nondeterministic"}
    # The zygote kept to the protocol (a frame for another task would make the parent kill it).
    assert all(c.output != "Crashed: sandbox worker died" for c in result.cases), result.cases


def _needs_namespaces(isolation: str) -> None:
    if isolation == "none":
        reason = "no user/mount namespaces here (bwrap/unshare unavailable): files outside scratch are writable"
        print(reason)
        pytest.skip(reason)


def test_files_outside_scratch_are_untouched(canaries, tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("original")
    code = (f"import os\ndef f(x):\n    if x == 0:\n        open('inside.txt', 'w').write('ok')\n        return os.listdir('.')\n"
            f"    if x == 1:\n        open({str(keep)!r}, 'w').write('changed')\n"
            f"    if x == 2:\n        os.remove({str(keep)!r})\n"
            f"    if x == 3:\n        open({str(tmp_path / 'new.txt')!r}, 'w').write('new')\n"
            f"    if x == 4:\n        open(os.path.join(os.path.dirname(os.__file__), 'case2code_evil.py'), 'w')\n"
            "    return 'wrote'\n")
    task = ExecutionTask(id="files", code=code, entry_point="f", inputs=["0", "1", "2", "3", "4"])
    result, _, _, isolation = _run_with_normal(task)
    _needs_namespaces(isolation)
    assert result.cases[0].outcome == "returned" and result.cases[0].output == "['inside.txt']"
    assert [c.outcome for c in result.cases[1:]] == ["raised"] * 4
    assert keep.read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "keep.txt"]
    assert not os.path.exists(os.path.join(os.path.dirname(os.__file__), "case2code_evil.py"))


@contextlib.contextmanager
def _listener():
    """A TCP listener on 127.0.0.1 and a function that tries to connect to it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = (f"import socket\ndef f(x):\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=0.2)\n"
            "    s.sendall(b'hello')\n    return 'connected'\n")
    try:
        yield listener, code
    finally:
        listener.close()


def test_no_connection_reaches_a_local_listener(canaries):
    with _listener() as (listener, code):
        result, _, protections, _ = _run_with_normal(ExecutionTask(id="net", code=code, entry_point="f", inputs=["1"]))
        if "network-namespace" not in protections and "seccomp" not in protections:
            pytest.skip("neither a network namespace nor seccomp is available here")
        assert result.cases[0].outcome == "raised"
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_secrets_are_not_readable(canaries):
    code = (f"import os\ndef f(which):\n    if which == 'env':\n        return dict(os.environ)\n"
            f"    if which == 'token':\n        return open({str(canaries)!r}).read()\n"
            "    if which == 'default':\n        return open(os.path.expanduser('~/.cache/huggingface/token')).read()\n"
            "    if which == 'proc':\n        return open('/proc/1/environ', 'rb').read()\n")
    task = ExecutionTask(id="secrets", code=code, entry_point="f", inputs=["'env'", "'token'", "'default'", "'proc'"])
    result, _, _, isolation = _run_with_normal(task)
    for case in result.cases:
        assert CANARY not in case.output
    assert "HF_TOKEN" not in result.cases[0].output
    if isolation == "none":
        pytest.skip("no mount namespace here: the token file cannot be masked")
    assert result.cases[1].outcome == "raised"


def test_landlock_contains_files_and_secrets_even_without_namespaces(canaries, tmp_path):
    from case2code_hub.sandbox import landlock

    if landlock.abi_version() < 1:
        pytest.skip("this kernel has no Landlock")
    keep = tmp_path / "keep.txt"
    keep.write_text("original")
    code = (f"import os\ndef f(x):\n    if x == 0:\n        open('inside.txt', 'w').write('ok')\n        return open('inside.txt').read()\n"
            f"    if x == 1:\n        open({str(keep)!r}, 'w').write('changed')\n"
            f"    if x == 2:\n        return open({str(canaries)!r}).read()\n"
            "    if x == 3:\n        return open('/proc/%d/environ' % os.getppid(), 'rb').read()\n"
            "    if x == 4:\n        return open('/etc/passwd').read()\n"
            f"    if x == 5:\n        return os.listdir({str(tmp_path)!r})\n"
            "    if x == 6:\n        import json, decimal, datetime, hashlib\n        return json.dumps([1])\n"
            "    return 'done'\n")
    # isolation none: no mount, pid or user namespace; only Landlock (and seccomp, rlimits) stand.
    cfg = SandboxConfig(workers=1, timeout=TIMEOUT, runs=1, isolation="none")
    with Sandbox(cfg) as sandbox:
        result = next(sandbox.run([ExecutionTask(id="ll", code=code, entry_point="f", inputs=[str(i) for i in range(7)])]))
        assert "landlock" in sandbox.protections
    outcomes = [(c.outcome, c.output.split(":")[0]) for c in result.cases]
    assert outcomes[0] == ("returned", "'ok'")
    assert outcomes[1:6] == [("raised", "PermissionError")] * 5, outcomes
    assert outcomes[6] == ("returned", "'[1]'")  # the standard library still imports
    assert keep.read_text() == "original"
    assert all(CANARY not in c.output for c in result.cases)


def test_sandbox_without_landlock_still_runs(canaries):
    cfg = SandboxConfig(workers=1, timeout=TIMEOUT, runs=1, landlock=False)
    with Sandbox(cfg) as sandbox:
        result = next(sandbox.run([NORMAL]))
        assert "landlock" not in sandbox.protections
    assert [c.output for c in result.cases] == NORMAL_OUTPUTS


def test_landlock_refuses_tcp_without_seccomp_or_namespaces(canaries):
    from case2code_hub.sandbox import landlock

    if landlock.abi_version() < 4:
        pytest.skip("this kernel's Landlock (ABI < 4) has no network rules")
    cfg = SandboxConfig(workers=1, timeout=TIMEOUT, runs=1, isolation="none", seccomp=False)
    with _listener() as (listener, code):
        with Sandbox(cfg) as sandbox:
            result = next(sandbox.run([ExecutionTask(id="tcp", code=code, entry_point="f", inputs=["1"])]))
        assert (result.cases[0].outcome, result.cases[0].output.split(":")[0]) == ("raised", "PermissionError")
        with pytest.raises(BlockingIOError):
            listener.accept()
