import Foundation
import Testing
import TipiTestSupport

/// `tipi devices` as a real process against hostile environments: bad numbers in variables, a stuck NVML,
/// escape codes and huge lines from nvidia-smi, the default (per-user) claims directory.
@Suite("tipi devices: hostile input")
struct DevicesHostileTests {
    let removed = ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE", "CUDA_DEVICE_ORDER", "TIPI_MAX_MEMORY_USAGE", "TIPI_CLAIMS_DIR", "TIPI_NVIDIA_SMI_TIMEOUT", "TIPI_NVML_LIBRARY"]

    func tipi() throws -> String {
        try #require(Executables.path(of: "tipi"), "the tipi executable was not built: run `swift build` first")
    }

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    /// A new, empty temporary folder.
    func folder(_ name: String) throws -> String {
        let path = temporary(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func run(_ arguments: [String], _ fake: FakeNvidiaSMI, _ extra: [String: String], timeout: Double = 120) throws -> Executables.Result {
        let environment = ["TIPI_NVIDIA_SMI": fake.path, "TIPI_CLAIMS_DIR": temporary("claims"), "TIPI_NVML": "0", "TIPI_NVIDIA_SMI_TIMEOUT": "60"]
            .merging(extra) { _, new in new }
        return try Executables.run(try tipi(), arguments, environment: environment, removing: removed, timeout: timeout)
    }

    @Test("TIPI_NVIDIA_SMI_TIMEOUT=inf with a hanging nvidia-smi: one warning naming the variable, the default 5 s, no hang")
    func infiniteTimeout() throws {
        let hanging = try FakeNvidiaSMI(delay: 40)
        defer { hanging.remove() }
        let start = Date()
        let result = try run(["devices", "--claim", "0"], hanging, ["TIPI_NVIDIA_SMI_TIMEOUT": "inf"], timeout: 60)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(result.status == 0)
        #expect(result.standardOutput == "cpu\n")
        #expect(result.standardError.contains("tipi: warning: TIPI_NVIDIA_SMI_TIMEOUT=inf is not a number from 0.1 to 3600; using 5"))
    }

    @Test("TIPI_NVIDIA_SMI_TIMEOUT=nan, TIPI_MAX_MEMORY_USAGE=nan or garbage: a warning naming each, the defaults, the right GPU")
    func badNumbers() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let result = try run(["devices", "--claim", "0"], fake, ["TIPI_NVIDIA_SMI_TIMEOUT": "nan", "TIPI_MAX_MEMORY_USAGE": "1e300"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "cuda:1\n")
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 2, "\(result.standardError)")
        #expect(result.standardError.contains("TIPI_NVIDIA_SMI_TIMEOUT=nan is not a number"))
        #expect(result.standardError.contains("TIPI_MAX_MEMORY_USAGE=1e300 is not a number from 0 to 1; using 0.8"))
        let claim = try run(["devices", "--claim", "inf"], fake, [:])
        #expect(claim.status != 0)
        #expect(claim.standardError.contains("--claim takes seconds from 0 to 3600"))
    }

    @Test("escape codes in GPU names never reach the terminal raw; a 5 MB line is not echoed")
    func printable() throws {
        let evil = try FakeNvidiaSMI(output: "0, GPU-e, \u{1B}[2J\u{1B}]0;owned\u{7}Evil GPU, 81920, 1, 81919, 0")
        defer { evil.remove() }
        let table = try run(["devices"], evil, [:])
        #expect(table.status == 0)
        #expect(!table.standardOutput.contains("\u{1B}") && !table.standardOutput.contains("\u{7}"))
        #expect(table.standardOutput.contains("\\u{1B}[2J\\u{1B}]0;owned\\u{7}Evil GPU"))

        let huge = try FakeNvidiaSMI(output: String(repeating: "\u{1B}[31mA", count: 1_000_000))
        defer { huge.remove() }
        let result = try run(["devices"], huge, [:])
        #expect(result.status == 0)
        #expect(result.standardOutput.utf8.count + result.standardError.utf8.count < 4000)
        #expect(!result.standardOutput.contains("\u{1B}"))
        #expect(result.standardOutput.contains("has 1 fields, expected 7"))

        // A TIPI_DEVICE with escape codes is quoted escaped (and cut) in the error.
        let forced = try run(["devices", "--claim", "0"], evil, ["TIPI_DEVICE": "\u{1B}[2J\u{1B}]0;x\u{7}" + String(repeating: "z", count: 10_000)])
        #expect(forced.status != 0)
        #expect(forced.standardError.contains("TIPI_DEVICE=\\u{1B}[2J\\u{1B}]0;x\\u{7}zzz"))
        #expect(!forced.standardError.contains("\u{1B}") && forced.standardError.utf8.count < 1000)
    }

    @Test("GPUs of different models without CUDA_DEVICE_ORDER=PCI_BUS_ID: a warning saying what to set")
    func deviceOrder() throws {
        let mixed = try FakeNvidiaSMI(
            output: "0, GPU-a, NVIDIA A100, 81920, 100, 81820, 0\n1, GPU-b, NVIDIA H100, 81920, 1, 81919, 0")
        defer { mixed.remove() }
        let warned = try run(["devices", "--claim", "0"], mixed, [:])
        #expect(warned.standardOutput == "cuda:1\n")
        #expect(warned.standardError.contains("start the program with CUDA_DEVICE_ORDER=PCI_BUS_ID"))
        let quiet = try run(["devices", "--claim", "0"], mixed, ["CUDA_DEVICE_ORDER": "PCI_BUS_ID"])
        #expect(quiet.standardError.isEmpty, "\(quiet.standardError)")
    }

    @Test("by default claims live in a private per-user directory, and still work across processes")
    func defaultDirectory() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let runtime = try folder("runtime")
        let environment = ["TIPI_NVIDIA_SMI": fake.path, "TIPI_NVML": "0", "TIPI_NVIDIA_SMI_TIMEOUT": "60", "XDG_RUNTIME_DIR": runtime]
        let first = try Executables.start(try tipi(), ["devices", "--claim", "3"], environment: environment, removing: removed)
        let second = try Executables.start(try tipi(), ["devices", "--claim", "3"], environment: environment, removing: removed)
        let a = first.wait().standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let b = second.wait().standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Set([a, b]) == ["cuda:1", "cuda:0"], "got \(a) and \(b)")
        var info = stat()
        #expect(lstat(runtime + "/tipi-claims", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700)
        #expect(info.st_uid == geteuid())
        #expect(FileManager.default.fileExists(atPath: runtime + "/tipi-claims/GPU-bbbbbbbb-1111-1111-1111-111111111111.lock"))
    }

    @Test("an NVML library that never answers: abandoned after the timeout, nvidia-smi used, one warning")
    func stuckNVML() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let directory = try folder("fake-nvml")
        try """
            #include <unistd.h>
            int nvmlInit_v2(void) { sleep(600); return 0; }
            int nvmlShutdown(void) { return 0; }
            int nvmlDeviceGetCount_v2(unsigned *count) { *count = 0; return 0; }
            int nvmlDeviceGetHandleByIndex_v2(unsigned index, void **device) { return 1; }
            """.write(toFile: directory + "/nvml.c", atomically: true, encoding: .utf8)
        let cc = try #require(FakeNVML.compiler, "no C compiler to build the fake NVML library")
        let built = try Executables.run(cc, ["-shared", "-fPIC", "-o", directory + "/libnvidia-ml.so.1", directory + "/nvml.c"], removing: [])
        try #require(built.status == 0, "\(built.standardError)")
        let start = Date()
        let result = try Executables.run(
            try tipi(), ["devices", "--claim", "0"],
            environment: [
                "TIPI_NVIDIA_SMI": fake.path, "TIPI_CLAIMS_DIR": temporary("claims"), "TIPI_NVML_LIBRARY": directory + "/libnvidia-ml.so.1",
                "TIPI_NVIDIA_SMI_TIMEOUT": "2",
            ], removing: removed + ["TIPI_NVML"], timeout: 60)
        #expect(Date().timeIntervalSince(start) < 40)
        #expect(result.status == 0)
        #expect(result.standardOutput == "cuda:1\n")
        #expect(result.standardError == "tipi: warning: nvml did not answer within 2 s (TIPI_NVIDIA_SMI_TIMEOUT); the driver may be stuck\n")
    }
}
