#!/usr/bin/env python3
"""`GET /api/runs` of `tipi ui` over a store of many runs: cold, warm and after a change (docs/benchmarks.md,
"Dashboard").

    python3 Benchmarks/api_runs_benchmark.py [--tipi .build/release/tipi] [--runs 10000] [--repeat 5] [--store DIR]

Without --store, builds a store of --runs runs (one run.json with a config of 3 values and 2 metric summaries,
copied with new ids, names and start times, last modified an hour ago) in a temporary folder, removed at the
end. Starts the real `tipi ui`, then prints, each a median of --repeat with its range:
  - api_runs_cold_ms: the first request on a store never listed before (no run index yet: every run.json
    read, decoded and written; the index is written);
  - api_runs_fresh_server_ms: the first request of a newly started `tipi ui` on the same store (the index
    exists, nothing kept in the server's memory yet), each of --repeat servers started afresh;
  - api_runs_warm_ms: the store unchanged, one request a second (a page polling);
  - api_runs_changed_ms: one run.json rewritten by this script (another process) before each request, which
    must show in the answer;
and the server's CPU time per request (all its threads, from /proc), which the machine's load inflates less
than wall time.
"""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

args = sys.argv[1:]
def option(name, default):
    return type(default)(args[args.index(name) + 1]) if name in args else default
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIPI = option("--tipi", os.path.join(root, ".build", "release", "tipi"))
RUNS, REPEAT, STORE = option("--runs", 10000), option("--repeat", 5), option("--store", "")

made = not STORE
if made:
    STORE = tempfile.mkdtemp(prefix="tipi-api-runs-bench-")
    project = os.path.join(STORE, "many")
    os.mkdir(project)
    hour_ago = time.time() - 3600
    for index in range(RUNS):
        run_id = "r%07d" % index
        meta = {
            "backends": {}, "command": ["bench"], "config": {"lr": 0.01, "layers": 4, "opt": "adam"},
            "endTime": 1796005348.5 + index, "heartbeat": 1796005348.5 + index, "host": "bench", "id": run_id,
            "name": "run-%d" % index, "pid": 1, "processStart": 1, "project": "many", "startTime": 1796005348.0 + index,
            "status": "finished", "swiftVersion": "6.3", "tags": [], "tipiVersion": "0.1.0", "workingDirectory": "/tmp",
            "summary": {"loss": {"count": 10, "last": 0.1, "max": 1, "min": 0.1, "step": 9},
                        "acc": {"count": 10, "last": 0.9, "max": 0.9, "min": 0, "step": 9}},
        }
        folder = os.path.join(project, "20261129-000000-" + run_id)
        os.mkdir(folder)
        path = os.path.join(folder, "run.json")
        with open(path, "w") as file:
            json.dump(meta, file, indent=2, sort_keys=True)
        os.utime(path, (hour_ago, hour_ago))

env = {k: v for k, v in os.environ.items() if not k.startswith("TIPI_")}
server = subprocess.Popen([TIPI, "ui", "--port", "0", "--dir", STORE], stdout=subprocess.PIPE, text=True, env=env)
url = server.stdout.readline().strip().rstrip("/")

def cpu_ms():
    fields = open("/proc/%d/stat" % server.pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")

def fetch(path):
    start = time.perf_counter()
    body = urllib.request.urlopen(url + path, timeout=300).read()
    return (time.perf_counter() - start) * 1000, body

def line(name, times, note):
    print("%s %.1f [%.1f-%.1f] (median of %d; %s)" % (name, statistics.median(times), min(times), max(times), len(times), note))

try:
    before = cpu_ms()
    cold, body = fetch("/api/runs")
    cold_cpu = cpu_ms() - before
    count = len(json.loads(body))
    warm = []
    before = cpu_ms()
    for _ in range(REPEAT):
        time.sleep(1.1)  # one request a second, as a page polls (and past any 1 s cache of the listing)
        warm.append(fetch("/api/runs")[0])
    warm_cpu = (cpu_ms() - before) / REPEAT
    project = os.path.join(STORE, sorted(p for p in os.listdir(STORE) if not p.startswith("."))[0])
    folders = sorted(os.listdir(project))
    changed = []
    before = cpu_ms()
    for index in range(REPEAT):
        path = os.path.join(project, folders[index], "run.json")
        meta = json.load(open(path))
        meta["name"] = "changed-%d-%f" % (index, time.time())
        with open(path, "w") as file:
            json.dump(meta, file)
        time.sleep(1.1)
        ms, body = fetch("/api/runs")
        assert meta["name"].encode() in body, "the change is not in the answer"
        changed.append(ms)
    changed_cpu = (cpu_ms() - before) / REPEAT
    fresh = []
    for _ in range(REPEAT):
        other = subprocess.Popen([TIPI, "ui", "--port", "0", "--dir", STORE], stdout=subprocess.PIPE, text=True, env=env)
        try:
            other_url = other.stdout.readline().strip().rstrip("/")
            start = time.perf_counter()
            assert len(json.loads(urllib.request.urlopen(other_url + "/api/runs", timeout=300).read())) == count
            fresh.append((time.perf_counter() - start) * 1000)
        finally:
            other.send_signal(signal.SIGTERM)
            other.wait(timeout=30)
    print("store: %d runs, answer %d bytes; load average %s" % (count, len(body), open("/proc/loadavg").read().split()[0]))
    print("api_runs_cold_ms %.1f (the first request; server CPU %.0f ms)" % (cold, cold_cpu))
    line("api_runs_warm_ms", warm, "store unchanged; server CPU %.0f ms a request" % warm_cpu)
    line("api_runs_fresh_server_ms", fresh, "a new `tipi ui` each, its first request, the index in place")
    line("api_runs_changed_ms", changed, "one run.json rewritten before each; server CPU %.0f ms a request" % changed_cpu)
finally:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    if made:
        shutil.rmtree(STORE, ignore_errors=True)
