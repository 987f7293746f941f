"""The forked child that runs one function: it locks itself down, loads the module code, then
runs its batch of inputs, each under a per-call deadline, and streams results to the zygote.

Only the zygote imports this module; it never returns from ``child_main`` (it ``os._exit``s).
"""

from __future__ import annotations

import builtins
import os
import resource
import signal
import sys
import time
import types

from .. import literals
from ..schema import mask_addresses
from . import landlock, protocol
from .canonical import Unserializable, canonical_repr
from .operands import HOOK, OperandLog, instrumented

# Saved before user code runs (it may replace builtins or patch modules it shares with us).
_monotonic = time.monotonic
_cpu = time.process_time
_cpu_ns = time.process_time_ns
_settrace = sys.settrace
_write = os.write
_exit = os._exit
_type = builtins.type
_str = builtins.str
_len = builtins.len
_sorted = builtins.sorted
_callable = builtins.callable
_getattr = builtins.getattr
_INF = float("inf")

PHASE_LOAD, PHASE_CALL, PHASE_REPR, PHASE_REPORT = 0, 1, 2, 3
EXIT_OK, EXIT_REPORT_FAILED, EXIT_MEMORY, EXIT_INTERNAL, EXIT_SETUP = 0, 70, 71, 72, 73
# The shared progress record: [case index, phase, CPU nanoseconds at the start of the current call
# or load]. The zygote reads it to blame a death on a case and to end a call over its CPU time
# that never returns to the interpreter (a regex backtracking in C).
PROGRESS_INDEX, PROGRESS_PHASE, PROGRESS_CPU = 0, 1, 2
PROGRESS_SLOTS = 4
# A batch goes to the zygote at 1024 cases, 1 MB of output text or 20 ms, whichever comes first
# (the byte bound keeps a frame far below the zygote's cap whatever ``output_cap`` is).
FLUSH_CASES = 1024
FLUSH_BYTES = 1 << 20
CODE_FILENAME = "<function>"
# Most lines / arcs one case reports: coverage is a measurement, not an unbounded channel.
COVERAGE_CAP = 20_000
FLUSH_SECONDS = 0.02
MESSAGE_CAP = 1000
NOFILE = 64


class _CallTimeout(BaseException):
    """Raised by the timer's handler once the current call is past its deadline: its CPU time, or
    the wall-clock backstop several times larger (a call that sleeps).

    A BaseException so ``except Exception`` in user code does not swallow it; code that swallows
    it anyway is caught by the after-call deadline check or, failing that, by the zygote's kill.
    """


# The limit is CPU time, so a call gives the same outcome on a quiet and on a busy machine; the
# wall-clock backstop ends calls that wait (sleep, a lock) without using the CPU.
_deadline = _INF  # CPU seconds (time.process_time)
_wall_deadline = _INF


def _on_alarm(signum, frame) -> None:
    if _cpu() > _deadline or _monotonic() > _wall_deadline:
        raise _CallTimeout()


_armed_at = 0.0  # wall clock
_armed_cpu = 0.0  # the CPU limit of the current call


def _over() -> bool:
    # A single-threaded call uses at most as much CPU as wall time: while the wall time is within
    # the CPU limit, no need for the CPU clock (a system call, where the wall clock is not).
    if _monotonic() - _armed_at <= _armed_cpu:
        return False
    return _cpu() > _deadline or _monotonic() > _wall_deadline


def _arm(cpu_seconds: float, wall_seconds: float, progress) -> None:
    global _deadline, _wall_deadline, _armed_at, _armed_cpu
    now = _cpu_ns()
    progress[PROGRESS_CPU] = now
    _deadline = now / 1e9 + cpu_seconds
    _armed_at = _monotonic()
    _armed_cpu = cpu_seconds
    _wall_deadline = _armed_at + wall_seconds


def _disarm() -> None:
    global _deadline, _wall_deadline
    _deadline = _wall_deadline = _INF


def _clean_text(text: str) -> str:
    # Lone surrogates cannot be written as UTF-8 later; escape them here, once.
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _exception_text(exc: BaseException) -> str:
    """``"ExcType: message"`` (just ``"ExcType"`` for an empty message), addresses masked."""
    name = _type(exc).__name__
    try:
        message = _str(exc)
        if _type(message) is not _str:
            message = ""
    except BaseException:  # a hostile __str__: the type name is all we report
        message = "<str() failed>"
    if _len(message) > MESSAGE_CAP:
        message = message[:MESSAGE_CAP] + "..."
    message = mask_addresses(message)
    return _clean_text(f"{name}: {message}" if message else name)


def lock_down(*, result_fd: int, scratch: str, memory_mb: int, file_mb: int, command_fd: int | None = None) -> None:
    """Own process group, only ``result_fd`` (and a session's ``command_fd``) kept, fds 0-2 on
    /dev/null, rlimits, clean env, cwd."""
    os.setpgid(0, 0)  # killpg(0) from user code now reaches only its own group
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    low = 3
    for kept in sorted({result_fd} | ({command_fd} if command_fd is not None else set())):
        os.closerange(low, kept)
        low = kept + 1
    os.closerange(low, 1 << 20)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write raises OSError instead of killing us
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the zygote ignores Ctrl-C; calls see it as usual
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ.clear()
    os.environ.update({"HOME": scratch, "TMPDIR": scratch, "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})
    _setup_step(f"chdir into the scratch directory {scratch}", os.chdir, scratch)


# One letter per outcome in a columnar batch (see ``_Reporter``).
OUTCOME_CODES = {"returned": "r", "raised": "x", "timeout": "t", "memory": "m", "unserializable": "u"}


def measures_coverage(task: dict, settings: dict) -> bool:
    """Whether this run reports coverage (in one run only: the others would report the same lines)."""
    return bool(task.get("coverage")) and settings.get("coverage_run", True)


class _Reporter:
    """Batches of results for the zygote, one per case of ``todo``, in ``todo`` order.

    Without coverage a batch is columnar, ``{"k": "cases", "o": "<one letter per outcome>",
    "v": [output, ...]}`` in a split frame (the outputs as plain text; the zygote knows which
    indices come next); with coverage it is a list
    of records ``{"k": "cases", "r": [[index, outcome, output, lines, arcs], ...]}`` (and the
    comparisons' ``operands`` after ``arcs`` when the task asked for them).
    """

    def __init__(self, fd: int, flush_through: int, columnar: bool = False) -> None:
        self.fd = fd
        self.flush_through = flush_through
        self.columnar = columnar
        self.batch: list = []
        self.codes: list = []
        self.size = 0
        self.last = _monotonic()

    def send(self, message: dict) -> None:
        self.write(protocol.encode(message))

    def write(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[_write(self.fd, view):]
        except OSError:  # user code closed or replaced our pipe: nothing left to report to
            _exit(EXIT_REPORT_FAILED)

    def add(self, index: int, outcome: str, output: str, coverage: list | None = None) -> None:
        batch = self.batch
        if self.columnar:
            self.codes.append(OUTCOME_CODES[outcome])
            batch.append(output)
            self.size += _len(output)
        elif coverage is None:
            batch.append([index, outcome, output])
            self.size += _len(output)
        else:  # about 16 bytes of JSON per line number or arc
            batch.append([index, outcome, output, *coverage])
            self.size += _len(output) + 16 * (_len(coverage[0]) + _len(coverage[1]))
        if (index <= self.flush_through or _len(batch) >= FLUSH_CASES or self.size >= FLUSH_BYTES
                or _monotonic() - self.last > FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        if self.batch:
            if self.columnar:
                self.write(protocol.encode_split({"k": "cases", "o": "".join(self.codes)}, "v", self.batch))
                self.codes = []
            else:
                self.send({"k": "cases", "r": self.batch})
            self.batch = []
            self.size = 0
        self.last = _monotonic()


class _LineTracer:
    """Lines and arcs executed in the function's own code (``<function>``), for one call.

    The global trace function only looks at a frame's file name, so library code (and this module)
    costs one cheap call per frame; the local tracer runs only in the function's frames. An arc is
    ``(previous line, line)`` within one frame, entering from ``-co_firstlineno`` and leaving to
    it, as coverage.py records them.
    """

    def __init__(self) -> None:
        lines: set[int] = set()
        arcs: set[tuple[int, int]] = set()
        last: dict = {}
        self.lines, self.arcs = lines, arcs

        def local(frame, event, arg):
            if event == "line":
                line = frame.f_lineno
                lines.add(line)
                arcs.add((last.get(frame, 0), line))
                last[frame] = line
            elif event == "return":
                arcs.add((last.pop(frame, 0), -frame.f_code.co_firstlineno))
            return local

        def trace(frame, event, arg):
            if frame.f_code.co_filename != CODE_FILENAME:
                return None
            last[frame] = -frame.f_code.co_firstlineno
            return local

        self.trace = trace

    def report(self) -> list:
        lines = _sorted(self.lines)[:COVERAGE_CAP]
        arcs = [[a, b] for a, b in _sorted(self.arcs)[:COVERAGE_CAP]]
        return [lines, arcs]


def _call(fn, args, kwargs, limits: tuple[float, float], cap: int, progress,
          tracer: _LineTracer | None = None) -> tuple[str, str]:
    _arm(limits[0], limits[1], progress)
    try:
        if tracer is None:
            value = fn(*args, **kwargs)
        else:
            _settrace(tracer.trace)
            try:
                value = fn(*args, **kwargs)
            finally:
                _settrace(None)
    except _CallTimeout:
        _disarm()
        return "timeout", ""
    except MemoryError:
        _disarm()
        return "memory", ""
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the call raised them
        if _over():  # user code turned our timeout into another exception
            _disarm()
            return "timeout", ""
        try:
            text = _exception_text(exc)
        except BaseException:
            text = _type(exc).__name__
        _disarm()
        return "raised", text
    if _over():  # user code swallowed our timeout and then returned
        _disarm()
        return "timeout", ""
    progress[PROGRESS_PHASE] = PHASE_REPR
    try:
        text = canonical_repr(value, cap=cap)
        outcome = "returned"
    except Unserializable as exc:
        text, outcome = exc.args[0], "unserializable"
    except _CallTimeout:
        text, outcome = "<unserializable: repr timed out>", "unserializable"
    except BaseException as exc:
        text, outcome = f"<unserializable: repr raised {_type(exc).__name__}>", "unserializable"
    _disarm()
    return outcome, _clean_text(text)


def _parse(source: str) -> tuple:
    """``(args, kwargs)`` of one input, or ``(None, why)`` when it is not in the grammar."""
    try:
        return literals.parse_arguments(source)
    except literals.LiteralSyntaxError as exc:
        return None, _clean_text(f"LiteralSyntaxError: {exc}")
    except Exception as exc:  # an input is the case's problem, never the set-up's
        return None, _clean_text(f"LiteralSyntaxError: {_type(exc).__name__}")


class SetupFailed(Exception):
    """Our own preparation of the child failed before any user code ran (not the function's fault)."""


def _setup_step(what: str, step, *args, **kwargs):
    try:
        return step(*args, **kwargs)
    except SetupFailed:
        raise
    except BaseException as exc:
        raise SetupFailed(f"{what}: {_type(exc).__name__}: {exc}") from None


def _report_setup_failure(fd: int, detail: str) -> None:
    """Tell the zygote why the set-up failed (it retries once, then stops the run), and exit."""
    try:
        _write(fd, protocol.encode({"k": "setup_failed", "detail": _clean_text(detail[:MESSAGE_CAP])}))
    except OSError:
        pass
    _exit(EXIT_SETUP)


def _resolve(namespace: dict, entry_point: str):
    head, *rest = entry_point.split(".")
    target = namespace.get(head)
    for attr in rest:
        target = _getattr(target, attr, None)
    return target


def child_main(task: dict, *, todo: list[int], flush_through: int, result_fd: int, progress, scratch: str, settings: dict,
               seccomp_filter, landlock_ruleset: int | None = None, command_fd: int | None = None) -> None:
    """Run ``task``'s inputs listed in ``todo`` and exit; never returns.

    The first frame is ``{"k": "armed"}``, sent once every protection is in place and just before
    the module code runs; a child that fails before that sends ``{"k": "setup_failed"}`` instead
    (or dies), and the zygote knows the function never ran.

    With ``command_fd`` (a session, see ``zygote``) the child does not exit after its ``end``: it
    waits there for the next round of the same function, ``{"k": "round", "inputs": [...],
    "todo": [...], "flush_through": n}``, says ``armed`` once it has read the inputs, runs them
    the same way, and exits at end of file.
    """
    try:
        reporter, measure = _prepare(task, flush_through, result_fd, scratch, settings, seccomp_filter,
                                     landlock_ruleset, command_fd)
    except SetupFailed as exc:
        _report_setup_failure(result_fd, str(exc))
    except BaseException as exc:
        _report_setup_failure(result_fd, f"set-up: {_type(exc).__name__}: {exc}")
    try:
        fn, operands = _load(task, progress, settings, reporter, measure)
        if fn is not None:  # else the load frame said why, and the zygote stops reading
            _run_cases(fn, operands, todo, task["inputs"], progress, settings, reporter, measure)
            retire = command_fd is None or _oversized(settings)
            reporter.send({"k": "end", "retire": retire})
            if not retire:
                _serve_rounds(fn, operands, command_fd, result_fd, progress, settings, measure)
    except MemoryError:
        _exit(EXIT_MEMORY)
    except BaseException:
        _exit(EXIT_INTERNAL)
    _exit(EXIT_OK)


def _oversized(settings: dict) -> bool:
    # A session child that has grown (a memoising function) makes way for a fresh one: dozens of
    # them wait between rounds, and none should hold on to a large heap.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > settings.get("session_max_rss_kb", 256 << 10)


def _serve_rounds(fn, operands, command_fd: int, result_fd: int, progress, settings: dict, measure: bool) -> None:
    """Run the rounds the zygote sends on ``command_fd`` until it closes it (or the heap grows too big)."""
    tick = _tick(settings)
    while True:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)  # no wake-ups while idle between rounds
        message = protocol.read_frame(command_fd, max_size=protocol.TASK_FRAME_CAP)
        if message is None:
            return
        signal.setitimer(signal.ITIMER_REAL, tick, tick)
        todo, inputs = message["todo"], message["inputs"]
        reporter = _Reporter(result_fd, message["flush_through"], columnar=not measure)
        reporter.send({"k": "armed"})  # the round's inputs are read: its calls' clocks start now
        _run_cases(fn, operands, todo, inputs, progress, settings, reporter, measure)
        retire = _oversized(settings)
        reporter.send({"k": "end", "retire": retire})
        if retire:
            return


def _tick(settings: dict) -> float:
    """How often the timer looks at the current call's clocks: a tenth of its limit, 5-50 ms."""
    return min(0.05, max(0.005, settings["timeout"] / 10))


def _prepare(task, flush_through, result_fd, scratch, settings, seccomp_filter, landlock_ruleset, command_fd=None):
    """Lock the child down and arm its timer: everything before the first line of user code."""
    # First, while the ruleset's fd is open (lock_down closes it). The zygote found Landlock
    # working: a child that cannot enforce it runs no code (fails closed).
    if landlock_ruleset is not None and not landlock.enforce(landlock_ruleset):
        raise SetupFailed("Landlock: the kernel refused to enforce the child's ruleset")
    _setup_step("lock-down", lock_down, result_fd=result_fd, scratch=scratch, memory_mb=settings["memory_mb"],
                file_mb=settings["file_mb"], command_fd=command_fd)
    # Coverage is measured in one run only (the others would report the same lines).
    measure = measures_coverage(task, settings)
    reporter = _Reporter(result_fd, flush_through, columnar=not measure)
    if seccomp_filter is not None and not _setup_step("seccomp", seccomp_filter):
        raise SetupFailed("seccomp: the kernel refused the child's filter")  # fails closed, as Landlock
    tick = _tick(settings)
    _setup_step("timer", signal.signal, signal.SIGALRM, _on_alarm)
    _setup_step("timer", signal.setitimer, signal.ITIMER_REAL, tick, tick)
    return reporter, measure


def _load(task, progress, settings, reporter: _Reporter, measure: bool):
    """Run the module code under its deadline; ``(function, operand log)``, or ``(None, None)``
    once the load's outcome (an error, a timeout, no such callable) has been reported."""
    progress[PROGRESS_PHASE] = PHASE_LOAD
    module = types.ModuleType("case2code_function")
    sys.modules["case2code_function"] = module  # dataclasses and pickling look modules up by name
    # The search's runs also report what the comparisons compared (``operands``).
    operands = OperandLog() if measure and task.get("operands") else None
    reporter.send({"k": "armed"})
    _arm(settings["load_timeout"], settings["load_wall_timeout"], progress)
    try:
        if operands is None:
            code = compile(task["code"], CODE_FILENAME, "exec")
        else:
            code = instrumented(task["code"], CODE_FILENAME)
            module.__dict__[HOOK] = operands.hook()
        exec(code, module.__dict__)
        _disarm()
    except _CallTimeout:
        _disarm()
        reporter.send({"k": "load", "status": "load_timeout", "detail": "module code did not finish loading"})
        return None, None
    except BaseException as exc:
        _disarm()
        reporter.send({"k": "load", "status": "load_error", "detail": _exception_text(exc)})
        return None, None
    fn = _resolve(module.__dict__, task["entry_point"])
    if not _callable(fn):
        reporter.send({"k": "load", "status": "no_entry_point", "detail": f"no callable named {task['entry_point']!r}"})
        return None, None
    reporter.send({"k": "load", "status": "ok", "detail": ""})
    if operands is not None:
        operands.take()  # what loading the module compared is no call's
    return fn, operands


def _run_cases(fn, operands, todo, inputs, progress, settings, reporter: _Reporter, measure: bool) -> None:
    """Call ``fn`` on each input of ``todo`` and report every outcome.

    Each input is parsed just before its call, not all of them before the first: a fresh child's
    new memory costs a page fault per page, and 500 inputs of a few hundred ints parsed at once
    are 3 MB of it, where one at a time reuses the last one's memory (5% of a containers
    benchmark's time). The function's code runs between parses and could tamper with the parser,
    but that gains it nothing it lacks: it already decides what it returns for every input, and
    both runs must agree.
    """
    limits = (settings["timeout"], settings["wall_timeout"])
    cap = settings["output_cap"]
    for index in todo:
        progress[PROGRESS_INDEX] = index
        progress[PROGRESS_PHASE] = PHASE_CALL
        # The parse is not the call's: the zygote's watch of this call's CPU time starts at _arm,
        # not at the last call's start (0 means no call is running).
        progress[PROGRESS_CPU] = 0
        args, kwargs = _parse(inputs[index])
        if args is None:
            reporter.add(index, "unserializable", kwargs)
            continue
        tracer = _LineTracer() if measure else None
        try:
            outcome, output = _call(fn, args, kwargs, limits, cap, progress, tracer)
        except _CallTimeout:  # the timer fired in the instant between the call and our bookkeeping
            _disarm()
            outcome, output = "timeout", ""
        progress[PROGRESS_PHASE] = PHASE_REPORT
        coverage = None if tracer is None else tracer.report()
        if coverage is not None and operands is not None:
            coverage.append(operands.take())
        reporter.add(index, outcome, output, coverage)
    reporter.flush()
