#!/bin/sh
# deps.sh - the suite's set-up, so that `make run` and `make test` are all a fresh machine needs.
#
#   deps.sh ensure run|check|test [CC] [MPICC]   install only what is missing (make run/check/test)
#   deps.sh install run|check|test               install everything for that purpose (make deps)
#   deps.sh packages run|check|test              print the Debian/Ubuntu package names
#
# Installs with apt-get as root, or with sudo when it needs no password. Otherwise it prints the
# exact command to run and exits 1. A cluster user whose MPI comes from `module load` needs no
# MPI package: an MPICC that already works is left alone.
set -eu

purpose=${2:-run}
cc=${3:-cc}
mpicc=${4:-mpicc}

# What `make run` needs beyond a C compiler and make: an MPI to build and start mpi/.
run_packages() {
    if ! command -v "$mpicc" >/dev/null 2>&1; then echo openmpi-bin libopenmpi-dev; fi
    # clang needs libomp for -fopenmp; gcc ships its own libgomp.
    if ! printf 'int main(void){return 0;}\n' | "$cc" -fopenmp -x c - -o /dev/null 2>/dev/null; then
        echo libomp-dev
    fi
}

# What `make check` needs: make run's, the unit tests' cmocka and pytest.
check_packages() {
    run_packages
    echo libcmocka-dev python3 python3-pytest python3-pytest-xdist
}

# The clang runtime (ThreadSanitizer, libFuzzer) is its own package from clang 14/15 on Debian.
clang_runtime_package() {
    major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
    [ -n "$major" ] || major=14
    if apt-cache show "libclang-rt-$major-dev" >/dev/null 2>&1; then echo "libclang-rt-$major-dev"; fi
}

# What `make test` needs: test runners, race and memory checkers, both MPIs, the cluster tools.
# llvm: its llvm-symbolizer (for Debian's default clang) is what puts file names and lines into
# ThreadSanitizer's reports; without it make check-races cannot see that a report points into race.c.
# gdb: omp/cancel must work under a debugger (it re-runs itself with OMP_CANCELLATION set).
test_packages() {
    run_packages
    echo make gcc clang libomp-dev libcmocka-dev python3 python3-pytest python3-pytest-xdist \
        valgrind gnuplot-nox hyperfine mpich libmpich-dev slurm-wlm munge iproute2 util-linux \
        procps hwloc-nox llvm gdb
    if command -v apt-cache >/dev/null 2>&1; then clang_runtime_package; fi
}

packages() {
    case $purpose in
    run) run_packages ;;
    check) check_packages ;;
    test) test_packages ;;
    *) echo "deps.sh: unknown purpose '$purpose' (run, check or test)" >&2; exit 2 ;;
    esac | tr ' ' '\n' | sed '/^$/d' | sort -u
}

# Packages from the list that dpkg does not show as installed.
missing() {
    for p in $(packages); do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

apt_install() {
    if [ "$(id -u)" = 0 ]; then sudo_cmd=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo_cmd="sudo"
    else
        echo "deps.sh: missing packages; install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y $*" >&2
        exit 1
    fi
    echo "deps.sh: installing: $*"
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

case ${1:-} in
packages) packages ;;
install | ensure)
    if ! command -v dpkg-query >/dev/null 2>&1; then
        # Not Debian/Ubuntu: we cannot tell what is installed; say what is needed instead.
        echo "deps.sh: not a Debian/Ubuntu system; make sure these (Debian names) are installed:" \
            "$(packages | tr '\n' ' ')" >&2
        exit 0
    fi
    if [ "$1" = install ]; then list=$(packages); else list=$(missing); fi
    # apt-cache needs package lists: on a machine that never ran apt-get update, refresh first.
    if [ -n "$list" ]; then
        # shellcheck disable=SC2086
        apt_install $list
        # clang's runtime package is only known once the lists exist and clang is installed.
        if [ "$purpose" = test ] && [ -n "$(missing)" ]; then
            # shellcheck disable=SC2046
            apt_install $(missing)
        fi
    fi
    ;;
*)
    echo "usage: deps.sh ensure|install|packages run|check|test [CC] [MPICC]" >&2
    exit 2
    ;;
esac
