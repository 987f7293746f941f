"""The sandbox: runs untrusted functions on their inputs in forked, locked-down children of warm
per-worker zygote processes, and returns canonical outputs.

Outcomes of a case (``ExecutionResult.cases[i]`` answers ``task.inputs[i]``):

- ``returned``: ``output`` is the canonical repr (builtin ``repr``, but sets and frozensets list
  their elements sorted by canonical repr, so outputs do not depend on the hash seed).
- ``raised``: ``"ExcType: message"`` (just ``"ExcType"`` for an empty message; message capped at
  1000 characters, `` at 0x...`` addresses masked). ``SystemExit`` and ``KeyboardInterrupt`` count
  as raised: the call ended with that exception, the same way every time.
- ``timeout``: no result within ``timeout`` seconds of CPU time (including the repr's), or within
  the wall-clock backstop (``wall_factor`` times longer) for a call that waits.
- ``memory``: ``MemoryError`` under the address-space limit.
- ``crashed``: the child died after its set-up (a signal such as SIGSEGV, ``os._exit``, closing or
  corrupting its result pipe), or a zygote died under the same task twice (``"Crashed: sandbox
  worker died"``; once, and the task is run again).

Never an outcome: a failure of the sandbox's own preparation of a child before the function runs
(its scratch folder, Landlock, rlimits, seccomp, the fork). The zygote retries it once; a second
failure in a row ends the run with ``SandboxError`` naming the step.
- ``unserializable``: the repr shows a memory address, is longer than ``output_cap``, raised or
  hung; or the input is not in the literal grammar (``output`` is ``"LiteralSyntaxError: ..."``).
- ``nondeterministic``: the runs under different hash seeds disagreed (``output`` is run 1's).
  A run that hit a limit decides instead: ``memory``, then ``timeout``, then ``crashed`` (a
  memory bomb is a memory case even when the slower run met its deadline first).

``status`` is ``ok``, or ``load_error`` / ``load_timeout`` / ``no_entry_point`` / ``crashed``;
then every case is ``crashed`` (``timeout`` for ``load_timeout``) with ``"<status>: <detail>"``.

Sessions: tasks with the same ``ExecutionTask.session`` key are rounds of one search, and run in
one child kept between them (on the worker chosen at the first round) instead of a fresh child
each, which saves the fork and the lock-down, most of a small round's cost. Module state carries
over between rounds, so a session is for exploring only: a child that dies or is killed is
replaced by a fresh one, ``Sandbox.close_session`` ends it, and kept data is always run without
one. Sessions need seccomp (a child that cannot fork leaves nothing behind); without it every
round gets a fresh child.

``Sandbox``/``SandboxConfig``/``execute`` are loaded lazily: the zygote imports this package and
must stay light (no schema, no logging set-up, no datasets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .pool import NOT_READY, Sandbox, execute

__all__ = ["NOT_READY", "Sandbox", "SandboxConfig", "execute"]


def __getattr__(name: str):
    if name == "SandboxConfig":
        from .config import SandboxConfig

        return SandboxConfig
    if name in ("Sandbox", "execute", "NOT_READY"):
        from . import pool

        return getattr(pool, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
