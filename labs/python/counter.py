"""Lab 3 (counter): the race made correct. A Lock around the read-modify-write, for threads, and
Value + Lock for processes (the notebook's add100).

Run:  python3 labs/python/counter.py          then compare: ./posix/counter, ./omp/counter, mpirun -np 2 ./mpi/counter
"""
import threading
from multiprocessing import Lock, Process, Value

database_value = 0
thread_lock = threading.Lock()


def increase():
    global database_value
    with thread_lock:             # read, add, write: one step nobody can split
        database_value += 1


def add100(number, lock):
    for _ in range(100):
        with lock:                # Value's += is two steps too: the lock makes it one
            number.value += 1


if __name__ == "__main__":
    threads = [threading.Thread(target=increase) for _ in range(2)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("threads: end value", database_value)
    number, lock = Value("i", 0), Lock()
    print("Number at the beginning is", number.value)
    workers = [Process(target=add100, args=(number, lock)) for _ in range(2)]
    for w in workers: w.start()
    for w in workers: w.join()
    print("Number at the end is", number.value)   # 200
