"""Checks one Tipi run with the peers' own readers against the run store's export.

usage: check_run.py EXPORT_JSON RUN_FOLDER [--mlflow URI] [--only tensorboard,wandb,jsonl,mlflow]

EXPORT_JSON is `tipi runs show RUN --json`. Every artifact it lists (name, size, SHA-256) must be in the
W&B offline run's files (with a files record) and in the MLflow run's artifact store. Every value of every
metric must come back from:
TensorBoard's EventAccumulator and tbparse (as float32), wandb's Go reader (`wandb leet inspect`),
the JSONL file, and the MLflow server (MLflow's Python client). Prints one line per check and
'N passed, M failed'; exits 1 on any failure.
"""
import glob, hashlib, json, math, os, struct, subprocess, sys, tempfile

args = sys.argv[1:]
export = json.load(open(args[0]))
folder = args[1]
mlflow_uri = args[args.index("--mlflow") + 1] if "--mlflow" in args else None
only = set(args[args.index("--only") + 1].split(",")) if "--only" in args else {"tensorboard", "wandb", "jsonl", "mlflow"}

expect_artifact_scheme = args[args.index("--artifact-uri") + 1] if "--artifact-uri" in args else ""

def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

def as_float(value):
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    return float(value)

history = {key: [(p["step"], as_float(p["value"])) for p in points] for key, points in export["history"].items()}
passed, failed = 0, 0

def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}: {detail}")

def same(a, b, float32=False):
    if float32:
        b = struct.unpack("<f", struct.pack("<f", b))[0] if math.isfinite(b) else b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or (math.isfinite(a) and math.isfinite(b) and abs(a - b) <= 1e-12 * max(1.0, abs(b)))

def compare(name, got, float32=False):
    """got: {key: [(step, value)]} must equal the store's history exactly (float32 for TensorBoard)."""
    if set(got) != set(history):
        check(name, False, f"keys {sorted(got)} != {sorted(history)}")
        return
    for key, points in history.items():
        mine = sorted(got[key])
        if len(mine) != len(points):
            check(f"{name} {key}", False, f"{len(mine)} points, the store has {len(points)}")
            continue
        bad = [(s, v, w) for (s, v), (t, w) in zip(points, mine) if s != t or not same(w, v, float32)]
        check(f"{name} {key} ({len(points)} points)", not bad, f"first differences {bad[:3]}")

if "tensorboard" in only:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    files = glob.glob(os.path.join(folder, "events.out.tfevents.*"))
    check("tensorboard event file present", len(files) == 1, files)
    accumulator = EventAccumulator(folder, size_guidance={"scalars": 0})
    accumulator.Reload()
    compare("tensorboard EventAccumulator", {t: [(e.step, e.value) for e in accumulator.Scalars(t)] for t in accumulator.Tags()["scalars"]}, float32=True)
    from tbparse import SummaryReader
    frame = SummaryReader(folder).scalars
    compare("tbparse", {t: list(zip(g["step"], g["value"])) for t, g in frame.groupby("tag")}, float32=True)

if "jsonl" in only:
    rows = [json.loads(line) for line in open(os.path.join(folder, "metrics.jsonl"))]
    got = {}
    for row in rows:
        got.setdefault(row["name"], []).append((row["step"], float(row["value"])))
    compare("jsonl", got)
    check("jsonl field order", list(rows[0].keys()) == ["name", "value", "pattern", "stage", "split", "step", "step_policy"], list(rows[0].keys()))

if "wandb" in only:
    wandb_files = glob.glob(os.path.join(folder, "wandb", "offline-run-*", "run-*.wandb"))
    check("wandb offline run present", len(wandb_files) == 1, wandb_files)
    wandb = os.path.join(os.path.dirname(sys.executable), "wandb")
    out = subprocess.run([wandb, "leet", "inspect", "--json", wandb_files[0]], capture_output=True, text=True, timeout=120)
    check("wandb leet inspect reads the file without errors", out.returncode == 0 and "corrupt" not in out.stderr, out.stderr[-500:])
    got = {}
    types = {}
    for line in out.stdout.splitlines():
        record = json.loads(line)
        types[record["type"]] = types.get(record["type"], 0) + 1
        if record["type"] == "history":
            item = record["history"]["item"]
            for key, value in item.items():
                if not key.startswith("_"):
                    got.setdefault(key, []).append((item["_step"], as_float(value)))
    compare("wandb history", got)
    check("wandb records: header, run, exit", types.get("header") == 1 and types.get("run") == 1 and types.get("exit") == 1, types)
    summary = json.loads(subprocess.run([wandb, "leet", "inspect", "--summary", "--json", wandb_files[0]], capture_output=True, text=True, timeout=120).stdout)
    last_step = max(points[-1][0] for points in history.values())
    check("wandb summary: state, run id, project, name, step", summary["state"] == "finished" and summary["run_id"] == export["id"]
          and summary["project"] == export["project"] and summary["name"] == export["name"] and summary["step"] == last_step, summary)
    check("wandb config", {k: v for k, v in summary["config"].items() if k != "_wandb"} == export["config"], summary["config"])
    offline = os.path.dirname(wandb_files[0])
    if export.get("outputLog"):
        path = os.path.join(offline, "files", "output.log")
        check("wandb files/output.log is the run's console output", os.path.isfile(path) and open(path, "rb").read() == open(export["outputLog"], "rb").read(), path)
    artifacts = export.get("artifacts", [])
    if artifacts:
        for artifact in artifacts:
            path = os.path.join(offline, "files", artifact["name"])
            ok = os.path.isfile(path) and sha256(path) == artifact["sha256"] and os.path.getsize(path) == artifact["size"]
            check(f"wandb files/{artifact['name']} (size, sha256)", ok, path)
        # The files records, as wandb's own (Go) reader of the transaction log reads them.
        listed = set()
        for line in out.stdout.splitlines():
            record = json.loads(line)
            if record["type"] == "files":
                listed |= {item["path"] for item in record["files"]["files"]} - {"output.log"}
        check("wandb files records name every artifact", sorted(listed) == sorted(a["name"] for a in artifacts), sorted(listed))
    dry = subprocess.run([wandb, "sync", "--dry-run", os.path.dirname(wandb_files[0])], capture_output=True, text=True, timeout=60)
    check("wandb sync --dry-run lists the run", "Would sync 1 run" in dry.stdout + dry.stderr, dry.stdout + dry.stderr)

if "mlflow" in only and mlflow_uri:
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=mlflow_uri)
    experiment = client.get_experiment_by_name(export["project"])
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.`tipi.run_id` = '{export['id']}'")
    check("mlflow run found by tipi.run_id", len(runs) == 1, len(runs))
    run = runs[0]
    check("mlflow status FINISHED, name", run.info.status == "FINISHED" and run.info.run_name == export["name"], (run.info.status, run.info.run_name))
    expected_params = {}
    def flatten(table, prefix=""):
        for key, value in table.items():
            if isinstance(value, dict):
                flatten(value, prefix + key + ".")
            else:
                expected_params[prefix + key] = value
    flatten(export["config"])
    check("mlflow params = config", set(run.data.params) == set(expected_params), (run.data.params, expected_params))
    got = {key: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)] for key in run.data.metrics}
    # MLflow stores infinities as the largest finite doubles (documented in docs/tracking.md).
    clamp = lambda v: math.copysign(1.7976931348623157e308, v) if math.isinf(v) else v
    saved = {key: list(points) for key, points in history.items()}
    history.update({key: [(s, clamp(v)) for s, v in points] for key, points in history.items()})
    compare("mlflow metric history", got)
    history.update(saved)
    artifacts = export.get("artifacts", [])
    if artifacts:
        def listing(path=None):
            for info in client.list_artifacts(run.info.run_id, path):
                if info.is_dir:
                    yield from listing(info.path)
                else:
                    yield info
        found = {info.path: info for info in listing()}
        check("mlflow list_artifacts names every artifact", sorted(found) == sorted(a["name"] for a in artifacts), sorted(found))
        target = tempfile.mkdtemp(prefix="mlflow-download-")
        for artifact in artifacts:
            try:
                local = client.download_artifacts(run.info.run_id, artifact["name"], target)
                ok = sha256(local) == artifact["sha256"] and os.path.getsize(local) == artifact["size"]
            except Exception as error:
                ok, local = False, repr(error)
            check(f"mlflow download {artifact['name']} (size, sha256)", ok, local)
        check("mlflow artifact URI", run.info.artifact_uri.startswith(expect_artifact_scheme), run.info.artifact_uri)

print(f"interop: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
