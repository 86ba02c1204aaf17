/*
 * bench/ref/mpi_pingpong.c - the MPI message floor: one 8-byte message there and back, n times.
 *
 * Rank 0 sends 8 bytes to rank 1, which sends them back (the OSU latency test's shape). The
 * figure is the half round trip: what one small message costs. Every MPI variant that sends a
 * message per item (manager/worker, producers, fetch-op) pays at least this per item.
 * Ranks beyond the first two wait at the final barrier; with one rank, rank 0 talks to itself.
 *
 * Run:  mpirun -np 2 build/bench/ref/mpi_pingpong -n 10000 --quiet
 */
#include <inttypes.h>
#include <stdio.h>

#include "../../common/mpi_harness.h"

static const program_info info = {
    .concept = "pingpong",
    .model = "ref",
    .summary = "Reference: 8-byte MPI ping-pong between ranks 0 and 1, n round trips.",
    VARIANT_DOCS(((const variant_doc[]){{"8byte", "MPI_Send / MPI_Recv of one uint64_t each way"}, {NULL, NULL}})),
    .n_meaning = "round trips",
    .default_n = 10000,
    .max_n = 100000000,
};

enum { TAG_PING = 1, WARMUP_ROUND_TRIPS = 100 };

static int world_rank, world_size;

/* Returns how many round trips came back with the value that was sent. */
static long ping_pong(long round_trips)
{
    int partner = world_size > 1 ? 1 : 0;
    long correct = 0;
    for (long k = 0; k < round_trips; k++) {
        uint64_t message = (uint64_t)k;
        if (world_rank == ROOT_RANK) {
            MPI_Request request;
            MPI_CHECK(MPI_Isend(&message, 1, MPI_UINT64_T, partner, TAG_PING, MPI_COMM_WORLD, &request),
                      "MPI_Isend");
            uint64_t reply = 0;
            MPI_CHECK(MPI_Recv(&reply, 1, MPI_UINT64_T, partner, TAG_PING, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE), "MPI_Recv");
            MPI_CHECK(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
            if (reply == message) correct++;
        } else if (world_rank == 1) {
            MPI_CHECK(MPI_Recv(&message, 1, MPI_UINT64_T, ROOT_RANK, TAG_PING, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE), "MPI_Recv");
            MPI_CHECK(MPI_Send(&message, 1, MPI_UINT64_T, ROOT_RANK, TAG_PING, MPI_COMM_WORLD),
                      "MPI_Send");
        }
    }
    return correct;
}

int main(int argc, char **argv)
{
    options opt;
    mpi_start(&info, &argc, &argv, MPI_THREAD_SINGLE, &opt, &world_rank, &world_size);

    ping_pong(WARMUP_ROUND_TRIPS); /* connections set up before the clock starts */
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    double start = MPI_Wtime();
    long correct = ping_pong(opt.n);
    double elapsed = MPI_Wtime() - start;
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");

    bool pass = true;
    if (world_rank == ROOT_RANK) {
        double half_round_trip = opt.n > 0 ? elapsed / (2.0 * (double)opt.n) : 0.0;
        pass = verify_count("round trips returned intact", opt.n, correct);
        printf("ping-pong: %ld of %ld round trips intact, %.3f us per one-way 8-byte message\n",
               correct, opt.n, half_round_trip * 1e6);
        print_result(&info, &opt, pass, elapsed, "latency_s=%.9f", half_round_trip);
    }
    return mpi_finish(pass);
}
