"""How a zygote is started: inside bubblewrap, inside ``unshare``, or bare, whichever works here.

bubblewrap gives new user, pid, network, IPC and UTS namespaces, a read-only view of ``/``, a
private size-capped ``/tmp`` (where scratch directories live), and tmpfs over the user's home and
the Hugging Face home so the Hub token cannot be read. ``unshare`` gives user, pid and network
namespaces only. ``none`` relies on the child's own limits (rlimits, seccomp, scrubbed env).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from typing import Iterator

from ..errors import SandboxError
from ..utils.logging import get_logger

logger = get_logger(__name__)

BWRAP_SCRATCH = "/tmp/case2code-scratch"
_works_cache: dict[tuple[str, ...], bool] = {}


@dataclass(frozen=True)
class Launch:
    """The command prefix that starts a zygote, and what it protects against."""

    kind: str
    prefix: tuple[str, ...]
    protections: tuple[str, ...]
    pidns: bool


def package_root() -> str:
    """The directory holding the ``case2code_hub`` package (put on the zygote's sys.path)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def site_dirs() -> list[str]:
    """This environment's site-packages folders: a zygote runs the base interpreter without
    ``site`` (see ``zygote.BOOTSTRAP``) and adds them after its warm imports."""
    return [folder for folder in site.getsitepackages() if os.path.isdir(folder)]


def secret_paths(environ: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Directories and files that may hold credentials: the home and Hugging Face home, the token files."""
    env = os.environ if environ is None else environ
    home = os.path.expanduser("~")
    cache = env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    hf_home = os.path.expanduser(env.get("HF_HOME") or os.path.join(cache, "huggingface"))
    token = os.path.expanduser(env.get("HF_TOKEN_PATH") or os.path.join(hf_home, "token"))
    dirs = [home, hf_home, os.path.dirname(token), os.path.join(home, ".cache", "huggingface")]
    files = [token, os.path.join(hf_home, "stored_tokens")]
    return dirs, files


def _needed_paths() -> list[str]:
    paths = {package_root(), sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    return [os.path.realpath(p) for p in paths]


def _contains(outer: str, inner: str) -> bool:
    outer = os.path.realpath(outer)
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def bwrap_prefix(*, scratch_mb: int, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The bwrap command line that precedes the zygote's."""
    args = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
        "--size", str(scratch_mb << 20), "--tmpfs", "/tmp",
    ]
    needed = _needed_paths()
    # The private /tmp hides anything installed under it (a CI clone's venv, a checkout in /tmp):
    # bind the interpreter and the package back, read-only, outermost paths only.
    under_tmp = sorted(p for p in needed if _contains("/tmp", p) and p != os.path.realpath("/tmp"))
    for path in under_tmp:
        if not any(other != path and _contains(other, path) for other in under_tmp):
            args += ["--ro-bind", path, path]
    dirs, files = secret_paths(environ)
    masked: list[str] = []
    for path in dict.fromkeys(dirs):
        real = os.path.realpath(path)
        if not os.path.isdir(real) or real == "/" or _contains("/tmp", real):
            continue  # /tmp is already private
        if any(_contains(real, need) for need in needed):
            continue  # masking it would hide the interpreter or the package; the files below still go
        args += ["--tmpfs", real]
        masked.append(real)
    for path in dict.fromkeys(files):
        real = os.path.realpath(path)
        if os.path.isfile(real) and not _contains("/tmp", real) and not any(_contains(m, real) for m in masked):
            args += ["--ro-bind", "/dev/null", real]
    args += ["--chdir", "/tmp", "--"]
    return tuple(args)


def unshare_prefix() -> tuple[str, ...]:
    return (shutil.which("unshare") or "unshare", "--user", "--map-root-user", "--net", "--pid", "--fork",
            "--kill-child", "--mount-proc", "--")


def _works(prefix: tuple[str, ...]) -> bool:
    key = prefix
    if key not in _works_cache:
        try:
            done = subprocess.run([*prefix, "/bin/true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=10, env={"PATH": "/usr/bin:/bin"})
            _works_cache[key] = done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            _works_cache[key] = False
    return _works_cache[key]


def choose(isolation: str, *, scratch_mb: int) -> Launch:
    """The launch for ``isolation`` (``auto`` tries bwrap, then unshare, then none).

    Raises:
        SandboxError: a named isolation that does not work on this machine.
    """
    if isolation in ("auto", "bwrap") and shutil.which("bwrap"):
        prefix = bwrap_prefix(scratch_mb=scratch_mb)
        if _works(prefix):
            return Launch("bwrap", prefix, ("bwrap", "user-namespace", "pid-namespace", "network-namespace",
                                            "ipc-namespace", "read-only-root", "private-tmp", "secrets-masked"), True)
    if isolation == "bwrap":
        raise SandboxError("isolation='bwrap' was asked for, but bubblewrap is missing or cannot create namespaces here")
    if isolation in ("auto", "unshare") and shutil.which("unshare"):
        prefix = unshare_prefix()
        if _works(prefix):
            return Launch("unshare", prefix, ("unshare", "user-namespace", "pid-namespace", "network-namespace"), True)
    if isolation == "unshare":
        raise SandboxError("isolation='unshare' was asked for, but unshare cannot create namespaces here")
    return Launch("none", (), (), False)


ADDR_NO_RANDOMIZE = 0x0040000


@functools.cache
def compile_package() -> None:
    """Write the package's missing or stale bytecode files, once per process, where the folder is
    writable (the zygotes never write them: PYTHONDONTWRITEBYTECODE).

    A zygote's heap layout, and so the addresses that some outputs follow (see
    :func:`fixed_addresses`), differs between loading a module from its ``.pyc`` and compiling its
    source: in a source checkout, whose ``.pyc`` files come and go, the same build gave different
    bytes before and after a test run had written them. A ``pip install`` compiles them already;
    this makes a checkout match. A read-only install without them stays as it is (and as stable).
    """
    import compileall

    try:
        # optimize=0: the zygote runs without -O, so it reads the plain .pyc whatever this process runs with.
        compileall.compile_dir(os.path.join(package_root(), "case2code_hub"), quiet=2, workers=1, optimize=0)
    except OSError:  # a read-only install: its state does not change either
        pass


@contextlib.contextmanager
def fixed_addresses() -> Iterator[None]:
    """Processes started inside this block run with address-space randomisation off, where the
    kernel lets us (``personality(ADDR_NO_RANDOMIZE)``, inherited through exec; restored after).

    Outputs can follow addresses: a set of classes iterates in an order that follows them, so two
    hash-seed runs disagree, or agree on a random order the next build does not repeat. Without
    randomisation a zygote's objects sit at the same addresses in every start of the same install,
    under every isolation. It costs no protection: the child runs arbitrary Python already, and the
    sandbox's walls are namespaces, seccomp and Landlock, not secret addresses. Where the call is
    refused (some container profiles) zygotes start as they would have.
    """
    try:
        personality = ctypes.CDLL(None, use_errno=True).personality
        before = personality(0xFFFFFFFF)
    except (OSError, AttributeError):
        yield
        return
    changed = before >= 0 and not before & ADDR_NO_RANDOMIZE and personality(before | ADDR_NO_RANDOMIZE) >= 0
    try:
        yield
    finally:
        if changed:
            personality(before)
