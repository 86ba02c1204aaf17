"""Lab 6 (producers): two producer processes put into a multiprocessing.Queue, the main process
drains it. Drain BEFORE joining: a producer whose data still sits in the queue's pipe does not end,
so joining it first can hang (the notebook's own hang, with larger n).

Run:  python3 labs/python/producers.py        then compare: ./posix/producers, ./omp/producers, mpirun -np 3 ./mpi/producers
"""
from multiprocessing import Process, Queue


def square(numbers, q):
    for i in numbers:
        q.put(i * i)


def make_negative(numbers, q):
    for i in numbers:
        q.put(-i)


if __name__ == "__main__":
    numbers = range(1, 6)
    q = Queue()
    producers = [Process(target=square, args=(numbers, q)),
                 Process(target=make_negative, args=(numbers, q))]
    for p in producers: p.start()
    received = [q.get() for _ in range(2 * len(numbers))]   # drain first ...
    for p in producers: p.join()                             # ... then join
    for value in received:
        print(value)
