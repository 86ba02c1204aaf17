"""Lab 1 (spawn): start workers, join them all. The notebook's square_it, as threads and as processes.

Run:  python3 labs/python/spawn.py            then compare: ./posix/spawn, ./omp/spawn, mpirun -np 4 ./mpi/spawn
"""
import os
import threading
import multiprocessing


def square_it(n=1000):
    total = 0
    for i in range(n):
        total += i * i
    return total


if __name__ == "__main__":
    processes = [multiprocessing.Process(target=square_it) for _ in range(os.cpu_count())]
    for p in processes: p.start()
    for p in processes: p.join()          # join: wait until each has ended
    threads = [threading.Thread(target=square_it) for _ in range(10)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(f"{len(processes)} processes and {len(threads)} threads ran square_it")
    print("end main")
