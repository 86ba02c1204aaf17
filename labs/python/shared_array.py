"""Lab 5 (shared_array): processes share memory only where it is made shared. Each worker adds 1
to every element of Array('d'); a plain list would stay unchanged in the parent.

Run:  python3 labs/python/shared_array.py     then compare: ./posix/shared_array, ./omp/shared_array, mpirun -np 2 ./mpi/shared_array
"""
from multiprocessing import Array, Process


def add_one(array):
    with array.get_lock():        # the Array's own lock: += on an element is two steps
        for i in range(len(array)):
            array[i] += 1


if __name__ == "__main__":
    array = Array("d", [0.0, 100.0, 200.0])
    print("array at the beginning is", array[:])
    workers = [Process(target=add_one, args=(array,)) for _ in range(2)]
    for w in workers: w.start()
    for w in workers: w.join()
    print("array at the end is", array[:])      # [2.0, 102.0, 202.0]
