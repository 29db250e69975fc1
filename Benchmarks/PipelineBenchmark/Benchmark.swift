// Pipeline overhead, against baselines in the same run:
// - `tipi --help` wall time (a bare `true` process is the baseline for process start);
// - per process: a pipeline of 2,000 no-op processes against one of a single process;
// - validating a 100-process config.
//
// Python tipi's figures printed beside ours are quoted from its reference measurements, not measured in
// this run (labelled so in the output).
//
//   swift build -c release && swift run -c release PipelineBenchmark [--tipi PATH] [--repeats R]
import Foundation
import TipiPipeline

@PipelineProcess
func nothing(index: Int = 0) {}

@main
enum PipelineBenchmark {
    static func main() async throws {
        var repeats = 5
        var tipi: String?
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            if argument == "--repeats" { repeats = arguments.next().flatMap(Int.init) ?? repeats }
            if argument == "--tipi" { tipi = arguments.next() }
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

        let one = config(1)
        let many = config(2000)
        var singles: [Double] = []
        var bigs: [Double] = []
        for _ in 0..<repeats {
            singles.append(try await time { try await runner.run(text: one, store: store, display: display) })
            bigs.append(try await time { try await runner.run(text: many, store: store, display: display) })
        }
        let perProcess = (median(bigs) - median(singles)) / 1999 * 1e6

        var validateOne: [Double] = []
        var validateMany: [Double] = []
        for _ in 0..<repeats {
            validateOne.append(await time { precondition(runner.validate(text: one).isEmpty) })
            validateMany.append(await time { precondition(runner.validate(text: many).isEmpty) })
        }
        let validationPerProcess = (median(validateMany) - median(validateOne)) / 1999 * 1e6

        let hundred = config(100)
        var validations: [Double] = []
        for _ in 0..<repeats * 4 {
            validations.append(await time { precondition(runner.validate(text: hundred).isEmpty) })
        }

        print("Tipi pipeline benchmark: median of \(repeats) repeats")
        print("pipeline of 1 process                 \(String(format: "%8.2f ms", median(singles) * 1000))   (run creation, display, summary)")
        print("pipeline of 2,000 processes           \(String(format: "%8.2f ms", median(bigs) * 1000))")
        print("overhead per process                  \(String(format: "%8.2f µs", perProcess))   target ≤ 5 µs; Python tipi ≈ 35–65 µs (quoted, not measured here)")
        print("  of which parsing + validation       \(String(format: "%8.2f µs", validationPerProcess))")
        print("  of which running + recording        \(String(format: "%8.2f µs", perProcess - validationPerProcess))")
        print("validate a 100-process config         \(String(format: "%8.2f ms", median(validations) * 1000))   target < 50 ms")

        if let tipi {
            func spawn(_ arguments: [String]) -> Double {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: arguments[0])
                process.arguments = Array(arguments.dropFirst())
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                let start = DispatchTime.now().uptimeNanoseconds
                try? process.run()
                process.waitUntilExit()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            _ = spawn([tipi, "--help"])
            let help = median((0..<20).map { _ in spawn([tipi, "--help"]) })
            let bare = median((0..<20).map { _ in spawn(["/bin/true"]) })
            print("tipi --help                           \(String(format: "%8.2f ms", help))   target < 20 ms; /bin/true: \(String(format: "%.2f ms", bare)); Python tipi ≈ 1,300–1,500 ms (quoted, not measured here)")
        }
    }
}
