// Progress-bar overhead, measured against a bare loop in the same run, and side by side with tqdm and rich.
//
//   swift run -c release ProgressBenchmark [--python PATH] [--items N] [--repeats R]
//
// Figures are medians over R repeats. The loop body is a non-inlinable function, so the compiler cannot
// delete the loop; bars draw on /dev/null as if it were a terminal (live redraws included).
import Foundation
import Tipi

nonisolated(unsafe) var blackHole = 0

@inline(never)
func consume(_ value: Int) {
    blackHole &+= value
}

struct Options {
    var items = 50_000_000
    var repeats = 7
    var bars = 20_000
    var python: String?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--items": items = iterator.next().flatMap(Int.init) ?? items
            case "--repeats": repeats = iterator.next().flatMap(Int.init) ?? repeats
            case "--bars": bars = iterator.next().flatMap(Int.init) ?? bars
            case "--python": python = iterator.next()
            default:
                FileHandle.standardError.write("unknown argument \(argument)\n".data(using: .utf8) ?? Data())
                exit(2)
            }
        }
    }
}

let options = Options(CommandLine.arguments)
let devNull = open("/dev/null", O_WRONLY)
let ttyDisplay = ProgressDisplay(output: FileDescriptorOutput(descriptor: devNull), mode: .tty)
let plainDisplay = ProgressDisplay(output: FileDescriptorOutput(descriptor: devNull), mode: .plain)
let offDisplay = ProgressDisplay(output: FileDescriptorOutput(descriptor: devNull), mode: .off)

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Median nanoseconds per item of `body` over the repeats (one untimed warm-up first).
func perItem(_ name: String, _ body: () -> Void) -> Double {
    body()
    let times = (0..<options.repeats).map { _ in seconds(body) }
    return median(times) / Double(options.items) * 1e9
}

func onDisplay<R>(_ display: ProgressDisplay, _ body: () -> R) -> R {
    withPipelineContext(PipelineContext(progress: display), operation: body)
}

let n = options.items
print("Tipi progress benchmark: \(n) items, median of \(options.repeats) repeats")
let bare = perItem("bare") { for i in 0..<n { consume(i) } }
let wrapped = perItem("progressBar tty") { onDisplay(ttyDisplay) { for i in progressBar(0..<n, desc: "bench") { consume(i) } } }
let plain = perItem("progressBar plain") { onDisplay(plainDisplay) { for i in progressBar(0..<n, desc: "bench") { consume(i) } } }
let disabled = perItem("disable: true") { onDisplay(ttyDisplay) { for i in progressBar(0..<n, desc: "bench", disable: true) { consume(i) } } }
let off = perItem("TIPI_PROGRESS=off") { onDisplay(offDisplay) { for i in progressBar(0..<n, desc: "bench") { consume(i) } } }
let manual = perItem("update() per item") {
    let bar = ProgressBar(total: n, desc: "bench", display: ttyDisplay)
    for i in 0..<n {
        consume(i)
        bar.update()
    }
    bar.close()
}

// Fixed cost: a bar created, drawn, closed (and erased, as a nested bar would be).
let outer = ProgressBar(total: 1, desc: "outer", display: ttyDisplay)
let barTimes = (0..<options.repeats).map { _ in
    seconds {
        for _ in 0..<options.bars {
            let bar = ProgressBar(total: 10, desc: "inner", display: ttyDisplay)
            bar.close()
        }
    } / Double(options.bars) * 1e6
}
outer.close()
let perBar = median(barTimes)

func row(_ name: String, _ value: Double, _ unit: String, _ note: String) -> String {
    name.padding(toLength: 34, withPad: " ", startingAt: 0)
        + (String(format: "%9.2f ", value) + unit).padding(toLength: 18, withPad: " ", startingAt: 0) + note
}

print("")
print("Swift (this run)")
print(row("bare loop", bare, "ns/item", "baseline"))
print(row("progressBar, live (tty)", wrapped, "ns/item", String(format: "overhead %.2f ns (%.2fx bare)", wrapped - bare, wrapped / bare)))
print(row("progressBar, plain (log file)", plain, "ns/item", String(format: "overhead %.2f ns", plain - bare)))
print(row("progressBar, disable: true", disabled, "ns/item", String(format: "overhead %.2f ns", disabled - bare)))
print(row("progressBar, TIPI_PROGRESS=off", off, "ns/item", String(format: "overhead %.2f ns", off - bare)))
print(row("ProgressBar.update() per item", manual, "ns/item", String(format: "overhead %.2f ns", manual - bare)))
print(row("bar created + drawn + closed", perBar, "µs/bar", "target ≤ 20 µs"))

guard let python = options.python else {
    print("\n(pass --python PATH of a Python with tqdm and rich installed for the side-by-side table)")
    exit(0)
}

let script = """
    import os, sys, time, statistics
    N = int(sys.argv[1]); REPS = int(sys.argv[2]); BARS = int(sys.argv[3])
    devnull = open(os.devnull, "w")
    from tqdm import tqdm
    from rich.progress import track, Progress
    from rich.console import Console
    def bare():
        for _ in range(N): pass
    def tqdm_run():
        for _ in tqdm(range(N), mininterval=0.1, file=devnull): pass
    def rich_track():
        for _ in track(range(N), console=Console(file=devnull, force_terminal=True)): pass
    def timed(fn, reps=REPS):
        fn(); ts = []
        for _ in range(reps):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
        return statistics.median(ts)
    for name, fn in [("bare", bare), ("tqdm", tqdm_run), ("rich", rich_track)]:
        print(name, timed(fn) / N * 1e9)
    def tqdm_bars():
        for _ in range(BARS): tqdm(total=10, file=devnull, mininterval=0.1).close()
    def rich_bars():
        for _ in range(BARS // 10):
            with Progress(console=Console(file=devnull, force_terminal=True)) as p: p.add_task("x", total=10)
    print("tqdm_bar", timed(tqdm_bars, 3) / BARS * 1e6)
    print("rich_bar", timed(rich_bars, 3) / (BARS // 10) * 1e6)
    """
let pythonItems = max(n / 10, 1_000_000)
let process = Process()
process.executableURL = URL(fileURLWithPath: python)
process.arguments = ["-c", script, String(pythonItems), String(min(options.repeats, 5)), String(min(options.bars, 2000))]
let pipe = Pipe()
process.standardOutput = pipe
do {
    try process.run()
} catch {
    print("could not run \(python): \(error)")
    exit(1)
}
let data = pipe.fileHandleForReading.readDataToEndOfFile()
process.waitUntilExit()
var peer: [String: Double] = [:]
for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
    let parts = line.split(separator: " ")
    if parts.count == 2, let value = Double(parts[1]) { peer[String(parts[0])] = value }
}
guard process.terminationStatus == 0, let pyBare = peer["bare"], let tqdmItem = peer["tqdm"],
    let richItem = peer["rich"], let tqdmBar = peer["tqdm_bar"], let richBar = peer["rich_bar"]
else {
    print("the Python side failed (status \(process.terminationStatus)); is tqdm and rich installed?")
    exit(1)
}
print("")
print("Side by side (same run; Python loops of \(pythonItems) items)")
print("| | per-item overhead over its own bare loop | time per item / bare loop | create + close one bar |")
print("| --- | --- | --- | --- |")
print(String(format: "| Tipi progressBar (Swift) | %.2f ns | %.2fx | %.1f µs |", wrapped - bare, wrapped / bare, perBar))
print(String(format: "| tqdm 4.70 (mininterval=0.1) | %.1f ns | %.2fx | %.1f µs |", tqdmItem - pyBare, tqdmItem / pyBare, tqdmBar))
print(String(format: "| rich.track 15.0 | %.1f ns | %.2fx | %.0f µs (Progress + task) |", richItem - pyBare, richItem / pyBare, richBar))
print(String(format: "| bare loops | Swift %.2f ns | Python %.1f ns | |", bare, pyBare))
