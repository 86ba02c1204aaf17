"""What the notebook's Python scripts in bench/python/ share: the suite's command line and RESULT line.

Each script is one notebook cell, rewritten to run on its own with -n, -w and --variant like the C
programs, and to end with the same RESULT line, so `make bench` reads Python and C alike:

    RESULT concept=pool_cube model=python variant=map workers=2 n=10 status=PASS elapsed_s=0.000900 checksum=2025

Standard library only; run with /usr/bin/python3.
"""
import argparse
import os
import sys
import time

now_seconds = time.perf_counter  # monotonic, like the C programs' now_seconds()


def parse(concept, variants, default_n, default_workers=0, about=""):
    """-n N -w W --variant V --quiet, as in CONTRACT.md; variants: {name: help}, default first."""
    names = list(variants)
    parser = argparse.ArgumentParser(
        prog=f"python/{concept}", description=about,
        epilog="variants: " + "; ".join(f"{k}: {v}" for k, v in variants.items()))
    parser.add_argument("-n", type=int, default=default_n, help=f"problem size (default {default_n})")
    parser.add_argument("-w", type=int, default=default_workers or os.cpu_count() or 1,
                        help="workers (default %(default)s)")
    parser.add_argument("--variant", choices=names, default=names[0],
                        help=f"mechanism (default {names[0]})")
    parser.add_argument("--quiet", action="store_true", help="print only the summary and the RESULT line")
    args = parser.parse_args()
    if args.n < 0 or args.w < 1:
        parser.error("-n must be >= 0 and -w >= 1")
    return args


def say(args, *text):
    if not args.quiet:
        print(*text)


def result(concept, args, passed, elapsed, **extra):
    """Prints the RESULT line and returns the exit status (0 PASS, 1 FAIL)."""
    keys = " ".join(f"{k}={v}" for k, v in extra.items())
    print(f"RESULT concept={concept} model=python variant={args.variant} workers={args.w} n={args.n} "
          f"status={'PASS' if passed else 'FAIL'} elapsed_s={elapsed:.6f} {keys}".rstrip())
    sys.stdout.flush()
    return 0 if passed else 1
