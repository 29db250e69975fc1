import Foundation
import Tipi

/// A program for the test suite: logs metrics into a run the way a training script would, so tests can
/// kill it, interrupt it, or run eight of it at once.
///
/// `tipi-fixture log [--project P] [--name N] [--steps N] [--keys K] [--key NAME] [--sleep S] [--lines N]
/// [--ready FILE] [--spin 1] [--hold S] [--file-size-limit BYTES] [--no-finish] [--log-after-finish 1]`
/// prints `run <id> <folder>` once the run exists, `logged <n>` after the last step, and `done` at the end;
/// `--lines` prints N lines without flushing, `--ready` creates FILE when the steps are logged, `--spin` then
/// loops on the CPU under a progress bar, `--log-after-finish` logs once more after `finish()`.
/// `artifacts`, `checkpoint` and `console` are described in TipiFixture+Artifacts.swift.
@main
enum TipiFixture {
    static func main() {
        var options: [String: String] = [:]
        var flags: Set<String> = []
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        let command = arguments.next() ?? ""
        while let argument = arguments.next() {
            if argument.hasPrefix("--no-") {
                flags.insert(argument)
            } else if argument.hasPrefix("--") {
                options[String(argument.dropFirst(2))] = arguments.next() ?? ""
            }
        }
        if command == "fail-start" {
            failStart(times: Int(options["times"] ?? "10") ?? 10)
            return
        }
        if command == "race" {
            race(threads: Int(options["threads"] ?? "8") ?? 8)
            return
        }
        if command == "artifacts" {
            artifacts(options)
            return
        }
        if command == "checkpoint" {
            checkpoint(options)
            return
        }
        if command == "console" {
            console(options)
            return
        }
        guard command == "log" else {
            FileHandle.standardError.write(Data("usage: tipi-fixture log|race [options]\n".utf8))
            exit(2)
        }
        let steps = Int(options["steps"] ?? "100") ?? 100
        let keys = Int(options["keys"] ?? "3") ?? 3
        let pause = Double(options["sleep"] ?? "0") ?? 0
        if let limit = options["file-size-limit"].flatMap(rlim_t.init) {
            // A full disk without root: files may not grow past `limit` bytes (writes fail with EFBIG).
            signal(SIGXFSZ, SIG_IGN)
            var bound = rlimit(rlim_cur: limit, rlim_max: limit)
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &bound)
        }
        do {
            let run = try logger.start(
                project: options["project"] ?? "fixture", name: options["name"],
                config: ["steps": .int(steps), "keys": .int(keys), "lr": 0.01, "optimizer": "adam"],
                tags: ["fixture"])
            print("run \(run.id) \(run.folder.path)")
            fflush(nil)
            let names = (0..<keys).map { ["loss", "train/acc", "eval/loss"][safe: $0] ?? "metric_\($0)" } + (options["key"].map { [$0] } ?? [])
            let special: [Double] = [.nan, .infinity, -.infinity, 1e-300, -0.0, 123456.789]
            let report = Int(options["report"] ?? "0") ?? 0
            for step in 0..<steps {
                var values: [String: Double] = [:]
                for (index, name) in names.enumerated() { values[name] = Double(step) + Double(index) / 10 }
                if options["special"] != nil { values["special"] = special[step % special.count] }
                logger.log(values)
                if report > 0, step % report == 0 {
                    print("step \(step)")
                    fflush(nil)
                }
                if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            }
            print("logged \(steps)")
            fflush(nil)
            // Lines left in stdio's buffer (standard output to a file is fully buffered): a signal must not lose them.
            if let count = options["lines"].flatMap(Int.init) {
                for index in 0..<count { print("line \(index)") }
            }
            if let ready = options["ready"] { FileManager.default.createFile(atPath: ready, contents: nil) }
            // A CPU-bound loop under a progress bar (a safe point), logging now and then.
            if options["spin"] != nil {
                var total = 0.0
                for index in progressBar(0..<Int.max, desc: "spin") {
                    total += sin(Double(index))
                    if index % 1_000_000 == 0 { logger.log(["spin": total]) }
                }
                print("spin ended")
            }
            if let hold = options["hold"].flatMap(Double.init) { usleep(UInt32(hold * 1_000_000)) }
            if !flags.contains("--no-finish") { logger.finish() }
            if options["log-after-finish"] != nil {
                logger.log(["late": 1])
                print("current run \(logger.run?.id ?? "none")")
            }
            print("done")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}

extension TipiFixture {
    /// `tipi-fixture race --threads N`: N threads make the process's first `logger.log` at the same moment
    /// (no `start`): one run must take all N values.
    static func race(threads: Int) {
        let group = DispatchGroup()
        let gate = DispatchSemaphore(value: 0)
        for index in 0..<threads {
            let thread = Thread {
                gate.wait()
                logger.log(["value": Double(index)])
                group.leave()
            }
            group.enter()
            thread.start()
        }
        usleep(100_000)
        for _ in 0..<threads { gate.signal() }
        group.wait()
        print("run \(logger.run?.id ?? "none")")
        logger.finish()
    }
}

extension TipiFixture {
    /// `tipi-fixture fail-start --times N`: N starts that fail (the store cannot be created; the backends
    /// come from TIPI_BACKENDS), then prints `threads <n>`: the threads of the process (a leaked backend
    /// keeps its thread).
    static func failStart(times: Int) {
        for _ in 0..<times {
            do {
                // `Run.start` throws (`logger.start` would end the program with status 2 on this setup mistake).
                _ = try Run.start(project: "leak", store: RunStore(root: URL(fileURLWithPath: "/dev/null/store")))
                print("started?")
            } catch {}
        }
        usleep(500_000)
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"))?.count ?? -1
        print("threads \(threads)")
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
