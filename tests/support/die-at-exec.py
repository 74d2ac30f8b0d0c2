#!/usr/bin/env python3
"""die-at-exec.py PROGRAM [ARG...]: run PROGRAM so that it dies on its way
into the next exec, as a SIGKILL landing at the worst moment would.

PROGRAM itself starts with execveat(2); a seccomp filter then kills the
process at its first execve(2), the one a tool makes to start its program
(x86_64 only). We stay its parent and a subreaper: the dead process is left a
zombie until every helper it forked has ended, so they see what a watcher
sees when the process is not reaped at once. Prints nothing; exits as the
process did (128 + signal): 159, for the SIGSYS of seccomp's kill.
"""
import ctypes
import os
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_EXECVE = 59
SYS_EXECVEAT = 322
AT_FDCWD = -100
AUDIT_ARCH_X86_64 = 0xC000003E


def kill_at_execve():
    """A BPF filter: execve on x86_64 kills the process, the rest is allowed."""
    ld_arch, ld_nr = 0x20, 0x20  # BPF_LD|BPF_W|BPF_ABS
    jeq, ret = 0x15, 0x06
    prog = [
        (ld_arch, 0, 0, 4),
        (jeq, 1, 0, AUDIT_ARCH_X86_64),
        (ret, 0, 0, 0x7FFF0000),  # another arch: allow
        (ld_nr, 0, 0, 0),
        (jeq, 0, 1, SYS_EXECVE),
        (ret, 0, 0, 0x80000000),  # SECCOMP_RET_KILL_PROCESS
        (ret, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
    ]
    raw = b"".join(struct.pack("HBBI", *insn) for insn in prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fbuf, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


def cstrings(items):
    array = (ctypes.c_char_p * (len(items) + 1))()
    array[:-1] = [os.fsencode(i) for i in items]
    array[-1] = None
    return array


def children():
    with open(f"/proc/self/task/{os.getpid()}/children") as f:
        return {int(p) for p in f.read().split()}


def main():
    argv = sys.argv[1:]
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_CHILD_SUBREAPER")
    child = os.fork()
    if child == 0:
        try:
            args, env = cstrings(argv), cstrings([f"{k}={v}" for k, v in os.environ.items()])
            kill_at_execve()
            libc.syscall(SYS_EXECVEAT, AT_FDCWD, os.fsencode(argv[0]), args, env, 0)
            os.write(2, f"die-at-exec: execveat {argv[0]}: {os.strerror(ctypes.get_errno())}\n".encode())
        finally:
            os._exit(127)
    # Seen dead, not reaped: it stays a zombie while its helpers finish.
    os.waitid(os.P_PID, child, os.WEXITED | os.WNOWAIT)
    while others := children() - {child}:
        for pid in others:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


main()
