"""The notebook's counters made correct: a Lock around a shared int, and Value + Lock across processes.

  lock   W threads, each adds 1 to a global n times inside `with lock:` (the Lock cell, without
         its time.sleep)
  value  W processes, each adds 1 to a Value('i') n times inside `with lock:` (add100, without
         its time.sleep(0.01))

Run:  /usr/bin/python3 bench/python/counter.py -n 100000 -w 2 --variant value --quiet
"""
import sys
import threading
import multiprocessing

import pyharness

database_value = 0


def increase(lock, n):
    global database_value
    for _ in range(n):
        with lock:
            database_value += 1


def add_n(number, lock, n):
    for _ in range(n):
        with lock:
            number.value += 1


def main():
    args = pyharness.parse("counter", {
        "lock": "threads, threading.Lock around a global",
        "value": "processes, multiprocessing.Value('i') with a Lock",
    }, default_n=100, default_workers=2, about="W workers add 1, n times each, under a lock")
    if args.variant == "lock":
        lock = threading.Lock()
        start = pyharness.now_seconds()
        workers = [threading.Thread(target=increase, args=(lock, args.n)) for _ in range(args.w)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = pyharness.now_seconds() - start
        got = database_value
    else:
        shared_number = multiprocessing.Value("i", 0)
        lock = multiprocessing.Lock()
        start = pyharness.now_seconds()
        workers = [multiprocessing.Process(target=add_n, args=(shared_number, lock, args.n))
                   for _ in range(args.w)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = pyharness.now_seconds() - start
        got = shared_number.value
        if any(p.exitcode != 0 for p in workers):
            print("python/counter: a worker process failed", file=sys.stderr)
            return 3
    expected = args.w * args.n
    pyharness.say(args, "Number at the beginning is 0")
    pyharness.say(args, f"Number at the end is {got}")
    print(f"counter {args.variant}: expected {expected}, got {got}")
    return pyharness.result("counter", args, got == expected, elapsed, expected=expected, got=got)


if __name__ == "__main__":
    sys.exit(main())
