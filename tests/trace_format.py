"""The rules of the Chrome trace-event format that our --trace files must keep, as one checker.

Perfetto, chrome://tracing and speedscope read the JSON object form: {"traceEvents": [...]}. Our
files use complete events ("X": ts + dur), instant events ("i", scope "t"), flow events ("s" at
the sender, "f" with "bp": "e" at the receiver, matched by id) and metadata ("M": thread_name,
process_name). Times are microseconds. problems(data) lists every rule a file breaks.
"""

REQUIRED = {"X": ("name", "ph", "ts", "dur", "pid", "tid"),
            "i": ("name", "ph", "ts", "pid", "tid"),
            "s": ("name", "ph", "ts", "pid", "tid", "id"),
            "f": ("name", "ph", "ts", "pid", "tid", "id"),
            "M": ("name", "ph", "pid", "args")}


def problems(data):
    found = []
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        return ["not an object with a traceEvents list"]
    events = data["traceEvents"]
    named_tracks = set()
    starts, ends = {}, {}
    for k, e in enumerate(events):
        ph = e.get("ph")
        if ph not in REQUIRED:
            found.append(f"event {k}: phase {ph!r} is not one this suite writes")
            continue
        missing = [f for f in REQUIRED[ph] if f not in e]
        if missing:
            found.append(f"event {k} ({ph}): lacks {', '.join(missing)}")
            continue
        if not isinstance(e["pid"], int) or ("tid" in e and not isinstance(e["tid"], int)):
            found.append(f"event {k}: pid and tid must be integers")
        if ph == "M":
            if e["name"] == "thread_name":
                named_tracks.add((e["pid"], e.get("tid")))
            if not isinstance(e["args"].get("name"), str):
                found.append(f"event {k}: metadata without a name")
            continue
        if not isinstance(e["ts"], (int, float)) or e["ts"] < 0:
            found.append(f"event {k}: ts {e['ts']!r} is not a time from the trace's start")
        if ph == "X" and (not isinstance(e["dur"], (int, float)) or e["dur"] < 0):
            found.append(f"event {k}: negative or missing duration")
        if ph == "i" and e.get("s") not in ("t", "p", "g"):
            found.append(f"event {k}: instant without a scope")
        if ph == "s":
            if e["id"] in starts:
                found.append(f"event {k}: flow id {e['id']} starts twice")
            starts[e["id"]] = e
        if ph == "f":
            if e.get("bp") != "e":
                found.append(f"event {k}: flow end without bp=e (it would bind to the next slice)")
            if e["id"] in ends:
                found.append(f"event {k}: flow id {e['id']} ends twice")
            ends[e["id"]] = e
    for flow_id, end in ends.items():
        start = starts.get(flow_id)
        if start is None:
            found.append(f"flow {flow_id}: ends without a start")
        elif end["ts"] < start["ts"]:
            found.append(f"flow {flow_id}: the arrow runs backwards ({start['ts']} -> {end['ts']})")
    for flow_id in starts.keys() - ends.keys():
        found.append(f"flow {flow_id}: starts and never ends")
    for e in events:
        if e.get("ph") in ("X", "i", "s", "f") and (e.get("pid"), e.get("tid")) not in named_tracks:
            found.append(f"track pid={e.get('pid')} tid={e.get('tid')} has no thread_name")
            break
    other = data.get("otherData", {})
    if not isinstance(other.get("dropped_events"), int):
        found.append("otherData.dropped_events is missing (the file must say what was dropped)")
    return found


def spans(data, name=None):
    return [e for e in data["traceEvents"] if e.get("ph") == "X" and (name is None or e["name"] == name)]


def worker_tracks(data):
    """(pid, tid) of the tracks that are named as workers or ranks (not the main track)."""
    return {(e["pid"], e["tid"]) for e in data["traceEvents"]
            if e.get("ph") == "M" and e["name"] == "thread_name" and e["args"]["name"] != "main"}
