# hardening.mk - fuzzing the shared argument parser, and short names for the hardening tests.
#
#   make fuzz            build the libFuzzer target and run it for FUZZ_SECONDS (part of make test)
#   make fuzz-build      only build it (build/fuzz/fuzz_parse)
#   make valgrind-tests  every posix and omp program under valgrind memcheck (tests/test_valgrind.py)
#   make fault-tests     kill -9, SIGINT/SIGTERM, resource limits, a dying MPI rank (tests/test_faults.py)
#
# The valgrind, fault and leftover tests are ordinary pytest files, so program-tests (and make
# sanitize) already run them; the targets here only narrow a run to them.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     := build/fuzz
FUZZ_BIN     := $(FUZZ_DIR)/fuzz_parse
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
HAVE_FUZZ_CC := $(shell command -v $(FUZZ_CC) >/dev/null 2>&1 && echo yes)

.PHONY: fuzz fuzz-build valgrind-tests fault-tests

TEST_STEPS += fuzz

$(FUZZ_BIN): tests/fuzz/fuzz_parse.c $(COMMON_SRC) $(COMMON_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -Wall -Wextra -Werror $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRC) -lrt

fuzz-build: $(if $(HAVE_FUZZ_CC),$(FUZZ_BIN))

# New inputs go to a scratch corpus under build/; tests/fuzz/corpus holds the kept seeds, which
# every run replays first (a regression check). A finding is saved as build/fuzz/crash-* and
# fails the step; reproduce it with: ./build/fuzz/fuzz_parse build/fuzz/crash-...
fuzz: fuzz-build
	@if [ -z "$(HAVE_FUZZ_CC)" ]; then echo "fuzz: skipped, $(FUZZ_CC) not found (make deps installs clang)"; exit 0; fi; \
	mkdir -p $(FUZZ_DIR)/corpus; \
	echo "fuzz: $(FUZZ_BIN) for $(FUZZ_SECONDS) s over tests/fuzz/corpus"; \
	if ./$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
	     -dict=tests/fuzz/parse.dict -artifact_prefix=$(FUZZ_DIR)/ \
	     $(FUZZ_DIR)/corpus tests/fuzz/corpus >$(FUZZ_DIR)/fuzz.log 2>&1; then \
	  grep -E '^#[0-9]+.*DONE|^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' $(FUZZ_DIR)/fuzz.log \
	    | sed 's/^/fuzz: /'; \
	else \
	  tail -n 40 $(FUZZ_DIR)/fuzz.log; echo "fuzz: FAILED, full log in $(FUZZ_DIR)/fuzz.log"; exit 1; \
	fi

valgrind-tests: $(POSIX_PROGS) $(if $(HAVE_OMP),$(OMP_PROGS))
	$(PYTEST) tests/test_valgrind.py $(PYTEST_ARGS)

fault-tests: $(BUILT)
	$(PYTEST) tests/test_faults.py $(PYTEST_ARGS)
