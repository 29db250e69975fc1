#!/usr/bin/env python3
"""The dashboard's speed on a store of 10,000 runs, and MLflow's on the same number (docs/benchmarks.md, "Dashboard").

    .venv-test/bin/python Benchmarks/dashboard_benchmark.py [--runs 10000] [--points 1000000] [--repeat 5]
        [--build debug|release] [--mlflow-runs N (default: --runs; 0: no MLflow)] [--mlflow-fill copy|rest]
        [--mlflow-only]

Builds the store from one real run (logged by the TipiFixture program) copied 10,000 times with new ids
and names, and one run with a 1,000,000-point metric; starts the real `tipi ui`; then measures, each the
median of --repeat (with the range; each /api/runs request after 1.2 s of rest, so that `tipi ui` lists
the store afresh instead of reusing its listing of the last second):
  - GET /api/runs (all 10,000 runs), against the baseline `tipi runs --json --limit 0` on the same store;
    GET /api/runs?limit=200 (the runs page's first request) and ?limit=0 (the listing, nothing encoded);
    GET /api/runs?since=NOW (what the live runs table asks: the listing, nothing changed);
  - GET /api/runs/RUN/metrics/loss?max_points=2000 on the 1,000,000-point metric, against the same
    request with max_points=100000 (serving nearly everything);
  - the runs page in headless Chromium (Selenium): from navigation to the first table rows drawn (the
    page's own clock), and to the whole list loaded and drawn;
  - MLflow (Benchmarks/mlflow_runs_store.py): a local `mlflow server` (SQLite) holding --mlflow-runs runs of
    4 params and 3 final metrics, as the Tipi runs have; `mlflow.search_runs(experiment_ids=[…],
    max_results=N)` (all of them, as a DataFrame) and the same search as raw REST, against GET /api/runs of
    `tipi ui` on a Tipi store of the same number of runs.
Prints one line per figure as it is measured (`name median_ms …`), then a table of them all.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

args = sys.argv[1:]


def option(name, default):
    return type(default)(args[args.index(name) + 1]) if name in args else default


RUNS, POINTS, REPEAT, BUILD = option("--runs", 10000), option("--points", 1000000), option("--repeat", 5), option("--build", "debug")
MLFLOW_RUNS, MLFLOW_FILL, MLFLOW_ONLY = option("--mlflow-runs", RUNS), option("--mlflow-fill", "copy"), "--mlflow-only" in args
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bin_dir = os.path.join(root, ".build", BUILD)
tipi = os.path.join(bin_dir, "tipi")
fixture = next(path for path in [os.path.join(bin_dir, "TipiFixture"), os.path.join(root, ".build", "debug", "TipiFixture")]
               if os.path.exists(path))
environment = {k: v for k, v in os.environ.items() if not k.startswith("TIPI_") and not k.startswith("MLFLOW_")}
results = []  # (figure, median ms, low, high, against)


def report(figure, times, against=""):
    median = statistics.median(times)
    results.append((figure, median, min(times), max(times), against))
    print("%s %.1f ms (median of %d, %.1f to %.1f)%s" % (figure, median, len(times), min(times), max(times),
                                                          "; " + against if against else ""), flush=True)
    return median


def timed(action, repeat=REPEAT, idle=0.0):
    """Milliseconds of `action`, `repeat` times; `idle` seconds of rest before each."""
    times = []
    for _ in range(repeat):
        time.sleep(idle)
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def build_store(count, points=0):
    """A store of `count` runs: one logged by TipiFixture, copied (new id, name, start time, lr); with
    `points`, one of them is a real run with a metric of that many points. Returns (store, env, big run id)."""
    store = tempfile.mkdtemp(prefix="tipi-dashboard-bench-")
    env = dict(environment, TIPI_DIR=store)

    def log(*extra):
        out = subprocess.run([fixture, "log", *extra], env=env, capture_output=True, text=True, check=True).stdout
        line = next(l for l in out.splitlines() if l.startswith("run "))
        return line.split(" ", 2)[1:]

    _, template = log("--project", "bench", "--name", "template", "--steps", "200")
    meta = json.load(open(os.path.join(template, "run.json")))
    project_dir = os.path.dirname(template)
    for index in range(count - (2 if points else 1)):
        run_id = uuid.uuid4().hex[:8]
        folder = os.path.join(project_dir, "%s-copy%05d-%s" % (os.path.basename(template)[:15], index, run_id))
        os.mkdir(folder)
        shutil.copyfile(os.path.join(template, "metrics.tipilog"), os.path.join(folder, "metrics.tipilog"))
        meta.update(id=run_id, name="copy-%05d" % index, startTime=meta["startTime"] - index - 1,
                    config=dict(meta["config"], lr=0.001 * (index % 10 + 1)))
        json.dump(meta, open(os.path.join(folder, "run.json"), "w"))
    big = log("--project", "bench", "--name", "big", "--steps", str(points), "--keys", "1")[0] if points else None
    return store, env, big


# `tipi ui` keeps its listing of the store for a second (StoreDashboardSource.listingLifetime): the /api/runs
# requests are timed each after this rest, so that each lists the store afresh.
COLD = 1.2


class Dashboard:
    """`tipi ui` on a store, for a `with` block."""

    def __init__(self, store, env):
        self.server = subprocess.Popen([tipi, "ui", "--port", "0", "--dir", store], stdout=subprocess.PIPE, text=True, env=env)
        self.url = self.server.stdout.readline().strip().rstrip("/")

    def fetch(self, path):
        return urllib.request.urlopen(self.url + path, timeout=600).read()

    def __enter__(self):
        return self

    def __exit__(self, *error):
        self.server.send_signal(signal.SIGTERM)  # (SIGINT is ignored in a background job)
        self.server.wait(timeout=30)


def dashboard_figures(env, big_id, dashboard):
    fetch = dashboard.fetch
    first = time.perf_counter()
    count = len(json.loads(fetch("/api/runs")))
    first = (time.perf_counter() - first) * 1000
    assert count == RUNS, count
    print("api_runs_first_ms %.1f (the first request of a fresh server)" % first, flush=True)
    cli = statistics.median(timed(lambda: subprocess.run([tipi, "runs", "--json", "--limit", "0"], env=env, capture_output=True, check=True)))
    api = timed(lambda: fetch("/api/runs"), idle=COLD)
    report("GET /api/runs, %d runs" % RUNS, api, "%.2fx `tipi runs --json --limit 0` (%.1f ms)" % (statistics.median(api) / cli, cli))
    listing = statistics.median(timed(lambda: fetch("/api/runs?limit=0"), idle=COLD))
    report("GET /api/runs?limit=200 (the page's first rows)", timed(lambda: fetch("/api/runs?limit=200"), idle=COLD),
           "?limit=0 (the listing alone, nothing encoded): %.1f ms" % listing)
    report("GET /api/runs?since=NOW (the live table's request, nothing changed)",
           timed(lambda: fetch("/api/runs?since=%.3f" % time.time()), idle=COLD), "asked once a second while a run runs, every 3 s otherwise")
    fetch("/api/runs/%s/metrics/loss?max_points=2000" % big_id)  # the first read of the file is cached
    full = statistics.median(timed(lambda: fetch("/api/runs/%s/metrics/loss?max_points=100000" % big_id)))
    points = len(json.loads(fetch("/api/runs/%s/metrics/loss?max_points=2000" % big_id)))
    report("%d points -> %d (max_points=2000)" % (POINTS, points),
           timed(lambda: fetch("/api/runs/%s/metrics/loss?max_points=2000" % big_id)), "max_points=100000: %.1f ms" % full)
    browser_script = os.path.join(root, "scripts", "dashboard-browser.py")
    loads, firsts = [], []
    for _ in range(REPEAT):
        out = subprocess.run([sys.executable, browser_script, "facts", dashboard.url + "/", os.path.join(tempfile.gettempdir(), "bench-runs.png")],
                             capture_output=True, text=True, check=True).stdout
        facts = json.loads(out.splitlines()[-1])
        assert len(facts["rows"]) == min(500, RUNS), len(facts["rows"])
        loads.append(facts["loadSeconds"] * 1000)
        firsts.append(facts["firstRowsMs"])
    report("runs page, first rows drawn (Chromium)", firsts, "from navigation start, the page's clock; 200 rows of the first request")
    report("runs page, complete (Chromium)", loads, "all %d runs loaded, 500 rows drawn; WebDriver polls every 0.5 s" % RUNS)


def mlflow_figures(tipi_fetch):
    """MLflow's search over MLFLOW_RUNS runs against `GET /api/runs` (`tipi_fetch`) on as many Tipi runs."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mlflow_runs_store import MLflowStore
    with MLflowStore() as mlflow_store:
        seconds = mlflow_store.fill(MLFLOW_RUNS, MLFLOW_FILL)
        print("mlflow: %d runs (4 params, 3 final metrics each) filled in %.1f s (--mlflow-fill %s), server %s"
              % (MLFLOW_RUNS, seconds, MLFLOW_FILL, mlflow_store.url), flush=True)
        mlflow_store.check(MLFLOW_RUNS)  # every run read back whole; also the first (import, connection) search
        tipi_times = timed(lambda: tipi_fetch("/api/runs"), idle=COLD)
        tipi_ms = statistics.median(tipi_times)
        search_times = timed(lambda: mlflow_store.search(MLFLOW_RUNS))
        rest_times = timed(lambda: mlflow_store.search_rest(MLFLOW_RUNS))
        search, rest = statistics.median(search_times), statistics.median(rest_times)
        report("tipi ui GET /api/runs, %d runs (beside MLflow)" % MLFLOW_RUNS, tipi_times, "")
        report("mlflow.search_runs, %d runs" % MLFLOW_RUNS, search_times, "%.2fx tipi's GET /api/runs" % (search / tipi_ms))
        report("MLflow REST runs/search, %d runs" % MLFLOW_RUNS, rest_times, "%.2fx tipi's GET /api/runs" % (rest / tipi_ms))
        print("mlflow_search_runs_vs_tipi_api_runs ratio %.2f (search_runs %.1f ms / GET /api/runs %.1f ms, %d runs each); "
              "REST runs/search %.2fx" % (search / tipi_ms, search, tipi_ms, MLFLOW_RUNS, rest / tipi_ms), flush=True)


def main():
    load = os.getloadavg()
    print("dashboard benchmark: %d runs, %d points, --repeat %d, %s build, MLflow %d runs (%s); load average %.1f %.1f %.1f"
          % (RUNS, POINTS, REPEAT, BUILD, MLFLOW_RUNS, MLFLOW_FILL, *load), flush=True)
    stores = []
    try:
        if not MLFLOW_ONLY:
            store, env, big = build_store(RUNS, POINTS)
            stores.append(store)
            with Dashboard(store, env) as dashboard:
                dashboard_figures(env, big, dashboard)
                if MLFLOW_RUNS == RUNS:
                    mlflow_figures(dashboard.fetch)
        if MLFLOW_RUNS and (MLFLOW_ONLY or MLFLOW_RUNS != RUNS):
            store, env, _ = build_store(MLFLOW_RUNS)
            stores.append(store)
            with Dashboard(store, env) as dashboard:
                mlflow_figures(dashboard.fetch)
    finally:
        for store in stores:
            shutil.rmtree(store, ignore_errors=True)
    print()
    print("| figure (%s build, median of %d; load %.1f at start, %.1f at end) | median ms | range ms | against |"
          % (BUILD, REPEAT, load[0], os.getloadavg()[0]))
    print("| --- | --- | --- | --- |")
    for figure, median, low, high, against in results:
        print("| %s | %.1f | %.1f–%.1f | %s |" % (figure, median, low, high, against))


if __name__ == "__main__":
    main()
