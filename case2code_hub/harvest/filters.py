"""Filters on harvested functions, by static inspection only; each drop is counted by its reason.

Reasons (``dropped/<reason>`` in the stats), checked in this order, first match wins:

- ``coroutine`` (``async def`` or ``await``), ``test_function`` (name ``test``, ``test_*``, ``_test*``),
  ``decorated`` (any decorator but ``lru_cache`` / ``cache``), ``no_params`` (no named parameter;
  ``*args`` / ``**kwargs`` alone do not count), ``generator`` (``yield`` in its own body),
  ``no_return_value`` (no ``return <expr>`` other than ``return None``), ``global_state``
  (a ``global`` statement: such functions keep state between calls);
- from self-containment: ``unresolved_name``, ``relative_import``, ``rebound_entry_point``;
- side effects, over the whole self-contained code: ``denied_builtin`` (console/file I/O, dynamic
  code, ``id``/``hash``), ``denied_module`` (file, process, network, clock, randomness, console and
  interpreter-introspection modules; pure members such as ``os.path.join``, ``os.sep`` or
  ``sys.maxsize`` are allowed), ``clock_call`` (any ``.now()`` / ``.today()`` / ``.utcnow()``),
  ``non_stdlib_import`` (the sandbox has the standard library only; see ``FilterConfig``);
- ``too_short`` / ``too_long`` (characters, and lines, of the whole self-contained code);
- ``compile_error`` (``compile()`` only, never run).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from dataclasses import dataclass

from ..errors import ConfigError
from .functions import SelfContained

ALLOWED_DECORATORS = frozenset({"lru_cache", "cache"})

DENIED_BUILTINS = frozenset(
    {"open", "print", "input", "help", "breakpoint", "exit", "quit", "copyright", "credits", "license"}
    | {"exec", "eval", "compile", "__import__", "globals", "locals", "vars"}
    # id() is a memory address; hash() of str/bytes changes with PYTHONHASHSEED; async iteration.
    | {"id", "hash", "aiter", "anext"}
)

DENIED_MODULES = frozenset(
    {
        # files, processes, the OS and the interpreter
        "os", "posixpath", "ntpath", "sys", "subprocess", "shutil", "pathlib", "io", "tempfile", "glob",
        "fileinput", "filecmp", "mmap", "fcntl", "pty", "tty", "termios", "resource", "grp", "pwd",
        "signal", "ctypes", "gc", "weakref", "builtins", "importlib", "pkgutil", "runpy", "zipimport",
        "inspect", "sysconfig", "site", "atexit", "faulthandler", "tracemalloc", "trace", "pdb", "bdb",
        "code", "dis", "cProfile", "profile", "timeit", "platform", "locale", "getpass", "ensurepip",
        "venv", "distutils", "setuptools", "pip", "unittest", "doctest", "pydoc", "msvcrt", "winreg",
        "winsound", "_winapi", "nt", "posix", "_thread", "_io", "_os",
        # persistence and archives (they open files)
        "pickle", "cPickle", "_pickle", "marshal", "shelve", "dbm", "sqlite3", "zipfile", "tarfile",
        "gzip", "bz2", "lzma", "configparser", "netrc", "mailbox", "mimetypes", "imghdr", "sndhdr",
        "wave", "aifc", "sunau", "chunk", "zoneinfo", "logging", "warnings",
        # concurrency, network
        "threading", "multiprocessing", "concurrent", "asyncio", "queue", "sched", "selectors",
        "select", "socket", "socketserver", "ssl", "urllib", "http", "ftplib", "smtplib", "poplib",
        "imaplib", "nntplib", "telnetlib", "xmlrpc", "wsgiref", "webbrowser", "cgi", "cgitb",
        "requests", "contextvars",
        # clock and randomness
        "time", "random", "secrets", "uuid",
        # console and GUI
        "curses", "readline", "rlcompleter", "tkinter", "turtle", "idlelib", "pprint", "this",
        "antigravity",
    }
)

_PATH_PURE = (
    "join", "split", "splitext", "basename", "dirname", "normpath", "normcase", "commonprefix",
    "isabs", "splitdrive", "sep", "altsep", "extsep", "curdir", "pardir", "pathsep",
)
# Members of denied modules that are pure string operations or constants.
ALLOWED_MEMBERS = frozenset(
    {f"{module}.{name}" for module in ("os.path", "posixpath", "ntpath") for name in _PATH_PURE}
    | {f"os.{name}" for name in ("sep", "altsep", "extsep", "curdir", "pardir", "pathsep", "linesep", "name")}
    | {f"os.{name}" for name in ("fspath", "fsencode", "fsdecode", "PathLike")}
    | {f"sys.{name}" for name in ("maxsize", "byteorder", "float_info", "int_info", "maxunicode", "hash_info")}
    | {f"sys.{name}" for name in ("platform", "version_info", "getdefaultencoding", "getrecursionlimit")}
    | {"urllib.parse", "http.HTTPStatus", "pprint.pformat", "pprint.saferepr", "pprint.isreadable"}
    | {"io.StringIO", "io.BytesIO"}  # in-memory buffers
    # A warning is reported on stderr, which the sandbox captures; the return value is unaffected.
    | {"warnings.warn"}
)
CLOCK_ATTRIBUTES = frozenset({"now", "today", "utcnow"})


@dataclass
class FilterConfig:
    """Bounds and switches of the filters.

    ``stdlib_imports_only`` drops functions importing anything outside the running interpreter's
    standard library (``sys.stdlib_module_names``): the sandbox could not import it.
    """

    min_chars: int = 50
    max_chars: int = 4000
    max_lines: int = 150
    stdlib_imports_only: bool = True

    def __post_init__(self) -> None:
        if self.min_chars < 0:
            raise ConfigError(f"min_chars must be >= 0, got {self.min_chars}", field="min_chars")
        if self.max_chars <= self.min_chars:
            raise ConfigError(f"max_chars must be > min_chars ({self.min_chars}), got {self.max_chars}", field="max_chars")
        if self.max_lines < 1:
            raise ConfigError(f"max_lines must be >= 1, got {self.max_lines}", field="max_lines")


def signature_reason(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Why the entry function itself is unfit (before any self-containment work), or ``None``."""
    if isinstance(node, ast.AsyncFunctionDef):
        return "coroutine"
    name = node.name
    if name == "test" or name.startswith(("test_", "_test")):
        return "test_function"
    if any(_dotted(d.func if isinstance(d, ast.Call) else d).rpartition(".")[2] not in ALLOWED_DECORATORS for d in node.decorator_list):
        return "decorated"
    args = node.args
    if not (args.posonlyargs or args.args or args.kwonlyargs):
        return "no_params"
    own = list(_own_nodes(node))
    if any(isinstance(n, ast.Await) for n in own):
        return "coroutine"
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        return "generator"
    if not any(isinstance(n, ast.Return) and n.value is not None and not _is_none(n.value) for n in own):
        return "no_return_value"
    if any(isinstance(n, ast.Global) for n in ast.walk(node)):
        return "global_state"
    return None


def side_effect_reason(contained: SelfContained, tree: ast.Module, *, stdlib_imports_only: bool = True) -> str | None:
    """Why the self-contained code (parsed as ``tree``) could touch the outside world, or ``None``."""
    if contained.builtins_used & DENIED_BUILTINS:
        return "denied_builtin"
    imported: dict[str, str] = {}  # bound name -> dotted module path it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imported[alias.asname] = alias.name
                else:  # ``import a.b`` binds ``a``
                    root = alias.name.partition(".")[0]
                    imported[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            if node.level:
                return "relative_import"
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    if any(_denied(path) for path in _module_uses(tree, imported)):
        return "denied_module"
    if any(isinstance(n, ast.Attribute) and n.attr in CLOCK_ATTRIBUTES for n in ast.walk(tree)):
        return "clock_call"
    if stdlib_imports_only:
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            if any(m.partition(".")[0] not in sys.stdlib_module_names for m in modules):
                return "non_stdlib_import"
    return None


def length_reason(code: str, *, config: FilterConfig) -> str | None:
    """``too_short`` / ``too_long`` for the whole self-contained code, or ``None``."""
    if len(code) < config.min_chars:
        return "too_short"
    if len(code) > config.max_chars or code.count("\n") > config.max_lines:
        return "too_long"
    return None


def compile_reason(code: str) -> str | None:
    """``compile_error`` when the code does not compile (compiled only: nothing runs)."""
    try:
        compile(code, "<harvested>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "compile_error"
    return None


def count_drop(stats: Counter, reason: str) -> None:
    """Count one dropped function under ``dropped/<reason>``."""
    stats[f"dropped/{reason}"] += 1


def _module_uses(tree: ast.Module, imported: dict[str, str]) -> set[str]:
    """Dotted paths read through imported names: ``os.path.join(...)`` gives ``os.path.join``."""
    uses: set[str] = set()
    inner: set[int] = set()  # attribute nodes already covered by a longer chain
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            parts = [node.attr]
            value = node.value
            while isinstance(value, ast.Attribute):
                inner.add(id(value))
                parts.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in imported:
                uses.add(".".join([imported[value.id], *reversed(parts)]))
                inner.add(id(value))
        elif isinstance(node, ast.Name) and id(node) not in inner and node.id in imported:
            uses.add(imported[node.id])
    return uses


def _denied(path: str) -> bool:
    if path.partition(".")[0] not in DENIED_MODULES:
        return False
    return not any(path == allowed or path.startswith(allowed + ".") for allowed in ALLOWED_MEMBERS)


def _own_nodes(node: ast.AST):
    """Nodes of a function's own body, not entering nested functions, lambdas or classes."""
    stack = list(node.body)
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _dotted(expr: ast.expr) -> str:
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    return ".".join(reversed(parts))
