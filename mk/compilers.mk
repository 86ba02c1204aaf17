# build-clang: the whole suite again with clang (MPI through the same wrapper, told to use clang),
# into build/clang/, so -Wall -Wextra -Werror holds under both compilers. Part of make test.
.PHONY: build-clang
build-clang:
	@OMPI_CC=clang MPICH_CC=clang $(MAKE) --no-print-directory -s all O=build/clang/ CC=clang
	@echo "build-clang: every program compiles warning-free with clang"
TEST_STEPS += build-clang
