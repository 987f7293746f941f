"""``ast.parse`` that is safe to call from more than one thread at once.

CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide state, so two threads
that turn source into ``ast`` nodes at the same moment can fail with ``SystemError: AST constructor
recursion depth mismatch`` (python/cpython#106905). The LLM writer parses answers on its event
loop's thread while the caller parses on its own, so every parse in the package takes this one lock.
It imports only the standard library: the sandbox's zygote imports ``literals``, which uses it.
"""

from __future__ import annotations

import ast
import os
import threading

_lock = threading.Lock()


def _fresh_lock() -> None:
    # A fork taken while another thread held the lock would leave the child's copy held forever.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock)


def parse_ast(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> ast.Module | ast.Expression:
    """``ast.parse(source, filename, mode)``, one thread at a time."""
    with _lock:
        return ast.parse(source, filename=filename, mode=mode)
