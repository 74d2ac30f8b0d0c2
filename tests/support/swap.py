#!/usr/bin/env python3
"""swap.py A B: exchange the paths A and B (renameat2 RENAME_EXCHANGE) in a
tight loop until killed, as a hostile program in an image would, to race
a tool that looks a path up twice. Prints `swapping` once the first
exchange worked, so the caller can start; exits 1 if none does.
"""
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2


def main():
    a, b = (os.fsencode(p) for p in sys.argv[1:3])
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        print(f"swap.py: renameat2: {os.strerror(err)}", file=sys.stderr)
        sys.exit(1)
    print("swapping", flush=True)
    swap = libc.renameat2
    while True:
        swap(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)


main()
