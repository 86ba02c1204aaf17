# labs.mk - the labs students do (docs/instructor.md):
#
#   make labs                          regenerate labs/MODEL/NAME.c from the LAB markers in the references
#   make check-lab EX=omp/counter      grade labs/omp/counter.c: the concept's matrix, ThreadSanitizer for
#                  [SRC=my/counter.c]  thread programs, a hang timeout, the leftovers check; one line per
#                                      case, last line "N passed, N failed", exit 0 only when all pass
#   make lab-reset EX=omp/counter      put the skeleton back (the student's work in it is lost)
#
# Built out of tree, in build/lab/. MPI cases run as root and oversubscribed, as make run-mpi does.
# tests/test_labs.py proves the checker grades (make test runs it with the other pytest files).

LAB_TOOLS := tools/make-labs tools/check-lab
EX  ?=
SRC ?=

.PHONY: labs check-lab lab-reset

labs:
	@$(PYTHON) tools/make-labs

check-lab:
	@test -n "$(EX)" || { echo "check-lab: say which exercise: make check-lab EX=MODEL/NAME (e.g. EX=omp/counter)"; exit 2; }
	@CC="$(CC)" MPICC="$(MPICC)" MPIRUN="$(MPIRUN)" $(PYTHON) tools/check-lab "$(EX)" $(if $(SRC),--src "$(SRC)")

lab-reset:
	@test -n "$(EX)" || { echo "lab-reset: say which exercise: make lab-reset EX=MODEL/NAME"; exit 2; }
	@$(PYTHON) tools/make-labs --one "$(EX)"
