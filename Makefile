# parallel-examples: every concept of the threads-vs-processes notebook, three ways.
#
#   make                 build every model whose toolchain is here (binaries beside their sources)
#   make run             run every program with its defaults (run-posix, run-omp, run-mpi NP=4)
#   make check           the quick confidence run: build, unit tests, a small program matrix, the contract
#   make test            unit tests, program matrix and the rest (what CI runs); installs what is missing first
#   make sanitize        the tests again on an ASan+UBSan build (in build/sanitize/)
#   make deps            install the toolchain and test tools (Debian/Ubuntu, as root or with sudo)
#   make clean
#
# Honoured: CC, MPICC, CFLAGS, LDFLAGS, NP, MPIRUN, OMP_NUM_THREADS.
# O=DIR/ puts the binaries under DIR/ instead of beside the sources (make sanitize uses it).

CC      ?= cc
MPICC   ?= mpicc
MPIRUN  ?= mpirun
NP      ?= 4
CFLAGS  ?= -O2 -g
O       ?=

# Always on, whatever CFLAGS says: the language level, warnings as errors, and hardening.
REQUIRED_CFLAGS := -std=c11 -Wall -Wextra -Werror -fstack-protector-strong
# _FORTIFY_SOURCE needs an optimised build; a -O0 CFLAGS simply goes without it.
FORTIFY := $(if $(filter -O0,$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
ALL_CFLAGS = $(REQUIRED_CFLAGS) $(FORTIFY) $(CFLAGS)

COMMON_SRC := common/harness.c common/trace.c
COMMON_HDR := common/harness.h common/trace.h common/omp_team.h  # omp_team.h: header-only, for omp and hybrid
POSIX_SRC  := common/workers.c common/fifo.c
POSIX_HDR  := common/workers.h common/fifo.h
MPI_SRC    := common/mpi_harness.c
MPI_HDR    := common/mpi_harness.h

# Every .c in a model folder is one program: a new concept needs no Makefile change.
POSIX_PROGS := $(patsubst %.c,$(O)%,$(wildcard posix/*.c))
OMP_PROGS   := $(patsubst %.c,$(O)%,$(wildcard omp/*.c))
MPI_PROGS   := $(patsubst %.c,$(O)%,$(wildcard mpi/*.c))

# Which toolchains are here. OpenMP: does $(CC) accept -fopenmp and link? MPI: is $(MPICC) on PATH?
HAVE_OMP := $(shell printf 'int main(void){return 0;}\n' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo yes)
HAVE_MPI := $(shell command -v $(MPICC) >/dev/null 2>&1 && echo yes)

BUILT := $(POSIX_PROGS) $(if $(HAVE_OMP),$(OMP_PROGS)) $(if $(HAVE_MPI),$(MPI_PROGS))

# Why a model is left out, with the way to get it: said when building, and again at the end of make run.
WHY_NO_OMP := $(CC) cannot build OpenMP (gcc has it; for clang: apt-get install libomp-dev, or run make deps)
WHY_NO_MPI := $(MPICC) not found (apt-get install openmpi-bin libopenmpi-dev, or run make deps, or load your cluster's MPI module)

# Open MPI as root and with more ranks than cores (README "MPI on a small machine").
MPI_ENV := OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
           OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
# OMP_NUM_THREADS reaches the programs from the environment as it is (make exports it).

# Tests and tools: pytest from Debian (the first python3 on PATH may lack it).
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
PYTEST := $(PYTHON) -m pytest
DEPS   := tools/deps.sh

.PHONY: all run run-all run-posix run-omp run-mpi check check-all test unit-tests program-tests sanitize deps deps-test clean toolchain-report
.DEFAULT_GOAL := all

all: toolchain-report $(BUILT)

toolchain-report:
	@$(if $(HAVE_OMP),,echo "make: omp/ skipped: $(WHY_NO_OMP)";)
	@$(if $(HAVE_MPI),,echo "make: mpi/ skipped: $(WHY_NO_MPI)";)

$(O)posix/%: posix/%.c $(COMMON_SRC) $(COMMON_HDR) $(POSIX_SRC) $(POSIX_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(COMMON_SRC) $(POSIX_SRC) $(LDFLAGS) -lrt

$(O)omp/%: omp/%.c $(COMMON_SRC) $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fopenmp -o $@ $< $(COMMON_SRC) $(LDFLAGS) -lrt

# -fopenmp too: the hybrid MPI+OpenMP examples need it, the others ignore it.
$(O)mpi/%: mpi/%.c $(COMMON_SRC) $(COMMON_HDR) $(MPI_SRC) $(MPI_HDR)
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) $(if $(HAVE_OMP),-fopenmp) -o $@ $< $(COMMON_SRC) $(MPI_SRC) $(LDFLAGS) -lrt

# ---------------------------------------------------------------- running

# Each program with its defaults (tools/run-programs): every program runs even when one fails, and
# the run ends with a summary: how many PASSed, which failed, which were skipped and why.
# make run installs what is missing first (tools/deps.sh), then hands over to a new make: this one
# decided HAVE_OMP and HAVE_MPI when it started, before mpicc was installed; the sub-make looks again.
RUN_PROGRAMS := tools/run-programs
MPI_LAUNCH   := env $(MPI_ENV) $(MPIRUN) -np $(NP)
SKIP_OMP     := $(if $(HAVE_OMP),,--skip "omp/ ($(words $(OMP_PROGS)) programs): $(WHY_NO_OMP)")
SKIP_MPI     := $(if $(HAVE_MPI),,--skip "mpi/ ($(words $(MPI_PROGS)) programs): $(WHY_NO_MPI)")

run:
	-@$(DEPS) ensure run "$(CC)" "$(MPICC)"
	@$(MAKE) --no-print-directory run-all

run-all: all
	@$(RUN_PROGRAMS) --mpirun "$(MPI_LAUNCH)" $(SKIP_OMP) $(SKIP_MPI) $(BUILT)

run-posix: $(POSIX_PROGS)
	@$(RUN_PROGRAMS) $(POSIX_PROGS)

run-omp: $(OMP_PROGS)
	@$(RUN_PROGRAMS) $(OMP_PROGS)

run-mpi: $(MPI_PROGS)
	@$(RUN_PROGRAMS) --mpirun "$(MPI_LAUNCH)" $(MPI_PROGS)

# ---------------------------------------------------------------- tests

# Extra test steps join here (mk/*.mk: TEST_STEPS += check-races); pytest runs last so its
# summary line closes the output.
TEST_STEPS :=
-include $(wildcard mk/*.mk)

UNIT_TESTS := $(O)tests/unit/test_harness

$(O)tests/unit/%: tests/unit/%.c $(COMMON_SRC) $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(COMMON_SRC) $(LDFLAGS) -lcmocka -lrt

# The quick confidence run (README "Two commands" has its time): build,
# the unit tests, one small case of every variant and the contract checks (pytest -m check).
# A sub-make again, so a toolchain deps.sh has just installed is seen.
check:
	-@$(DEPS) ensure check "$(CC)" "$(MPICC)"
	@$(MAKE) --no-print-directory check-all

check-all: all unit-tests
	SUITE_BIN_DIR=$(if $(O),$(O),.) MPIRUN=$(MPIRUN) $(PYTEST) tests -m check $(PYTEST_ARGS)

test: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit-tests $(TEST_STEPS)
	@$(MAKE) --no-print-directory program-tests

unit-tests: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

# PYTEST_ARGS narrows a run, e.g. make program-tests PYTEST_ARGS='-k counter'.
program-tests: $(BUILT)
	SUITE_BIN_DIR=$(if $(O),$(O),.) MPIRUN=$(MPIRUN) $(PYTEST) tests $(PYTEST_ARGS)

# ASan + UBSan: the same unit tests and program matrix on an instrumented build of everything.
SANITIZE_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
sanitize: deps-test
	@$(MAKE) --no-print-directory all unit-tests program-tests O=build/sanitize/ \
	  CFLAGS="$(SANITIZE_FLAGS)" LDFLAGS="$(SANITIZE_FLAGS)" \
	  PYTEST_ARGS="$(PYTEST_ARGS)"

# ---------------------------------------------------------------- setup

deps:
	@$(DEPS) install test
deps-test:
	@$(DEPS) ensure test "$(CC)" "$(MPICC)"

clean:
	rm -rf build $(patsubst %.c,%,$(wildcard posix/*.c omp/*.c mpi/*.c)) \
	  $(patsubst %.c,%,$(wildcard tests/unit/*.c)) tests/__pycache__ .pytest_cache
