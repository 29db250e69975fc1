import Foundation

#if TIPI_FUZZ
    import CFuzzDriver
#endif

/// What every fuzz target shares: its `main` calls ``FuzzReplay/main(_:)`` with a function that must never
/// crash, whatever the bytes.
///
/// Built by `scripts/fuzz.sh` (`TIPI_FUZZ=1`), the target hands control to libFuzzer, which calls the
/// function with generated inputs. Built plainly, it replays the files named on its command line instead,
/// so the corpus doubles as a regression suite that `swift test` runs (docs/fuzzing.md).
public enum FuzzReplay {
    nonisolated(unsafe) static var body: (([UInt8]) -> Void)?

    /// Runs the fuzzer (fuzz builds) or replays every file named on the command line (folders: every file
    /// inside, sorted), printing how many inputs ran; a crash is the failure.
    public static func main(_ body: @escaping ([UInt8]) -> Void) {
        #if TIPI_FUZZ
            Self.body = body
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                FuzzReplay.body?(FuzzReplay.bytes(data, size))
                return 0
            })
        #else
            replay(body)
        #endif
    }

    static func replay(_ body: ([UInt8]) -> Void) {
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

    static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
