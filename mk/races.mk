# races.mk - make check-races: ThreadSanitizer must flag every race variant and pass every other
# thread variant of every posix and omp program (tests/test_races.py says what is run and asserted).
#
# Built with clang + libomp + -fsanitize=thread into build/tsan/: gcc's TSan with libgomp
# reports races in correct OpenMP code, clang's with libomp (and its Archer tool) does not.
# fork()-based variants (race process, counter process) are outside TSan's reach: TSan sees
# the threads of one process, not memory that processes share. They are skipped, and say so.

TSAN_CC     ?= clang
TSAN_DIR    := build/tsan/
TSAN_FLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=thread
# every posix and omp program: the race must be reported, every other thread variant must be clean
TSAN_PROGS  := $(patsubst %.c,$(TSAN_DIR)%,$(wildcard posix/*.c omp/*.c))

.PHONY: check-races

TEST_STEPS += check-races

check-races:
	@command -v $(TSAN_CC) >/dev/null 2>&1 || \
	  { echo "check-races: $(TSAN_CC) not found (apt-get install clang libomp-dev libclang-rt-dev, or make deps)"; exit 1; }
	@command -v llvm-symbolizer >/dev/null 2>&1 || \
	  { echo "check-races: llvm-symbolizer not found: TSan reports would name no file (apt-get install llvm, or make deps)"; exit 1; }
	@$(MAKE) --no-print-directory O=$(TSAN_DIR) CC=$(TSAN_CC) CFLAGS="$(TSAN_FLAGS)" \
	  LDFLAGS="-fsanitize=thread" $(TSAN_PROGS)
	@echo "check-races: race variants must be reported (exit 66), every other thread variant clean;" \
	  "fork() variants (posix race/counter process) are outside TSan's reach and skipped"
	SUITE_TSAN_DIR=$(TSAN_DIR) $(PYTEST) tests/test_races.py -rs $(PYTEST_ARGS)
