"""What the cluster tests (test_slurm, test_two_hosts, test_mpich) share: prerequisites that skip
with one line outside CI and fail inside it, and subprocesses that cannot outlive their timeout."""
import os
import shutil
import signal
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
IN_CI = bool(os.environ.get("CI"))


def require(condition, reason):
    """Skips with reason where the test cannot start; in CI a missing prerequisite is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI is set, so this cannot be skipped: {reason}", pytrace=False)
    pytest.skip(reason)


def require_root():
    require(os.geteuid() == 0, "needs root (daemons, network namespaces)")


def require_tools(*tools, package):
    missing = [t for t in tools if shutil.which(t) is None]
    require(not missing, f"{', '.join(missing)} not found (apt-get install {package}, or make deps)")


def run(cmd, timeout, env=None, cwd=None, check=False):
    """subprocess.run in its own process group: on timeout the whole group is killed (mpirun's
    daemons, srun's helpers), not only the first process, and the timeout is an error."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        raise AssertionError(f"timed out after {timeout} s: {' '.join(map(str, cmd))}\n"
                             f"--- stdout\n{out[-2000:]}\n--- stderr\n{err[-2000:]}")
    finally:
        if proc.poll() is None:
            kill_group(proc)
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check:
        assert proc.returncode == 0, describe(result)
    return result


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def describe(result):
    return (f"$ {' '.join(map(str, result.args))}\nexit {result.returncode}\n"
            f"--- stdout (tail)\n{result.stdout[-2500:]}\n--- stderr (tail)\n{result.stderr[-2500:]}")


def result_lines(text):
    """Every RESULT line of a job's output, as key -> value dicts."""
    return [dict(item.split("=", 1) for item in line.split()[1:])
            for line in text.splitlines() if line.startswith("RESULT ")]
