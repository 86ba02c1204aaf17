"""Lab 8 (cancel): processes are killable, threads are not. A process running an endless loop is
stopped with terminate(); a thread can only be asked (an Event it checks) or left as a daemon.

Run:  python3 labs/python/cancel.py           then compare: ./posix/cancel, ./omp/cancel, mpirun -np 2 ./mpi/cancel
"""
import multiprocessing
import threading
import time


def endless():
    while True:
        pass


def polite(stop):
    while not stop.is_set():      # the thread stops only because it looks
        pass


if __name__ == "__main__":
    p = multiprocessing.Process(target=endless)
    p.start()
    time.sleep(0.1)
    start = time.perf_counter()
    p.terminate()                 # SIGTERM: the kernel stops it wherever it is
    p.join()
    print(f"process stopped by terminate() after {time.perf_counter() - start:.6f} s")
    stop = threading.Event()
    t = threading.Thread(target=polite, args=(stop,))
    t.start()
    time.sleep(0.1)
    start = time.perf_counter()
    stop.set()                    # there is no t.terminate()
    t.join()
    print(f"thread stopped itself after {time.perf_counter() - start:.6f} s")
