"""Benchmark the sandbox against (a) an unsandboxed single-process loop and (c) a process per call.

The workload is hand-picked pure standard-library functions (their source read with ``inspect``,
run with their module's globals) and seeded random inputs. Run with the project venv:

    .venv/bin/python scripts/bench_sandbox.py [--inputs 3000] [--workers 2] [--sample 60]

Prints pool start time, both throughputs, ``sandbox/loop throughput ratio = X`` (goal >= 1.5 on
2 cores) and ``sandbox/process-per-call throughput ratio = Y`` (goal >= 300).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import random
import signal
import subprocess
import sys
import textwrap
import time

from case2code_hub import literals
from case2code_hub.sandbox import Sandbox, SandboxConfig
from case2code_hub.sandbox.canonical import Unserializable, canonical_repr
from case2code_hub.schema import ExecutionTask

WORDS = ["alpha", "Beta", "gamma  delta", "  indented", "tab\there", "<b>&'\"", "a/b/../c", "x.tar.gz", "*.py", "[a-z]?"]


def _word(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def _path(rng: random.Random) -> str:
    parts = [rng.choice(["usr", "..", ".", "lib", "x.py", "", "a b"]) for _ in range(rng.randint(1, 6))]
    return ("/" if rng.random() < 0.5 else "") + "/".join(parts)


def _unit(rng: random.Random) -> float:
    return round(rng.random(), 3)


# (module, function, input maker)
FUNCTIONS = [
    ("colorsys", "rgb_to_hsv", lambda r: (_unit(r), _unit(r), _unit(r))),
    ("colorsys", "hsv_to_rgb", lambda r: (_unit(r), _unit(r), _unit(r))),
    ("colorsys", "rgb_to_hls", lambda r: (_unit(r), _unit(r), _unit(r))),
    ("colorsys", "hls_to_rgb", lambda r: (_unit(r), _unit(r), _unit(r))),
    ("colorsys", "rgb_to_yiq", lambda r: (_unit(r), _unit(r), _unit(r))),
    ("posixpath", "normpath", lambda r: (_path(r),)),
    ("posixpath", "splitext", lambda r: (_path(r),)),
    ("posixpath", "basename", lambda r: (_path(r),)),
    ("posixpath", "join", lambda r: (_path(r), _path(r))),
    ("html", "escape", lambda r: (_word(r),)),
    ("string", "capwords", lambda r: (_word(r),)),
    ("textwrap", "dedent", lambda r: ("\n".join(_word(r) for _ in range(3)),)),
    ("textwrap", "shorten", lambda r: (_word(r) * 3, r.randint(10, 40))),
    ("fnmatch", "translate", lambda r: (_word(r),)),
    ("json.encoder", "py_encode_basestring", lambda r: (_word(r),)),
    ("calendar", "isleap", lambda r: (r.randint(1, 3000),)),
    ("calendar", "leapdays", lambda r: (r.randint(1, 2000), r.randint(2000, 4000))),
    ("heapq", "nlargest", lambda r: (r.randint(0, 5), [r.randint(-50, 50) for _ in range(r.randint(0, 12))])),
]


def make_tasks(inputs_per_function: int, seed: int) -> list[ExecutionTask]:
    rng = random.Random(seed)
    tasks = []
    for module_name, name, maker in FUNCTIONS:
        fn = getattr(importlib.import_module(module_name), name)
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):  # implemented in C on this build: no source to run
            continue
        # The function's own source, run with its module's globals (helpers, constants, imports).
        code = (f"import {module_name} as _module\n"
                "globals().update({k: v for k, v in vars(_module).items() if not k.startswith('__')})\n" + source)
        inputs = [literals.format_arguments(list(maker(rng))) for _ in range(inputs_per_function)]
        tasks.append(ExecutionTask(id=f"{module_name}.{name}", code=code, entry_point=name, inputs=inputs))
    return tasks


class _LoopTimeout(BaseException):
    pass


def run_loop(tasks: list[ExecutionTask], *, runs: int, timeout: float) -> list[list[tuple[str, str]]]:
    """Baseline (a): one process, no isolation, a periodic timer guarding each call, the same repr."""
    deadline = [float("inf")]

    def on_alarm(signum, frame):
        if time.monotonic() > deadline[0]:
            raise _LoopTimeout()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
    outputs = []
    try:
        for task in tasks:
            per_run = []
            for _ in range(runs):
                namespace: dict = {"__name__": "bench"}
                exec(compile(task.code, "<function>", "exec"), namespace)
                fn = namespace[task.entry_point]
                results = []
                for source in task.inputs:
                    args, kwargs = literals.parse_arguments(source)
                    deadline[0] = time.monotonic() + timeout
                    try:
                        value = fn(*args, **kwargs)
                        try:
                            results.append(("returned", canonical_repr(value)))
                        except Unserializable as exc:
                            results.append(("unserializable", str(exc)))
                    except _LoopTimeout:
                        results.append(("timeout", ""))
                    except Exception as exc:
                        results.append(("raised", f"{type(exc).__name__}: {exc}"))
                    deadline[0] = float("inf")
                per_run.append(results)
            outputs.append(per_run[0])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
    return outputs


_PER_CALL = r"""
import sys, json
from case2code_hub import literals
from case2code_hub.sandbox.canonical import canonical_repr
job = json.loads(sys.stdin.read())
namespace = {"__name__": "bench"}
exec(job["code"], namespace)
args, kwargs = literals.parse_arguments(job["input"])
print(canonical_repr(namespace[job["entry_point"]](*args, **kwargs)))
"""


def run_process_per_call(tasks: list[ExecutionTask], *, sample: int) -> tuple[int, float]:
    """Baseline (c): a fresh interpreter per call (as human-eval-style executors do), on a sample."""
    import json

    calls = [(task, source) for task in tasks for source in task.inputs[:1]]
    calls = (calls * (sample // len(calls) + 1))[:sample]
    began = time.perf_counter()
    for task, source in calls:
        job = json.dumps({"code": task.code, "entry_point": task.entry_point, "input": source})
        subprocess.run([sys.executable, "-c", _PER_CALL], input=job, capture_output=True, text=True, timeout=30)
    return len(calls), time.perf_counter() - began


def _spin(count: int) -> float:
    began = time.perf_counter()
    total = 0
    for i in range(count):
        total += i
    return time.perf_counter() - began


def parallel_capacity(workers: int) -> float:
    """How many cores' worth of pure-Python work ``workers`` processes get right now (shared machines)."""
    import os

    alone = _spin(3_000_000)
    began = time.perf_counter()
    pids = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            _spin(3_000_000)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return workers * alone / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=3000, help="inputs per function (batches this size amortise the fork per function)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=60, help="calls for the process-per-call baseline")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"parallel capacity now: {args.workers} processes get {parallel_capacity(args.workers):.2f} cores "
          f"(a shared machine: both ratios move with this)")
    tasks = make_tasks(args.inputs, args.seed)
    calls = sum(len(t.inputs) for t in tasks)
    print(f"workload: {len(tasks)} stdlib functions, {calls} cases, {args.runs} runs per case")

    began = time.perf_counter()
    loop_outputs = run_loop(tasks, runs=args.runs, timeout=1.0)
    loop_seconds = time.perf_counter() - began
    loop_rate = calls / loop_seconds
    print(f"(a) unsandboxed loop: {loop_seconds:.2f} s, {loop_rate:,.0f} cases/s")

    config = SandboxConfig(workers=args.workers, runs=args.runs, timeout=1.0)
    began = time.perf_counter()
    with Sandbox(config) as sandbox:
        start_seconds = time.perf_counter() - began
        began = time.perf_counter()
        results = list(sandbox.run(tasks))
        sandbox_seconds = time.perf_counter() - began
        protections = sandbox.protections
    sandbox_rate = calls / sandbox_seconds
    print(f"pool start time = {start_seconds:.3f} s (goal < 0.5 s); isolation: {', '.join(protections)}")
    print(f"(b) sandbox, {args.workers} workers: {sandbox_seconds:.2f} s, {sandbox_rate:,.0f} cases/s")

    mismatches = sum(
        (c.outcome, c.output) != (want[0], want[1] if want[0] != "timeout" else c.output)
        for result, wanted in zip(results, loop_outputs) for c, want in zip(result.cases, wanted)
    )
    outcomes: dict[str, int] = {}
    for result in results:
        for case in result.cases:
            outcomes[case.outcome] = outcomes.get(case.outcome, 0) + 1
    print(f"sandbox outcomes: {dict(sorted(outcomes.items()))}; differing from the loop: {mismatches}")

    sampled, per_call_seconds = run_process_per_call(tasks, sample=args.sample)
    per_call_rate = sampled / per_call_seconds
    print(f"(c) process per call: {sampled} calls in {per_call_seconds:.2f} s, {per_call_rate:,.1f} calls/s")
    print(f"sandbox/loop throughput ratio = {sandbox_rate / loop_rate:.2f}")
    print(f"sandbox/process-per-call throughput ratio = {sandbox_rate / per_call_rate:.0f}")


if __name__ == "__main__":
    main()
