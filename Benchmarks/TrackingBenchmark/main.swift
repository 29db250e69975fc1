// Experiment-tracking speed, against baselines measured in the same run, and side by side with W&B offline,
// tensorboardX and a Python JSONL append.
//
//   swift run -c release TrackingBenchmark [--python PATH] [--tipi PATH] [--repeats R]
//
// `--tipi` also times the `tipi runs` process (and `--json`) over the 10,000 listed runs.
// `--only-log` times the log calls only: in each fresh run the dictionary `log` first (its loop grows the
// run's buffer: page faults, counted), then the typed path, a prebuilt dictionary, and the dictionary `log`
// again (the run's steady state). `--profile dict|typed|prebuilt N` runs N calls of one form and
// nothing else, for a profiler (`valgrind --tool=callgrind --separate-threads=yes`, `perf record`).
//
// Every figure is a median over R repeats. Runs are written to a temporary store that is removed at the end.
import Foundation
import Tipi

nonisolated(unsafe) var sink = 0.0

@inline(never)
func consume(_ values: [String: Double]) {
    sink += values["loss"] ?? 0
}

nonisolated(unsafe) var repeats = 5
var python: String?
var tipi: String?
/// `--only-log`: time the log calls and stop (for a profiler).
var onlyLog = false
/// `--only-list`: time the listings of 10,000 runs and stop.
var onlyList = false
/// `--profile dict|typed|prebuilt N`: only N calls of that `log` (for `perf stat --per-thread` / `perf record`).
var profile: (kind: String, calls: Int)?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--repeats": repeats = arguments.next().flatMap(Int.init) ?? repeats
    case "--python": python = arguments.next()
    case "--tipi": tipi = arguments.next()
    case "--only-log": onlyLog = true
    case "--only-list": onlyList = true
    case "--profile":
        let kind = arguments.next() ?? "dict"
        profile = (kind, arguments.next().flatMap(Int.init) ?? 20_000_000)
    default:
        print("unknown argument \(argument)")
        exit(2)
    }
}

let root = FileManager.default.temporaryDirectory.appendingPathComponent("tipi-bench-\(getpid())")
/// Removes the temporary store, then exits: `exit` skips top-level `defer`s, and each run of this program
/// writes hundreds of megabytes of metrics (leaked stores once filled the disk).
func end(_ status: Int32 = 0) -> Never {
    try? FileManager.default.removeItem(at: root)
    exit(status)
}
let store = RunStore(root: root)
setenv("TIPI_BACKENDS", "", 1)

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}
func timed(_ body: () -> Void) -> Double {
    let start = now()
    body()
    return now() - start
}
/// Seconds of CPU time the calling thread spent in `body`: the cost of single-threaded code, not counting
/// the time other processes had the core (the machine is shared).
func cpuTimed(_ clock: clockid_t = CLOCK_THREAD_CPUTIME_ID, _ body: () -> Void) -> Double {
    func cpu() -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
    let start = cpu()
    body()
    return cpu() - start
}

if let profile {
    // One loop of one `log` form and nothing else, so that a profiler sees only it (the run is started
    // before and finished after; `perf stat --per-thread` tells the calling thread from the writer).
    let keys = MetricKeys("loss", "acc", "lr")
    let values: [String: Double] = ["loss": 1, "acc": 0.5, "lr": 0.001]
    let run = try logger.start(project: "bench", name: "profile", store: store)
    let seconds = cpuTimed {
        switch profile.kind {
        case "typed":
            for i in 0..<profile.calls {
                let x = Double(i)
                logger.log(keys, x, x * 0.5, 0.001)
            }
        case "prebuilt":
            for _ in 0..<profile.calls { run.log(values) }
        default:
            for i in 0..<profile.calls {
                let x = Double(i)
                logger.log(["loss": x, "acc": x * 0.5, "lr": 0.001])
            }
        }
    }
    logger.finish()
    print(String(format: "profile %@: %d calls, %.1f ns/call (calling thread's CPU time)", profile.kind, profile.calls,
        seconds / Double(profile.calls) * 1e9))
    end()
}

print("Tipi tracking benchmark: median of \(repeats) repeats (log calls: the calling thread's CPU time)")
print("")

// 1. log() of 3 scalars on the caller's thread.
let calls = onlyList ? 1_000 : 2_000_000
let literal = median((0..<repeats).map { _ in
    cpuTimed {
        for i in 0..<calls {
            let x = Double(i)
            consume(["loss": x, "acc": x * 0.5, "lr": 0.001])
        }
    }
}) / Double(calls) * 1e9
var logPerCall: [Double] = []
/// Minor page faults of the calling thread during each `log` loop (a fresh run's batch grows in it).
var logFaults: [Double] = []
/// Minor page faults of the calling thread so far (0 where the platform has no per-thread count).
func threadFaults() -> Int {
    #if canImport(Glibc)
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD
        return usage.ru_minflt
    #else
        return 0
    #endif
}
var prebuiltPerCall: [Double] = []
var typedPerCall: [Double] = []
var typedFaults: [Double] = []
/// The dictionary `log` again at the end of the same run: its buffer grown already (a run's steady state).
var warmPerCall: [Double] = []
var warmFaults: [Double] = []
let keys = MetricKeys("loss", "acc", "lr")
/// The dictionary `log` loop: ns per call (the calling thread's CPU time) and the thread's page faults in it.
func dictionaryLogLoop() -> (nanoseconds: Double, faults: Double) {
    let faultsBefore = threadFaults()
    let seconds = cpuTimed {
        for i in 0..<calls {
            let x = Double(i)
            logger.log(["loss": x, "acc": x * 0.5, "lr": 0.001])
        }
    }
    return (seconds / Double(calls) * 1e9, Double(threadFaults() - faultsBefore))
}
for _ in 0..<repeats {
    let run = try logger.start(project: "bench", name: "log-cost", store: store)
    let first = dictionaryLogLoop()
    logPerCall.append(first.nanoseconds)
    logFaults.append(first.faults)
    let typedFaultsBefore = threadFaults()
    typedPerCall.append(cpuTimed {
        for i in 0..<calls {
            let x = Double(i)
            logger.log(keys, x, x * 0.5, 0.001)
        }
    } / Double(calls) * 1e9)
    typedFaults.append(Double(threadFaults() - typedFaultsBefore))
    let values: [String: Double] = ["loss": 1, "acc": 0.5, "lr": 0.001]
    prebuiltPerCall.append(cpuTimed {
        for _ in 0..<calls { run.log(values) }
    } / Double(calls) * 1e9)
    let warm = dictionaryLogLoop()
    warmPerCall.append(warm.nanoseconds)
    warmFaults.append(warm.faults)
    logger.finish()
}
let logCost = median(logPerCall)
let prebuilt = median(prebuiltPerCall)
let typed = median(typedPerCall)

if onlyLog {
    print(String(format: "literal %.1f ns, log %.1f ns (over the literal %.1f ns), typed %.1f ns, prebuilt %.1f ns",
        literal, logCost, logCost - literal, typed, prebuilt))
    print(String(format: "log loop (the first in a fresh run): %.0f page faults on the calling thread (median); typed loop: %.0f",
        median(logFaults), median(typedFaults)))
    print(String(format: "log again at the end of the run (its buffer grown): %.1f ns (over the literal %.1f ns), %.0f page faults",
        median(warmPerCall), median(warmPerCall) - literal, median(warmFaults)))
    end()
}

// 2. Sustained: 10 scalars per step, the writer keeping up (the clock stops after finish has written all).
func sustained(backends: String, steps: Int) -> Double {
    setenv("TIPI_BACKENDS", backends, 1)
    defer { setenv("TIPI_BACKENDS", "", 1) }
    let keys = (0..<10).map { "metric_\($0)" }
    var values: [String: Double] = [:]
    for key in keys { values[key] = 0 }
    let seconds = median((0..<max(repeats / 2, 1)).map { _ in
        timed {
            guard let run = try? logger.start(project: "bench", name: "sustained-\(backends)", store: store) else { return }
            for step in 0..<steps {
                values["metric_0"] = Double(step)
                run.log(values)
            }
            run.finish()
        }
    })
    return Double(steps * 10) / seconds
}
let storeRate = onlyList ? 0 : sustained(backends: "", steps: 1_000_000)
let tensorboardRate = onlyList ? 0 : sustained(backends: "tensorboard", steps: 500_000)

// 3. Reading: 10,000 runs, and one metric of 1,000,000 points.
let listRoot = root.appendingPathComponent("list")
let listStore = RunStore(root: listRoot)
let template = try logger.start(project: "many", name: "template", config: ["lr": 0.01, "layers": 4, "opt": "adam"], store: listStore)
for step in 0..<10 { template.log(["loss": 1 / Double(step + 1), "acc": Double(step) / 10]) }
template.finish()
let templateFolder = template.folder
let templateJSON = try String(contentsOf: templateFolder.appendingPathComponent("run.json"), encoding: .utf8)
for index in 1..<10_000 {
    let id = String(format: "r%07d", index)
    let folder = templateFolder.deletingLastPathComponent().appendingPathComponent("20261129-000000-\(id)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try templateJSON.replacingOccurrences(of: template.id, with: id).write(
        to: folder.appendingPathComponent("run.json"), atomically: false, encoding: .utf8)
}
// Runs that ended a while ago (as in a real store): their run.json was last written an hour before.
let anHourAgo = timeval(tv_sec: time(nil) - 3600, tv_usec: 0)
for name in try FileManager.default.contentsOfDirectory(atPath: templateFolder.deletingLastPathComponent().path) {
    let file = templateFolder.deletingLastPathComponent().appendingPathComponent(name).appendingPathComponent("run.json").path
    _ = utimes(file, [anHourAgo, anHourAgo])
}
let indexFile = listRoot.appendingPathComponent(".tipi-index").path
// Without the index (removed before each listing): every run.json read; the listing writes the index.
let coldListTime = median((0..<repeats).map { _ in
    unlink(indexFile)
    return timed { _ = listStore.runs(withConfig: false) }
}) * 1000
let coldListJSONTime = median((0..<repeats).map { _ in
    unlink(indexFile)
    return timed { _ = listStore.runs() }
}) * 1000
// With the index the previous listing wrote: one file read, one stat per run.
let listTime = median((0..<repeats).map { _ in timed { _ = listStore.runs(withConfig: false) } }) * 1000
let listJSONTime = median((0..<repeats).map { _ in timed { _ = listStore.runs() } }) * 1000
// The same in CPU time of the whole process (all threads): the work, whatever else the machine runs.
let listCPU = median((0..<repeats).map { _ in cpuTimed(CLOCK_PROCESS_CPUTIME_ID) { _ = listStore.runs(withConfig: false) } }) * 1000
let listJSONCPU = median((0..<repeats).map { _ in cpuTimed(CLOCK_PROCESS_CPUTIME_ID) { _ = listStore.runs() } }) * 1000
let listCount = listStore.runs().runs.count
// What `tipi runs` itself does: the newest 30 runs listed (only they checked against their run.json), then
// decoded (CPU time, all threads).
let tableCPU = median((0..<repeats).map { _ in
    cpuTimed(CLOCK_PROCESS_CPUTIME_ID) { _ = Array(listStore.listing(withConfig: false, newest: 30)) }
}) * 1000

/// Median wall time (ms) of running `arguments` with its output to /dev/null, started with `posix_spawn`:
/// Foundation's `Process` closes every descriptor up to the limit in the child (~50 ms here with a limit of
/// 20,000), which would be timed as the program's start.
func spawn(_ arguments: [String], times: Int) -> Double {
    median((0..<times).map { _ in
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        return timed {
            var pid = pid_t()
            guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
                fatalError("cannot start \(arguments[0])")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            precondition(status == 0, "\(arguments.joined(separator: " ")) failed (wait status \(status))")
        }
    }) * 1000
}
var cliTimes: (table: Double, json: Double, bare: Double)?
if let tipi {
    cliTimes = (
        spawn([tipi, "runs", "--dir", listRoot.path], times: repeats * 2),
        spawn([tipi, "runs", "--json", "--dir", listRoot.path], times: repeats * 2),
        spawn(["/bin/true"], times: repeats * 2)
    )
}

if onlyList {
    print(String(format: "list %d runs: indexed %.1f ms, with configs %.1f ms (CPU %.1f / %.1f ms); without the index %.0f / %.0f ms",
        listCount, listTime, listJSONTime, listCPU, listJSONCPU, coldListTime, coldListJSONTime))
    print(String(format: "list %d runs, newest 30 decoded (tipi runs' table): CPU %.1f ms, all threads", listCount, tableCPU))
    if let cliTimes {
        print(String(format: "tipi runs %.1f ms, tipi runs --json %.1f ms, /bin/true %.1f ms", cliTimes.table, cliTimes.json, cliTimes.bare))
    }
    end()
}

let big = try logger.start(project: "big", name: "million", store: store)
for step in 0..<1_000_000 { big.log(["loss": 1 / Double(step + 1)]) }
big.finish()
let bigRun = try store.run(matching: big.id)
var points = 0
let showTime = median((0..<repeats).map { _ in
    timed { points = (try? RunStore.history(of: bigRun))?.series["loss"]?.values.count ?? 0 }
}) * 1000

func row(_ name: String, _ value: String, _ note: String) {
    print(name.padding(toLength: 46, withPad: " ", startingAt: 0) + value.padding(toLength: 22, withPad: " ", startingAt: 0) + note)
}
print("Swift (this run)")
row("dictionary literal of 3 + call (baseline)", String(format: "%.1f ns/call", literal), "")
row("logger.log([3 scalars]) incl. the literal", String(format: "%.1f ns/call", logCost), String(format: "log itself ≈ %.1f ns (target ≤ 100)", logCost - literal))
row("… again at the end of the run (steady state)", String(format: "%.1f ns/call", median(warmPerCall)), String(format: "over the literal ≈ %.1f ns", median(warmPerCall) - literal))
row("logger.log(keys, 3 values) (MetricKeys)", String(format: "%.1f ns/call", typed), "the typed path: no dictionary at all (target ≤ 100)")
row("run.log(prebuilt dictionary of 3)", String(format: "%.1f ns/call", prebuilt), "")
row("sustained into the store", String(format: "%.2f M scalars/s", storeRate / 1e6), "target ≥ 5 M/s, writer keeping up, finish included")
row("sustained with TensorBoard on", String(format: "%.2f M scalars/s", tensorboardRate / 1e6), "target ≥ 2 M/s")
row("list \(listCount) runs (tipi runs), indexed", String(format: "%.1f ms", listTime), "target < 100 ms")
row("list \(listCount) runs with configs, indexed", String(format: "%.1f ms", listJSONTime), "target < 100 ms (--json)")
row("  CPU time of those two listings", String(format: "%.1f / %.1f ms", listCPU, listJSONCPU), "all threads")
row("  newest 30 decoded (tipi runs' table), CPU", String(format: "%.1f ms", tableCPU), "all threads; the rest stay undecoded")
row("  same without the index (first listing)", String(format: "%.0f / %.0f ms", coldListTime, coldListJSONTime), "table / with configs; writes the index")
if let cliTimes {
    row("`tipi runs` process, \(listCount) runs", String(format: "%.1f ms", cliTimes.table), String(format: "target < 100 ms; /bin/true: %.1f ms", cliTimes.bare))
    row("`tipi runs --json` process, \(listCount) runs", String(format: "%.1f ms", cliTimes.json), "target < 100 ms (output to /dev/null)")
}
row("history of a \(points)-point metric", String(format: "%.0f ms", showTime), "target < 100 ms")

guard let python else {
    print("\n(pass --python PATH of a Python with wandb and tensorboardX for the side-by-side table)")
    end()
}
let script = """
    import json, os, sys, tempfile, time, statistics
    d = tempfile.mkdtemp()
    for k in ["WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"]: os.environ[k] = d
    os.environ["WANDB_MODE"] = "offline"; os.environ["WANDB_SILENT"] = "true"
    import wandb
    run = wandb.init(project="bench", config={"lr": 1e-3})
    N = 10000; t0 = time.perf_counter()
    for i in range(N): run.log({"loss": 1.0 / (i + 1), "acc": i / N, "lr": 1e-3})
    wb = N * 3 / (time.perf_counter() - t0); run.finish()
    from tensorboardX import SummaryWriter
    w = SummaryWriter(os.path.join(d, "tbx")); N = 100000; t0 = time.perf_counter()
    for i in range(N): w.add_scalar("train/loss", 1.0 / (i + 1), i)
    tbx = N / (time.perf_counter() - t0); w.close()
    f = open(os.path.join(d, "m.jsonl"), "w"); N = 200000; t0 = time.perf_counter()
    for i in range(N): f.write(json.dumps({"name": "loss", "value": 1.0 / (i + 1), "step": i}) + "\\n")
    js = N / (time.perf_counter() - t0); f.close()
    print("wandb", wb); print("tbx", tbx); print("jsonl", js)
    """
let process = Process()
process.executableURL = URL(fileURLWithPath: python)
process.arguments = ["-c", script]
let pipe = Pipe()
process.standardOutput = pipe
try process.run()
let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
process.waitUntilExit()
var peer: [String: Double] = [:]
for line in output.split(separator: "\n") {
    let parts = line.split(separator: " ")
    if parts.count == 2, let value = Double(parts[1]) { peer[String(parts[0])] = value }
}
guard let wandbRate = peer["wandb"], let tbxRate = peer["tbx"], let jsonlRate = peer["jsonl"] else {
    print("the Python side failed: \(output)")
    end(1)
}
print("")
print("Side by side (same run)")
print("| | scalars per second | Tipi store is … times faster |")
print("| --- | --- | --- |")
print(String(format: "| Tipi store (sustained, 10 per step) | %.2f M/s | 1× |", storeRate / 1e6))
print(String(format: "| Tipi store + TensorBoard | %.2f M/s | |", tensorboardRate / 1e6))
print(String(format: "| W&B offline `run.log` (3 per call) | %.0f k/s | %.0f× |", wandbRate / 1e3, storeRate / wandbRate))
print(String(format: "| tensorboardX `add_scalar` | %.0f k/s | %.0f× |", tbxRate / 1e3, storeRate / tbxRate))
print(String(format: "| Python JSONL append | %.0f k/s | %.0f× |", jsonlRate / 1e3, storeRate / jsonlRate))
end()
