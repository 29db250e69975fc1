import Foundation

/// What every fuzz target shares: the libFuzzer entry point calls `body` with one input; built without
/// libFuzzer (a plain `swift build`), the target replays files instead, so the corpus doubles as a
/// regression suite that the tests run.
///
/// `scripts/fuzz.sh` builds the targets with `--sanitize=fuzzer -Xswiftc -DTIPI_FUZZ` and runs each for
/// a bounded time; see docs/fuzzing.md.
public enum FuzzReplay {
    /// Runs `body` on every file named on the command line (folders: every file inside, sorted), and on
    /// nothing else. Prints how many inputs ran; a crash is the failure.
    public static func main(_ body: ([UInt8]) -> Void) {
        var paths: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("no such file: \(argument)\n".utf8))
                exit(2)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                paths += names.sorted().map { argument + "/" + $0 }
            } else {
                paths.append(argument)
            }
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            body(Array(data))
        }
        print("replayed \(paths.count) inputs, 0 crashes")
    }

    /// The bytes libFuzzer hands over.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
