"""The suite's concepts as the tests see them: one row each (CONTRACT.md, "The concepts").

A new concept joins every test of the matrix by adding a row here. Each row says which
variants each model has, which sizes the matrix runs, extra arguments, and how to check a
RESULT line against closed forms computed here, independently of the program's own check.
"""
import os
from collections import Counter
from dataclasses import dataclass, field

from trace_format import spans

U64 = 2**64
POSIX_WORKERS = (1, 2, 3, 4, 7)
# SUITE_MAX_RANKS caps -np: MPICH busy-polls when ranks outnumber cores (make test-mpich sets 2).
MPI_RANKS = tuple(r for r in (1, 2, 3, 4, 5) if r <= int(os.environ.get("SUITE_MAX_RANKS", "5")))


def check_spawn(r, n, workers):
    assert int(r["ran"]) == workers


def trace_check_spawn(data, r, model, variant):
    """spawn's --trace: one "square_it" per worker (ran == workers) on the worker's own track,
    each inside the run's start..join envelope: posix, worker w's between its own "create" and
    "join"; omp, inside its region's create..join (two regions: the second reuses the team);
    mpi ranks, before its rank's "join" (MPI_Gather); comm-spawn, the parents' MPI_Comm_spawn
    and join only (the children, another MPI job, are not traced)."""
    eps = 0.01  # microseconds: the file rounds times to 3 decimals
    workers, ran = int(r["workers"]), int(r["ran"])
    assert ran == workers
    spans = [e for e in data["traceEvents"] if e.get("ph") == "X"]
    end = lambda e: e["ts"] + e["dur"]
    arg = lambda e: e.get("args", {}).get("first", e.get("args", {}).get("value"))
    on = lambda name, pid, tid: sorted((e for e in spans if e["name"] == name and e["pid"] == pid
                                        and e["tid"] == tid), key=lambda e: e["ts"])
    if model == "mpi":
        assert {e["pid"] for e in spans} == set(range(workers)), "a rank has no events"
        for rank in range(workers):
            if variant == "comm-spawn":
                spawned, joins = on("MPI_Comm_spawn", rank, 0), on("join", rank, 0)
                assert len(spawned) == 1 and len(joins) == 1, f"rank {rank}: {spawned} {joins}"
                assert end(spawned[0]) <= joins[0]["ts"] + eps
                assert not [e for e in spans if e["name"] == "square_it"]
            else:
                work, joins = on("square_it", rank, 1), on("join", rank, 1)
                assert len(work) == 1 and len(joins) == 1, f"rank {rank}: {work} {joins}"
                assert end(work[0]) <= joins[0]["ts"] + eps, f"rank {rank} joined before its work"
        return
    creates, joins = on("create", 0, 0), on("join", 0, 0)
    worked = {e["tid"] for e in spans if e["name"] == "square_it"}
    assert worked == set(range(1, workers + 1)), f"worker tracks with square_it: {sorted(worked)}"
    if model == "posix":  # one fork/pthread_create and one waitpid/pthread_join per worker
        assert sorted(arg(e) for e in creates) == list(range(workers))
        assert sorted(arg(e) for e in joins) == list(range(workers))
        create_of = {arg(e): e for e in creates}
        join_of = {arg(e): e for e in joins}
        for w in range(workers):
            work = on("square_it", 0, w + 1)
            assert len(work) == 1, f"worker {w} ran square_it {len(work)} times"
            assert work[0]["ts"] >= create_of[w]["ts"] - eps, f"worker {w} worked before it was created"
            assert end(work[0]) <= end(join_of[w]) + eps, f"worker {w} was joined before its work ended"
    else:  # omp: each region is one create..join on the main track
        assert len(creates) == len(joins) >= 1
        for w in range(workers):
            work = on("square_it", 0, w + 1)
            assert len(work) == len(creates), f"thread {w}: {len(work)} square_it, {len(creates)} regions"
            for k, e in enumerate(work):
                assert creates[k]["ts"] - eps <= e["ts"] and end(e) <= end(joins[k]) + eps, \
                    f"thread {w}'s square_it of region {k} is outside its create..join"


def per_worker(r):
    """RESULT's per_worker=a,b,c as integers, in worker order."""
    return [int(count) for count in r["per_worker"].split(",")]


def check_race(r, n, workers):
    expected, got, lost = int(r["expected"]), int(r["got"]), int(r["lost"])
    assert expected == workers * n
    if n > 0:
        assert 1 <= got <= expected  # a demonstration: updates may be lost, never invented
    assert lost == expected - got
    # reads by each worker: every worker made all its n read..write steps (a worker that
    # returned at once would read 0 times and lose nothing, hiding the race)
    assert per_worker(r) == [n] * workers, r["per_worker"]


def check_counter(r, n, workers):
    assert int(r["expected"]) == workers * n
    assert int(r["got"]) == workers * n
    # increments by each worker: each made its n, and together they are the end value (a
    # shared count where a private one belongs shows here: a worker reports others' ones)
    assert per_worker(r) == [n] * workers, r["per_worker"]
    assert sum(per_worker(r)) == int(r["got"])


def track(event):
    return event["pid"], event["tid"]


def per_track(events):
    return Counter(track(e) for e in events)


def overlapping_pairs(steps):
    """Pairs of spans on different tracks whose time intervals overlap."""
    steps = sorted(steps, key=lambda e: e["ts"])
    pairs = 0
    for k, a in enumerate(steps):
        for b in steps[k + 1:]:
            if b["ts"] >= a["ts"] + a["dur"]:
                break
            pairs += track(a) != track(b)
    return pairs


def trace_check_race(data, r, model, variant):
    """Every worker's read..write steps (value read, value written) are there; a lost update
    needs a step of one worker inside another's read..write, so at least `lost` pairs overlap;
    each "lost update" mark ends a step whose value another worker had read and written
    before it, and there are never more marks than updates lost."""
    workers, n, lost = int(r["workers"]), int(r["n"]), int(r["lost"])
    steps = spans(data, "read..write")
    assert all(e["args"]["last"] == e["args"]["first"] + 1 for e in steps)
    if data["otherData"]["dropped_events"] == 0:
        assert sorted(per_track(steps).values()) == ([n] * workers if n > 0 else [])
    assert overlapping_pairs(steps) >= lost, (overlapping_pairs(steps), lost)
    marks = [e for e in data["traceEvents"] if e.get("ph") == "i" and e["name"] == "lost update"]
    assert len(marks) <= lost
    ends = {(track(e), round(e["ts"] + e["dur"], 3)): e for e in steps}
    for mark in marks:
        step = ends.get((track(mark), round(mark["ts"], 3)))
        assert step is not None, f"a lost update mark at no step's end: {mark}"
        assert mark["args"] == step["args"]
        assert any(e["args"]["first"] == step["args"]["first"] and track(e) != track(step)
                   and e["ts"] + e["dur"] <= mark["ts"] for e in steps), mark


# The counter's variants whose steps hold a lock (the pause inside it), and the span of one
# step in the others.
LOCKED = {("posix", "mutex"), ("posix", "spin"), ("posix", "process"), ("omp", "critical"),
          ("omp", "lock"), ("mpi", "rma-lock")}
ONE_STEP = {("posix", "atomic"): "atomic add", ("omp", "atomic"): "atomic add",
            ("mpi", "fetch-op"): "MPI_Fetch_and_op"}
# MPI ranks' clocks are aligned at a barrier, to within its skew: holds of different ranks may
# seem to overlap by that much (a hold's span lies inside the lock's real tenure, which is
# longer by the lock's messages).
MPI_SKEW_US = 2000.0


def trace_check_counter(data, r, model, variant):
    """Locked variants: one "lock hold" per step, holds on the one counter never overlap in
    time, and the values read are 0..expected-1, each once. Atomic ones: one span per step.
    Reduction: one private count per worker, adding up to the end value."""
    workers, n, expected = int(r["workers"]), int(r["n"]), int(r["expected"])
    complete = data["otherData"]["dropped_events"] == 0
    each_worker_n = [n] * workers if n > 0 else []
    if (model, variant) in LOCKED:
        holds = sorted(spans(data, "lock hold"), key=lambda e: e["ts"])
        assert all(e["args"]["last"] == e["args"]["first"] + 1 for e in holds)
        if complete:
            assert sorted(per_track(holds).values()) == each_worker_n
            assert sorted(e["args"]["first"] for e in holds) == list(range(expected))
            for name in (("MPI_Win_lock", "MPI_Get", "MPI_Win_unlock") if model == "mpi"
                         else ("lock wait",)):
                assert len(spans(data, name)) == expected, name
        slack = MPI_SKEW_US if model == "mpi" else 0.0
        for before, after in zip(holds, holds[1:]):
            assert after["ts"] + slack >= before["ts"] + before["dur"], \
                f"two lock holds overlap: {before} and {after}"
    elif (model, variant) in ONE_STEP:
        steps = spans(data, ONE_STEP[(model, variant)])
        if complete:
            assert sorted(per_track(steps).values()) == each_worker_n
    else:
        counts = spans(data, "private count")
        assert sorted(per_track(counts).values()) == [1] * workers
        assert sorted(e["args"]["last"] for e in counts) == [n] * workers
        assert sum(e["args"]["last"] for e in counts) == expected
        if model == "mpi":
            assert sorted(per_track(spans(data, "MPI_Reduce")).values()) == [1] * workers
        else:
            added = [e for e in data["traceEvents"] if e.get("name") == "counts added"]
            assert [e["args"]["value"] for e in added] == [expected]


# Items each worker must have had before a worker with none is a bug (a worker that returned at
# once, a pool that hides it): the matrix's --delay-ms row makes every item last, so that each
# worker, started while the queue still holds items, takes some.
QUEUE_ITEMS_PER_WORKER = 50


def check_queue(r, n, workers, model=None, variant=None):
    assert int(r["processed"]) == n
    assert int(r["checksum"]) == n * (n + 1) // 2
    # items taken by each worker (mpi: each worker rank; rank 0 apart when it only manages):
    # together every item, once
    counts = per_worker(r)
    assert len(counts) == workers and sum(counts) == n, r["per_worker"]
    # Every worker took part. Not asserted for omp tasks: OpenMP promises no spread of tasks
    # over the team (the creating thread may run every task itself while it waits at the
    # taskgroup's end), so a thread without a task is no bug there (docs/queue.md).
    if n >= QUEUE_ITEMS_PER_WORKER * workers and (model, variant) != ("omp", "tasks"):
        assert all(counts), f"a worker took no item: per_worker={r['per_worker']}"


def trace_tracks(data):
    """(pid, tid) of each named track -> its name ("main", "worker 2", "rank 1")."""
    return {(e["pid"], e["tid"]): e["args"]["name"] for e in data["traceEvents"]
            if e.get("ph") == "M" and e["name"] == "thread_name"}


def trace_check_queue(data, r, model, variant):
    """Every item got exactly once: the "item" spans' numbers are 1..n, once each, on the
    workers' tracks, as many on each as its per_worker= count. posix, omp: main's "put" covers
    every item and its "join" ends after the last item's task_done. mpi: rank 0's "manage" loop
    ends after every ASK arrived; one ITEM arrow per item, from rank 0 to the worker rank whose
    "item" span has that number (the span starts after the arrow arrived); an ASK arrow for every
    request (each item's task_done, and each worker's first ask)."""
    n, workers = int(r["n"]), int(r["workers"])
    items = spans(data, "item")
    if data["otherData"]["dropped_events"] > 0:  # a full buffer: what is there, at most once
        assert len({e["args"]["value"] for e in items}) == len(items)
        return
    assert sorted(e["args"]["value"] for e in items) == list(range(1, n + 1)), \
        "not every item got exactly once"
    tracks = trace_tracks(data)
    if model == "mpi":
        ranks = int(r["ranks"])
        worker_tracks = [(0, 1)] if ranks == 1 else [(rank, 1) for rank in range(1, ranks)]
    else:
        worker_tracks = [(0, w + 1) for w in range(workers)]
        assert tracks[(0, 0)] == "main"
    on_track = per_track(items)
    assert [on_track[t] for t in worker_tracks] == per_worker(r), (on_track, r["per_worker"])
    last_done = max((e["ts"] + e["dur"] for e in items), default=0.0)
    if model != "mpi":
        puts = spans(data, "put")
        assert all(track(e) == (0, 0) for e in puts)
        if variant == "locked":  # the queue 1..n filled at once
            assert [e["args"] for e in puts] == [{"first": 1, "last": n}]
        else:
            assert sorted(e["args"]["value"] for e in puts) == list(range(1, n + 1))
        [join] = spans(data, "join")
        assert track(join) == (0, 0)
        assert join["ts"] + join["dur"] >= last_done, "join ended before the last task_done"
        return
    flows = [e for e in data["traceEvents"] if e.get("ph") in ("s", "f")]
    if ranks == 1:
        assert flows == [] and spans(data, "manage") == []  # rank 0 alone works, asks nobody
        return
    [manage] = spans(data, "manage")
    assert track(manage) == (0, 0)
    item_sent = {e["id"]: e for e in flows if e["name"] == "ITEM" and e["ph"] == "s"}
    item_got = {e["id"]: e for e in flows if e["name"] == "ITEM" and e["ph"] == "f"}
    assert len(item_sent) == len(item_got) == n
    assert all(track(e) == (0, 0) for e in item_sent.values())
    # Where the ranks' clocks (aligned at a barrier, to within its skew) would draw an arrow
    # backwards, the writer moves its end up to its start: such an end is no arrival time, and
    # the order checks below compare only arrivals on the clock of the rank they happened on.
    def arrived(end, start):
        return end["ts"] != start["ts"]
    span_of = {e["args"]["value"]: e for e in items}
    for flow_id, end in item_got.items():
        number = flow_id - (1 << 32)  # trace_message_id(ROOT_RANK, item)
        assert track(end) in worker_tracks and track(end) == track(span_of[number]), end
        if arrived(end, item_sent[flow_id]):
            assert end["ts"] <= span_of[number]["ts"], (end, span_of[number])
    ask_sent = {e["id"]: e for e in flows if e["name"] == "ASK" and e["ph"] == "s"}
    ask_got = {e["id"]: e for e in flows if e["name"] == "ASK" and e["ph"] == "f"}
    assert len(ask_sent) == len(ask_got) == n + workers
    assert all(track(e) == (0, 0) for e in ask_got.values())
    assert all(track(e) in worker_tracks for e in ask_sent.values())
    for flow_id, end in ask_got.items():
        if arrived(end, ask_sent[flow_id]):
            assert manage["ts"] + manage["dur"] >= end["ts"], ("an ASK after the join", end)


def check_shared_array(r, n, workers, variant=None):
    # private: the children's additions never reach the parent, whose array stays 100*i
    added = 0 if variant == "private" else workers
    expected = 100 * n * (n - 1) // 2 + added * n
    assert float(r["expected"]) == expected
    assert float(r["checksum"]) == expected


# shared_array's variants whose steps hold one lock every worker shares (the pause inside it).
SHARED_LOCKED = {("posix", "process"), ("posix", "thread"), ("omp", "critical"), ("mpi", "shm")}
# The span of one worker's whole pass in the others; private holds a lock of its own copy.
SHARED_PASS = {("omp", "atomic"): "add", ("omp", "reduction"): "private add",
               ("mpi", "accumulate"): "MPI_Accumulate", ("posix", "private"): "lock hold"}


def trace_check_shared_array(data, r, model, variant):
    """Every worker has a track with events. Locked variants: one "lock hold" per worker and
    element (element, value read), holds never overlap (one lock), and the values read of each
    element are 100*i .. 100*i + W-1, each once. The others: every worker's pass covers
    elements 0..n-1 (reduction: block by block; private: its own copy, its holds may overlap)."""
    workers, n = int(r["workers"]), int(r["n"])
    complete = data["otherData"]["dropped_events"] == 0
    if n > 0:
        busy = {track(e) for e in spans(data)}
        assert len(busy) == workers, f"tracks with events: {sorted(busy)}, workers: {workers}"
    if (model, variant) in SHARED_LOCKED:
        holds = sorted(spans(data, "lock hold"), key=lambda e: e["ts"])
        if complete:
            assert sorted(per_track(holds).values()) == ([n] * workers if n > 0 else [])
            read = Counter((e["args"]["first"], e["args"]["last"]) for e in holds)
            assert read == Counter((i, 100 * i + k) for i in range(n) for k in range(workers))
        slack = MPI_SKEW_US if model == "mpi" else 0.0
        for before, after in zip(holds, holds[1:]):
            assert after["ts"] + slack >= before["ts"] + before["dur"], \
                f"two lock holds overlap: {before} and {after}"
    elif complete:
        passes = spans(data, SHARED_PASS[(model, variant)])
        covered = Counter()
        for e in passes:
            if variant == "private":
                covered[track(e)] += 1
                assert e["args"]["last"] == 100 * e["args"]["first"]  # its copy, untouched by others
            else:
                covered[track(e)] += e["args"]["last"] - e["args"]["first"]
        assert sorted(v for v in covered.values() if v) == ([n] * workers if n > 0 else []), covered


def producers_checksum(producers, n):
    """Sum of everything put: even producers put i*i, odd ones -i, for i = 1..n."""
    squares, naturals = n * (n + 1) * (2 * n + 1) // 6, n * (n + 1) // 2
    evens, odds = (producers + 1) // 2, producers // 2
    return evens * squares - odds * naturals


def check_producers(r, n, workers):
    # workers= counts the producers in every model; the one consumer is counted apart
    assert int(r["workers"]) == workers
    assert int(r["consumers"]) == 1
    assert int(r["processed"]) == workers * n
    assert int(r["checksum"]) == producers_checksum(workers, n)
    # values each producer says it put: every producer took part, n each, together processed
    assert per_worker(r) == [n] * workers, r["per_worker"]
    assert sum(per_worker(r)) == int(r["processed"])


def producer_value(p, i):
    return i * i if p % 2 == 0 else -i


def trace_pair(e):
    """An event's (first, last). The writer leaves out last when it is TRACE_NONE (-1), so
    producer 1's first value, -1, comes back as {"value": first} alone."""
    args = e.get("args", {})
    return args.get("first", args.get("value")), args.get("last", -1)


def trace_check_producers(data, r, model, variant):
    """Every value received once: W*n "get" spans on the consumer's track (main; mpi: rank 0's
    main), their (producer, value) pairs exactly what the producers put. Each producer's "put"
    spans on its own track, as many as its per_worker= count, in its order (index 1..n, value),
    and its values got in that order, none got before it was put. mpi: one "value" arrow per
    message, from the producer rank's track to rank 0's main, ids the producer's (rank, index)."""
    workers, n = int(r["workers"]), int(r["n"])
    slack = MPI_SKEW_US if model == "mpi" else 0.01  # the file rounds times to 3 decimals
    if model == "mpi":
        ranks = int(r["ranks"])
        tracks = [(0, 1)] if ranks == 1 else [(p + 1, 1) for p in range(workers)]
    else:
        tracks = [(0, p + 1) for p in range(workers)]
    consumer = (0, 0)
    puts, gets = spans(data, "put"), spans(data, "get")
    if data["otherData"]["dropped_events"] == 0:
        assert len(gets) == workers * n == int(r["processed"]), (len(gets), r["processed"])
        assert {track(e) for e in gets} <= {consumer}, "a get off the consumer's track"
        assert Counter(trace_pair(e) for e in gets) == \
            Counter((p, producer_value(p, i)) for p in range(workers) for i in range(1, n + 1)), \
            "the values got are not exactly the values put"
        assert [per_track(puts)[t] for t in tracks] == per_worker(r), (per_track(puts), r["per_worker"])
        assert len(puts) == workers * n, "a put off the producers' tracks"
    by_ts = lambda events: sorted(events, key=lambda e: e["ts"])
    for p, t in enumerate(tracks):
        mine = by_ts(e for e in puts if track(e) == t)
        assert [trace_pair(e) for e in mine] == \
            [(i, producer_value(p, i)) for i in range(1, len(mine) + 1)], f"producer {p}'s puts out of order"
        got = by_ts(e for e in gets if trace_pair(e)[0] == p)
        assert [trace_pair(e)[1] for e in got] == [producer_value(p, i) for i in range(1, len(got) + 1)], \
            f"producer {p}'s values got out of its order"
        for put, get in zip(mine, got):
            assert get["ts"] + get["dur"] + slack >= put["ts"], f"got before it was put: {put} {get}"
    if model != "mpi":
        assert not [e for e in data["traceEvents"] if e.get("ph") in ("s", "f")]
        return
    flows = [e for e in data["traceEvents"] if e.get("ph") in ("s", "f")]
    sent = [e for e in flows if e["ph"] == "s"]
    ended = [e for e in flows if e["ph"] == "f"]
    assert all(e["name"] == "value" for e in flows), {e["name"] for e in flows}
    assert len(sent) == len(ended) == workers * n, (len(sent), len(ended))
    assert all(track(e) == consumer for e in ended), "an arrow that does not end on rank 0's main"
    expected = {(rank << 32) + i for rank in ([1] if ranks == 1 else range(2, ranks + 1))
                for i in range(1, n + 1)}  # trace_message_id(sender rank, index)
    assert {e["id"] for e in sent} == expected == {e["id"] for e in ended}
    assert all(track(e) in tracks for e in sent), "an arrow that does not start on a producer"


# pool_cube's variants that deal equal blocks (sizes differing by at most one); the others
# hand out chunks on demand.
EQUAL_BLOCKS = {("omp", "static"), ("mpi", "scatter"), ("mpi", "hybrid")}


def check_pool_cube(r, n, workers, model=None, variant=None):
    assert int(r["checksum"]) == (n * (n - 1) // 2) ** 2 % U64
    # cubes computed by each worker: together n; none computed twice or skipped
    counts = per_worker(r)
    assert len(counts) == workers and min(counts) >= 0, r["per_worker"]
    assert sum(counts) == n, r["per_worker"]
    if (model, variant) in EQUAL_BLOCKS:
        # every worker got its block: a worker that did nothing is a failure, not a detail
        assert max(counts) - min(counts) <= 1, r["per_worker"]
    # Chunks taken on demand promise no spread: on a loaded machine a correct thread can be off
    # its core for a whole short map (omp dynamic, -w 3, n=2642300, 323 chunks of 8192 seen as
    # per_worker=1056768,0,1585532), so min(counts) > 0 at n >= 100 * workers * chunk would fail
    # correct runs. A posix worker that does nothing is caught by the pool itself: each worker
    # must report ready before the clock and done at its STOP (exit 3 naming the count).


def trace_check_pool_cube(data, r, model, variant):
    """One "chunk" span per chunk of the map, on the worker that computed it: their element
    ranges cover 0..n-1 exactly once, and each track's elements are its per_worker entry. Every
    worker's track is there (posix: each took a task, its STOP at least; mpi: each rank). posix:
    one "task" arrow from the main track per task of the map (chunks, apply, a STOP per worker);
    mpi dynamic: one "hand out" arrow from rank 0 per chunk, one "request" per chunk and worker;
    mpi scatter and hybrid: one MPI_Scatterv and one MPI_Gatherv per rank. One "apply"."""
    n, workers = int(r["n"]), int(r["workers"])
    counts = per_worker(r)
    chunks = sorted(spans(data, "chunk"), key=lambda e: e["args"]["first"])
    if data["otherData"]["dropped_events"] == 0:
        covered = [(e["args"]["first"], e["args"]["last"]) for e in chunks]
        assert all(first <= last for first, last in covered), covered
        expected_next = 0
        for first, last in covered:
            assert first == expected_next, f"element {expected_next} is not in exactly one chunk"
            expected_next = last + 1
        assert expected_next == n, f"the chunks end at {expected_next - 1}, not {n - 1}"
        assert len(spans(data, "apply")) == 1
    elements = Counter()
    for e in chunks:
        elements[track(e)] += e["args"]["last"] - e["args"]["first"] + 1
    flows = lambda name, ph: [e for e in data["traceEvents"] if e.get("ph") == ph and e["name"] == name]
    if model == "mpi":
        ranks = int(r.get("ranks", workers))
        assert {e["pid"] for e in data["traceEvents"] if e.get("ph") != "M"} == set(range(ranks))
        by_rank = Counter()
        for (pid, _), count in elements.items():
            by_rank[pid] += count
        first_worker = ranks - workers  # rank 1 when rank 0 only manages
        assert [by_rank[rank] for rank in range(first_worker, ranks)] == counts
        if variant == "dynamic" and ranks > 1:
            assert len(flows("hand out", "s")) == len(chunks) == len(flows("hand out", "f"))
            assert all(e["pid"] == 0 for e in flows("hand out", "s"))
            assert len(flows("request", "s")) == len(chunks) + workers
        elif variant != "dynamic":
            for name in ("MPI_Scatterv", "MPI_Gatherv"):
                assert sorted(e["pid"] for e in spans(data, name)) == list(range(ranks)), name
            if variant == "hybrid" and n >= int(r["threads"]):
                assert len(elements) == int(r["threads"]), "a thread of a rank has no chunk"
        return
    assert [elements[(0, w + 1)] for w in range(workers)] == counts
    tracks = {track(e) for e in data["traceEvents"] if e.get("ph") in ("X", "i", "s", "f")}
    if model == "posix":
        assert {(0, w + 1) for w in range(workers)} <= tracks, "a worker's track is missing"
        assert len(flows("task", "s")) == len(chunks) + 1 + workers == len(flows("task", "f"))
    elif variant == "static" and n >= workers:
        assert {(0, w + 1) for w in range(workers)} <= tracks, "a thread's track is missing"


def check_cancel(r, n, workers):
    assert int(r["stopped"]) == workers
    latency, elapsed = float(r["stop_latency_s"]), float(r["elapsed_s"])
    assert 0.0 <= latency <= elapsed + 1e-6, (latency, elapsed)
    # batches of work by each worker before its stop. Not each one non-zero: 7 processes on 2
    # busy cores can leave one unscheduled for all of 50 ms (seen: 940,1630,329,1150,401,0,0);
    # a worker that never ran its loop is caught by its own stop record (stopped) instead.
    batches = per_worker(r)
    assert len(batches) == workers and min(batches) >= 0, r["per_worker"]
    if n >= 50:
        assert sum(batches) > 0, r["per_worker"]


def trace_check_cancel(data, r, model, variant):
    """One "stop request"; on every worker's track one "work" span (its batches, as in
    per_worker) and one "stopped" instant, at or after the request; MPI: a STOP arrow to every
    other rank and a STOPPED arrow back."""
    workers = int(r["workers"])
    events = data["traceEvents"]
    requests = [e for e in events if e.get("ph") == "i" and e["name"] == "stop request"]
    assert len(requests) == 1, requests
    asked = requests[0]["ts"]
    stopped = [e for e in events if e.get("ph") == "i" and e["name"] == "stopped"]
    assert sorted(per_track(stopped).values()) == [1] * workers, stopped
    for e in stopped:
        assert e["ts"] >= asked, f"a worker stopped before the request: {e} < {asked}"
    work = sorted(spans(data, "work"), key=track)
    assert sorted(per_track(work).values()) == [1] * workers
    assert [e["args"]["value"] for e in work] == per_worker(r)
    ends = {track(e): e["ts"] for e in stopped}
    for e in work:
        assert e["ts"] + e["dur"] <= ends[track(e)] + 1.0, f"work after the stop: {e}"
    if model == "mpi":
        flows = Counter((e["name"], e["ph"]) for e in events if e.get("ph") in ("s", "f"))
        assert flows == Counter({("STOP", "s"): workers - 1, ("STOP", "f"): workers - 1,
                                 ("STOPPED", "s"): workers - 1, ("STOPPED", "f"): workers - 1}) \
            or workers == 1 and not flows, flows


@dataclass
class Concept:
    name: str
    variants: dict            # model -> variants, default first
    sizes: tuple              # -n values of the matrix
    check: callable           # check(result, n, workers[, variant/model]) asserts the closed form
    args: tuple = ()          # extra arguments for matrix runs (e.g. a short --delay-ms)
    default_lines: tuple = () # lines the default run prints, in this order (human output)
    default_workers: int = 0  # CONTRACT default (0: the core count)
    timeout: int = 60
    check_takes: tuple = field(default_factory=tuple)  # extra keywords check() wants
    # (model, variant) -> the key that counts a coordinator beside the workers: MPI rank 0 that
    # only manages or consumes ("ranks": workers = ranks - 1, except a lone rank, which does the
    # work itself), a consumer thread beside W producers ("consumers"). CONTRACT "workers".
    coordinator: dict = field(default_factory=dict)
    # trace_check(data, result, model, variant) asserts what a --trace file of this concept must
    # show beyond the format (tests/test_traces.py): None until the concept's programs trace.
    trace_check: callable = None
    # More matrix rows: (extra arguments, sizes), run at every worker count like sizes x args
    # (e.g. a pause inside the step, so that a removed lock is seen at once).
    more_rows: tuple = ()

    def working(self, model, variant, started):
        """The RESULT's workers= for `started` threads, processes or ranks (-w, -np)."""
        if self.coordinator.get((model, variant)) == "ranks":
            return max(1, started - 1)
        return started

    def verify(self, result, n, workers, model, variant):
        extra = {}
        if "variant" in self.check_takes:
            extra["variant"] = variant
        if "model" in self.check_takes:
            extra["model"] = model
        self.check(result, n, workers, **extra)


CONCEPTS = {c.name: c for c in [
    Concept("spawn",
            {"posix": ["process", "thread"], "omp": ["parallel"], "mpi": ["ranks", "comm-spawn"]},
            sizes=(0, 1, 1000), check=check_spawn, default_lines=("end main",),
            trace_check=trace_check_spawn),
    Concept("race",
            {"posix": ["thread", "process"], "omp": ["parallel"], "mpi": ["rma"]},
            sizes=(0, 1, 3), check=check_race, args=("--delay-ms", "1"),
            default_lines=("start value 0", "end value 1", "end main"), default_workers=2,
            trace_check=trace_check_race),
    Concept("counter",
            {"posix": ["mutex", "spin", "atomic", "process"],
             "omp": ["critical", "atomic", "lock", "reduction"],
             "mpi": ["reduce", "rma-lock", "fetch-op"]},
            sizes=(0, 1, 1000), check=check_counter,
            default_lines=("Number at the beginning is 0", "Number at the end is 200"),
            default_workers=2, trace_check=trace_check_counter,
            # A missing lock, atomic or reduction loses nothing at these sizes without a pause
            # (each worker's n steps take less time than starting the next worker). A pause
            # inside the step makes every step of every worker overlap the others': a lost
            # update in the first steps, every run, in milliseconds.
            more_rows=((("--delay-ms", "1"), (2, 10)),)),
    Concept("queue",
            {"posix": ["thread"], "omp": ["tasks", "locked"], "mpi": ["manager"]},
            sizes=(0, 1, 19), check=check_queue, default_lines=("end main",), default_workers=10,
            check_takes=("model", "variant"),
            # rank 0 holds the queue and only hands out items: the other ranks are the workers
            coordinator={("mpi", "manager"): "ranks"}, trace_check=trace_check_queue,
            # Every worker takes part (check_queue): a pause on every item keeps the queue from
            # running dry before the last worker is up, so each of up to 7 has 50+ items to share.
            more_rows=((("--delay-ms", "2"), (400,)),)),
    Concept("shared_array",
            {"posix": ["process", "thread", "private"], "omp": ["atomic", "critical", "reduction"],
             "mpi": ["accumulate", "shm"]},
            sizes=(0, 1, 3, 20000), check=check_shared_array, check_takes=("variant",),
            default_lines=("array at the beginning is [0.0, 100.0, 200.0]",
                           "array at the end is [2.0, 102.0, 202.0]"),
            # mpi shm at -np 5, n=2*10^4: 10^5 window lock/unlock pairs, a lock per element; at
            # n=10^5 a loaded 2-core machine (ranks yield while they wait) took over 180 s
            default_workers=2, timeout=180, trace_check=trace_check_shared_array),
    Concept("producers",
            {"posix": ["pipe", "mqueue", "thread"], "omp": ["locked"], "mpi": ["send"]},
            sizes=(0, 1, 19), check=check_producers, default_workers=2,
            # producer 0's values in its order (the others interleave: tests/test_queues.py)
            default_lines=("1", "4", "9", "16", "25"),
            # rank 0 only consumes: the other ranks are the producers (consumers=1 in every model)
            coordinator={("mpi", "send"): "ranks"}, trace_check=trace_check_producers),
    Concept("pool_cube",
            {"posix": ["process", "thread"], "omp": ["static", "dynamic", "guided"],
             "mpi": ["scatter", "dynamic", "hybrid"]},
            # 2642246 is the first i whose cube wraps past 2^64
            sizes=(0, 1, 2, 7, 10, 1001, 2642300), check=check_pool_cube,
            check_takes=("model", "variant"),
            default_lines=("[0, 1, 8, 27, 64, 125, 216, 343, 512, 729]",),
            coordinator={("mpi", "dynamic"): "ranks"},  # rank 0 only hands out chunks
            trace_check=trace_check_pool_cube,
            # item i costs i/1000 steps: every schedule and pool still computes each cube once
            more_rows=((("--uneven",), (1, 30000)),)),
    Concept("cancel",
            {"posix": ["process", "thread"], "omp": ["cancel", "flag"], "mpi": ["message"]},
            # 50 ms: long enough that every worker must have done some batches (per_worker)
            sizes=(0, 10, 50), check=check_cancel, default_workers=2,
            trace_check=trace_check_cancel),
]}


# What each variant teaches, as it must appear in the program's code (comments and strings do
# not count): the clause, construct or call the variant is named after (issue: "the mechanism
# is in the lesson's file"). tests/test_lessons.py greps for every entry.
MECHANISMS = {
    ("posix", "spawn", "process"): ["fork(", "waitpid(", "_exit("],
    ("posix", "spawn", "thread"): ["pthread_create(", "pthread_join("],
    ("posix", "counter", "mutex"): ["pthread_mutex_lock(", "pthread_mutex_unlock("],
    ("posix", "counter", "spin"): ["pthread_spin_lock(", "pthread_spin_unlock("],
    ("posix", "counter", "atomic"): ["atomic_fetch_add("],
    ("posix", "counter", "process"): ["PTHREAD_PROCESS_SHARED"],
    ("posix", "queue", "thread"): ["pthread_cond_wait(", "queue_put(", "queue_get(",
                                   "queue_task_done(", "queue_join("],
    ("posix", "shared_array", "process"): ["PTHREAD_PROCESS_SHARED"],
    ("posix", "shared_array", "thread"): ["pthread_mutex_lock("],
    ("posix", "producers", "pipe"): ["pipe("],
    ("posix", "producers", "mqueue"): ["mq_open(", "mq_unlink("],
    ("posix", "pool_cube", "thread"): ["pthread_create(", "pthread_join("],
    ("posix", "cancel", "process"): ["kill("],
    ("posix", "cancel", "thread"): ["pthread_cancel("],
    ("omp", "spawn", "parallel"): ["#pragma omp parallel"],
    ("omp", "race", "parallel"): ["#pragma omp parallel"],
    ("omp", "counter", "critical"): ["#pragma omp critical"],
    ("omp", "counter", "atomic"): ["#pragma omp atomic"],
    ("omp", "counter", "lock"): ["omp_set_lock(", "omp_unset_lock("],
    ("omp", "counter", "reduction"): ["reduction(+"],
    ("omp", "queue", "tasks"): ["#pragma omp task"],
    ("omp", "queue", "locked"): ["omp_set_lock("],
    ("omp", "shared_array", "atomic"): ["#pragma omp atomic"],
    ("omp", "shared_array", "critical"): ["#pragma omp critical"],
    ("omp", "shared_array", "reduction"): ["reduction(+"],
    ("omp", "producers", "locked"): ["omp_set_lock("],
    ("omp", "pool_cube", "static"): ["schedule(static)"],
    ("omp", "pool_cube", "dynamic"): ["schedule(dynamic, CHUNK)"],
    ("omp", "pool_cube", "guided"): ["schedule(guided, CHUNK)"],
    ("omp", "cancel", "cancel"): ["#pragma omp cancel for", "#pragma omp cancellation point for"],
    ("omp", "cancel", "flag"): ["#pragma omp atomic write", "#pragma omp atomic read"],
    ("mpi", "spawn", "comm-spawn"): ["MPI_Comm_spawn(", "MPI_Comm_get_parent("],
    ("mpi", "race", "rma"): ["MPI_Get(", "MPI_Put("],
    ("mpi", "counter", "reduce"): ["MPI_Reduce("],
    ("mpi", "counter", "rma-lock"): ["MPI_Win_lock(MPI_LOCK_EXCLUSIVE"],
    ("mpi", "counter", "fetch-op"): ["MPI_Fetch_and_op("],
    ("mpi", "queue", "manager"): ["MPI_Send(", "MPI_Recv(", "MPI_ANY_SOURCE"],
    ("mpi", "shared_array", "accumulate"): ["MPI_Accumulate("],
    ("mpi", "shared_array", "shm"): ["MPI_Win_allocate_shared("],
    ("mpi", "producers", "send"): ["MPI_Send(", "MPI_Recv("],
    ("mpi", "pool_cube", "scatter"): ["MPI_Scatterv(", "MPI_Gatherv("],
    ("mpi", "pool_cube", "dynamic"): ["MPI_ANY_SOURCE"],
    ("mpi", "pool_cube", "hybrid"): ["MPI_THREAD_FUNNELED", "#pragma omp parallel"],
    ("mpi", "cancel", "message"): ["MPI_Irecv(", "MPI_Test("],
}
# Variants whose name is no call: mpirun starts the ranks, there is nothing to write.
NAMES_NO_CALL = {("mpi", "spawn", "ranks")}
