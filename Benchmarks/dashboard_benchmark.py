#!/usr/bin/env python3
"""The dashboard's speed on a store of 10,000 runs (docs/benchmarks.md, "Dashboard").

    python Benchmarks/dashboard_benchmark.py [--runs 10000] [--points 1000000] [--repeat 5] [--build debug]

Builds the store from one real run (logged by the TipiFixture program) copied 10,000 times with new ids
and names, and one run with a 1,000,000-point metric; starts the real `tipi ui`; then measures, each the
median of --repeat:
  - GET /api/runs (all 10,000 runs), against the baseline `tipi runs --json --limit 0` on the same store;
    GET /api/runs?limit=200 (the runs page's first request) and ?limit=0 (the listing, nothing encoded);
  - GET /api/runs/RUN/metrics/loss?max_points=2000 on the 1,000,000-point metric, against the same
    request with max_points=100000 (serving nearly everything);
  - the runs page in headless Chromium (Selenium): from navigation to the first table rows drawn (the
    page's own clock), and to the whole list loaded and drawn.
Prints one line per figure: `name median_ms ratio`.
"""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request, uuid

args = sys.argv[1:]
def option(name, default):
    return type(default)(args[args.index(name) + 1]) if name in args else default
RUNS, POINTS, REPEAT, BUILD = option("--runs", 10000), option("--points", 1000000), option("--repeat", 5), option("--build", "debug")
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_dir = os.path.join(root, ".build", BUILD)
tipi, fixture = os.path.join(bin_dir, "tipi"), os.path.join(root, ".build", "debug", "TipiFixture")
store = tempfile.mkdtemp(prefix="tipi-dashboard-bench-")
env = {k: v for k, v in os.environ.items() if not k.startswith("TIPI_")}
env["TIPI_DIR"] = store

def log(*extra):
    out = subprocess.run([fixture, "log", *extra], env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("run "))
    return line.split(" ", 2)[1:]

# One real run, copied RUNS - 1 times (new id, name, start time); and the big run.
_, template = log("--project", "bench", "--name", "template", "--steps", "200")
meta = json.load(open(os.path.join(template, "run.json")))
project_dir = os.path.dirname(template)
for index in range(RUNS - 2):
    run_id = uuid.uuid4().hex[:8]
    folder = os.path.join(project_dir, "%s-copy%05d-%s" % (os.path.basename(template)[:15], index, run_id))
    os.mkdir(folder)
    shutil.copyfile(os.path.join(template, "metrics.tipilog"), os.path.join(folder, "metrics.tipilog"))
    meta.update(id=run_id, name="copy-%05d" % index, startTime=meta["startTime"] - index - 1,
                config=dict(meta["config"], lr=0.001 * (index % 10 + 1)))
    json.dump(meta, open(os.path.join(folder, "run.json"), "w"))
big_id, _ = log("--project", "bench", "--name", "big", "--steps", str(POINTS), "--keys", "1")

def median_ms(action):
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter(); action(); times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)

server = subprocess.Popen([tipi, "ui", "--port", "0", "--dir", store], stdout=subprocess.PIPE, text=True, env=env)
url = server.stdout.readline().strip()
try:
    fetch = lambda path: urllib.request.urlopen(url.rstrip("/") + path, timeout=120).read()
    first = time.perf_counter(); count = len(json.loads(fetch("/api/runs"))); first = (time.perf_counter() - first) * 1000
    assert count == RUNS, count
    api = median_ms(lambda: fetch("/api/runs"))
    cli = median_ms(lambda: subprocess.run([tipi, "runs", "--json", "--limit", "0"], env=env, capture_output=True, check=True))
    print("api_runs_first_ms %.1f" % first)
    print("api_runs_ms %.1f ratio_vs_tipi_runs_json %.2f (tipi runs --json: %.1f ms)" % (api, api / cli, cli))
    listing = median_ms(lambda: fetch("/api/runs?limit=0"))
    first_rows = median_ms(lambda: fetch("/api/runs?limit=200"))
    print("api_runs_limit200_ms %.1f ratio_vs_all %.2f; api_runs_limit0_ms %.1f (the listing alone, nothing encoded)"
          % (first_rows, first_rows / api, listing))
    fetch("/api/runs/%s/metrics/loss?max_points=2000" % big_id)  # the first read of the file is cached
    small = median_ms(lambda: fetch("/api/runs/%s/metrics/loss?max_points=2000" % big_id))
    full = median_ms(lambda: fetch("/api/runs/%s/metrics/loss?max_points=100000" % big_id))
    points = len(json.loads(fetch("/api/runs/%s/metrics/loss?max_points=2000" % big_id)))
    print("metric_1M_to_2000_ms %.1f ratio_vs_100000_points %.2f (%d points returned; 100000: %.1f ms)" % (small, small / full, points, full))
    sys.path.insert(0, os.path.join(root, "scripts"))
    browser_script = os.path.join(root, "scripts", "dashboard-browser.py")
    loads, firsts = [], []
    for _ in range(REPEAT):
        out = subprocess.run([sys.executable, browser_script, "facts", url, os.path.join(tempfile.gettempdir(), "bench-runs.png")],
                             capture_output=True, text=True, check=True).stdout
        facts = json.loads(out.splitlines()[-1])
        assert len(facts["rows"]) == 500, len(facts["rows"])
        loads.append(facts["loadSeconds"] * 1000)
        firsts.append(facts["firstRowsMs"])
    print("runs_page_first_rows_ms %.1f (median of %d, from navigation start, read in the page; 200 rows of the first request)"
          % (statistics.median(firsts), REPEAT))
    print("runs_page_complete_ms %.1f (median of %d; all %d runs loaded, 500 rows drawn; WebDriver polls every 0.5 s)"
          % (statistics.median(loads), REPEAT, RUNS))
finally:
    server.send_signal(signal.SIGTERM); server.wait(timeout=30)  # (SIGINT is ignored in a background job)
    shutil.rmtree(store, ignore_errors=True)
