"""Nothing left behind, and the hygiene rules for named objects (CONTRACT "Exit status", STYLE).

  test_run_leaves_nothing      every program and variant, MPI included, run normally: no process,
                               /dev/shm entry or /dev/mqueue entry outlives it
  test_mqueue_namespace        /dev/mqueue is often not mounted (containers, CI): run each program
                               that calls mq_open in a private IPC namespace with its own mqueue
                               mount, normally, with a worker killed and with SIGTERM to the parent,
                               and list the queues that remain
  test_named_object_hygiene    every shm_open / mq_open / sem_open / O_CREAT in the programs: a
                               name unique per run (built with getpid()), O_EXCL, mode 0600, an
                               unlink in the same file; no fixed names in /tmp
  test_hardening_flags         the default build compiles with -D_FORTIFY_SOURCE=2 and
                               -fstack-protector-strong
The session as a whole is checked too (conftest.py).
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

import leftovers
from concepts import CONCEPTS
from suite import (MODELS, MPI_ENV, MPIRUN, ROOT, SANITIZER_ENV, have_mpi, load_scaled, program,
                   run_bounded)

PRESENT = [(m, c) for c in CONCEPTS for m in MODELS if (ROOT / m / f"{c}.c").exists()]
SOURCES = sorted(p for folder in ("posix", "omp", "mpi", "common") for p in (ROOT / folder).glob("*.c"))


def run_cases():
    for model, name in PRESENT:
        for variant in CONCEPTS[name].variants[model]:
            yield pytest.param(model, name, variant, id=f"{model}-{name}-{variant}")


@pytest.mark.parametrize("model,name,variant", list(run_cases()))
def test_run_leaves_nothing(model, name, variant):
    exe = program(model, name)
    if not exe.exists():
        pytest.skip(f"{model}/{name} is not built")
    if model == "mpi" and not have_mpi():
        pytest.skip("no mpirun")
    tag = uuid.uuid4().hex
    concept = CONCEPTS[name]
    cmd = [str(exe), "-n", "3", "--variant", variant, "--quiet", *concept.args]
    env = dict(os.environ, **SANITIZER_ENV, **{leftovers.TAG_VAR: tag})
    if model == "mpi":
        cmd = [MPIRUN, "-np", "3", *cmd]
        env.update(MPI_ENV)
    else:
        cmd += ["-w", "3"]
    before = leftovers.ipc_entries()
    proc = run_bounded(cmd, load_scaled(120), env=env)
    assert proc.returncode == 0, f"$ {' '.join(cmd)}\nexit {proc.returncode}\n{proc.stderr[-2000:]}"
    procs, names = leftovers.left_behind(before, tag)
    leftovers.kill_all(procs)
    assert not procs and not names, f"left behind by {' '.join(cmd)}: {procs} {names}"


# ---------------------------------------------------------------- message queues

def mq_programs():
    for model, name in PRESENT:
        if model != "mpi" and "mq_open" in (ROOT / model / f"{name}.c").read_text():
            for variant in CONCEPTS[name].variants[model]:
                yield pytest.param(model, name, variant, id=f"{model}-{name}-{variant}")


NOBODY = 65534


def namespace_prefix(user):
    """How to enter a private IPC + mount namespace for a run as root or as a normal user.

    A root test session makes the namespaces itself (the program then runs as nobody through
    as_user(); this works in containers and chroots, where user namespaces are refused). A normal
    user's session gets them through a user namespace (unshare --user --map-root-user), where
    mounting an mqueue filesystem is allowed. None: neither works here (the caller fails, loudly)."""
    if not shutil.which("unshare"):
        return None
    ns = ["unshare", "--ipc", "--mount", "--propagation", "private"]
    if os.geteuid() == 0:
        prefix = ns
    elif user == "user":
        prefix = ["unshare", "--user", "--map-root-user", *ns[1:]]
    else:
        return None
    probe = subprocess.run([*prefix, "sh", "-c", "mount -t mqueue none /proc/self/ns 2>/dev/null; true"],
                           capture_output=True, timeout=10, cwd="/")
    return prefix if probe.returncode == 0 else None


def as_user(user, uid=NOBODY):
    """What runs the program as a normal user inside a root session's namespace."""
    if user == "user" and os.geteuid() == 0:
        return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return []


def uid_of_its_own(variant):
    """A user id no other process has: RLIMIT_NPROC counts every process of the user, so the
    process limit of the error case must not see the other tests' runs as nobody."""
    return 60000 + sum(map(ord, variant)) % 1000


def program_for(user, model, name, tmp):
    """The program itself, or a copy that user nobody can reach (root's home is 0700)."""
    exe = program(model, name)
    if user == "root" or os.geteuid() != 0:
        return str(exe)
    copy = os.path.join(tmp, name)
    shutil.copy2(exe, copy)
    os.chmod(copy, 0o755)
    return copy


# In the namespace: mount a private mqueue fs on $1, start the program, report its pid, wait for
# it, then list the queues it left (the namespace, and its queues, end with this shell).
NS_SCRIPT = 'mount -t mqueue none "$1" || exit 97; shift; "$@" & echo $! > "$PIDFILE"; wait $!; ' \
            'rc=$?; echo "exit=$rc"; ls -A "$MQDIR"'

# Every way out of a program that opened a queue: the end, a killed worker, a signal to the
# program, a failing call after mq_open (fork refused by a process limit: normal user only, root
# is exempt from RLIMIT_NPROC).
FAULTS = ["none", "kill-worker", "SIGTERM", "error"]


def mq_cases():
    for param in mq_programs():
        for user in ("root", "user"):
            for fault in FAULTS:
                if fault == "error" and user == "root":
                    continue
                yield pytest.param(*param.values, user, fault, id=f"{param.id}-{user}-{fault}")


@pytest.mark.parametrize("model,name,variant,user,fault", list(mq_cases()))
def test_mqueue_namespace(model, name, variant, user, fault):
    """Independent of the host: a private mqueue filesystem per run, as root and as a normal user.

    /dev/mqueue is often not mounted (containers, CI) and is shared with everything else on the
    machine; a namespace of our own shows exactly the queues this run left. Where neither
    namespace can be made, the test fails and says so: a leftover check that silently skips
    would pass a queue that is never unlinked."""
    exe = program(model, name)
    if not exe.exists():
        pytest.skip(f"{model}/{name} is not built")
    prefix = namespace_prefix(user)
    assert prefix is not None, (
        f"cannot make a private IPC + mount namespace as {user} here (unshare --user needs "
        "kernel.unprivileged_userns_clone=1; as root, util-linux's unshare and setpriv): the "
        "message-queue leftover check cannot run")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        mqdir, pidfile = os.path.join(tmp, "mq"), os.path.join(tmp, "pid")
        os.mkdir(mqdir)
        os.chmod(mqdir, 0o777)
        n = "3" if fault in ("none", "error") else "5000000"
        if fault == "error":
            # 1: the first worker the program starts is refused, whichever it is; with 2 a thread
            # producer that had finished could make room for the next (seen on a fresh root)
            runner = ["prlimit", "--nproc=1:1", *as_user(user, uid_of_its_own(variant))]
        else:
            runner = as_user(user)
        cmd = [*prefix, "sh", "-c", NS_SCRIPT, "sh", mqdir, *runner,
               program_for(user, model, name, tmp), "-n", n, "-w", "2", "--variant", variant, "--quiet"]
        env = dict(os.environ, **SANITIZER_ENV, PIDFILE=pidfile, MQDIR=mqdir)
        if fault == "error":  # LeakSanitizer's exit check needs a thread the process limit refuses
            env["ASAN_OPTIONS"] = "abort_on_error=0:detect_leaks=0"
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, start_new_session=True, cwd="/")
        try:
            if fault in ("kill-worker", "SIGTERM"):
                deadline = time.monotonic() + 15
                pid, kids, threads = None, [], 0
                while time.monotonic() < deadline and proc.poll() is None:
                    if os.path.exists(pidfile) and open(pidfile).read().strip():
                        pid = int(open(pidfile).read())
                        try:
                            kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
                            threads = len(os.listdir(f"/proc/{pid}/task"))
                        except OSError:
                            pass
                        if kids or threads > 1:
                            break
                    time.sleep(0.02)
                assert pid and (kids or threads > 1), "the program's workers did not start"
                if fault == "kill-worker" and not kids:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    pytest.skip(f"--variant {variant} has no worker processes")
                time.sleep(0.2)
                os.kill(int(kids[0]) if fault == "kill-worker" else pid,
                        signal.SIGKILL if fault == "kill-worker" else signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"hang after {fault}: {' '.join(cmd)}")
        assert "exit=" in out, f"{out}\n{err}"
        status_line = [line for line in out.splitlines() if line.startswith("exit=")][-1]
        left = out.split(status_line, 1)[1].split()
        assert not left, f"message queues left after {fault} as {user}: {left}\n{err}"
        expected = {"none": "exit=0", "kill-worker": "exit=3", "error": "exit=3",
                    "SIGTERM": f"exit={128 + signal.SIGTERM}"}[fault]
        assert status_line == expected, f"{status_line}\n{err}"
        if fault == "error":
            assert "fork failed" in err or "pthread_create failed" in err, err


# ---------------------------------------------------------------- hygiene

NAMED_CALLS = re.compile(r"\b(shm_open|mq_open|sem_open|open|openat)\s*\(")


def call_text(source, start):
    """The call's argument text, from its '(' to the matching ')'."""
    depth, i = 0, source.index("(", start)
    for j in range(i, len(source)):
        depth += {"(": 1, ")": -1}.get(source[j], 0)
        if depth == 0:
            return source[i:j + 1]
    return source[i:]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def hygiene_findings():
    findings = []
    for path in SOURCES:
        code = strip_comments(path.read_text())
        rel = path.relative_to(ROOT)
        for m in re.finditer(r'"/tmp[/"]', code):
            line = code.count("\n", 0, m.start()) + 1
            findings.append(f"{rel}:{line}: fixed name in /tmp")
        for m in NAMED_CALLS.finditer(code):
            args = call_text(code, m.start())
            line = code.count("\n", 0, m.start()) + 1
            call = m.group(1)
            if call in ("open", "openat") and "O_CREAT" not in args:
                continue  # opening an existing file names nothing new
            if "O_EXCL" not in args:
                findings.append(f"{rel}:{line}: {call} without O_EXCL")
            if not re.search(r"\b0?600\b|S_IRUSR\s*\|\s*S_IWUSR", args):
                findings.append(f"{rel}:{line}: {call} without mode 0600")
            if call in ("shm_open", "mq_open", "sem_open"):
                if "getpid()" not in code:
                    findings.append(f"{rel}:{line}: {call} name not made unique with getpid()")
                unlink = {"shm_open": "shm_unlink", "mq_open": "mq_unlink", "sem_open": "sem_unlink"}
                if unlink[call] not in code:
                    findings.append(f"{rel}:{line}: {call} never followed by {unlink[call]}")
    return findings


def test_named_object_hygiene():
    findings = hygiene_findings()
    assert not findings, "\n".join(findings)


def test_hardening_flags():
    """The compile line make uses for a program carries both hardening flags."""
    model, name = next(((m, c) for m, c in PRESENT if m != "mpi"), (None, None))
    if model is None:
        pytest.skip("no posix or omp program yet")
    dry = subprocess.run(["make", "-n", "-B", "--no-print-directory", "O=build/flags-probe/",
                          f"build/flags-probe/{model}/{name}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    line = next((l for l in dry.stdout.splitlines() if f"{model}/{name}.c" in l), "")
    assert "-D_FORTIFY_SOURCE=2" in line and "-fstack-protector-strong" in line, dry.stdout
