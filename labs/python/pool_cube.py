"""Lab 7 (pool_cube): Pool.map(cube, range(n)) over a pool of worker processes, and one
pool.apply call.

Run:  python3 labs/python/pool_cube.py        then compare: ./posix/pool_cube, ./omp/pool_cube, mpirun -np 4 ./mpi/pool_cube
"""
from multiprocessing import Pool


def cube(x):
    return x * x * x


if __name__ == "__main__":
    with Pool() as pool:                       # one worker per core
        print(pool.map(cube, range(10)))       # [0, 1, 8, 27, 64, 125, 216, 343, 512, 729]
        print(pool.apply(cube, (20,)))         # one call, run by one worker: 8000
