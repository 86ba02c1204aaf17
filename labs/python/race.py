"""Lab 2 (race): the lost update. Two threads read a shared value, pause, write it back plus one.
Wrong on purpose: expect "end value 1", not 2.

Run:  python3 labs/python/race.py             then compare: ./posix/race, ./omp/race, mpirun -np 2 ./mpi/race
"""
import threading
import time

database_value = 0


def increase():
    global database_value
    local_copy = database_value   # read
    local_copy += 1
    time.sleep(0.1)               # pause: the other thread reads the same old value meanwhile
    database_value = local_copy   # write: overwrites the other thread's update


if __name__ == "__main__":
    print("start value", database_value)
    threads = [threading.Thread(target=increase) for _ in range(2)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("end value", database_value)
    print("end main")
