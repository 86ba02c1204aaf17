"""The notebook's first cells: start workers running square_it(), then join them all.

  thread   threading.Thread(target=square_it) x W, start, join
  process  multiprocessing.Process(target=square_it) x W, start, join
(The notebook joined only its last process, several times, and appended its threads to the
wrong list so none ran; here every worker is started and joined.)

Run:  /usr/bin/python3 bench/python/spawn.py -w 2 --variant process --quiet
"""
import sys
from multiprocessing import Process
from threading import Thread

import pyharness


def square_it(n):
    for i in range(n):
        i * i


def main():
    args = pyharness.parse("spawn", {
        "thread": "threading.Thread start + join",
        "process": "multiprocessing.Process start + join",
    }, default_n=1000, about="start W workers running square_it, join them all")
    kind = Thread if args.variant == "thread" else Process
    start = pyharness.now_seconds()
    workers = [kind(target=square_it, args=(args.n,)) for _ in range(args.w)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = pyharness.now_seconds() - start
    ran = args.w if kind is Thread else sum(1 for p in workers if p.exitcode == 0)
    per_worker = elapsed / args.w
    pyharness.say(args, "end main")
    print(f"spawn {args.variant}: {ran} of {args.w} workers ran (expected {args.w}); "
          f"create+join {per_worker * 1e6:.1f} us per worker")
    return pyharness.result("spawn", args, ran == args.w, elapsed, ran=ran,
                            create_join_s=f"{per_worker:.9f}")


if __name__ == "__main__":
    sys.exit(main())
