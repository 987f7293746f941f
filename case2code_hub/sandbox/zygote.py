"""The per-worker zygote: a long-lived, warm Python that forks one child per function, watches
it with a deadline, classifies the case that killed or hung it, and relays results to the parent.

A task with a ``session`` key leaves its child waiting for the next round of the same function
(``_Session``); the zygote runs one task at a time, so the waiting children only read.

Started as ``python -s -S -c BOOTSTRAP`` (see ``BOOTSTRAP``); the first frame on stdin is its settings, the
next ones are tasks, and frames on stdout are results (see ``protocol``). It imports only the standard library,
``case2code_hub.literals`` and ``case2code_hub.sandbox`` modules.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import mmap
import os
import select
import shutil
import signal
import time

from . import landlock, protocol, runner, seccomp
from .operands import MAX_REPORTED, MAX_SOURCE

# Modules functions commonly import: loaded once here so each forked child finds them warm.
PRELOAD = (
    "re", "math", "cmath", "string", "collections", "itertools", "functools", "operator", "heapq",
    "bisect", "typing", "json", "random", "datetime", "decimal", "fractions", "textwrap", "copy",
    "statistics", "enum", "numbers", "unicodedata", "colorsys", "fnmatch", "posixpath", "html",
    "struct", "binascii", "base64", "hashlib", "zlib", "array", "calendar", "dataclasses",
    "urllib.parse", "difflib", "keyword", "ctypes", "threading", "socket",
)
# How the pool starts a zygote: ``BASE_PYTHON -s -S -c BOOTSTRAP``, its settings frame on stdin.
# The preloaded modules come first, before anything that varies between installs is in the
# process: no module of ours (its size), no ``site`` (.pth files, editable-install finders), no
# path of ours on sys.path (an import lists each folder it searches) or in argv, and the base
# interpreter rather than a virtual environment's (whose location lands in the interpreter's own
# allocations). The addresses of the preloaded classes, which a set of classes iterates by, then
# follow the Python build alone. Only then come the settings (read with the standard library),
# our package, and the environment's site-packages, so functions import what they did before.
BOOTSTRAP = (
    "import importlib, json, os, struct, sys\n"
    f"for name in {PRELOAD!r}:\n"
    "    try:\n"
    "        importlib.import_module(name)\n"
    "    except ImportError:\n"
    "        pass\n"
    "def read(size):\n"
    "    data = b''\n"
    "    while len(data) < size:\n"
    "        chunk = os.read(0, size - len(data))\n"
    "        if not chunk:\n"
    "            raise SystemExit('zygote: no settings on stdin')\n"
    "        data += chunk\n"
    "    return data\n"
    "(size,) = struct.unpack('>I', read(4))\n"
    "if size > 1 << 20:\n"
    "    raise SystemExit('zygote: settings frame too large')\n"
    "settings = json.loads(read(size))\n"
    "sys.path.insert(0, settings['package_root'])\n"
    "import site\n"
    "for folder in settings['site_dirs']:\n"
    "    site.addsitedir(folder)\n"
    "from case2code_hub.sandbox.zygote import main\n"
    "main(settings)\n"
)
CHILD_FRAME_CAP = 16 << 20
# Sessions (children kept between rounds) a zygote holds at most; the search closes each one when
# its function is done, so this is only a bound against a caller that never does.
MAX_SESSIONS = 128
MAX_SESSION_KEY = 200
CHILD_OUTCOMES = frozenset({"returned", "raised", "timeout", "memory", "unserializable"})
PR_SET_CHILD_SUBREAPER = 36
# A child gets this long (wall clock) to lock itself down and read its inputs before it says
# ``armed``; tries per task before a failing set-up stops the run (exit status of the zygote then).
SETUP_WALL_LIMIT = 10.0
SETUP_TRIES = 2
EXIT_FATAL = 3
# How often the CPU time of a call that is silent past its limit is read again from /proc.
CPU_CHECK_EVERY = 0.05
PIPE_SIZE = 1 << 20
_OUTCOME_OF = {code: outcome for outcome, code in runner.OUTCOME_CODES.items()}
_OUTCOME_LETTERS = str.maketrans("", "", "".join(_OUTCOME_OF))  # deletes every valid letter


class _Task:
    def __init__(self, message: dict, settings: dict) -> None:
        self.seq = message["t"]
        self.task = {"code": message["code"], "entry_point": message["entry_point"], "inputs": message["inputs"],
                     "coverage": bool(message.get("coverage")), "operands": bool(message.get("operands"))}
        self.n = len(message["inputs"])
        session = message.get("session")
        self.session = session if type(session) is str and 0 < len(session) <= MAX_SESSION_KEY else None
        self.done = bytearray(self.n)
        self.loaded = False
        self.settings = settings

    def first_todo(self) -> int:
        index = self.done.find(0)
        return self.n if index < 0 else index

    def todo(self) -> list[int]:
        return [i for i in range(self.n) if not self.done[i]]


class _Session:
    """A child kept alive between the rounds of one function's search (a task's ``session`` key).

    Its pid is waited for and signalled through a pidfd only, so a recycled pid is never hit.
    """

    def __init__(self, pid: int, pidfd: int, command_fd: int, result_fd: int, scratch: str) -> None:
        self.pid, self.pidfd, self.command_fd, self.result_fd, self.scratch = pid, pidfd, command_fd, result_fd, scratch

    def alive(self) -> bool:
        return not select.select([self.pidfd], [], [], 0)[0]  # a pidfd turns readable when its process exits

    def close(self) -> None:
        """Kill it (it holds nothing worth a goodbye), reap it, and remove its folder."""
        for fd in (self.command_fd, self.result_fd):
            os.close(fd)
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitid(os.P_PIDFD, self.pidfd, os.WEXITED)
        except ChildProcessError:
            pass
        os.close(self.pidfd)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _works_in_child(check) -> bool:
    """``check()`` in a throwaway forked child: a protection is probed where it cannot be undone."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if check() else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


class Zygote:
    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.out_fd = 1
        self.in_fd = 0
        self.own_pidns = bool(settings.get("pidns")) and os.getpid() in (1, 2)
        self.scratch_root = settings["scratch_root"]
        self.counter = 0
        self.progress_map = mmap.mmap(-1, 8 * runner.PROGRESS_SLOTS)
        self.progress = memoryview(self.progress_map).cast("q")
        self.clock_ticks = os.sysconf("SC_CLK_TCK")
        self.seccomp = bool(settings.get("seccomp", True)) and seccomp.supported() and self._probe_seccomp()
        self.seccomp_installer = seccomp.Installer() if self.seccomp else None
        self.subreaper = False
        self.landlock: landlock.Rules | None = None  # probed in serve(), once the scratch root exists
        # Sessions need seccomp (a child that cannot fork leaves nothing behind, so no leftover
        # hunt that would kill the waiting children) and pidfds (see _Session).
        self.sessions: dict[str, _Session] = {}
        self.sessions_ok = self.seccomp and _pidfds_work()

    # -- plumbing -----------------------------------------------------------------------------
    def send(self, message: dict) -> None:
        protocol.write_all(self.out_fd, protocol.encode(message))

    def serve(self) -> None:
        # The parent names a root per zygote (never shared): each child's folder below it is ours alone.
        os.makedirs(self.scratch_root)
        protections = ["fork-per-function", "rlimits", "fds-closed", "env-scrubbed", "scratch-dir"]
        if self._set_subreaper():
            self.subreaper = True
            protections.append("subreaper")
        if self.seccomp:
            protections.append("seccomp")
        if self.settings.get("landlock", True) and landlock.abi_version() > 0:
            rules = landlock.child_rules([self.settings["package_root"], *self.settings.get("site_dirs", ())])
            if _works_in_child(lambda: landlock.works(rules, self.scratch_root)):
                self.landlock = rules
                protections.append("landlock")
            else:
                rules.close()
        self.send({"k": "ready", "protections": protections})
        try:
            while True:
                message = protocol.read_frame(self.in_fd, max_size=protocol.TASK_FRAME_CAP)
                if message is None:
                    return
                if message.get("k") == "close":
                    for key in message.get("sessions", ()):
                        session = self.sessions.pop(key, None) if type(key) is str else None
                        if session is not None:
                            session.close()
                    continue
                self.run_task(_Task(message, self.settings))
        finally:
            for session in self.sessions.values():
                session.close()
            self.sessions.clear()

    def _set_subreaper(self) -> bool:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except OSError:
            return False

    def _probe_seccomp(self) -> bool:
        def works() -> bool:
            if not seccomp.install():
                return False
            if os.getpid() == 1:
                return True
            try:
                os.kill(1, 0)
            except PermissionError:
                return True
            return False

        return _works_in_child(works)

    # -- one task -----------------------------------------------------------------------------
    def run_task(self, task: _Task) -> None:
        flush_through = -1
        setup_failures = 0
        while True:
            todo = task.todo()
            if task.loaded and not todo:
                break
            kind, status, death, made_progress, load = self._run_child(task, todo, flush_through)
            if kind == "setup":
                # Our own preparation failed before the function ran: never the function's outcome.
                # Once more, in a fresh child; twice in a row and the run stops with the reason.
                setup_failures += 1
                if setup_failures >= SETUP_TRIES:
                    self.send({"t": task.seq, "k": "fatal", "detail": death})
                    raise SystemExit(EXIT_FATAL)
                continue
            setup_failures = 0
            if not task.loaded:
                if load is not None and load["status"] != "ok":
                    self.send({"t": task.seq, "k": "load", "status": load["status"], "detail": load["detail"]})
                elif kind == "silence":
                    self.send({"t": task.seq, "k": "load", "status": "load_timeout", "detail": "module code did not finish loading"})
                else:
                    self.send({"t": task.seq, "k": "load", "status": "crashed", "detail": death})
                break
            if load is not None and load["status"] != "ok":  # loaded once, fails on a rerun
                self._mark(task, task.todo(), "crashed", "Crashed: module failed to load on a rerun")
                break
            if kind == "end" and not any(not task.done[i] for i in todo):
                continue
            if kind == "end":  # claimed to be done without reporting everything: a forged frame
                kind = "died"
            index, phase = self.progress[runner.PROGRESS_INDEX], self.progress[runner.PROGRESS_PHASE]
            valid = 0 <= index < task.n and not task.done[index]
            if kind == "silence":
                culprit = index if valid else task.first_todo()
                if phase == runner.PHASE_REPR:
                    self._mark(task, [culprit], "unserializable", "<unserializable: repr timed out>")
                else:
                    self._mark(task, [culprit], "timeout", "")
            elif valid and index <= flush_through or (not made_progress and task.first_todo() <= flush_through):
                culprit = index if valid else task.first_todo()
                code = os.waitstatus_to_exitcode(status) if status is not None else None
                if code == runner.EXIT_MEMORY:
                    self._mark(task, [culprit], "memory", "")
                else:
                    self._mark(task, [culprit], "crashed", death)
            else:
                # The death is not pinned on one case yet: rerun up to it reporting every case.
                flush_through = index if valid else task.n - 1
        self.send({"t": task.seq, "k": "end"})

    def _mark(self, task: _Task, indices: list[int], outcome: str, output: str) -> None:
        records = []
        for index in indices:
            task.done[index] = 1
            records.append([index, outcome, _standard_output(outcome, output, self.settings)])
        if records:
            self.send({"t": task.seq, "k": "cases", "r": records})

    def _run_child(self, task: _Task, todo: list[int], flush_through: int):
        """Fork a child for ``todo`` (or hand it to the task's session child); relay what it reports.
        Returns (how it ended, wait status, how it died, progress?, load); how it ended is
        ``"setup"`` when it failed before running any user code."""
        session = self.sessions.pop(task.session, None) if task.session else None
        if session is not None:
            if session.alive():
                ended = self._run_round(session, task, todo, flush_through)
                if ended is not None:
                    return ended
            else:
                session.close()
        self.counter += 1
        scratch = os.path.join(self.scratch_root, f"f{self.counter}")
        self.progress[runner.PROGRESS_INDEX], self.progress[runner.PROGRESS_PHASE] = -1, runner.PHASE_LOAD
        self.progress[runner.PROGRESS_CPU] = 0
        try:
            os.mkdir(scratch)  # not makedirs: a root that vanished is a failure to report, not to paper over
        except OSError as exc:
            return "setup", None, f"making the scratch directory {scratch}: {type(exc).__name__}: {exc}", False, None
        ruleset = self.landlock.ruleset(scratch) if self.landlock else None
        if self.landlock and ruleset is None:  # fails closed: no child without its rules
            shutil.rmtree(scratch, ignore_errors=True)
            return "setup", None, "Landlock: could not build the child's ruleset", False, None
        read_fd, write_fd = os.pipe()
        widen_pipe(write_fd)
        command = os.pipe() if task.session and self.sessions_ok else None
        install = self.seccomp_installer.install if self.seccomp_installer else None
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in (read_fd, write_fd, *(command or ())) + (() if ruleset is None else (ruleset,)):
                os.close(fd)
            shutil.rmtree(scratch, ignore_errors=True)
            return "setup", None, f"fork: {type(exc).__name__}: {exc}", False, None
        if pid == 0:
            os.close(read_fd)
            if command is not None:
                os.close(command[1])
            runner.child_main(task.task, todo=todo, flush_through=flush_through, result_fd=write_fd,
                              progress=self.progress, scratch=scratch, settings=self.settings, seccomp_filter=install,
                              landlock_ruleset=ruleset, command_fd=None if command is None else command[0])
            os._exit(runner.EXIT_INTERNAL)  # not reached
        os.close(write_fd)
        if command is not None:
            os.close(command[0])
        if ruleset is not None:
            os.close(ruleset)
        kind, made_progress, load, setup_detail = "protocol", False, None, ""
        try:
            kind, made_progress, load, setup_detail = self._supervise(task, read_fd, todo, pid)
        finally:
            if kind == "kept" and command is not None and self._keep(task.session, pid, command[1], read_fd, scratch):
                pass  # the child waits for the function's next round
            else:
                kind = "end" if kind == "kept" else kind
                os.close(read_fd)
                if command is not None:
                    os.close(command[1])
                status, death = self._finish(pid, kind)
                shutil.rmtree(scratch, ignore_errors=True)
        if kind == "kept":
            return "end", 0, "", made_progress, load
        if kind == "setup":
            return kind, status, setup_detail or death, False, None
        if kind == "end" and (status is None or os.waitstatus_to_exitcode(status) != 0):
            kind = "died"
        return kind, status, death, made_progress, load

    def _keep(self, key: str, pid: int, command_fd: int, result_fd: int, scratch: str) -> bool:
        """Keep a child that finished its round and waits for the next (``False``: it cannot be)."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return False
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = next(iter(self.sessions))
            self.sessions.pop(oldest).close()
        self.sessions[key] = _Session(pid, pidfd, command_fd, result_fd, scratch)
        return True

    def _run_round(self, session: _Session, task: _Task, todo: list[int], flush_through: int):
        """Run ``todo`` in the session's waiting child: ``_run_child``'s answer, or ``None`` when
        the child was gone before it reported anything (the caller forks a fresh one)."""
        # Cleared before the child can start on the round (it writes these as soon as it has it).
        self.progress[runner.PROGRESS_INDEX], self.progress[runner.PROGRESS_PHASE] = -1, runner.PHASE_CALL
        self.progress[runner.PROGRESS_CPU] = 0
        frame = protocol.encode({"k": "round", "inputs": task.task["inputs"], "todo": todo,
                                 "flush_through": flush_through})
        if not _write_within(session.command_fd, frame, SETUP_WALL_LIMIT):
            session.close()
            return None
        if not task.loaded:  # the session's child loaded the function in its first round
            self.send({"t": task.seq, "k": "load", "status": "ok", "detail": ""})
            task.loaded = True
        kind, made_progress, load = "protocol", False, None
        try:
            # Until the child says ``armed`` (it has read the round's inputs) the set-up's wall
            # limit applies, as for a fresh child: reading them is not a call's time.
            kind, made_progress, load, _ = self._supervise(task, session.result_fd, todo, session.pid)
        finally:
            if kind == "kept":
                self.sessions[task.session] = session
        if kind == "kept":
            return "end", 0, "", made_progress, load
        if kind == "setup" or kind == "eof" and not made_progress:
            # It went away between rounds, or before it read this one: not this round's doing
            # (close() kills and reaps it).
            session.close()
            return None
        status, death = self._finish(session.pid, kind)
        session.close()
        if kind == "end" and (status is None or os.waitstatus_to_exitcode(status) != 0):
            kind = "died"
        return kind, status, death, made_progress, load

    def _child_cpu_ns(self, pid: int) -> int | None:
        """The child's CPU time (user + system) so far, from /proc; ``None`` once it is gone."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            return None
        fields = stat[stat.rfind(b")") + 2:].split()
        try:
            ticks = int(fields[11]) + int(fields[12])
        except (IndexError, ValueError):
            return None
        return ticks * 1_000_000_000 // self.clock_ticks

    def _supervise(self, task: _Task, fd: int, todo: list[int], pid: int):
        """Relay the child's frames until it ends. Returns (how, progress?, load, set-up failure detail).

        Until the child says ``armed`` no user code has run: a failure then is ``"setup"``. After it,
        the child keeps its own CPU-time deadline; here a call is ended when the child has used more
        CPU than the limit since the call began (what a C loop that never yields needs), or when it
        has been silent past the wall-clock backstop (what a call that waits needs).
        """
        settings = self.settings
        columnar = not runner.measures_coverage(task.task, settings)
        reported = 0  # cases of ``todo`` reported so far (columnar batches come in ``todo`` order)
        frames = protocol.FrameBuffer(max_size=CHILD_FRAME_CAP, cut=False)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        grace = settings["grace"]
        cpu_limit_ns = int(((settings["timeout"] if task.loaded else settings["load_timeout"]) + grace) * 1e9)
        wall_limit = (settings["wall_timeout"] if task.loaded else settings["load_wall_timeout"]) + grace
        started = time.monotonic()
        deadline = started + SETUP_WALL_LIMIT
        cpu_check = started + cpu_limit_ns / 1e9
        armed = False
        made_progress = False
        load = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                if not armed:
                    return "setup", made_progress, load, f"did not finish its set-up within {SETUP_WALL_LIMIT:g} s"
                return "silence", made_progress, load, ""
            if armed and now >= cpu_check:
                used = self._child_cpu_ns(pid)
                began = self.progress[runner.PROGRESS_CPU]
                if used is not None and 0 < began <= used and used - began > cpu_limit_ns:
                    return "silence", made_progress, load, ""
                cpu_check = now + CPU_CHECK_EVERY
            wait = min(deadline, cpu_check if armed else deadline) - now
            if not poller.poll(max(1, int(wait * 1000) + 1)):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return ("eof" if armed else "setup"), made_progress, load, ""
            try:
                for message, body in frames.feed_with_bodies(chunk):
                    kind = message.get("k")
                    if not armed:
                        if kind == "armed":
                            armed = True
                            continue
                        if kind == "setup_failed" and isinstance(message.get("detail"), str):
                            return "setup", made_progress, load, _clean(message["detail"][:2000])
                        raise protocol.ProtocolError(f"unexpected frame {kind!r} before armed")
                    if kind == "cases" and task.loaded and columnar:
                        reported = self._relay_columns(task, message, body, todo, reported)
                        made_progress = True
                    elif kind == "cases" and task.loaded:
                        self._relay(task, message, body)
                        made_progress = True
                    elif kind == "load" and load is None:
                        load = self._check_load(message)
                        if load["status"] != "ok":
                            return "end", made_progress, load, ""
                        if not task.loaded:
                            self.send({"t": task.seq, "k": "load", "status": "ok", "detail": ""})
                        task.loaded = True
                        cpu_limit_ns = int((settings["timeout"] + grace) * 1e9)
                        wall_limit = settings["wall_timeout"] + grace
                    elif kind == "end" and task.loaded:
                        # A session child that stays for the next round says so (``retire`` false).
                        return ("kept" if message.get("retire") is False else "end"), made_progress, load, ""
                    else:
                        raise protocol.ProtocolError(f"unexpected frame {kind!r}")
            except (protocol.ProtocolError, TypeError, ValueError, KeyError, IndexError):
                if not armed:
                    return "setup", made_progress, load, "wrote garbage before its set-up was done"
                return "protocol", made_progress, load, ""
            if armed:
                # The current call began after the last frame, so its CPU time is at most the silence
                # since then: no need to read /proc before the silence reaches the CPU limit.
                now = time.monotonic()
                deadline = now + wall_limit
                cpu_check = now + cpu_limit_ns / 1e9

    def _check_load(self, message: dict) -> dict:
        status, detail = message.get("status"), message.get("detail")
        if status not in ("ok", "load_error", "load_timeout", "no_entry_point") or not isinstance(detail, str):
            raise protocol.ProtocolError("bad load frame")
        return {"status": status, "detail": _clean(detail[:2000])}

    def _relay_columns(self, task: _Task, message: dict, body: bytes, todo: list[int], reported: int) -> int:
        """Validate a columnar batch (the next cases of ``todo``); pass it on; return the new count.

        Checked in C over the whole batch: one known letter per outcome, one str per output, none
        over the cap. When the frame is a split frame of exactly ``{"k", "o", "v"}``, its cases are
        consecutive and no output needs rewriting, the parent gets the child's own text under a
        header written here (task id, first index, outcome letters and the checked lengths): it
        decodes them to exactly what was checked here.
        """
        codes, outputs = message["o"], message["v"]
        lengths = message.get(protocol.SPLIT_KEY)
        if lengths is None:  # a plain JSON batch: every output must be a str
            if type(outputs) is not list:
                raise protocol.ProtocolError("bad case batch")
            ascii_text = "".join(outputs).isascii()  # TypeError (a protocol error) otherwise
            lengths = list(map(len, outputs))
        else:  # a split frame: checked lengths of checked text (not cut into strings when ASCII)
            ascii_text = outputs is None
        if type(codes) is not str or len(codes) != len(lengths):
            raise protocol.ProtocolError("bad case batch")
        n = len(lengths)
        if not n:
            return reported
        if reported + n > len(todo) or codes.translate(_OUTCOME_LETTERS):
            raise protocol.ProtocolError("bad case batch")
        if max(lengths) > self.settings["output_cap"] + 200:
            raise protocol.ProtocolError("bad case record")
        indices = todo[reported:reported + n]
        start, done = indices[0], task.done
        consecutive = indices[-1] - start == n - 1  # todo is ascending and without repeats
        if done.find(1, start, indices[-1] + 1) >= 0 if consecutive else any(done[i] for i in indices):
            raise protocol.ProtocolError("bad case index")
        if consecutive:
            done[start:start + n] = b"\1" * n
        else:
            for index in indices:
                done[index] = 1
        rewrite = "t" in codes or "m" in codes or not ascii_text
        split = protocol.SPLIT_KEY in message
        if consecutive and not rewrite and split and len(message) == 4:
            # The child's text goes on as it is, under a header we wrote.
            header = {"t": task.seq, "k": "cases", "s": start, "o": codes}
            protocol.write_all(self.out_fd, protocol.split_frame(header, "v", lengths, body))
            return reported + n
        if outputs is None:
            outputs = protocol.cut_text(body.decode("ascii"), lengths)
        if rewrite:
            outputs = [_standard_output(_OUTCOME_OF[code], output, self.settings) if code in "tm"
                       else _clean(output) for code, output in zip(codes, outputs)]
        header = {"t": task.seq, "k": "cases", "s": start, "o": codes} if consecutive else \
            {"t": task.seq, "k": "cases", "i": indices, "o": codes}
        protocol.write_all(self.out_fd, protocol.encode_split(header, "v", outputs))
        return reported + n

    def _relay(self, task: _Task, message: dict, body: bytes) -> None:
        """Validate every record the child sent; pass them on under the task's id.

        When the frame is exactly ``{"k": "cases", "r": [...]}`` and no record needs rewriting
        (no timeout or memory text to standardise, no text to clean), the parent gets the child's
        own bytes with ``"t"`` spliced in front: it decodes them to exactly what was checked here.
        """
        records = message["r"]
        if not isinstance(records, list):
            raise protocol.ProtocolError("cases is not a list")
        cap = self.settings["output_cap"] + 200
        done, n = task.done, task.n
        verbatim = len(message) == 2 and body[:1] == b"{"
        for record in records:
            if type(record) is not list:
                raise protocol.ProtocolError("bad case record")
            if len(record) == 3:
                index, outcome, output = record
            else:
                index, outcome, output, *coverage = record
                if coverage and not _valid_coverage(coverage):
                    raise protocol.ProtocolError("bad coverage record")
            if type(index) is not int or not 0 <= index < n or done[index]:
                raise protocol.ProtocolError("bad case index")
            if outcome not in CHILD_OUTCOMES or type(output) is not str or len(output) > cap:
                raise protocol.ProtocolError("bad case record")
            if outcome == "timeout" or outcome == "memory" or not output.isascii():
                verbatim = False
        if not records:
            return
        for record in records:
            done[record[0]] = 1
        if verbatim:
            protocol.write_all(self.out_fd, protocol.frame(b'{"t":%d,' % task.seq + body[1:]))
            return
        checked = []
        for index, outcome, output, *coverage in records:
            if outcome == "timeout" or outcome == "memory":
                output = _standard_output(outcome, output, self.settings)
            elif not output.isascii():
                output = _clean(output)
            checked.append([index, outcome, output, *coverage])
        self.send({"t": task.seq, "k": "cases", "r": checked})

    def _finish(self, pid: int, kind: str) -> tuple[int | None, str]:
        """Stop the child and everything it left behind; return its wait status and how it died.

        After an end of file the child usually exits by itself: give it ``grace`` seconds, so the
        classification does not depend on who was quicker, us or its own exit.
        """
        status = None
        if kind in ("end", "eof"):
            status = self._wait_exit(pid, self.settings["grace"])
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            death = _KILLED_BECAUSE.get(kind, "Crashed: killed")
        else:
            death = _death(status)
        self._kill_leftovers()
        return status, death

    @staticmethod
    def _wait_exit(pid: int, seconds: float) -> int | None:
        """The child's wait status once it exits within ``seconds``, else None (it is still running)."""
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited:
            return status
        try:  # sleep until it exits (a pidfd is readable then), not in 1 ms naps
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        give_up = time.monotonic() + seconds
        try:
            while True:
                left = give_up - time.monotonic()
                if pidfd is not None and left > 0:
                    select.select([pidfd], [], [], left)
                elif left > 0:
                    time.sleep(min(0.001, left))
                waited, status = os.waitpid(pid, os.WNOHANG)
                if waited:
                    return status
                if left <= 0:
                    return None
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _kill_leftovers(self) -> None:
        if self.sessions:
            # Children wait in sessions, so "every other process" is not leftovers. Sessions need
            # seccomp: no child can have forked, and the one that ended was reaped by _finish.
            return
        if self.subreaper:
            # Orphaned descendants are re-parented to us, so none is left when we have no child
            # at all: one system call instead of reading /proc (about 2 ms a child without a pid
            # namespace). With seccomp a child cannot fork, so this is the usual case.
            try:
                os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
        for _ in range(1000):
            if self.own_pidns:
                # In our own pid namespace everyone but init and us is a leftover of the child;
                # kill(-1) reaches setsid'd grandchildren that killpg would miss.
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                for pid in _children_of(os.getpid()):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            reaped = _reap_all()
            if not reaped and not (_others_in_namespace() if self.own_pidns else _children_of(os.getpid())):
                return
            if not reaped:
                time.sleep(0.001)


def _pidfds_work() -> bool:
    try:
        os.close(os.pidfd_open(os.getpid()))
        return hasattr(os, "waitid") and hasattr(os, "P_PIDFD") and hasattr(signal, "pidfd_send_signal")
    except (AttributeError, OSError):
        return False


def _write_within(fd: int, data: bytes, seconds: float) -> bool:
    """Write all of ``data`` to a child's pipe unless it stops reading for ``seconds``."""
    os.set_blocking(fd, False)
    view = memoryview(data)
    give_up = time.monotonic() + seconds
    try:
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                left = give_up - time.monotonic()
                if left <= 0 or not select.select([], [fd], [], left)[1]:
                    return False
    except OSError:  # the child is gone (EPIPE)
        return False
    return True


def widen_pipe(fd: int) -> None:
    """A 1 MiB pipe instead of 64 KiB: a batch of results crosses in one write, not sixteen wake-ups."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (OSError, AttributeError):
        pass  # over the user's pipe quota, or an old kernel: the default size works, more slowly


def _reap_all() -> int:
    count = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return count
        if pid == 0:
            return count
        count += 1


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _others_in_namespace() -> list[int]:
    me = os.getpid()
    return [pid for pid in _pids() if pid not in (1, me)]


def _children_of(parent: int) -> list[int]:
    children = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            children.append(pid)
    return children


_KILLED_BECAUSE = {
    "eof": "Crashed: closed its result pipe",
    "protocol": "Crashed: wrote garbage to its result pipe",
    "end": "Crashed: did not exit after its last result",
    "silence": "Crashed: stopped answering",
}


def _death(status: int | None) -> str:
    if status is None:
        return "Crashed: lost"
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"Crashed: killed by {name}"
    return f"Crashed: exited with code {code}"


def _valid_coverage(coverage: list) -> bool:
    """``[lines, arcs]`` or ``[lines, arcs, operands]``: capped lists of ints, of int pairs and of
    ``[line, text]`` pairs (the child's code may forge them)."""
    if len(coverage) == 3:
        operands = coverage[2]
        if type(operands) is not list or len(operands) > MAX_REPORTED or not all(
                type(o) is list and len(o) == 2 and type(o[0]) is int and type(o[1]) is str and len(o[1]) <= MAX_SOURCE
                for o in operands):
            return False
    elif len(coverage) != 2:
        return False
    lines, arcs = coverage[:2]
    if type(lines) is not list or type(arcs) is not list or len(lines) > runner.COVERAGE_CAP or len(arcs) > runner.COVERAGE_CAP:
        return False
    if any(type(line) is not int for line in lines):
        return False
    return all(type(arc) is list and len(arc) == 2 and type(arc[0]) is int and type(arc[1]) is int for arc in arcs)


def _standard_output(outcome: str, output: str, settings: dict) -> str:
    if outcome == "timeout":
        return f"Timeout: no result within {settings['timeout']:g} s"
    if outcome == "memory":
        return f"MemoryError: over {settings['memory_mb']} MB"
    return output


def _clean(text: str) -> str:
    if not text.isascii():
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
    return text


def main(settings: dict) -> None:
    """Serve tasks with ``settings``, which ``BOOTSTRAP`` read after the warm imports.

    In that order so that where the imported objects sit in memory depends on the Python build
    alone (not on paths that differ between isolation modes and installs): a set of classes
    iterates in an order that follows their addresses, and a function that shows such an order
    must show the same one under bwrap, unshare or none, from any install.
    """
    if not isinstance(settings, dict):
        raise SystemExit("zygote: no settings on stdin")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    zygote = Zygote(settings)
    # Objects that exist now are shared with every child; without this the child's garbage
    # collector would touch (and so copy-on-write) every one of them.
    gc.freeze()
    zygote.serve()
