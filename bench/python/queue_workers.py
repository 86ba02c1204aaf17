"""The notebook's Queue example: daemon worker threads get(), process, task_done(); main put()s and join()s.

  thread   queue.Queue, W daemon threads (10 in the notebook), items 1..n (1..19 in the notebook)
Workers keep their own tally (no shared state but the queue), summed after join().
(The file is not called queue.py: it would shadow the standard library's queue module.)

Run:  /usr/bin/python3 bench/python/queue_workers.py -n 100000 -w 2 --quiet
"""
import sys
from queue import Queue
from threading import Thread

import pyharness


def worker(q, tally):
    while True:
        value = q.get()
        tally[0] += 1
        tally[1] += value
        q.task_done()


def main():
    args = pyharness.parse("queue", {"thread": "queue.Queue, daemon worker threads, task_done/join"},
                           default_n=19, default_workers=10, about="a worker pool drains a Queue")
    q = Queue()
    tallies = [[0, 0] for _ in range(args.w)]
    start = pyharness.now_seconds()
    for tally in tallies:
        Thread(target=worker, args=(q, tally), daemon=True).start()
    for i in range(1, args.n + 1):
        q.put(i)
    q.join()
    elapsed = pyharness.now_seconds() - start
    processed = sum(t[0] for t in tallies)
    checksum = sum(t[1] for t in tallies)
    expected = args.n * (args.n + 1) // 2
    pyharness.say(args, "endmain")
    print(f"queue: processed {processed} (expected {args.n}), checksum {checksum} (expected {expected})")
    return pyharness.result("queue", args, processed == args.n and checksum == expected, elapsed,
                            processed=processed, checksum=checksum)


if __name__ == "__main__":
    sys.exit(main())
