"""Configuration of the sandbox: one dataclass, validated on construction."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from ..errors import ConfigError

Isolation = Literal["auto", "bwrap", "unshare", "none"]
ISOLATIONS: tuple[str, ...] = ("auto", "bwrap", "unshare", "none")
ISOLATION_ENV = "CASE2CODE_SANDBOX_ISOLATION"


@dataclass
class SandboxConfig:
    """How the sandbox runs untrusted functions.

    Attributes:
        workers: Zygote processes per hash seed; ``None`` means ``os.cpu_count()``. With ``runs=2``
            there are ``2 * workers`` zygotes (``workers`` pairs). Measured on 2 shared cores, two
            pairs beat one pair (the next child's fork, input parsing and exit overlap another
            zygote's calls), so ``workers = cores`` is the default.
        timeout: CPU seconds one call (and the repr of its result) may use. CPU time, not wall time,
            so that a call ends the same way on a quiet and on a busy machine.
        wall_factor: The wall-clock backstop of a call (and of loading) is ``wall_factor`` times its
            CPU limit (at least one second more): it ends calls that wait without computing (a
            sleep, a lock), whose CPU time never runs out.
        memory_mb: Address-space limit of the child that runs a function (RLIMIT_AS).
        runs: Times each case is run, in zygotes with different ``PYTHONHASHSEED``s; cases whose
            outcome or output differ become ``nondeterministic``. ``1`` disables the check.
        isolation: ``auto`` picks ``bwrap``, then ``unshare``, then ``none``; naming one that does
            not work here raises ``SandboxError`` when the sandbox starts. The default is read from
            the environment variable ``CASE2CODE_SANDBOX_ISOLATION`` when it is set (to try, or to
            test, the fallback on a machine that has bubblewrap), else ``auto``.
        load_timeout: Seconds the module code may take to load; ``None`` means ``max(timeout, 1.0)``.
        grace: Extra seconds a silent child gets past its deadline before it is killed.
        output_cap: Longest canonical repr kept; longer outputs are ``unserializable``.
        scratch_mb: Size of the private ``/tmp`` (bwrap only) where scratch directories live.
        file_mb: Largest file a function may write (RLIMIT_FSIZE).
        seed: Base of the hash seeds: run ``r`` uses ``PYTHONHASHSEED = seed + r``.
        seccomp: Install the child's seccomp filter (no fork, no signals to other processes, no
            ptrace, no IPv4/IPv6 sockets) where the kernel allows it.
        landlock: Restrict the child's file system access with Landlock where the kernel has it:
            read only the interpreter, the package and system libraries, write only its scratch
            directory (see :mod:`.landlock`).
        coverage: Measure line and arc coverage of the function's own code for every case
            (``ExecutionResult.coverage``); a task can also ask for it alone
            (``ExecutionTask.coverage``). Off costs nothing; on, calls run under ``sys.settrace``.
    """

    workers: int | None = None
    timeout: float = 1.0
    memory_mb: int = 512
    runs: int = 2
    isolation: Isolation = field(default_factory=lambda: os.environ.get(ISOLATION_ENV) or "auto")  # type: ignore[assignment]
    load_timeout: float | None = None
    grace: float = 0.25
    output_cap: int = 10_000
    scratch_mb: int = 256
    file_mb: int = 16
    seed: int = 1
    seccomp: bool = True
    landlock: bool = True
    coverage: bool = False
    wall_factor: float = 5.0

    def __post_init__(self) -> None:
        if self.workers is None:
            self.workers = os.cpu_count() or 1
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"workers must be a positive integer, got {self.workers!r}", field="workers")
        for name in ("timeout", "grace"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0 or value != value:
                raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}", field=name)
        if self.load_timeout is None:
            self.load_timeout = max(float(self.timeout), 1.0)
        if not isinstance(self.load_timeout, (int, float)) or self.load_timeout <= 0:
            raise ConfigError(f"load_timeout must be positive, got {self.load_timeout!r}", field="load_timeout")
        if not isinstance(self.memory_mb, int) or self.memory_mb < 64:
            raise ConfigError(f"memory_mb must be an integer >= 64, got {self.memory_mb!r}", field="memory_mb")
        if not isinstance(self.runs, int) or not 1 <= self.runs <= 4:
            raise ConfigError(f"runs must be 1, 2, 3 or 4, got {self.runs!r}", field="runs")
        if self.isolation not in ISOLATIONS:
            raise ConfigError(f"isolation must be one of {', '.join(ISOLATIONS)}, got {self.isolation!r}"
                              f"{f' (from ${ISOLATION_ENV})' if os.environ.get(ISOLATION_ENV) == self.isolation else ''}",
                              field="isolation")
        if not isinstance(self.wall_factor, (int, float)) or not self.wall_factor >= 1:
            raise ConfigError(f"wall_factor must be a number of at least 1, got {self.wall_factor!r}", field="wall_factor")
        for name in ("output_cap", "scratch_mb", "file_mb"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}", field=name)
        if not isinstance(self.coverage, bool):
            raise ConfigError(f"coverage must be true or false, got {self.coverage!r}", field="coverage")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}", field="seed")

    def wall_limit(self, cpu_seconds: float) -> float:
        """The wall-clock backstop for a CPU-time limit."""
        return max(self.wall_factor * cpu_seconds, cpu_seconds + 1.0)

    @property
    def zygotes_per_run(self) -> int:
        """Zygotes sharing one hash seed."""
        return int(self.workers)
