"""Runs a command once and prints its wall time in seconds and its peak
resident memory in KiB: "SECONDS KIB". Its stdout goes to /dev/null.

The peak is read from the child's own /proc/PID/status (VmHWM, the high
water mark of its memory since it started the command) every few
milliseconds while it runs. getrusage cannot be used: at exec the kernel
carries the forking parent's peak into the child's, so every child of this
Python process would seem to use at least as much memory as Python does.

Usage: python3 measure.py COMMAND [ARGS...]
"""

import os
import sys
import time


def peak_kib(pid):
    """VmHWM of a running process in KiB, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    devnull = os.open(os.devnull, os.O_WRONLY)
    start = time.perf_counter()
    pid = os.posix_spawnp(
        sys.argv[1],
        sys.argv[1:],
        os.environ,
        file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)],
    )
    peak = 0
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        peak = max(peak, peak_kib(pid) or 0)
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit("measure.py: %s exited with %d" % (sys.argv[1], code))
    print("%.4f %d" % (seconds, peak))


if __name__ == "__main__":
    main()
