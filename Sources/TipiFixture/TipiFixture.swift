import Foundation
import Tipi

/// A program for the test suite: logs metrics into a run the way a training script would, so tests can
/// kill it, interrupt it, or run eight of it at once.
///
/// `tipi-fixture log [--project P] [--name N] [--steps N] [--keys K] [--key NAME] [--sleep S] [--hold S]
/// [--file-size-limit BYTES] [--no-finish]`
/// prints `run <id> <folder>` once the run exists, `logged <n>` after the last step, and `done` at the end.
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
        guard command == "log" else {
            FileHandle.standardError.write(Data("usage: tipi-fixture log [options]\n".utf8))
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
            if let hold = options["hold"].flatMap(Double.init) { usleep(UInt32(hold * 1_000_000)) }
            if !flags.contains("--no-finish") { logger.finish() }
            print("done")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
