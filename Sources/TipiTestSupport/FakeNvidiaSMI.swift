import Foundation

/// A fake `nvidia-smi` for tests: a shell script that prints the bytes of a file beside it (a fixed CSV,
/// binary garbage, a huge line), or fails like a machine without a driver, or hangs, so the real process
/// path is exercised on machines without GPUs. ``setOutput(_:)`` changes what the next run prints.
public struct FakeNvidiaSMI: Sendable {
    /// Where the script lives (a fresh temporary directory; put it first on `PATH`, or in `TIPI_NVIDIA_SMI`).
    public let directory: String
    /// The script's path.
    public var path: String { directory + "/nvidia-smi" }
    /// The file whose bytes the script prints.
    public var outputPath: String { directory + "/output" }

    /// The fields the script accepts, as Tipi asks for them (`--query-gpu=…`); any other query fails with
    /// exit status 2 (a change to Tipi's query must be made here too, on purpose). Each line of output has
    /// these columns: index, uuid, name, memory.total, memory.used, memory.free (MiB), utilization.gpu (%).
    public static let query = "index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu"

    /// Three GPUs with different free memory: GPU 1 is the freest, GPU 2 the fullest. Nothing is reserved
    /// by the driver here (free = total − used); ``h200`` has reserved memory.
    public static let threeGPUs = """
        0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920, 36537, 45383, 0
        1, GPU-bbbbbbbb-1111-1111-1111-111111111111, NVIDIA A100-SXM4-80GB, 81920, 1, 81919, 37
        2, GPU-cccccccc-2222-2222-2222-222222222222, NVIDIA A100-SXM4-80GB, 81920, 70000, 11920, 5
        """

    /// What a real, idle NVIDIA H200 printed (driver 580.159.04): 143771 MiB in total, none used, 143156 MiB
    /// free; the 615 MiB between them (`nvidia-smi -q` says 616) are reserved by the driver.
    public static let h200 = "0, GPU-d787f051-447a-01b5-cbb2-1ced6301a160, NVIDIA H200, 143771, 0, 143156, 0"

    /// The same H200 (driver 580.159.04) while PyTorch held 85 % of it: memory.used leaves out the 616 MiB
    /// reserved (121683 MiB, 84.6 %); total − free is 122297 MiB, 85.1 %.
    public static let h200Loaded = "0, GPU-d787f051-447a-01b5-cbb2-1ced6301a160, NVIDIA H200, 143771, 121683, 21474, 0"

    /// Writes a script that prints `output` and exits with `status` (after `delay` seconds).
    public init(output: String = FakeNvidiaSMI.threeGPUs, status: Int32 = 0, delay: Double = 0) throws {
        try self.init(bytes: Array((output + "\n").utf8), status: status, delay: delay)
    }

    /// Writes a script that prints `bytes` exactly and exits with `status` (after `delay` seconds).
    public init(bytes: [UInt8], status: Int32 = 0, delay: Double = 0) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fake-nvsmi-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            case " $* " in *" --query-gpu=\(Self.query) "*) ;; *) echo "unsupported query: $*" >&2; exit 2 ;; esac
            \(delay > 0 ? "sleep \(delay)" : "")
            cat '\(outputPath)'
            exit \(status)
            """
        try setOutput(bytes)
        try Self.writeExecutable(script, to: path)
    }

    /// Writes the script through a close-on-exec descriptor: a process that another test starts at that
    /// moment must not inherit it open for writing, or running the script fails with "Text file busy".
    private static func writeExecutable(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else { throw POSIXError(.EIO) }
    }

    /// Replaces what the script prints from its next run on (atomically: a run never sees half of it).
    public func setOutput(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: outputPath), options: .atomic)
    }

    /// Replaces what the script prints from its next run on.
    public func setOutput(_ text: String) throws {
        try setOutput(Array((text + "\n").utf8))
    }

    /// The message and exit status of `nvidia-smi` on a machine whose driver is not loaded.
    public static func noDriver() throws -> FakeNvidiaSMI {
        try FakeNvidiaSMI(
            output: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                + "Make sure that the latest NVIDIA driver is installed and running.", status: 9)
    }

    /// Removes the script.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
