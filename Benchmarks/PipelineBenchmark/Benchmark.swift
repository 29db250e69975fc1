// Pipeline overhead, against baselines in the same run:
// - `tipi --help` wall time (a bare `true` process is the baseline for process start);
// - per process: a pipeline of N (default 20,000) no-op processes against one of a single process, in wall
//   time and in CPU time (getrusage: on a loaded machine the CPU time is the steadier figure);
// - validating a 100-process config;
// - with --python-tipi: Python tipi (PyPI tensorimgpipeline) running M silent no-op processes against one,
//   in the same invocation, wall and CPU time of its child processes, and ours at the same M. Its start takes
//   2.5–3.5 s here and varies by ±0.4 s from one start to the next: with M = 20,000 (0.5 s of work) that
//   variation is as large as what is measured, so bench-pipeline.sh passes M = 200,000.
//
//   ./scripts/bench-pipeline.sh [REPEATS]      (sets up Python tipi in .venv-bench, then runs this)
//   PipelineBenchmark [--tipi PATH] [--repeats R] [--processes N]
//                     [--python-tipi PATH --python-configs DIR [--python-processes M]]
//                     (DIR holds p1.toml and p<M>.toml; M is N unless given)
//   PipelineBenchmark --profile [--repeats R] [--processes N]   (only the N-process pipeline, R times: for perf)
//   PipelineBenchmark --profile-validate [--repeats R] [--processes N]   (only validating the N-process config,
//                     R times: for perf)
//   PipelineBenchmark --config-shapes [--repeats R] [--processes N]   (reading and checking configs of other
//                     shapes: ns per byte and µs per process, parse alone and parse + validation; thread CPU
//                     time, the least of R)
import Foundation
import TipiPipeline

@PipelineProcess
func nothing(index: Int = 0) {}

@main
enum PipelineBenchmark {
    static func main() async throws {
        var repeats = 5
        var tipi: String?
        var count = 20_000
        var pythonTipi: String?
        var pythonConfigs: String?
        var pythonCount: Int?
        var profile = false
        var profileValidate = false
        var shapes = false
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            if argument == "--repeats" { repeats = arguments.next().flatMap(Int.init) ?? repeats }
            if argument == "--tipi" { tipi = arguments.next() }
            if argument == "--processes" { count = arguments.next().flatMap(Int.init).map { max($0, 2) } ?? count }
            if argument == "--python-tipi" { pythonTipi = arguments.next() }
            if argument == "--python-configs" { pythonConfigs = arguments.next() }
            if argument == "--python-processes" { pythonCount = arguments.next().flatMap(Int.init).map { max($0, 2) } }
            if argument == "--profile" { profile = true }
            if argument == "--profile-validate" { profileValidate = true }
            if argument == "--config-shapes" { shapes = true }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        setenv("TIPI_PROGRESS", "off", 1)
        setenv("TIPI_BACKENDS", "", 1)
        let store = RunStore(root: root)
        let runner = PipelineRunner(name: "bench", processes: #processes(nothing))
        let quiet = FileDescriptorOutput(descriptor: open("/dev/null", O_WRONLY))
        let display = ProgressDisplay(output: quiet, textOutput: quiet, mode: .off)

        func config(_ count: Int) -> String {
            (0..<count).map { "[processes.p\($0)]\ntype = \"nothing\"\nparams = { index = \($0) }\n" }.joined(separator: "\n")
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func time(_ body: () async throws -> Void) async rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try await body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        // CPU seconds (user + system) of this process (`RUSAGE_SELF`) or of its waited-for children.
        func cpu(_ who: Int32) -> Double {
            var usage = rusage()
            getrusage(who, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let others = Double(count - 1)

        let one = config(1)
        let many = config(count)
        if shapes {
            ConfigShapes.measure(runner: runner, processes: count, repeats: repeats)
            return
        }
        if profileValidate {
            // For a profiler: only parsing and checking the N-process config, `repeats` times.
            for _ in 0..<repeats { precondition(runner.validate(text: many).isEmpty) }
            return
        }
        if profile {
            // For a profiler (`perf record`): only the N-process pipeline, `repeats` times.
            for _ in 0..<repeats { try await runner.run(text: many, store: store, display: display) }
            return
        }
        var singles: [Double] = []
        var bigs: [Double] = []
        var singlesCPU: [Double] = []
        var bigsCPU: [Double] = []
        for _ in 0..<repeats {
            var before = cpu(RUSAGE_SELF.rawValue)
            singles.append(try await time { try await runner.run(text: one, store: store, display: display) })
            singlesCPU.append(cpu(RUSAGE_SELF.rawValue) - before)
            before = cpu(RUSAGE_SELF.rawValue)
            bigs.append(try await time { try await runner.run(text: many, store: store, display: display) })
            bigsCPU.append(cpu(RUSAGE_SELF.rawValue) - before)
        }
        let perProcess = (median(bigs) - median(singles)) / others * 1e6
        let perProcessCPU = (median(bigsCPU) - median(singlesCPU)) / others * 1e6
        // The least CPU time of the repeats: what the work costs when the machine's other tenants take least
        // (they only ever add), the steadier figure for comparing two builds.
        let leastCPU = ((bigsCPU.min() ?? 0) - (singlesCPU.min() ?? 0)) / others * 1e6

        var validateOne: [Double] = []
        var validateMany: [Double] = []
        for _ in 0..<repeats {
            validateOne.append(await time { precondition(runner.validate(text: one).isEmpty) })
            validateMany.append(await time { precondition(runner.validate(text: many).isEmpty) })
        }
        let validationPerProcess = (median(validateMany) - median(validateOne)) / others * 1e6

        let hundred = config(100)
        var validations: [Double] = []
        for _ in 0..<repeats * 4 {
            validations.append(await time { precondition(runner.validate(text: hundred).isEmpty) })
        }

        print("Tipi pipeline benchmark: median of \(repeats) repeats")
        print("pipeline of 1 process                 \(String(format: "%8.2f ms", median(singles) * 1000))   (run creation, display, summary)")
        print("pipeline of \(count) processes".padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: "%8.2f ms", median(bigs) * 1000))
        print("overhead per process                  \(String(format: "%8.2f µs", perProcess))   target ≤ 5 µs (CPU time: \(String(format: "%.2f µs", perProcessCPU)))")
        print("  least CPU time of the \(repeats) repeats".padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: "%8.2f µs", leastCPU))
        print("  of which parsing + validation       \(String(format: "%8.2f µs", validationPerProcess))")
        print("  of which running + recording        \(String(format: "%8.2f µs", perProcess - validationPerProcess))")
        print("validate a 100-process config         \(String(format: "%8.2f ms", median(validations) * 1000))   target < 50 ms")

        if let tipi {
            // Started with posix_spawn: Foundation's `Process` closes every descriptor up to the limit in the
            // child (~50 ms here), which would be timed as the program's start.
            func spawn(_ arguments: [String]) -> Double {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                let argv = arguments.map { strdup($0) } + [nil]
                defer { argv.forEach { free($0) } }
                let start = DispatchTime.now().uptimeNanoseconds
                var pid = pid_t()
                guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
                    print("cannot start \(arguments[0])")
                    exit(1)
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            _ = spawn([tipi, "--help"])
            let help = median((0..<20).map { _ in spawn([tipi, "--help"]) })
            let bare = median((0..<20).map { _ in spawn(["/bin/true"]) })
            print("tipi --help                           \(String(format: "%8.2f ms", help))   target < 20 ms; /bin/true: \(String(format: "%.2f ms", bare))")
        }

        if let pythonTipi, let pythonConfigs {
            // `tipi run bench --config FILE`: wall time, and the CPU time of the child (RUSAGE_CHILDREN grows
            // by each waited-for child's). A failing run ends the benchmark: no figure from a run that did not run.
            func python(_ processes: Int) -> (wall: Double, cpu: Double) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: pythonTipi)
                process.arguments = ["run", "bench", "--config", "\(pythonConfigs)/p\(processes).toml"]
                process.standardOutput = FileHandle.nullDevice
                let before = cpu(RUSAGE_CHILDREN.rawValue)
                let start = DispatchTime.now().uptimeNanoseconds
                do { try process.run() } catch {
                    print("cannot start Python tipi (\(pythonTipi)): \(error)")
                    exit(1)
                }
                process.waitUntilExit()
                let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                guard process.terminationStatus == 0 else {
                    print("Python tipi failed on p\(processes).toml (exit \(process.terminationStatus))")
                    exit(1)
                }
                return (wall, cpu(RUSAGE_CHILDREN.rawValue) - before)
            }
            let pythonProcesses = pythonCount ?? count
            let pythonOthers = Double(pythonProcesses - 1)
            var pythonSingles: [(wall: Double, cpu: Double)] = []
            var pythonBigs: [(wall: Double, cpu: Double)] = []
            for _ in 0..<max(1, min(repeats, 3)) {
                pythonSingles.append(python(1))
                pythonBigs.append(python(pythonProcesses))
            }
            let wall = (median(pythonBigs.map(\.wall)) - median(pythonSingles.map(\.wall))) / pythonOthers * 1e6
            let cpuTime = (median(pythonBigs.map(\.cpu)) - median(pythonSingles.map(\.cpu))) / pythonOthers * 1e6
            // Ours at the same count, for a ratio of like with like (the same pipeline of one is the baseline).
            var ours = (wall: perProcess, cpu: perProcessCPU)
            if pythonProcesses != count {
                let same = config(pythonProcesses)
                var oursWall: [Double] = []
                var oursCPU: [Double] = []
                for _ in 0..<max(1, min(repeats, 3)) {
                    let before = cpu(RUSAGE_SELF.rawValue)
                    oursWall.append(try await time { try await runner.run(text: same, store: store, display: display) })
                    oursCPU.append(cpu(RUSAGE_SELF.rawValue) - before)
                }
                ours = (
                    (median(oursWall) - median(singles)) / pythonOthers * 1e6,
                    (median(oursCPU) - median(singlesCPU)) / pythonOthers * 1e6
                )
            }
            print("Python tipi, measured here (median of \(pythonSingles.count)):")
            print("  pipeline of 1 process               \(String(format: "%8.2f ms", median(pythonSingles.map(\.wall)) * 1000))   (CPU \(String(format: "%.0f ms", median(pythonSingles.map(\.cpu)) * 1000)))")
            print("  pipeline of \(pythonProcesses) processes".padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: "%8.2f ms", median(pythonBigs.map(\.wall)) * 1000) + "   (CPU \(String(format: "%.0f ms", median(pythonBigs.map(\.cpu)) * 1000)))")
            print("  overhead per process                \(String(format: "%8.2f µs", wall))   (CPU time: \(String(format: "%.2f µs", cpuTime)))")
            if pythonProcesses != count {
                print("Tipi, \(pythonProcesses) processes, per process".padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: "%8.2f µs", ours.wall) + "   (CPU time: \(String(format: "%.2f µs", ours.cpu)))")
            }
            print("ratio Python tipi / Tipi per process   \(String(format: "%8.2f", wall / ours.wall))   (CPU time: \(String(format: "%.2f", cpuTime / ours.cpu)); \(pythonProcesses) processes each)")
        } else {
            print("Python tipi: not measured (no --python-tipi; scripts/bench-pipeline.sh sets it up)")
        }
    }
}

/// Configs of other shapes than the benchmark's, each `processes` processes long: what reading (and, for the
/// shapes `nothing` accepts, checking) them costs per byte, so that no shape is left slow.
enum ConfigShapes {
    /// Name, the text of process `i`, and whether the config is valid for `nothing` (else it is only parsed).
    static var shapes: [(name: String, valid: Bool, text: (Int) -> String)] { [
        ("params inline (benchmark)", true, { "[processes.p\($0)]\ntype = \"nothing\"\nparams = { index = \($0) }\n" }),
        ("params beside type (Python)", true, { "[processes.p\($0)]\ntype = \"nothing\"\nindex = \($0)\n" }),
        ("params as a [table]", true, { "[processes.p\($0)]\ntype = \"nothing\"\n[processes.p\($0).params]\nindex = \($0)\n" }),
        ("params by dotted key", true, { "[processes.p\($0)]\ntype = \"nothing\"\nparams.index = \($0)\n" }),
        ("many params", false, {
            "[processes.p\($0)]\ntype = \"train\"\nparams = { epochs = \($0), lr = 1e-3, momentum = 0.9, name = \"run \($0)\", "
                + "note = \"a longer text than fifteen bytes\", shuffle = true, seed = 1_000, decay = -0.5, steps = 0x10, tag = 'x' }\n"
        }),
        ("arrays", false, {
            "[processes.p\($0)]\ntype = \"train\"\nparams = { sizes = [1, 2, 3, 4], names = [\"a\", \"b\", \"c\"], grid = [[1, 2], [3, 4]] }\n"
        }),
        ("nested tables", false, {
            "[processes.p\($0)]\ntype = \"train\"\n[processes.p\($0).params]\nepochs = \($0)\n[processes.p\($0).params.optimizer]\n"
                + "name = \"sgd\"\nlr = 0.1\n[processes.p\($0).params.optimizer.schedule]\nwarmup = 10\n"
        }),
        ("dotted keys", false, {
            "[processes.p\($0)]\ntype = \"train\"\nparams.epochs = \($0)\nparams.optimizer.name = \"sgd\"\nparams.optimizer.lr = 0.1\n"
                + "\"quoted key\".x = 1\n"
        }),
        ("[[arrays of tables]]", false, {
            "[[runs]]\nname = \"p\($0)\"\nseed = \($0)\n[runs.optimizer]\nlr = 0.1\n[[runs.stages]]\nsteps = 10\n"
        }),
    ] }

    static func measure(runner: PipelineRunner, processes: Int, repeats: Int) {
        func threadCPU() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        func least(_ body: () -> Void) -> Double {
            (0..<max(repeats, 1)).map { _ in
                let start = threadCPU()
                body()
                return threadCPU() - start
            }.min() ?? 0
        }
        print("Reading configs of \(processes) processes (thread CPU time, least of \(repeats)):")
        print("shape                           bytes     parse ns/B  µs/process   + validation ns/B  µs/process")
        for shape in shapes {
            let text = (0..<processes).map(shape.text).joined(separator: "\n")
            let bytes = Double(text.utf8.count)
            let parse = least { precondition((try? ConfigLoader.parse(text: text, file: "config.toml")) != nil) }
            var line = shape.name.padding(toLength: 30, withPad: " ", startingAt: 0)
                + String(format: "%9.0f   %8.2f   %8.2f", bytes, parse / bytes * 1e9, parse / Double(processes) * 1e6)
            if shape.valid {
                let validate = least { precondition(runner.validate(text: text).isEmpty) }
                line += String(format: "      %8.2f          %8.2f", validate / bytes * 1e9, validate / Double(processes) * 1e6)
            }
            print(line)
        }
    }
}
