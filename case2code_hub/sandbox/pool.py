"""The parent side of the sandbox: starts the zygotes, hands them tasks, watches them, and merges
the runs of each case into one ``ExecutionResult``, yielded in input order (``run``) or as each
completes (``run_as_completed``); a search's rounds of one function go to the zygote that keeps
its session child."""

from __future__ import annotations

import collections
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Iterable, Iterator

from ..errors import SandboxError
from ..schema import Case, CaseCoverage, ExecutionResult, ExecutionTask
from ..utils.logging import get_logger
from . import isolation, protocol
from .zygote import BOOTSTRAP, SETUP_WALL_LIMIT, widen_pipe
from .config import SandboxConfig

logger = get_logger(__name__)

RESULT_FRAME_CAP = 64 << 20
START_TIMEOUT = 30.0
PER_ZYGOTE_INFLIGHT = 3
WATCHDOG_SLACK = 1.0
SLOW_SOURCE = 0.1
ZYGOTE_CRASH = "Crashed: sandbox worker died"
# The interpreter a virtual environment was made from: zygotes need no site-packages, and a venv's
# own location would shape their memory (see zygote.BOOTSTRAP).
_BASE_PYTHON = getattr(sys, "_base_executable", None) or sys.executable


class _NotReady:
    def __repr__(self) -> str:
        return "NOT_READY"


#: What a ``Sandbox.run`` source yields when it has no task ready yet but will have one once the
#: consumer has taken a result it waits for (a search whose next round depends on the last one):
#: the sandbox asks again after the next result instead of taking the source for exhausted.
#: A source may yield it only while some task it gave is still unanswered.
NOT_READY = _NotReady()
# The letters of a columnar batch of cases (``runner.OUTCOME_CODES``).
_OUTCOMES = {"r": "returned", "x": "raised", "t": "timeout", "m": "memory", "u": "unserializable"}


class _Zygote:
    """One zygote process and our end of its pipes."""

    def __init__(self, command: list[str], env: dict[str, str], run: int, cwd: str, scratch: str | None,
                 settings: dict) -> None:
        self.run = run
        self.scratch = scratch  # its own scratch root on the host (None under bwrap: a private /tmp)
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        self.in_fd = self.proc.stdin.fileno()
        self.out_fd = self.proc.stdout.fileno()
        for fd in (self.in_fd, self.out_fd):
            widen_pipe(fd)
        try:  # the settings go first, on stdin, not in argv (see zygote.BOOTSTRAP); the pipe is empty
            protocol.write_all(self.in_fd, protocol.encode(settings))
        except OSError:
            pass  # it died at once: waiting for it to be ready says so, in words
        os.set_blocking(self.in_fd, False)
        self.frames = protocol.FrameBuffer(max_size=RESULT_FRAME_CAP)
        self.outbuf = bytearray()
        self.inflight: collections.deque[int] = collections.deque()
        self.last_heard = time.monotonic()
        self.ready = False
        self.protections: list[str] = []
        self.alive = True
        self.sessions: set[str] = set()  # the session keys whose child this zygote keeps

    def queue(self, data: bytes) -> None:
        self.outbuf += data

    def pump_out(self) -> None:
        try:
            written = os.write(self.in_fd, self.outbuf)
        except BlockingIOError:
            return
        except (BrokenPipeError, OSError):
            self.alive = False
            return
        del self.outbuf[:written]

    def kill(self) -> None:
        """SIGKILL the zygote's whole session (bwrap/unshare take their namespace down with them)."""
        self.alive = False
        for target in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), lambda: self.proc.kill()):
            try:
                target()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        self.close_pipes()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            logger.warning("sandbox worker %d did not exit after SIGKILL", self.proc.pid)

    def close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class _Pending:
    """A task on its way: what each run reported so far."""

    def __init__(self, task: ExecutionTask, runs: int, coverage: bool = False) -> None:
        self.task = task
        self.results: list[list] = [[None] * len(task.inputs) for _ in range(runs)]
        self.status: list[tuple[str, str] | None] = [None] * runs
        self.ended = [False] * runs
        self.resent = [False] * runs  # its run was sent again after a worker died under it
        self.coverage: list | None = [None] * len(task.inputs) if coverage or _wants_coverage(task) else None

    @property
    def complete(self) -> bool:
        return all(self.ended)


class Sandbox:
    """A pool of zygotes that runs untrusted functions on their inputs.

    Use as a context manager; ``run`` streams one ``ExecutionResult`` per task, in input order.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.protections: list[str] = []
        self.isolation = "none"
        self._zygotes: list[_Zygote] = []
        self._sessions: dict[tuple[int, str], _Zygote] = {}  # (run, session key) -> the zygote keeping its child
        self._scratch_host: str | None = None
        self._launch: isolation.Launch | None = None
        self._started = False
        self._spawned = 0
        self.start_seconds = 0.0

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        """Start the zygotes and wait until each is ready.

        Raises:
            SandboxError: a zygote did not start, or the requested isolation is unavailable.
        """
        if self._started:
            return
        began = time.monotonic()
        cfg = self.config
        self._launch = isolation.choose(cfg.isolation, scratch_mb=cfg.scratch_mb)
        self.isolation = self._launch.kind
        self._scratch_host = tempfile.mkdtemp(prefix="case2code-sandbox-")
        self._started = True
        try:
            for run in range(cfg.runs):
                for _ in range(cfg.zygotes_per_run):
                    self._zygotes.append(self._spawn(run))
            for zygote in self._zygotes:
                self._await_ready(zygote)
        except BaseException:
            self.close()
            raise
        self.protections = list(self._launch.protections) + list(self._zygotes[0].protections)
        self.start_seconds = time.monotonic() - began
        log = logger.warning if self.isolation == "none" else logger.info
        log("sandbox: %d zygotes (%d per hash seed), isolation %s; active protections: %s",
            len(self._zygotes), cfg.zygotes_per_run, self.isolation, ", ".join(self.protections))
        if self.isolation == "none":
            if "landlock" in self.protections:
                logger.warning("sandbox: no namespaces available; Landlock confines files and TCP, but functions can "
                               "see and wait on the pipeline's processes (install bubblewrap or allow user namespaces)")
            else:
                logger.warning("sandbox: no namespaces and no Landlock; functions can reach the network and write files "
                               "outside scratch (install bubblewrap or allow user namespaces)")

    def close(self) -> None:
        """Stop every zygote (and all it started) and remove the scratch space. Idempotent."""
        for zygote in self._zygotes:
            zygote.kill()
        self._zygotes = []
        self._sessions = {}
        if self._scratch_host:
            shutil.rmtree(self._scratch_host, ignore_errors=True)
            self._scratch_host = None
        self._started = False

    def _settings(self, run: int, scratch_root: str) -> dict:
        cfg = self.config
        return {
            "timeout": float(cfg.timeout), "load_timeout": float(cfg.load_timeout), "grace": float(cfg.grace),
            "wall_timeout": cfg.wall_limit(float(cfg.timeout)), "load_wall_timeout": cfg.wall_limit(float(cfg.load_timeout)),
            "memory_mb": cfg.memory_mb, "file_mb": cfg.file_mb, "output_cap": cfg.output_cap,
            "scratch_root": scratch_root,
            "pidns": self._launch.pidns, "seccomp": bool(cfg.seccomp), "landlock": bool(cfg.landlock),
            "package_root": isolation.package_root(),  # readable under Landlock
            "site_dirs": isolation.site_dirs(),  # the environment's packages, readable too
            "coverage_run": run == 0,
        }

    def _spawn(self, run: int) -> _Zygote:
        cfg = self.config
        # Every zygote, restarts included, gets a scratch root of its own: two zygotes that shared one
        # named their children's folders alike and removed each other's live folders.
        self._spawned += 1
        bwrap = self._launch.kind == "bwrap"
        root = os.path.join(isolation.BWRAP_SCRATCH if bwrap else self._scratch_host, f"z{self._spawned}")
        # The same command and environment under every isolation (the working directory is kept
        # off sys.path): what a zygote allocates before its imports must not depend on the mode.
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": str(cfg.seed + run),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "PYTHONSAFEPATH": "1",
        }
        command = [*self._launch.prefix, _BASE_PYTHON, "-s", "-S", "-c", BOOTSTRAP]
        cwd = "/" if bwrap else self._scratch_host
        isolation.compile_package()
        with isolation.fixed_addresses():
            return _Zygote(command, env, run, cwd, None if bwrap else root, self._settings(run, root))

    def _await_ready(self, zygote: _Zygote) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not zygote.ready:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([zygote.out_fd], [], [], wait)[0]:
                raise SandboxError("a sandbox worker did not start in time")
            chunk = os.read(zygote.out_fd, 1 << 16)
            if not chunk:
                raise SandboxError(f"a sandbox worker exited while starting (isolation {self.isolation})")
            for message in zygote.frames.feed(chunk):
                if message.get("k") == "ready":
                    zygote.ready = True
                    zygote.protections = [str(p) for p in message.get("protections", [])]
        zygote.last_heard = time.monotonic()

    def _restart(self, zygote: _Zygote) -> _Zygote:
        zygote.kill()
        if zygote.scratch:
            shutil.rmtree(zygote.scratch, ignore_errors=True)
        fresh = self._spawn(zygote.run)
        self._await_ready(fresh)
        self._zygotes[self._zygotes.index(zygote)] = fresh
        return fresh

    # -- running ------------------------------------------------------------------------------
    def run(self, tasks: Iterable[ExecutionTask]) -> Iterator[ExecutionResult]:
        """Run every task's inputs; yield one result per task, in input order, as they finish.

        At most a few tasks per worker are in flight, so ``tasks`` may be a long lazy iterable;
        it may yield ``NOT_READY`` while a result it waits for is outstanding (a feedback loop:
        the consumer of the results makes the next tasks), and is asked again after each result.

        Raises:
            SandboxError: the sandbox was not started, or a worker cannot be restarted.
        """
        for _task, result in self._run(tasks, ordered=True):
            yield result

    def run_as_completed(self, tasks: Iterable[ExecutionTask]) -> Iterator[tuple[ExecutionTask, ExecutionResult]]:
        """``run``, but each ``(task, result)`` is yielded as soon as it is complete.

        For consumers whose tasks are independent of each other's order (a search that feeds
        each function's next round back in): a slow task (one that times out) then holds only
        its own worker, not every result behind it.
        """
        return self._run(tasks, ordered=False)

    def _run(self, tasks: Iterable[ExecutionTask], *, ordered: bool) -> Iterator[tuple[ExecutionTask, ExecutionResult]]:
        if not self._started:
            raise SandboxError("the sandbox is not started; use it as `with Sandbox(cfg) as sb:`")
        cfg = self.config
        source = iter(tasks)
        pending: dict[int, _Pending] = {}
        sent: dict[int, bytes] = {}
        next_seq = next_yield = 0
        exhausted = False
        max_outstanding = cfg.zygotes_per_run * (PER_ZYGOTE_INFLIGHT + 2)
        # The longest a working zygote stays silent: a child's set-up, then its wall-clock backstop.
        watchdog = (SETUP_WALL_LIMIT + cfg.wall_limit(max(cfg.load_timeout, cfg.timeout))
                    + 2 * cfg.grace + WATCHDOG_SLACK)
        while True:
            while not exhausted and (next_seq - next_yield if ordered else len(pending)) < max_outstanding:
                choice = self._pick_zygotes()
                if choice is None:
                    break
                pulled = time.monotonic()
                try:
                    task = next(source)
                except StopIteration:
                    exhausted = True
                    break
                finally:
                    if time.monotonic() - pulled > SLOW_SOURCE:
                        # Time spent producing the next task (an upstream stage's work) is not
                        # worker silence, just as time spent in our consumer is not.
                        now = time.monotonic()
                        for zygote in self._zygotes:
                            zygote.last_heard = now
                if task is NOT_READY:
                    if not pending:
                        raise SandboxError("a task source said NOT_READY with no task of its outstanding")
                    break
                pending[next_seq] = _Pending(task, cfg.runs, cfg.coverage)
                header = {"t": next_seq, "code": task.code, "entry_point": task.entry_point,
                          "coverage": cfg.coverage or _wants_coverage(task),
                          "operands": bool(getattr(task, "operands", False))}
                session = getattr(task, "session", None)
                if session:
                    header["session"] = session
                    choice = self._session_zygotes(session, choice)
                frame = protocol.encode_split(header, "inputs", list(task.inputs))
                sent[next_seq] = frame
                for zygote in choice:
                    if not zygote.inflight:
                        # An idle worker owes us nothing: its silence is counted from now, not
                        # from whenever it last spoke (between two runs that can be minutes).
                        zygote.last_heard = time.monotonic()
                    zygote.queue(frame)
                    zygote.inflight.append(next_seq)
                next_seq += 1
            complete = ([next_yield] if next_yield in pending and pending[next_yield].complete else []) if ordered \
                else [seq for seq, entry in pending.items() if entry.complete]
            yielded = bool(complete)
            while complete:
                seq = complete.pop(0)
                done = pending.pop(seq)
                sent.pop(seq, None)
                if ordered:
                    next_yield += 1
                    if next_yield in pending and pending[next_yield].complete:
                        complete.append(next_yield)
                yield done.task, _merge(done)
                now = time.monotonic()
                for zygote in self._zygotes:  # time spent in the consumer is not worker silence
                    zygote.last_heard = now
            if exhausted and not pending:
                return
            if yielded and not exhausted:
                continue  # the consumer may have made new tasks from what it got: take them before waiting
            if pending or not exhausted:
                self._step(pending, sent, watchdog)

    def _session_zygotes(self, key: str, choice: list[_Zygote]) -> list[_Zygote]:
        """The zygotes that keep ``key``'s child (one per run), chosen at its first round: one with
        room, holding fewest sessions. A session's rounds always go there, so its child lives as long
        as the session, whichever worker was free when (what makes its results not depend on
        timing); a restarted worker's sessions start over."""
        routed = []
        for run, default in enumerate(choice):
            held = self._sessions.get((run, key))
            if held is None or held not in self._zygotes or not held.alive:
                group = [z for z in self._zygotes if z.run == run]
                held = min(group, key=lambda z: (len(z.inflight) >= PER_ZYGOTE_INFLIGHT, len(z.sessions), len(z.inflight)))
                held.sessions.add(key)
                self._sessions[(run, key)] = held
            routed.append(held)
        return routed

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the live workers and every child they ran have used so far,
        read from /proc (benchmarks put it beside this process's own; 0 where /proc is missing)."""
        tick = os.sysconf("SC_CLK_TCK")
        children: dict[int, list[int]] = {}
        used: dict[int, int] = {}
        try:
            names = [name for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return 0.0
        for name in names:
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # Live processes count their own time; each reaped child is in its reaper's cutime/cstime.
            children.setdefault(int(fields[1]), []).append(int(name))
            used[int(name)] = sum(int(value) for value in fields[11:15])
        total, todo = 0, [z.proc.pid for z in self._zygotes]
        while todo:
            pid = todo.pop()
            total += used.get(pid, 0)
            todo.extend(children.get(pid, ()))
        return total / tick

    def has_room(self, key: str) -> bool:
        """Whether a round of session ``key`` would start soon: the zygotes that keep its child (or,
        for a new session, some zygote of each run) have fewer than a few tasks queued. A source
        of session tasks offers first the ones with room, so rounds do not pile up behind a
        worker busy with a slow call while another waits idle."""
        for run in range(self.config.runs):
            held = self._sessions.get((run, key))
            if held is not None and held in self._zygotes and held.alive:
                if len(held.inflight) >= PER_ZYGOTE_INFLIGHT:
                    return False
            elif all(len(z.inflight) >= PER_ZYGOTE_INFLIGHT for z in self._zygotes if z.run == run):
                return False
        return True

    def close_session(self, key: str) -> None:
        """Let the workers end the child kept between the rounds of ``key`` (``ExecutionTask.session``):
        its function needs no more rounds."""
        for run in range(self.config.runs):
            zygote = self._sessions.pop((run, key), None)
            if zygote is not None and zygote in self._zygotes and zygote.alive:
                zygote.sessions.discard(key)
                zygote.queue(protocol.encode({"k": "close", "sessions": [key]}))
                zygote.pump_out()

    def _pick_zygotes(self) -> list[_Zygote] | None:
        choice = []
        for run in range(self.config.runs):
            group = [z for z in self._zygotes if z.run == run]
            best = min(group, key=lambda z: len(z.inflight))
            if len(best.inflight) >= PER_ZYGOTE_INFLIGHT:
                return None
            choice.append(best)
        return choice

    def _step(self, pending: dict[int, _Pending], sent: dict[int, bytes], watchdog: float) -> None:
        zygotes = list(self._zygotes)
        readers = [z.out_fd for z in zygotes if z.inflight]
        writers = [z.in_fd for z in zygotes if z.outbuf]
        now = time.monotonic()
        busy = [z.last_heard + watchdog for z in zygotes if z.inflight]
        wait = max(0.0, min(busy) - now) if busy else 1.0
        readable, writable, _ = select.select(readers, writers, [], wait)
        heard = set()
        for zygote in zygotes:
            if zygote.in_fd in writable:
                zygote.pump_out()
            if zygote.out_fd in readable:
                heard.add(zygote)
                if not self._read(zygote, pending):
                    self._replace(zygote, pending, sent, "died")
                    continue
            if zygote.alive is False:
                self._replace(zygote, pending, sent, "died")
                continue
            if zygote.inflight and zygote not in heard and time.monotonic() - zygote.last_heard > watchdog:
                self._replace(zygote, pending, sent, "silent")

    def _read(self, zygote: _Zygote, pending: dict[int, _Pending]) -> bool:
        """Take what the zygote wrote; ``False`` when it died or broke the protocol."""
        try:
            chunk = os.read(zygote.out_fd, 1 << 20)
        except OSError:
            return False
        if not chunk:
            return False
        zygote.last_heard = time.monotonic()
        try:
            for message in zygote.frames.feed(chunk):
                self._apply(zygote, message, pending)
        except (protocol.ProtocolError, KeyError, TypeError, ValueError, IndexError):
            logger.warning("sandbox worker %d broke the protocol; restarting it", zygote.proc.pid)
            return False
        return True

    def _apply(self, zygote: _Zygote, message: dict, pending: dict[int, _Pending]) -> None:
        seq = message["t"]
        if not zygote.inflight or zygote.inflight[0] != seq:
            raise protocol.ProtocolError("result for a task this worker is not running")
        entry = pending[seq]
        kind = message["k"]
        if kind == "cases":
            results = entry.results[zygote.run]
            if "o" in message:  # columnar: consecutive cases from "s", or the indices in "i"
                codes, outputs = message["o"], message["v"]
                count = len(outputs)
                if type(codes) is not str or len(codes) != count:
                    raise protocol.ProtocolError("bad case batch")
                pairs = list(zip(map(_OUTCOMES.__getitem__, codes), outputs))
                if "s" in message:
                    start = message["s"]
                    if type(start) is not int or not 0 <= start <= len(results) - count:
                        raise protocol.ProtocolError("bad case batch")
                    results[start:start + count] = pairs
                else:
                    indices = message["i"]
                    if len(indices) != count:
                        raise protocol.ProtocolError("bad case batch")
                    for index, pair in zip(indices, pairs):
                        results[index] = pair
                return
            if entry.coverage is None or zygote.run != 0:
                # The common case, kept tight: one record per case, every case of a batch.
                for record in message["r"]:
                    results[record[0]] = (record[1], record[2])
                return
            for index, outcome, output, *coverage in message["r"]:
                results[index] = (outcome, output)
                if coverage:
                    # Operand records follow the arcs when the task asked for them (shapes checked by the
                    # zygote; the search reads each text with our literal parser).
                    operands = [tuple(record) for record in coverage[2]] if len(coverage) > 2 else []
                    entry.coverage[index] = CaseCoverage(lines=coverage[0], arcs=[tuple(arc) for arc in coverage[1]],
                                                         operands=operands)
        elif kind == "load":
            entry.status[zygote.run] = (str(message["status"]), str(message["detail"]))
        elif kind == "end":
            entry.ended[zygote.run] = True
            zygote.inflight.popleft()
        elif kind == "fatal":
            raise SandboxError(f"the sandbox could not prepare a child to run a function, twice in a row "
                               f"(isolation {self.isolation}): {str(message.get('detail'))[:500]}")
        else:
            raise protocol.ProtocolError(f"unexpected frame {kind!r}")

    def _replace(self, zygote: _Zygote, pending: dict[int, _Pending], sent: dict[int, bytes], why: str) -> None:
        """Kill a dead or silent zygote, restart it, and resend the tasks it had queued.

        A worker can die for reasons of its own (the machine's OOM killer, a stall under load), so
        its current task is run again from scratch, once. Only a task under which a second worker
        dies has its unreported cases marked ``crashed``: then it is the function's doing.
        """
        if why == "silent":
            logger.warning("sandbox worker %d was silent too long; killing it", zygote.proc.pid)
        else:
            logger.warning("sandbox worker %d died; restarting it", zygote.proc.pid)
        queued = list(zygote.inflight)
        resend = queued[1:]
        if queued:
            head = pending[queued[0]]
            run = zygote.run
            if head.resent[run]:
                results = head.results[run]
                for index, value in enumerate(results):
                    if value is None:
                        results[index] = ("crashed", ZYGOTE_CRASH)
                if head.status[run] is None:
                    head.status[run] = ("crashed", ZYGOTE_CRASH)
                head.ended[run] = True
            else:
                head.resent[run] = True
                head.results[run] = [None] * len(head.task.inputs)
                head.status[run] = None
                if head.coverage is not None and run == 0:
                    head.coverage = [None] * len(head.task.inputs)
                resend = queued
        fresh = self._restart(zygote)
        for seq in resend:
            fresh.queue(sent[seq])
            fresh.inflight.append(seq)


def _fill(status: str, detail: str, count: int) -> list[tuple[str, str]]:
    outcome = "timeout" if status == "load_timeout" else "crashed"
    return [(outcome, f"{status}: {detail}" if detail else status)] * count


def _merge(entry: _Pending) -> ExecutionResult:
    task = entry.task
    statuses = [s or ("crashed", ZYGOTE_CRASH) for s in entry.status]
    bad = next((s for s in statuses if s[0] != "ok"), None)
    if bad is not None:
        status, detail = bad
        cases = [Case(input=src, output=out, outcome=outcome)
                 for src, (outcome, out) in zip(task.inputs, _fill(status, detail, len(task.inputs)))]
        return ExecutionResult(id=task.id, status=status, cases=cases, detail=detail,
                               coverage=None if entry.coverage is None else [None] * len(cases))
    first = entry.results[0]
    if None not in first and all(other == first for other in entry.results[1:]):
        # Every run agreed on every case (lists of tuples compare in C): no per-case checks.
        cases = [Case(source, output, outcome) for source, (outcome, output) in zip(task.inputs, first)]
        return ExecutionResult(id=task.id, status="ok", cases=cases, detail="", coverage=entry.coverage)
    cases = []
    for index, source in enumerate(task.inputs):
        seen = [run[index] or ("crashed", ZYGOTE_CRASH) for run in entry.results]
        outcome, output = seen[0]
        if any(other != seen[0] for other in seen[1:]):
            outcome, output = _disagreement(seen)
        cases.append(Case(input=source, output=output, outcome=outcome))
    return ExecutionResult(id=task.id, status="ok", cases=cases, detail="", coverage=entry.coverage)


# A run that hit a limit says what the case costs, whatever the other run managed: a memory bomb
# that one run ends by MemoryError and a slower run by the deadline is a memory case, not a
# nondeterministic one. Checked in this order, so the result does not depend on which run was which.
_LIMIT_OUTCOMES = ("memory", "timeout", "crashed")


def _disagreement(seen: list[tuple[str, str]]) -> tuple[str, str]:
    for limit in _LIMIT_OUTCOMES:
        for outcome, output in seen:
            if outcome == limit:
                return outcome, output
    return "nondeterministic", seen[0][1]


def _wants_coverage(task: ExecutionTask) -> bool:
    return bool(getattr(task, "coverage", False))


def execute(tasks: Iterable[ExecutionTask], *, config: SandboxConfig | None = None) -> Iterator[ExecutionResult]:
    """Run ``tasks`` in a fresh sandbox; yield results in input order (the sandbox closes at the end).

    Args:
        tasks: Functions with their inputs.
        config: Sandbox options; defaults to ``SandboxConfig()``.

    Returns:
        An iterator of ``ExecutionResult``, one per task, in input order.

    Raises:
        SandboxError: the sandbox could not start.
    """
    with Sandbox(config) as sandbox:
        yield from sandbox.run(tasks)
