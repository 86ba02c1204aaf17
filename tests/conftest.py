"""Session-wide check that the suite leaves nothing behind (tests/leftovers.py says how).

Before the first test: note /dev/shm and /dev/mqueue, and tag the environment every program
inherits. After the last: any tagged process still alive, or any new entry nobody uses, fails
the run (exit status 1) with a list of what was found. Under pytest-xdist this runs once, in the
controller, around all workers.
"""
import os
import uuid

import pytest

import leftovers

_state = {}


def pytest_sessionstart(session):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checks around the whole run
    os.environ.setdefault(leftovers.TAG_VAR, uuid.uuid4().hex)
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
