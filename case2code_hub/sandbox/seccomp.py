"""A small seccomp filter for the child: no new processes, no signals to other processes, no
ptrace, no IPv4/IPv6 sockets. Classic BPF installed with ``prctl`` through ctypes, no libseccomp.

As root, RLIMIT_NPROC is not enforced, so this (with the pid namespace) is what stops a fork storm.
``fork``/``vfork`` and ``clone`` without ``CLONE_THREAD`` fail with EPERM (threads still work);
``clone3`` fails with ENOSYS so glibc falls back to ``clone``, where the flags can be checked.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
CLONE_THREAD = 0x00010000
AF_UNIX = 1
X32_SYSCALL_BIT = 0x40000000

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_JGE_K = 0x35
_RET_K = 0x06

_OFF_NR, _OFF_ARCH, _OFF_ARG0, _OFF_ARG1 = 0, 4, 16, 24

# machine -> (AUDIT_ARCH, syscall numbers); fork and vfork do not exist on aarch64.
_ARCHES = {
    "x86_64": (0xC000003E, {"fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "kill": 62, "tkill": 200,
                            "tgkill": 234, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
                            "socket": 41}),
    "aarch64": (0xC00000B7, {"clone": 220, "clone3": 435, "kill": 129, "tkill": 130, "tgkill": 131,
                             "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "socket": 198}),
}


def supported() -> bool:
    """Whether this machine's architecture has a filter here."""
    return platform.machine() in _ARCHES


def _ins(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


def build_filter(own_pid: int) -> bytes:
    """The BPF program for a process whose pid (as it sees itself) is ``own_pid``."""
    arch, nr = _ARCHES[platform.machine()]
    allow = _ins(_RET_K, 0, 0, SECCOMP_RET_ALLOW)
    eperm = _ins(_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM)
    enosys = _ins(_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS)
    prog: list[bytes] = [
        _ins(_LD_W_ABS, 0, 0, _OFF_ARCH),
        _ins(_JEQ_K, 1, 0, arch),
        eperm,  # a foreign ABI would get other syscall numbers past us
        _ins(_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if arch == 0xC000003E:
        prog += [_ins(_JGE_K, 0, 1, X32_SYSCALL_BIT), eperm]
    for name in ("fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "tkill"):
        if name in nr:
            prog += [_ins(_JEQ_K, 0, 1, nr[name]), eperm]
    prog += [_ins(_JEQ_K, 0, 1, nr["clone3"]), enosys]
    # clone: allowed only for threads (CLONE_THREAD set in the flags, arg0).
    prog += [
        _ins(_JEQ_K, 0, 4, nr["clone"]),
        _ins(_LD_W_ABS, 0, 0, _OFF_ARG0),
        _ins(_JSET_K, 1, 0, CLONE_THREAD),
        eperm,
        allow,
    ]
    # kill(pid, sig) and tgkill(tgid, ...): only ourselves (or our own group, pid 0 / -own_pid).
    for name in ("kill", "tgkill"):
        prog += [
            _ins(_JEQ_K, 0, 6, nr[name]),
            _ins(_LD_W_ABS, 0, 0, _OFF_ARG0),
            _ins(_JEQ_K, 3, 0, own_pid),
            _ins(_JEQ_K, 2, 0, 0),
            _ins(_JEQ_K, 1, 0, -own_pid),
            eperm,
            allow,
        ]
    # socket(family, ...): only AF_UNIX; no TCP/UDP even where there is no network namespace.
    prog += [
        _ins(_JEQ_K, 0, 4, nr["socket"]),
        _ins(_LD_W_ABS, 0, 0, _OFF_ARG0),
        _ins(_JEQ_K, 1, 0, AF_UNIX),
        eperm,
        allow,
    ]
    prog.append(allow)
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> bool:
    """Install the filter on the calling process; ``False`` where the kernel refuses."""
    return supported() and Installer().install()


_PID_PLACEHOLDER = 0x7FFFFFF1  # above any pid_max: never a real pid


class Installer:
    """The filter built once, in the zygote: installing it in a child is a few bytes patched with
    the child's own pid and two ``prctl`` calls (building it there cost about 0.6 ms a child)."""

    def __init__(self) -> None:
        program = build_filter(_PID_PLACEHOLDER)
        self._positive, self._negative = [], []
        for offset in range(0, len(program), 8):
            (k,) = struct.unpack_from("I", program, offset + 4)
            if k == _PID_PLACEHOLDER:
                self._positive.append(offset + 4)
            elif k == -_PID_PLACEHOLDER & 0xFFFFFFFF:
                self._negative.append(offset + 4)
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl

    def install(self) -> bool:
        """Install the filter on the calling process (a forked child); ``False`` where the kernel refuses."""
        pid = os.getpid()
        for offset in self._positive:
            struct.pack_into("I", self._buffer, offset, pid)
        for offset in self._negative:
            struct.pack_into("I", self._buffer, offset, -pid & 0xFFFFFFFF)
        if self._prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return self._prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._fprog), 0, 0) == 0
