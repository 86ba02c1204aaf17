"""Session-wide check that the suite leaves nothing behind (tests/leftovers.py says how).

Before the first test: note /dev/shm and /dev/mqueue, and tag the environment every program
inherits. After the last: any tagged process still alive, or any new entry nobody uses, fails
the run (exit status 1) with a list of what was found. Under pytest-xdist this runs once, in the
controller, around all workers.
"""
import os
import shutil
import tempfile
import uuid

import pytest

import leftovers

_state = {}

# Open MPI 4.1 makes its session directory /tmp/ompi.HOST.UID with a mkdir that is not safe
# against another mpirun starting at the same moment ("mkdir /tmp/ompi.HOST.0: File exists"):
# several xdist workers starting mpirun at once failed at random. Each worker (and a run
# without xdist) gets a session folder of its own; the programs inherit it.
MPI_SESSION_VAR = "OMPI_MCA_orte_tmpdir_base"


def pytest_configure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    base = os.environ.get(MPI_SESSION_VAR) or tempfile.gettempdir()
    folder = tempfile.mkdtemp(prefix=f"suite-mpi-{worker}-", dir=base)
    _state["mpi_session"] = (folder, os.environ.get(MPI_SESSION_VAR))
    os.environ[MPI_SESSION_VAR] = folder


def pytest_unconfigure(config):
    folder, before = _state.pop("mpi_session", (None, None))
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        if before is None:
            os.environ.pop(MPI_SESSION_VAR, None)
        else:
            os.environ[MPI_SESSION_VAR] = before


def pytest_sessionstart(session):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checks around the whole run
    # A tag of this session's own, even when an outer pytest set one: a nested session (a test
    # that runs pytest, or make check-races inside a docs test) must not take the outer
    # session's running programs for its own leftovers and kill them at its end.
    os.environ[leftovers.TAG_VAR] = uuid.uuid4().hex
    _state["tag"] = os.environ[leftovers.TAG_VAR]
    _state["ipc"] = leftovers.ipc_entries()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if "tag" not in _state:
        return
    procs, names = leftovers.left_behind(_state["ipc"], _state["tag"])
    if not procs and not names:
        return
    lines = ["the suite left things behind:"]
    lines += [f"  process {pid}: {cmd}" for pid, cmd in procs]
    lines += [f"  {name}" for name in names]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write_line("\n".join(lines), red=True)
    leftovers.kill_all(procs)
    session.exitstatus = 1
