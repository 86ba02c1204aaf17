"""The notebook's process-safe Queue: producer processes put, the main process drains.

  queue  multiprocessing.Queue; W producers, even ones put i*i (square), odd ones -i
         (make_negative), for i = 1..n
The main process drains every value BEFORE joining the producers: the notebook joined first,
which hangs once a producer has more in flight than the pipe holds.

Run:  /usr/bin/python3 bench/python/producers.py -n 10000 -w 2 --quiet
"""
import sys
from multiprocessing import Process, Queue

import pyharness


def square(numbers, queue):
    for i in numbers:
        queue.put(i * i)


def make_negative(numbers, queue):
    for i in numbers:
        queue.put(-1 * i)


def main():
    args = pyharness.parse("producers", {"queue": "multiprocessing.Queue, producer processes, one consumer"},
                           default_n=5, default_workers=2, about="producers put, the main process drains")
    numbers = range(1, args.n + 1)
    q = Queue()
    start = pyharness.now_seconds()
    producers = [Process(target=square if p % 2 == 0 else make_negative, args=(numbers, q))
                 for p in range(args.w)]
    for p in producers:
        p.start()
    received = [q.get() for _ in range(args.w * args.n)]
    for p in producers:
        p.join()
    elapsed = pyharness.now_seconds() - start
    squares, naturals = sum(i * i for i in numbers), sum(numbers)
    expected = (args.w + 1) // 2 * squares - args.w // 2 * naturals
    checksum = sum(received)
    passed = (len(received) == args.w * args.n and checksum == expected
              and all(p.exitcode == 0 for p in producers))
    if args.n <= 20:
        for value in received:
            pyharness.say(args, value)
    print(f"producers: received {len(received)} (expected {args.w * args.n}), "
          f"checksum {checksum} (expected {expected})")
    return pyharness.result("producers", args, passed, elapsed, producers=args.w,
                            processed=len(received), checksum=checksum)


if __name__ == "__main__":
    sys.exit(main())
