"""The sandbox on every isolation path this machine offers (bwrap, unshare, none), with several
workers: private scratch folders, our own failures kept apart from the function's, CPU-time limits.

A user who runs ``pip install`` gets the fallback (no bubblewrap); these tests run each path that
works here, and say which ones they could not.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import pytest

from case2code_hub.errors import SandboxError
from case2code_hub.sandbox import Sandbox, SandboxConfig, isolation
from case2code_hub.schema import ExecutionTask

MODES = ("bwrap", "unshare", "none")


def _usable(mode: str) -> str | None:
    """Why ``mode`` cannot run here, or None."""
    try:
        isolation.choose(mode, scratch_mb=64)
    except SandboxError as exc:
        return str(exc)
    return None


@pytest.fixture(params=MODES)
def mode(request) -> str:
    why = _usable(request.param)
    if why:
        pytest.skip(f"isolation {request.param} is not available on this machine: {why}")
    return request.param


# Each call writes a file named for its input into its working directory, waits, and lists the
# directory: a child that shared its folder with another would see the other's file, or find its
# folder removed under it (the child then cannot even start).
SCRATCH_PROBE = ExecutionTask(
    id="probe", entry_point="f", inputs=[],
    code=("import os, time\n"
          "def f(n):\n"
          "    open(f'mark-{n}', 'w').close()\n"
          "    time.sleep(0.002)\n"
          "    return sorted(name for name in os.listdir('.') if name.startswith('mark-'))\n"))


def test_children_never_share_a_scratch_folder(mode):
    tasks = [ExecutionTask(id=f"probe{t}", code=SCRATCH_PROBE.code, entry_point="f", inputs=[str(t)] * 3)
             for t in range(40)]
    with Sandbox(SandboxConfig(workers=2, runs=2, isolation=mode, timeout=2.0)) as sandbox:
        assert sandbox.isolation == mode
        results = list(sandbox.run(tasks))
    for t, result in enumerate(results):
        assert result.status == "ok", result.detail
        assert [(c.outcome, c.output) for c in result.cases] == [("returned", f"['mark-{t}']")] * 3


def _host_scratch(sandbox: Sandbox) -> str:
    root = sandbox._scratch_host
    assert root and os.path.isdir(root)
    return root


def test_a_failed_set_up_is_retried_and_never_becomes_an_outcome(mode):
    if mode == "bwrap":
        pytest.skip("under bwrap the scratch folders live in the worker's private /tmp, out of the test's reach")
    task = ExecutionTask(id="sum", code="def f(a, b):\n    return a + b\n", entry_point="f", inputs=["1, 2", "3, 4"])
    with Sandbox(SandboxConfig(workers=1, runs=1, isolation=mode)) as sandbox:
        # The first child's folder name is taken by a stale file: making that folder fails in the
        # worker (our set-up, before any code runs); the next child gets the next name and runs.
        (zygote_root,) = [os.path.join(_host_scratch(sandbox), name) for name in os.listdir(_host_scratch(sandbox))]
        open(os.path.join(zygote_root, "f1"), "w").close()
        (result,) = list(sandbox.run([task]))
    assert result.status == "ok"
    assert [(c.outcome, c.output) for c in result.cases] == [("returned", "3"), ("returned", "7")]


def test_a_set_up_that_keeps_failing_stops_the_run_with_one_clear_error(mode):
    if mode == "bwrap":
        pytest.skip("under bwrap the scratch folders live in the worker's private /tmp, out of the test's reach")
    task = ExecutionTask(id="sum", code="def f(a, b):\n    return a + b\n", entry_point="f", inputs=["1, 2"])
    with Sandbox(SandboxConfig(workers=1, runs=1, isolation=mode)) as sandbox:
        shutil.rmtree(_host_scratch(sandbox))  # a /tmp cleaner took the whole scratch space
        with pytest.raises(SandboxError, match="twice in a row.*scratch directory.*FileNotFoundError"):
            list(sandbox.run([task]))


def test_the_child_reports_a_failed_set_up_in_words(tmp_path):
    """The child side: a scratch folder it cannot enter is named in its frame, before any user code."""
    from case2code_hub.sandbox import protocol, runner

    read_fd, write_fd = os.pipe()
    settings = {"memory_mb": 512, "file_mb": 16, "timeout": 1.0, "output_cap": 100, "coverage_run": False}
    ran = tmp_path / "ran"
    task = {"code": f"open({str(ran)!r}, 'w').close()\ndef f():\n    return 1\n", "entry_point": "f", "inputs": [""]}
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        runner.child_main(task, todo=[0], flush_through=-1, result_fd=write_fd, progress=[0] * runner.PROGRESS_SLOTS,
                          scratch=str(tmp_path / "missing"), settings=settings, seccomp_filter=None)
    os.close(write_fd)
    message = protocol.read_frame(read_fd, max_size=1 << 20)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == runner.EXIT_SETUP
    assert message["k"] == "setup_failed"
    assert "chdir into the scratch directory" in message["detail"] and "FileNotFoundError" in message["detail"]
    assert not ran.exists()  # the module code never ran


def test_a_worker_killed_under_a_task_has_the_task_run_again(mode):
    """A worker can die for reasons of its own (the OOM killer): its task is rerun, not 'crashed'."""
    code = "import time\ndef f(x):\n    time.sleep(0.05)\n    return x * 2\n"
    tasks = [ExecutionTask(id=f"t{i}", code=code, entry_point="f", inputs=[str(n) for n in range(10)]) for i in range(3)]
    with Sandbox(SandboxConfig(workers=1, runs=2, isolation=mode)) as sandbox:
        victim = sandbox._zygotes[0].proc.pid

        def kill_soon() -> None:
            time.sleep(0.2)
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_soon)
        killer.start()
        results = list(sandbox.run(tasks))
        killer.join()
        assert victim not in [z.proc.pid for z in sandbox._zygotes]  # it was really killed and replaced
    for result in results:
        assert result.status == "ok", result.detail
        assert [(c.outcome, c.output) for c in result.cases] == [("returned", str(2 * n)) for n in range(10)]


def test_the_limit_is_cpu_time_with_a_wall_clock_backstop(mode):
    code = ("import time\n"
            "def f(kind):\n"
            "    if kind == 'nap':\n        time.sleep(0.6)\n        return 'woke'\n"
            "    if kind == 'sleep':\n        time.sleep(60)\n"
            "    if kind == 'spin':\n        while True:\n            pass\n")
    cfg = SandboxConfig(workers=1, runs=2, isolation=mode, timeout=0.4, wall_factor=5.0)
    task = ExecutionTask(id="limits", code=code, entry_point="f", inputs=["'nap'", "'sleep'", "'spin'"])
    with Sandbox(cfg) as sandbox:
        (result,) = list(sandbox.run([task]))
    got = [(c.outcome, c.output) for c in result.cases]
    # A 0.6 s sleep uses no CPU: over the 0.4 s limit in wall time, but it returns.
    assert got[0] == ("returned", "'woke'")
    # The sleeper is ended by the backstop (5 x 0.4 s), the spinner by its CPU time.
    assert got[1:] == [("timeout", "Timeout: no result within 0.4 s")] * 2


@pytest.mark.timeout(60)
def test_a_call_stuck_in_c_ends_near_its_cpu_limit_not_at_the_backstop(mode):
    # Backtracking inside the regex engine never returns to the interpreter, so the child's own
    # timer cannot end it: the worker reads the child's CPU time. The backstop here is 200 x 0.3 s
    # = 60 s: were the CPU time not read, the test would run into its timeout.
    code = "import re\ndef f(n):\n    return re.match(r'(a+)+$', 'a' * n + 'b')\n"
    cfg = SandboxConfig(workers=1, runs=1, isolation=mode, timeout=0.3, wall_factor=200.0)
    with Sandbox(cfg) as sandbox:
        (result,) = list(sandbox.run([ExecutionTask(id="regex", code=code, entry_point="f", inputs=["3", "60"])]))
    assert [(c.outcome, c.output) for c in result.cases] == [("returned", "None"),
                                                             ("timeout", "Timeout: no result within 0.3 s")]


def test_isolation_default_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CASE2CODE_SANDBOX_ISOLATION", "none")
    assert SandboxConfig().isolation == "none"
    monkeypatch.setenv("CASE2CODE_SANDBOX_ISOLATION", "docker")
    from case2code_hub.errors import ConfigError

    with pytest.raises(ConfigError, match="CASE2CODE_SANDBOX_ISOLATION"):
        SandboxConfig()
    monkeypatch.delenv("CASE2CODE_SANDBOX_ISOLATION")
    assert SandboxConfig().isolation == "auto"


def test_a_busy_machine_does_not_turn_returns_into_timeouts(mode):
    # Each call computes for 0.15 s of CPU (measured by itself, so the same on any machine), under
    # a 0.3 s limit, while two CPU-bound processes compete with the four workers for the cores: a
    # call then takes about three times its CPU time in wall time. A wall-clock limit would end it.
    import subprocess
    import sys

    code = ("import time\n"
            "def f(n):\n"
            "    began = time.process_time()\n"
            "    while time.process_time() - began < 0.15:\n        pass\n"
            "    return n\n")
    tasks = [ExecutionTask(id=f"busy{t}", code=code, entry_point="f", inputs=[str(t), str(t + 1)]) for t in range(4)]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        with Sandbox(SandboxConfig(workers=2, runs=2, isolation=mode, timeout=0.3)) as sandbox:
            results = list(sandbox.run(tasks))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    for t, result in enumerate(results):
        assert [(c.outcome, c.output) for c in result.cases] == [("returned", str(t)), ("returned", str(t + 1))]


# A module-level counter shows which child ran a call: a child kept between rounds goes on
# counting; a fresh one starts again at 1.
COUNTER = "calls = [0]\ndef f(x):\n    calls[0] += 1\n    return calls[0]\n"


def _round(key: str | None, inputs: list[str], code: str = COUNTER) -> ExecutionTask:
    return ExecutionTask(id="counter", code=code, entry_point="f", inputs=inputs, coverage=True, operands=True,
                         session=key)


def _outputs(result) -> list[str]:
    return [case.output if case.outcome == "returned" else case.outcome for case in result.cases]


def _sessions_or_skip(sandbox: Sandbox) -> None:
    if "seccomp" not in sandbox.protections:
        pytest.skip("sessions need seccomp, which this machine's sandbox lacks: every round runs in a fresh child")


def test_a_session_keeps_its_function_loaded_between_rounds_on_one_worker(mode):
    with Sandbox(SandboxConfig(workers=2, runs=1, isolation=mode, timeout=1.0)) as sandbox:
        _sessions_or_skip(sandbox)
        # Two sessions interleaved over two workers: each one's rounds reach its own child.
        tasks = [_round(f"s{i % 2}", ["1", "2"]) for i in range(6)]
        outputs = [_outputs(r) for r in sandbox.run(tasks)]
        assert outputs == [["1", "2"], ["1", "2"], ["3", "4"], ["3", "4"], ["5", "6"], ["5", "6"]]
        # Without a key, or once closed, a round starts in a fresh child.
        assert _outputs(next(sandbox.run([_round(None, ["1"])]))) == ["1"]
        sandbox.close_session("s0")
        assert [_outputs(r) for r in sandbox.run([_round("s0", ["1"]), _round("s1", ["1"])])] == [["1"], ["7"]]


def test_a_session_round_that_times_out_or_crashes_goes_on_in_a_fresh_child(mode):
    code = ("import os, signal\ncalls = [0]\ndef f(x):\n    calls[0] += 1\n    if x == 'deaf':\n"
            "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    if x in ('spin', 'deaf'):\n        while True:\n"
            "            pass\n    if x == 'die':\n        os._exit(9)\n    return calls[0]\n")
    # A generous limit: a busy machine must not turn the quick calls into timeouts.
    with Sandbox(SandboxConfig(workers=2, runs=1, isolation=mode, timeout=1.0)) as sandbox:
        _sessions_or_skip(sandbox)
        rounds = [["'a'", "'b'"], ["'c'", "'spin'", "'d'"], ["'e'", "'deaf'", "'f'"], ["'g'"], ["'die'", "'h'"], ["'i'"]]
        outputs = [_outputs(r) for r in sandbox.run([_round("k", inputs, code) for inputs in rounds])]
    # A spin is stopped by the child's own timer and the child goes on (as any child does). One
    # that silenced that timer is killed by the worker: as for any child, the cases it had not
    # reported yet ('e' and 'f') run again in a fresh child, whose count starts again, and the
    # later rounds go to that child. A death is pinned on its case the same way.
    assert outputs == [["1", "2"], ["3", "timeout", "5"], ["1", "timeout", "2"], ["3"], ["crashed", "1"], ["2"]]


def test_a_session_child_that_went_away_between_rounds_is_replaced_not_blamed(mode):
    # A thread the call left behind ends the process a moment after the round.
    code = ("import os, threading\ncalls = [0]\ndef f(x):\n    calls[0] += 1\n    if x == 'quit':\n"
            "        threading.Timer(0.05, os._exit, (0,)).start()\n    return calls[0]\n")
    with Sandbox(SandboxConfig(workers=1, runs=1, isolation=mode, timeout=1.0)) as sandbox:
        _sessions_or_skip(sandbox)
        first = _outputs(next(sandbox.run([_round("k", ["'a'", "'quit'"], code)])))
        time.sleep(2.0)  # forty times the timer's delay: gone even on a busy machine
        second = _outputs(next(sandbox.run([_round("k", ["'b'", "'c'"], code)])))
    assert first == ["1", "2"] and second == ["1", "2"]


def test_objects_sit_at_the_same_place_in_every_run_and_under_every_isolation():
    # A set of classes iterates in an order that follows their addresses (statistics' "don't know
    # how to coerce Decimal and Fraction" names them in that order). With address randomisation a
    # four-class set came out in one of two orders at random, from one start of a zygote to the
    # next; zygotes now start without it, with one command and environment under every mode, and
    # read their settings after their imports.
    import ctypes

    from case2code_hub.sandbox.isolation import ADDR_NO_RANDOMIZE

    # The zygote's objects (the classes of the modules it preloads) are what fixed addresses pin;
    # an object the child makes when it loads the function (``f`` itself) is placed by the child's
    # own heap, which nothing pins: a full CI run found id(f) apart between starts.
    code = ("import collections, decimal, fractions\n"
            "def f(x):\n"
            "    return [id(fractions.Fraction),\n"
            "            [c.__name__ for c in {fractions.Fraction, decimal.Decimal, collections.OrderedDict, f.__class__}]]\n")
    personality = ctypes.CDLL(None).personality
    before = personality(0xFFFFFFFF)
    seen = {}
    for mode in MODES:
        if _usable(mode):
            continue
        for start in range(3):
            with Sandbox(SandboxConfig(workers=1, runs=2, isolation=mode)) as sandbox:
                (result,) = sandbox.run([ExecutionTask(id="where", code=code, entry_point="f", inputs=["1"])])
            # Every start agrees, under every isolation.
            seen[(mode, start)] = (result.cases[0].outcome, result.cases[0].output)
    assert personality(0xFFFFFFFF) == before  # the pipeline's own process is left as it was
    if before & ADDR_NO_RANDOMIZE == 0 and personality(before | ADDR_NO_RANDOMIZE) < 0:
        pytest.skip("this kernel refuses personality(ADDR_NO_RANDOMIZE): addresses stay random here")
    personality(before)
    print(f"modes compared: {sorted({mode for mode, _ in seen})}")
    assert len(set(seen.values())) == 1, seen
    # Whether the two hash-seed zygotes also put these objects at the same addresses is not in our
    # hands: usually they do ("returned"), but one CI run of the whole suite found them apart in
    # every start. Then the outputs that show addresses are "nondeterministic", and dropped.
    assert next(iter(seen.values()))[0] in ("returned", "nondeterministic")


ORDER_OF_TYPES = """
import sys
from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.schema import ExecutionTask

# Twenty classes of the modules the zygote preloads: the order of a set of them follows more bits
# of their addresses than a set of four does, so a shifted heap shows.
code = (
    "import collections, datetime, decimal, enum, fractions, json, random, re, statistics, string, textwrap\\n"
    "def f(data):\\n"
    "    types = {type(x) for x in data}\\n"
    "    types |= {collections.OrderedDict, collections.deque, collections.Counter, collections.defaultdict,\\n"
    "              datetime.date, datetime.datetime, datetime.timedelta, enum.Enum, json.JSONDecoder, re.Pattern,\\n"
    "              string.Template, textwrap.TextWrapper, random.Random, statistics.NormalDist, decimal.Context,\\n"
    "              collections.ChainMap}\\n"
    "    return [t.__name__ for t in types]\\n"
)
with Sandbox(SandboxConfig(workers=1, runs=2)) as sandbox:
    (result,) = sandbox.run([ExecutionTask(id="t", code=code, entry_point="f",
                                           inputs=["[fractions.Fraction(0, 1), decimal.Decimal('7'), 1, 2.5]"])])
import case2code_hub
print(result.cases[0].outcome, result.cases[0].output, case2code_hub.__file__)
"""


def test_outputs_that_follow_addresses_do_not_depend_on_bytecode_files_our_code_or_the_install(tmp_path):
    """A set of classes iterates in an order that follows their addresses, which follow the
    zygote's heap layout. It used to follow what came before the warm imports: our modules from
    source or from .pyc files, their size, the install's site-packages and paths. Now the zygote
    imports the warm modules first (``zygote.BOOTSTRAP``), so the same Python gives the same order
    from bare sources, with .pyc files, from a copy whose code is larger and sits elsewhere, and
    from this checkout."""
    import subprocess
    import sys

    def copy_package(where):
        shutil.copytree(isolation.package_root() + "/case2code_hub", where / "case2code_hub",
                        ignore=shutil.ignore_patterns("__pycache__"))
        return where

    def output(package) -> str:
        # The calling process writes no .pyc either: only the sandbox's own compilation can.
        env = {**os.environ, "PYTHONPATH": str(package), "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, "-c", ORDER_OF_TYPES], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        said, _, where = done.stdout.strip().rpartition(" ")
        assert where.startswith(str(package)), where  # the copy ran, not this checkout
        return said

    package = copy_package(tmp_path / "pkg")
    # From bare sources: the sandbox compiles the package before its zygotes start (they write no
    # .pyc themselves), so they load every module of ours as a pip-installed copy does.
    outputs = [output(package)]
    compiled = package / "case2code_hub" / "sandbox" / "__pycache__"
    for module in ("zygote", "runner", "canonical", "protocol"):
        assert list(compiled.glob(f"{module}.*.pyc")), module
    # Then with the .pyc files already there, and with every one compiled afresh.
    outputs.append(output(package))
    subprocess.run([sys.executable, "-m", "compileall", "-f", "-q", str(package)], check=True, timeout=120)
    outputs.append(output(package))
    # A copy elsewhere whose modules are larger: another version of our code, another install.
    larger = copy_package(tmp_path / "another" / "install" / "of" / "the" / "package")
    for module in ("sandbox/runner.py", "literals.py"):
        with open(larger / "case2code_hub" / module, "a") as handle:
            handle.write("\n".join(f"\ndef _padding_{i}(x):\n    return [x, {i}, {{'k': x}}]\n" for i in range(300)))
    outputs.append(output(larger))
    assert outputs[0].startswith("returned ['")
    assert outputs == [outputs[0]] * 4
