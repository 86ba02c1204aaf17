"""Lab 4 (queue): a pool of daemon worker threads drains a Queue; q.join() returns once every item
has been marked task_done(). Leave out task_done and join waits forever.

Run:  python3 labs/python/queue_join.py       then compare: ./posix/queue, ./omp/queue, mpirun -np 4 ./mpi/queue
"""
import queue
import threading

q = queue.Queue()
done = []


def worker():
    while True:
        item = q.get()
        done.append(item * item)
        q.task_done()             # one per get(): join() counts these


if __name__ == "__main__":
    for _ in range(10):
        threading.Thread(target=worker, daemon=True).start()   # daemon: dies with the program
    for item in range(1, 20):
        q.put(item)
    q.join()                      # returns when every put item is done
    print(f"processed {len(done)} items, checksum {sum(range(1, 20))}")
    print("end main")
