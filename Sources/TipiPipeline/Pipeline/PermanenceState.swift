import Foundation
import Tipi

/// A permanence whose state `run --resume` can bring back: what processes put into it is saved by
/// ``Permanence/checkpoint(into:)`` after each completed process, and loaded by ``restore(from:)`` when a
/// resumed run skips those processes.
///
/// ```swift
/// final class Model: RestorablePermanence, @unchecked Sendable {
///     var weights: [Double] = []
///     func checkpoint(into directory: URL) throws {
///         try JSONEncoder().encode(weights).write(to: directory.appendingPathComponent("weights.json"))
///     }
///     func restore(from directory: URL) throws {
///         weights = try JSONDecoder().decode([Double].self, from: Data(contentsOf: directory.appendingPathComponent("weights.json")))
///     }
/// }
/// ```
///
/// A permanence whose whole state is what `init(from:)` and `initialize()` build from its params (processes
/// only read it) conforms with an empty `restore(from:)`. A resume refuses to skip a process that used a
/// permanence which is not restorable, rather than run the next processes on a state that was never there.
public protocol RestorablePermanence: Permanence {
    /// Called on `run --resume`, after ``Permanence/initialize()`` and before the first process runs, with
    /// the directory that ``Permanence/checkpoint(into:)`` filled after the last process the resumed run
    /// skips. A throw stops the resume (exit 2) before any process runs.
    func restore(from directory: URL) async throws
}

/// Where permanences' checkpoints live in a run folder, and how they are made and restored.
///
/// After the n-th process completes, each permanence gets `checkpoints/<n>-<process>/<permanence>/` (keys
/// with characters other than letters, digits, `_` and `-` are percent-encoded, so `..` or `/` in a key
/// never leave the folder).
enum PermanenceState {
    /// The folder of the checkpoints after process `index` (0-based), relative to the run folder.
    static func folder(afterProcess index: Int, key: String) -> String {
        let number = String(index + 1)
        return "checkpoints/" + (number.count < 2 ? "0" + number : number) + "-" + safeName(key)
    }

    /// Whether `path` is a folder ``folder(afterProcess:key:)`` makes: `checkpoints/` and one component
    /// without `..` or a slash (a path read back from `run.json` must not lead out of the run folder).
    static func isCheckpointFolder(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0] == "checkpoints" && !parts[1].isEmpty && !parts[1].contains(".")
    }

    /// A key as one path component: letters, digits, `_` and `-` kept, everything else `%XX`.
    static func safeName(_ key: String) -> String {
        func isSafe(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        if !key.isEmpty, key.utf8.allSatisfy(isSafe) { return key }
        var name = ""
        for byte in key.utf8 {
            if isSafe(byte) {
                name.append(Character(UnicodeScalar(byte)))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                name += "%" + (hex.count < 2 ? "0" + hex : hex)
            }
        }
        return name.isEmpty ? "%" : name
    }

    /// Calls `checkpoint(into:)` of every permanence with a fresh directory of its own; returns the folder
    /// (relative to the run folder). A failure names the permanence.
    static func checkpoint(
        _ permanences: [BuiltPipeline.PermanenceEntry], afterProcess index: Int, key: String, runFolder: URL
    ) async throws -> String {
        let relative = folder(afterProcess: index, key: key)
        let base = runFolder.appendingPathComponent(relative)
        for entry in permanences {
            let directory = base.appendingPathComponent(safeName(entry.key))
            do {
                // A checkpoint made before (a process run twice) is replaced, never mixed with the new one.
                if FileManager.default.fileExists(atPath: directory.path) { try FileManager.default.removeItem(at: directory) }
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try await entry.permanence.checkpoint(into: directory)
            } catch {
                throw CheckpointFailure(permanence: entry.key, message: PipelineExecutor.describe(error))
            }
        }
        return relative
    }

    /// Restores each permanence of `restore` from its directory, in the pipeline's context; a failure (or a
    /// permanence that is not restorable) is a CFG005 problem naming it, and the resume goes no further.
    static func restore(
        _ restore: [(key: String, directory: URL)], of permanences: [BuiltPipeline.PermanenceEntry], run: Run, display: ProgressDisplay
    ) async -> [ConfigProblem] {
        for (key, directory) in restore {
            guard let restorable = permanences.first(where: { $0.key == key })?.permanence as? any RestorablePermanence else {
                return [ConfigProblem(code: "CFG005", path: "permanences.\(key)", message: "permanence '\(key)' cannot be restored")]
            }
            do {
                try await withPipelineContext(PipelineContext(processName: key, progress: display, run: run)) {
                    try await restorable.restore(from: directory)
                }
            } catch {
                return [
                    ConfigProblem(
                        code: "CFG005", path: "permanences.\(key)",
                        message: "restore(from:) of permanence '\(key)' failed: \(PipelineExecutor.describe(error)); no process was run",
                        help: "its checkpoint is \(directory.path)")
                ]
            }
        }
        return []
    }

    /// A permanence that could not save its state.
    struct CheckpointFailure: Error, CustomStringConvertible {
        var permanence: String
        var message: String
        var description: String { "checkpoint of permanence '\(permanence)' failed: \(message)" }
    }
}
