"""MPI across two hosts: two network namespaces joined by a veth pair, each with its own hostname
(a UTS namespace), started by tests/cluster/netns-agent where a cluster would use ssh, and TCP
between them. Names are unique per run and the addresses exist only inside the namespaces made
here; every namespace is removed on every path (its processes killed first).

  test_ranks_on_both_hosts[openmpi|mpich]   tests/cluster/where.c: each rank's
                                 MPI_Get_processor_name, and an allreduce that must cross the veth
  test_program_across_hosts[...] every MPI program and variant of the suite with -np 4 (2 per
                                 host) under Open MPI: RESULT PASS, checked against concepts.py
  test_mpich_pool_cube_across_hosts   MPICH (mpiexec.hydra), one rank per host

Skipped with one line where it cannot start (not root, tools missing); never when CI is set.
"""
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster.common import HERE, describe, require_root, require_tools, result_lines, run
from concepts import CONCEPTS
from suite import BIN_DIR, MPI_ENV, ROOT, SANITIZER_ENV

AGENT = os.path.join(HERE, "netns-agent")
SUBNET = "10.99.0.0/24"  # exists only inside this test's namespaces
RUN_TIMEOUT = 120


@dataclass
class Hosts:
    namespaces: tuple   # (first, second)
    names: tuple        # their hostnames
    addresses: tuple
    folder: Path
    env: dict

    def on_first(self, *cmd):
        """cmd as run on the first host: its network namespace, under its hostname."""
        return ["ip", "netns", "exec", self.namespaces[0], "unshare", "--uts", "sh", "-c",
                f'hostname {self.names[0]} && exec "$@"', "sh", *map(str, cmd)]


def ip(*args):
    return run(["ip", *args], timeout=30)


@pytest.fixture
def hosts(tmp_path):
    require_root()
    require_tools("ip", "unshare", package="iproute2 util-linux")
    token = uuid.uuid4().hex[:6]
    namespaces = (f"suite-{token}-h1", f"suite-{token}-h2")
    names = (f"{token}-h1", f"{token}-h2")
    veths = (f"vs{token}a", f"vs{token}b")  # interface names: 15 characters at most
    addresses = ("10.99.0.1", "10.99.0.2")
    made = []
    try:
        for ns in namespaces:
            r = ip("netns", "add", ns)
            assert r.returncode == 0, describe(r)
            made.append(ns)
        steps = [("link", "add", veths[0], "type", "veth", "peer", "name", veths[1])]
        for ns, veth, address in zip(namespaces, veths, addresses):
            steps += [("link", "set", veth, "netns", ns),
                      ("-n", ns, "addr", "add", f"{address}/24", "dev", veth),
                      ("-n", ns, "link", "set", "lo", "up"),
                      ("-n", ns, "link", "set", veth, "up")]
        for step in steps:
            r = ip(*step)
            assert r.returncode == 0, describe(r)
        env = dict(os.environ, **MPI_ENV, **SANITIZER_ENV)
        env["SUITE_NETNS_HOSTS"] = " ".join(f"{a}={ns}={n}"
                                            for a, ns, n in zip(addresses, namespaces, names))
        env.pop("OMP_NUM_THREADS", None)
        yield Hosts(namespaces, names, addresses, tmp_path, env)
    finally:
        for ns in made:
            pids = ip("netns", "pids", ns).stdout.split()
            for pid in pids:  # a rank or daemon a failed run left inside
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", ns)  # removes the veth end inside it, and with it the pair
        ip("link", "del", veths[0])  # only there if moving it into a namespace failed
        left = [ns for ns in made if ns in ip("netns", "list").stdout]
        assert not left, f"namespaces left behind: {left}"


# Open MPI 4.1's one-sided communication (osc) has no component that works over ob1 + btl tcp
# between hosts (MPI_Win_allocate: "invalid window"); UCX does it, told to accept TCP, and sm
# serves the node-local windows of MPI_Win_allocate_shared.
UCX_OVER_TCP = ("--mca", "pml", "ucx", "--mca", "osc", "sm,ucx", "--mca", "pml_ucx_tls", "any",
                "--mca", "pml_ucx_devices", "any", "-x", "UCX_TLS=tcp,self,sm")


def openmpi(hosts, np, program, *args, slots=2, extra=()):
    hostfile = hosts.folder / "hostfile"
    hostfile.write_text("".join(f"{a} slots={slots}\n" for a in hosts.addresses))
    # ob1 (MPI_ENV) picks btl tcp between the hosts (the only one that reaches the other host)
    # and vader inside each, on the veth's subnet only. Restricting --mca btl as well would
    # break MPI_Comm_spawn (RECIPES).
    cmd = ["mpirun", "-np", np, "--hostfile", hostfile, "--mca", "plm_rsh_agent", AGENT,
           "--mca", "btl_tcp_if_include", SUBNET, "--mca", "oob_tcp_if_include", SUBNET,
           *extra, program, *args]
    return run(hosts.on_first(*cmd), timeout=RUN_TIMEOUT, env=hosts.env)


def mpich(hosts, np, program, *args):
    hostfile = hosts.folder / "hostfile.mpich"
    hostfile.write_text("".join(f"{a}:1\n" for a in hosts.addresses))
    cmd = ["mpiexec.hydra", "-n", np, "-f", hostfile, "-launcher", "ssh", "-launcher-exec", AGENT,
           program, *args]
    return run(hosts.on_first(*cmd), timeout=RUN_TIMEOUT, env=hosts.env)


def compile_where(folder, mpicc):
    exe = folder / f"where-{mpicc}"
    r = run([mpicc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", exe,
             os.path.join(HERE, "where.c")], timeout=120)
    assert r.returncode == 0, describe(r)
    return exe


def rank_hosts(result):
    """{rank: host} from where's "rank R of S on HOST" lines."""
    placed = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) == 6 and words[0] == "rank" and words[4] == "on":
            placed[int(words[1])] = words[5]
    return placed


@pytest.mark.parametrize("mpi", ["openmpi", "mpich"])
def test_ranks_on_both_hosts(hosts, mpi):
    if mpi == "openmpi":
        require_tools("mpicc", "mpirun", package="openmpi-bin libopenmpi-dev")
        r = openmpi(hosts, 4, compile_where(hosts.folder, "mpicc"))
        expected = {0: hosts.names[0], 1: hosts.names[0], 2: hosts.names[1], 3: hosts.names[1]}
    else:
        require_tools("mpicc.mpich", "mpiexec.hydra", package="mpich libmpich-dev")
        r = mpich(hosts, 2, compile_where(hosts.folder, "mpicc.mpich"))
        expected = {0: hosts.names[0], 1: hosts.names[1]}
    assert r.returncode == 0, describe(r)
    assert rank_hosts(r) == expected, describe(r)
    total = len(expected) * (len(expected) + 1) // 2
    assert f"allreduce {total} (expected {total})" in r.stdout, describe(r)


def mpi_cases():
    for name, concept in CONCEPTS.items():
        if not (ROOT / "mpi" / f"{name}.c").exists():
            continue
        for variant in concept.variants.get("mpi", []):
            yield pytest.param(name, variant, id=f"{name}-{variant}")


def uses_windows(name):
    return "MPI_Win_" in (ROOT / "mpi" / f"{name}.c").read_text()


@pytest.mark.parametrize("name,variant", list(mpi_cases()))
def test_program_across_hosts(hosts, name, variant):
    """4 ranks, 2 per host: ranks 0-1 on the first, 2-3 on the second (where.c shows it).
    Programs that use MPI windows run over UCX (see UCX_OVER_TCP), the others over ob1 + tcp."""
    require_tools("mpirun", package="openmpi-bin libopenmpi-dev")
    concept = CONCEPTS[name]
    exe = BIN_DIR / "mpi" / name
    assert exe.exists(), f"mpi/{name} is not built (run make)"
    n = concept.sizes[-1] if len(concept.sizes) < 3 else concept.sizes[-2]
    extra = UCX_OVER_TCP if uses_windows(name) else ()
    if variant == "hybrid":
        extra += ("-x", "OMP_NUM_THREADS=2")  # mpirun passes no OMP_* to other hosts unless told
    # comm-spawn: 2 ranks on the first host, their 2 children placed on the second. With every
    # slot taken (-np 4), Open MPI 4.1.4 hangs placing the children on the remote host.
    np = 2 if variant == "comm-spawn" else 4
    r = openmpi(hosts, np, exe, "-n", n, "--variant", variant, "--quiet", *concept.args,
                extra=extra)
    assert r.returncode == 0, describe(r)
    results = result_lines(r.stdout)
    assert len(results) == 1 and results[0]["status"] == "PASS", describe(r)
    res = results[0]
    working = concept.working("mpi", variant, np)  # rank 0 that only manages is no worker
    assert (int(res["workers"]), int(res["n"])) == (working, n), describe(r)
    concept.verify(res, n, working, "mpi", variant)
    if variant == "hybrid":
        assert int(res["threads"]) == 8, describe(r)  # 4 ranks x 2 threads, on both hosts


def test_mpich_pool_cube_across_hosts(hosts):
    require_tools("mpicc.mpich", "mpiexec.hydra", package="mpich libmpich-dev")
    out = f"{hosts.folder}/mpich/"
    b = run(["make", "--no-print-directory", "-s", "MPICC=mpicc.mpich", f"O={out}",
             f"{out}mpi/pool_cube"], timeout=180, cwd=ROOT)
    assert b.returncode == 0, describe(b)
    for variant in ("scatter", "dynamic", "hybrid"):
        r = mpich(hosts, 2, f"{out}mpi/pool_cube", "-n", "1001", "--variant", variant, "--quiet")
        assert r.returncode == 0, describe(r)
        results = result_lines(r.stdout)
        assert len(results) == 1, describe(r)
        res = results[0]
        working = CONCEPTS["pool_cube"].working("mpi", variant, 2)  # dynamic: rank 0 manages
        assert (res["status"], res["workers"], res["checksum"]) == \
            ("PASS", str(working), str((1001 * 1000 // 2) ** 2)), describe(r)
