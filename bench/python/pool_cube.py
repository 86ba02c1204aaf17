"""The notebook's process pool: result = Pool().map(cube, range(n)); pool.apply(cube, (x,)).

Variants, so the bench can say when a pool pays off in Python at all:
  map        Pool.map + one apply, on a pool started (and warmed) before the clock starts
  map-start  the same, with Pool() start-up and close/join inside the clock (the notebook's cell)
  loop       [cube(i) for i in range(n)] in this one process: the plain loop a pool must beat

Run:  /usr/bin/python3 bench/python/pool_cube.py -n 1000000 --variant map --quiet
"""
import sys
from multiprocessing import Pool

import pyharness

U64 = 2**64


def cube(number):
    return number * number * number


def main():
    args = pyharness.parse("pool_cube", {
        "map": "Pool.map on a pool started before the clock",
        "map-start": "Pool() start, map, apply, close, join, all timed",
        "loop": "plain list comprehension in one process",
    }, default_n=10, about="Pool.map(cube, range(n)) as the notebook wrote it")
    numbers = range(args.n)
    if args.variant == "loop":
        start = pyharness.now_seconds()
        result = [cube(i) for i in numbers]
        applied = cube(args.n)
        elapsed = pyharness.now_seconds() - start
    elif args.variant == "map":
        with Pool(args.w) as pool:
            pool.map(cube, range(4 * args.w))  # every worker up and running
            start = pyharness.now_seconds()
            result = pool.map(cube, numbers)
            applied = pool.apply(cube, (args.n,))  # (x,), not x: the notebook's TypeError
            elapsed = pyharness.now_seconds() - start
    else:
        start = pyharness.now_seconds()
        pool = Pool(args.w)
        result = pool.map(cube, numbers)
        applied = pool.apply(cube, (args.n,))
        pool.close()
        pool.join()
        elapsed = pyharness.now_seconds() - start

    # Checked outside the clock: every value, and the sum mod 2^64 against the closed form.
    passed = result == [i**3 for i in numbers] and applied == args.n**3
    checksum = sum(result) % U64
    passed = passed and checksum == (args.n * (args.n - 1) // 2) ** 2 % U64
    pyharness.say(args, result if args.n <= 20 else f"[{result[0]}, ... {len(result)} cubes]")
    print(f"map of {args.n} cubes: checksum {checksum} (expected {(args.n * (args.n - 1) // 2) ** 2 % U64})")
    return pyharness.result("pool_cube", args, passed, elapsed, checksum=checksum)


if __name__ == "__main__":
    sys.exit(main())
