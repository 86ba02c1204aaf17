/*
 * where.c - which host each MPI rank runs on, for the two-host test (tests/test_two_hosts.py).
 *
 * Every rank sends MPI_Get_processor_name to rank 0, which prints one line per rank
 * ("rank 2 of 4 on h2") and then a sum over all ranks that has to cross between the hosts:
 * "allreduce 10 (expected 10)". Exit 0 when the sum is right.
 * A test helper, not an example: MPI's default error handler (MPI_ERRORS_ARE_FATAL) aborts the
 * job on any failed call, which is all the test needs.
 */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    int world_rank, world_size, length;
    char name[MPI_MAX_PROCESSOR_NAME];
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return 3;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    MPI_Get_processor_name(name, &length);

    if (world_rank == 0) {
        printf("rank 0 of %d on %s\n", world_size, name);
        for (int source = 1; source < world_size; source++) {
            char other[MPI_MAX_PROCESSOR_NAME];
            MPI_Recv(other, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, source, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            printf("rank %d of %d on %s\n", source, world_size, other);
        }
    } else {
        MPI_Send(name, length + 1, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }

    int one_based = world_rank + 1, sum = 0;
    MPI_Allreduce(&one_based, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int expected = world_size * (world_size + 1) / 2;
    if (world_rank == 0) printf("allreduce %d (expected %d)\n", sum, expected);
    MPI_Finalize();
    return sum == expected ? 0 : 1;
}
