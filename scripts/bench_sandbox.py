"""Benchmark the sandbox against (a) an unsandboxed single-process loop and (c) a process per call.

Two workload shapes, each measured against its own baseline in the same run:

- ``stdlib``: hand-picked pure standard-library functions (their source read with ``inspect``,
  run with their module's globals), seeded random inputs, short outputs;
- ``containers``: 400 generated pure functions over lists of ints, 500 inputs each (lists of 10
  to 300 ints), calls of tens to hundreds of microseconds, outputs up to a few thousand characters
  (lists of ints, tuples, pairs).

Baseline (a) is what one would write without a sandbox: one process that, for every run, parses
each input with the same literal grammar, calls the function under a periodic itimer guard and
takes the builtin ``repr``. The sandbox does the same runs (two hash seeds by default) in forked,
locked-down children. Run with the project venv:

    .venv/bin/python scripts/bench_sandbox.py [--shape both] [--workers 2] [--hogs 0]

Prints, per shape: where the time of a call goes (parsing its input, the call, canonical repr,
framing, a fresh child per function), both throughputs, the ceiling that forking a fresh child
per function and run leaves at the cores measured, and ``<shape>: sandbox/loop throughput ratio =
X`` (goal >= 1.5 on 2 cores). The stdlib shape also prints ``sandbox/process-per-call throughput
ratio`` (goal >= 300). ``--hogs N`` runs N CPU-bound processes beside the whole benchmark (a busy
machine): the outputs must not change, only the time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import inspect
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from case2code_hub import literals
from case2code_hub.sandbox import Sandbox, SandboxConfig, protocol
from case2code_hub.sandbox.canonical import canonical_repr
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


def make_stdlib_tasks(inputs_per_function: int, seed: int) -> list[ExecutionTask]:
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


# Pure functions over a list of ints and an int; {a} and {b} vary per function.
CONTAINER_TEMPLATES = [
    "def {name}(xs, k):\n    return [x * {a} + k for x in xs if x % {b} != 0]\n",
    "def {name}(xs, k):\n    out = []\n    total = {a}\n    for x in xs:\n        total += x * k\n        out.append(total)\n    return out\n",
    "def {name}(xs, k):\n    width = k + {a}\n    return [sum(xs[i:i + width]) for i in range(max(0, len(xs) - width + 1))]\n",
    "def {name}(xs, k):\n    return tuple(sorted(xs, key=lambda x: (x % {b}, -x)))\n",
    "def {name}(xs, k):\n    return [(a, b) for a, b in zip(xs, xs[k:]) if (a + b) % {b} != {a} % {b}]\n",
    ("def {name}(xs, k):\n    runs = []\n    for x in xs:\n        key = x % {b}\n        if runs and runs[-1][0] == key:\n"
     "            runs[-1] = (key, runs[-1][1] + 1)\n        else:\n            runs.append((key, 1))\n    return runs\n"),
    "def {name}(xs, k):\n    size = k + {a}\n    return [sum(xs[i:i + size]) for i in range(0, len(xs), size)]\n",
    "def {name}(xs, k):\n    return [sum(map(int, str(abs(x)))) * {a} + k for x in xs]\n",
    ("def {name}(xs, k):\n    seen = set()\n    out = []\n    for x in xs:\n        key = (x * k) % {b}\n        if key not in seen:\n"
     "            seen.add(key)\n            out.append(x)\n    return out, len(seen)\n"),
    "def {name}(xs, k):\n    counts = {{}}\n    for x in xs:\n        counts[x % {b}] = counts.get(x % {b}, 0) + k\n    return sorted(counts.items())\n",
]


def make_container_tasks(functions: int, inputs_per_function: int, seed: int) -> list[ExecutionTask]:
    rng = random.Random(seed)
    tasks = []
    for i in range(functions):
        name = f"f_{i}"
        code = CONTAINER_TEMPLATES[i % len(CONTAINER_TEMPLATES)].format(name=name, a=rng.randint(1, 9), b=rng.randint(2, 13))
        inputs = [literals.format_arguments([[rng.randint(-999, 999) for _ in range(rng.randint(10, 300))], rng.randint(1, 9)])
                  for _ in range(inputs_per_function)]
        tasks.append(ExecutionTask(id=name, code=code, entry_point=name, inputs=inputs))
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
                        results.append(("returned", repr(value)))
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
    """How many cores' worth of pure-Python work ``workers`` processes get right now (shared machines):
    the median of three tries, at most ``workers`` (one slow solo run can make it look like more)."""
    tries = []
    for _ in range(3):
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
        tries.append(min(workers, workers * alone / (time.perf_counter() - began)))
    return sorted(tries)[1]


_FRESH_CHILD = r"""
import gc, json, os, resource, sys, time
from case2code_hub import literals
from case2code_hub.sandbox import zygote
from case2code_hub.sandbox.canonical import canonical_repr
for name in zygote.PRELOAD:  # a process the size of a zygote, its objects frozen as the zygote's are
    try:
        __import__(name)
    except ImportError:
        pass
tasks = json.loads(sys.stdin.read())
gc.freeze()


def run(task):
    namespace = {"__name__": "bench"}
    exec(compile(task["code"], "<function>", "exec"), namespace)
    fn = namespace[task["entry_point"]]
    outputs = []
    for source in task["inputs"]:
        args, kwargs = literals.parse_arguments(source)
        try:
            outputs.append(canonical_repr(fn(*args, **kwargs)))
        except Exception as exc:
            outputs.append(type(exc).__name__)
    return "\n".join(outputs).encode()


def in_child(task):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        view = memoryview(run(task))
        while view:
            view = view[os.write(write_end, view):]
        os._exit(0)
    os.close(write_end)
    while os.read(read_end, 1 << 20):
        pass
    os.close(read_end)
    os.waitpid(pid, 0)


timings = {"here": 0.0, "child": 0.0}


def cpu_with_children():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


for task in tasks:  # alternated, so that drift in the machine's speed hits both alike
    began = time.process_time()
    run(task)
    timings["here"] += time.process_time() - began
    began = cpu_with_children()
    in_child(task)
    timings["child"] += cpu_with_children() - began
print(json.dumps(timings))
"""


def fresh_child_seconds(tasks: list[ExecutionTask]) -> tuple[float, float]:
    """CPU seconds to run ``tasks`` (parse, call, canonical repr) in one process, and in a fresh
    forked child per function from a process the size of a zygote, as the sandbox runs them.

    The difference is what a fresh child costs: the fork, exit and wait, and the page faults of
    every page it writes (copy-on-write or new).
    """
    job = json.dumps([{"code": t.code, "entry_point": t.entry_point, "inputs": list(t.inputs)} for t in tasks])
    done = subprocess.run([sys.executable, "-c", _FRESH_CHILD], input=job, capture_output=True, text=True, check=True)
    timings = json.loads(done.stdout)
    return timings["here"], timings["child"]


def breakdown(tasks: list[ExecutionTask], *, sample: int = 40) -> dict[str, float]:
    """Microseconds per call of each part of the sandbox's work, measured in this process on a sample.

    ``framing`` is the child's batch frame, the zygote's check of it and the parent's reading;
    ``fresh child`` is what running each function in a fresh forked child adds to a call (the
    sandbox forks once per function and run): the fork, exit and wait, and the page faults of
    every page the child writes. Not counted: the processes' switching.
    """
    parts = dict.fromkeys(("parse", "call", "canonical repr", "builtin repr", "framing"), 0.0)
    calls = 0
    for task in tasks[:sample]:
        namespace: dict = {"__name__": "bench"}
        exec(compile(task.code, "<function>", "exec"), namespace)
        fn = namespace[task.entry_point]
        outputs = []
        for source in task.inputs:
            t0 = time.perf_counter()
            args, kwargs = literals.parse_arguments(source)
            t1 = time.perf_counter()
            try:
                value = fn(*args, **kwargs)
            except Exception as exc:
                value = f"{type(exc).__name__}: {exc}"
            t2 = time.perf_counter()
            try:
                outputs.append(canonical_repr(value))
            except Exception as exc:
                outputs.append(str(exc))
            t3 = time.perf_counter()
            repr(value)
            t4 = time.perf_counter()
            parts["parse"] += t1 - t0
            parts["call"] += t2 - t1
            parts["canonical repr"] += t3 - t2
            parts["builtin repr"] += t4 - t3
            calls += 1
        t0 = time.perf_counter()
        frame = protocol.encode_split({"k": "cases", "o": "r" * len(outputs)}, "v", outputs)
        protocol.FrameBuffer(max_size=1 << 30, cut=False).feed(frame)  # the zygote checks the batch
        protocol.FrameBuffer(max_size=1 << 30).feed(frame)  # the parent reads it
        parts["framing"] += time.perf_counter() - t0
    per_call = {name: seconds / calls * 1e6 for name, seconds in parts.items()}
    here, in_children = fresh_child_seconds(tasks[:sample])
    per_call["fresh child"] = (in_children - here) / calls * 1e6
    return per_call


def _hog() -> None:
    while True:
        pass


def bench_shape(name: str, tasks: list[ExecutionTask], args) -> None:
    calls = sum(len(t.inputs) for t in tasks)
    print(f"[{name}] workload: {len(tasks)} functions, {calls} cases, {args.runs} runs per case")
    parts = breakdown(tasks)
    print(f"[{name}] time per call, one process: " + ", ".join(f"{part} {us:.1f} us" for part, us in parts.items()))

    # The loop runs half of the functions before the sandbox and half after it: this machine's speed
    # drifts by a quarter over minutes, and bracketing the sandbox keeps the ratio out of that drift.
    began = time.perf_counter()
    cpu_began = time.process_time()
    before = run_loop(tasks[0::2], runs=args.runs, timeout=1.0)
    loop_seconds = time.perf_counter() - began
    loop_cpu = time.process_time() - cpu_began

    config = SandboxConfig(workers=args.workers, runs=args.runs, timeout=1.0)
    began = time.perf_counter()
    with Sandbox(config) as sandbox:
        start_seconds = time.perf_counter() - began
        began = time.perf_counter()
        cpu_began = sandbox.cpu_seconds() + time.process_time()
        results = list(sandbox.run(tasks))
        sandbox_seconds = time.perf_counter() - began
        sandbox_cpu = sandbox.cpu_seconds() + time.process_time() - cpu_began
        protections = sandbox.protections
    sandbox_rate = calls / sandbox_seconds

    began = time.perf_counter()
    cpu_began = time.process_time()
    after = run_loop(tasks[1::2], runs=args.runs, timeout=1.0)
    loop_seconds += time.perf_counter() - began
    loop_cpu += time.process_time() - cpu_began
    loop_outputs = [None] * len(tasks)
    loop_outputs[0::2], loop_outputs[1::2] = before, after
    loop_rate = calls / loop_seconds
    print(f"[{name}] (a) unsandboxed loop, 1 process, {args.runs} runs (half before the sandbox, half after): "
          f"{loop_seconds:.2f} s, {loop_rate:,.0f} cases/s")
    print(f"[{name}] pool start time = {start_seconds:.3f} s (goal < 0.5 s); isolation: {', '.join(protections)}")
    print(f"[{name}] (b) sandbox, {args.workers} workers x {args.runs} runs: {sandbox_seconds:.2f} s, {sandbox_rate:,.0f} cases/s")
    mismatches = sum(
        (c.outcome, c.output) != (want[0], want[1] if want[0] != "timeout" else c.output)
        for result, wanted in zip(results, loop_outputs) for c, want in zip(result.cases, wanted)
    )
    outcomes: dict[str, int] = {}
    for result in results:
        for case in result.cases:
            outcomes[case.outcome] = outcomes.get(case.outcome, 0) + 1
    digest = hashlib.sha256(json.dumps([[c.to_dict() for c in r.cases] for r in results]).encode()).hexdigest()[:16]
    print(f"[{name}] sandbox outcomes: {dict(sorted(outcomes.items()))}; differing from the loop: {mismatches}; "
          f"outputs sha256 {digest}")
    if name == "stdlib":
        sampled, per_call_seconds = run_process_per_call(tasks, sample=args.sample)
        per_call_rate = sampled / per_call_seconds
        print(f"[{name}] (c) process per call: {sampled} calls in {per_call_seconds:.2f} s, {per_call_rate:,.1f} calls/s")
        print(f"{name}: sandbox/process-per-call throughput ratio = {sandbox_rate / per_call_rate:.0f}")
    # Where the sandbox's CPU time goes beside the loop's, per call. The ratio can reach at most the
    # cores it gets times loop / sandbox CPU per call; a fresh child per function and run alone
    # leaves cores * loop / (loop + fresh child). On a busy machine the ratio can exceed these:
    # the sandbox's processes take a larger share of the cores from the others than one loop does.
    loop_per_call = loop_cpu / (calls * args.runs) * 1e6
    sandbox_per_call = sandbox_cpu / (calls * args.runs) * 1e6
    fresh = max(0.0, parts["fresh child"])
    print(f"[{name}] CPU per call: loop {loop_per_call:.1f} us, sandbox {sandbox_per_call:.1f} us (workers, their children "
          f"and this process) = the loop's work + {fresh:.1f} us for the fresh child + "
          f"{sandbox_per_call - loop_per_call - fresh:.1f} us for the rest (runner, framing, relay, merge, switching)")
    cores = min(args.workers, os.cpu_count() or 1)
    print(f"[{name}] on all {cores} cores: a fresh child per function and run alone leaves a ratio of at most "
          f"{cores * loop_per_call / (loop_per_call + fresh):.2f}; this CPU per call, at most "
          f"{cores * loop_per_call / sandbox_per_call:.2f}")
    print(f"{name}: sandbox/loop throughput ratio = {sandbox_rate / loop_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("stdlib", "containers", "both"), default="both")
    parser.add_argument("--inputs", type=int, default=3000, help="stdlib shape: inputs per function")
    parser.add_argument("--functions", type=int, default=400, help="containers shape: functions")
    parser.add_argument("--container-inputs", type=int, default=500, help="containers shape: inputs per function")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=60, help="calls for the process-per-call baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hogs", type=int, default=0, help="CPU-bound processes to run beside the benchmark")
    args = parser.parse_args()

    hogs = []
    for _ in range(args.hogs):
        pid = os.fork()
        if pid == 0:
            _hog()
        hogs.append(pid)
    try:
        args.capacity = parallel_capacity(args.workers)
        print(f"parallel capacity now: {args.workers} processes get {args.capacity:.2f} cores "
              f"({args.hogs} CPU hogs running; a shared machine: the ratios move with this)")
        if args.shape in ("stdlib", "both"):
            bench_shape("stdlib", make_stdlib_tasks(args.inputs, args.seed), args)
        if args.shape in ("containers", "both"):
            bench_shape("containers", make_container_tasks(args.functions, args.container_inputs, args.seed), args)
    finally:
        for pid in hogs:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
