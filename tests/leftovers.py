"""What a run may leave behind: processes, POSIX shared memory and message queues.

Every process the tests start inherits SUITE_RUN_TAG from the test session (conftest.py sets it),
so a process still carrying the tag after the session is one of ours, however it was orphaned,
even while other test sessions run on the same machine. A /dev/shm or /dev/mqueue entry counts
as left behind when it appeared during the session, is still there after a grace period, and no
live process has it open or mapped (a running MPI job of another session maps its segments) or
names it as its own (libomp's __KMP_REGISTERED_LIB_<pid>_<uid>, which it neither keeps open nor
maps, lives as long as process <pid>).
"""
import os
import re
import signal
import sys
import time
from pathlib import Path

TAG_VAR = "SUITE_RUN_TAG"
IPC_DIRS = (Path("/dev/shm"), Path("/dev/mqueue"))


def ipc_entries():
    """Names in /dev/shm and /dev/mqueue (the latter only where it is mounted)."""
    names = set()
    for folder in IPC_DIRS:
        try:
            names.update(str(folder / name) for name in os.listdir(folder))
        except OSError:
            pass
    return names


def _pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


KMP_REGISTRATION = re.compile(r"/__KMP_REGISTERED_LIB_(\d+)_")


def _in_use(paths):
    """The subset of paths some live process has open, mapped or, by its name, owns."""
    used = set()
    for path in paths:
        owner = KMP_REGISTRATION.search(path)
        if owner and os.path.exists(f"/proc/{owner.group(1)}"):
            used.add(path)
    for pid in _pids():
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target in paths:
                    used.add(target)
                elif "/dev/mqueue" + target in paths:  # a queue descriptor reads "/name"
                    used.add("/dev/mqueue" + target)
            used.update(mapped_files(pid) & paths)
        except OSError:
            continue
    return used


def mapped_files(pid):
    """The files process pid has mapped (an empty set once it is gone)."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return {parts[5].strip().removesuffix(" (deleted)")
                    for parts in (line.split(None, 5) for line in maps) if len(parts) == 6}
    except OSError:
        return set()


def tagged_processes(tag, exclude=()):
    """(pid, command line) of live processes whose environment carries SUITE_RUN_TAG=tag."""
    needle = f"{TAG_VAR}={tag}".encode()
    python = os.path.realpath(sys.executable)  # pytest's own xdist workers carry the tag too
    found = []
    for pid in _pids():
        if pid in exclude or pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as env:
                if needle not in env.read().split(b"\0"):
                    continue
            if os.path.realpath(f"/proc/{pid}/exe") == python:
                continue
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue  # a zombie is already dead; its parent has yet to reap it
            with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                found.append((pid, cmd.read().replace(b"\0", b" ").decode(errors="replace").strip()))
        except OSError:
            continue
    return found


def left_behind(before, tag=None, exclude=(), grace=5.0):
    """What appeared since `before` (ipc_entries()) and stays, plus live tagged processes.

    Waits up to `grace` seconds for things to go away, since a killed program's children and
    mpirun's clean-up take a moment. Returns (processes, ipc_names); both empty is clean."""
    deadline = time.monotonic() + grace
    while True:
        new = ipc_entries() - before
        new -= _in_use(new) if new else set()
        procs = tagged_processes(tag, exclude) if tag else []
        if (not new and not procs) or time.monotonic() >= deadline:
            return procs, sorted(new)
        time.sleep(0.1)


def wait_past_mpi_init(ranks, timeout=15.0):
    """Wait until every rank has mapped one shared-memory segment per rank: Open MPI's ranks do so
    inside MPI_Init. A rank killed before that, while Open MPI is still making its segment and
    before it tells mpirun to remove it, can leave the segment behind, which is Open MPI's window
    and not the program's. True once past; False after timeout (an MPI that maps /dev/shm
    differently, MPICH among them), and the caller goes on after its own pause."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len({f for f in mapped_files(pid) if f.startswith("/dev/shm/")}) >= len(ranks)
               for pid in ranks):
            return True
        time.sleep(0.02)
    return False


def kill_all(procs):
    """SIGKILL what a failing test found, so one failure does not leak into the next test."""
    for pid, _ in procs:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
