"""A real MLflow tracking server on 127.0.0.1 (SQLite backend in a temporary folder, its own free port), filled
with N runs of a few params and final metrics, for the comparison in Benchmarks/dashboard_benchmark.py.

Filling: `rest` creates every run through the server's REST API (runs/create, runs/log-batch, runs/update;
several threads), as a client would; `copy` (the default, as the Tipi store is built) creates the first
TEMPLATES runs through the REST API and copies them, with new ids, names and start times, in the server's
own SQLite database: every row MLflow wrote for a run (runs, params, metrics, latest_metrics, tags), so the
copies are what MLflow itself stores. Under load the REST path manages about 10 runs a second here, so 10,000
runs would take a quarter of an hour; the copy takes seconds. `check()` reads every run back through
`mlflow.search_runs` and fails unless each has its params and metrics.
"""
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

PARAMS = {"steps": "200", "keys": "3", "lr": "0.01", "optimizer": "adam"}
METRICS = ["loss", "train/acc", "eval/loss"]
TEMPLATES = 20


class MLflowStore:
    """`with MLflowStore() as mlflow_store:` starts the server; leaving the block stops it and removes the folder."""

    def __init__(self, venv_bin=None):
        self.bin = venv_bin or os.path.dirname(sys.executable)
        self.folder = tempfile.mkdtemp(prefix="tipi-mlflow-bench-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.database = os.path.join(self.folder, "mlflow.db")
        self.process = None
        self.experiment = None

    def __enter__(self):
        environment = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
        command = [os.path.join(self.bin, "mlflow"), "server", "--host", "127.0.0.1", "--port", str(self.port),
                   "--backend-store-uri", "sqlite:///" + self.database,
                   "--default-artifact-root", os.path.join(self.folder, "artifacts"), "--workers", "1"]
        log = open(os.path.join(self.folder, "server.log"), "w")
        # Its own session, so that stopping it ends the uvicorn workers too.
        self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=2).read()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise SystemExit("mlflow server did not start; its log: " + open(log.name).read()[-2000:])
                time.sleep(0.3)
        self.experiment = self.post(http.client.HTTPConnection("127.0.0.1", self.port), "experiments/create",
                                    {"name": "bench-" + uuid.uuid4().hex[:6]})["experiment_id"]
        return self

    def __exit__(self, *error):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def post(self, connection, path, body):
        connection.request("POST", "/api/2.0/mlflow/" + path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError("MLflow %s answered %d: %s" % (path, response.status, data[:500]))
        return json.loads(data or b"{}")

    def log_run(self, connection, index):
        """One run as a client logs it: created, its params and final metrics in one log_batch, finished."""
        now = int(time.time() * 1000) - index
        run = self.post(connection, "runs/create", {"experiment_id": self.experiment, "start_time": now,
                                                    "run_name": "run-%05d" % index})["run"]["info"]["run_id"]
        params = dict(PARAMS, lr="%g" % (0.001 * (index % 10 + 1)))
        self.post(connection, "runs/log-batch", {
            "run_id": run,
            "params": [{"key": key, "value": value} for key, value in params.items()],
            "metrics": [{"key": key, "value": 1.0 / (index + 2) + position, "timestamp": now + 1000, "step": 199}
                        for position, key in enumerate(METRICS)]})
        self.post(connection, "runs/update", {"run_id": run, "status": "FINISHED", "end_time": now + 1000})
        return run

    def fill(self, count, how="copy", threads=4):
        """Creates `count` runs (see the module's doc); returns the seconds it took."""
        started = time.perf_counter()
        real = count if how == "rest" else min(count, TEMPLATES)
        local = threading.local()

        def one(index):
            if not hasattr(local, "connection"):
                local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return self.log_run(local.connection, index)

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            templates = list(pool.map(one, range(real)))
        if count > real:
            self.copy(templates, count - real)
        return time.perf_counter() - started

    def copy(self, templates, count):
        """Copies the template runs' rows `count` times in MLflow's database, each copy with a new id, name and
        start time; every other column as MLflow wrote it (ids inside text, such as the artifact URI, replaced)."""
        database = sqlite3.connect(self.database, timeout=60)
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if any(column[1] == "run_uuid" for column in database.execute("PRAGMA table_info(%s)" % name))]
        statements = {}
        for table in tables:
            columns = [(column[1], column[2].upper()) for column in database.execute("PRAGMA table_info(%s)" % table)]
            expressions = []
            for name, kind in columns:
                if name == "run_uuid":
                    expressions.append(":new")
                elif table == "runs" and name == "name":
                    expressions.append(":name")
                elif table == "tags" and name == "value":
                    expressions.append("CASE WHEN key = 'mlflow.runName' THEN :name ELSE value END")
                elif table == "runs" and name in ("start_time", "end_time"):
                    expressions.append("%s - :shift" % name)
                elif "CHAR" in kind or "TEXT" in kind:
                    expressions.append("replace(%s, :old, :new)" % name)
                else:
                    expressions.append(name)
            statements[table] = "INSERT INTO %s (%s) SELECT %s FROM %s WHERE run_uuid = :old" % (
                table, ", ".join(name for name, _ in columns), ", ".join(expressions), table)
        rows = [{"old": templates[index % len(templates)], "new": uuid.uuid4().hex, "name": "copy-%05d" % index,
                 "shift": 1000 * (index + len(templates))} for index in range(count)]
        with database:
            # The runs row first (the others refer to it).
            for table in sorted(tables, key=lambda name: name != "runs"):
                database.executemany(statements[table], rows)
        database.close()

    def check(self, count):
        """Every run read back by `mlflow.search_runs`, each with its params and metrics."""
        frame = self.search(count)
        missing = [column for column in ["params." + key for key in PARAMS] + ["metrics." + key for key in METRICS]
                   if column not in frame.columns or frame[column].isna().any()]
        if len(frame) != count or missing:
            raise SystemExit("MLflow holds %d runs (%d wanted); columns missing or empty: %s" % (len(frame), count, missing))

    def search(self, count):
        """`mlflow.search_runs(experiment_ids=[…], max_results=count)`: all the runs, as a pandas DataFrame."""
        import mlflow
        mlflow.set_tracking_uri(self.url)
        return mlflow.search_runs(experiment_ids=[self.experiment], max_results=count)

    def search_rest(self, count):
        """The same question as raw REST (`runs/search`, paged as the server allows): JSON only, no pandas."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        runs, token = 0, None
        while True:
            body = {"experiment_ids": [self.experiment], "max_results": min(count - runs, 50000)}
            if token:
                body["page_token"] = token
            answer = self.post(connection, "runs/search", body)
            runs += len(answer.get("runs", []))
            token = answer.get("next_page_token")
            if not token or runs >= count:
                return runs
