# bench.mk - make bench: every built concept x model x variant against the machine's ceilings
# and the notebook's Python (bench/README.md, docs/benchmarks.md).
#
#   make bench             full run: bench/results/<date>-<host>.*
#   make bench QUICK=1     short run: the same tables and plots, fewer sizes and runs
#                          (both stop at a time budget: MODES in bench/run.py, quoted in bench/README.md)
#   make bench-quick       QUICK=1 into build/bench/check/: the `make test` step that checks the bench
#                          works (every program it runs must PASS; no timing is ever asserted)
#   BENCH_ARGS=...         passed to bench/run.py (e.g. BENCH_ARGS='--only pool_cube')
#
# The reference ("ceiling") programs in bench/ref/ are plain C built here with the suite's own
# flags, into build/bench/ref/ (make clean removes them with build/).

BENCH_OUT  ?= bench/results
BENCH_ARGS ?=
BENCH_REF_DIR := build/bench/ref
BENCH_REF_SRC := $(wildcard bench/ref/*.c)
BENCH_REF_MPI_SRC := $(filter bench/ref/mpi_%.c,$(BENCH_REF_SRC))
BENCH_REFS := $(patsubst bench/ref/%.c,$(BENCH_REF_DIR)/%,$(filter-out $(BENCH_REF_MPI_SRC),$(BENCH_REF_SRC))) \
              $(if $(HAVE_MPI),$(patsubst bench/ref/%.c,$(BENCH_REF_DIR)/%,$(BENCH_REF_MPI_SRC)))

.PHONY: bench bench-quick bench-refs

$(BENCH_REF_DIR)/mpi_%: bench/ref/mpi_%.c $(COMMON_SRC) $(COMMON_HDR) $(MPI_SRC) $(MPI_HDR)
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) -o $@ $< $(COMMON_SRC) $(MPI_SRC) $(LDFLAGS) -lrt

$(BENCH_REF_DIR)/%: bench/ref/%.c $(COMMON_SRC) $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(COMMON_SRC) $(LDFLAGS) -lrt

bench-refs: $(BENCH_REFS)

bench: all bench-refs
	$(PYTHON) bench/run.py $(if $(QUICK),--quick) --out $(BENCH_OUT) --mpirun $(MPIRUN) $(BENCH_ARGS)

bench-quick: all bench-refs
	$(PYTHON) bench/run.py --quick --out build/bench/check --mpirun $(MPIRUN) $(BENCH_ARGS)

TEST_STEPS += bench-quick
