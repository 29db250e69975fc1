import Foundation
import Synchronization
import Testing
import TipiTestSupport

@testable import Tipi

/// A discovery backend that never answers in time (a wedged driver).
struct StuckDiscovery: GPUDiscovery {
    var seconds: Double
    var name: String { "nvml" }
    func discover() -> GPUDiscoveryResult? {
        Thread.sleep(forTimeInterval: seconds)
        return GPUDiscoveryResult(gpus: [gpu(0, used: 1)], source: name, warnings: [])
    }
}

/// A manager that finds GPUs through `discoveries` alone, with a fresh claims directory.
func manager(discoveries: [any GPUDiscovery], warnings: Warnings = Warnings()) -> DeviceManager {
    DeviceManager(
        discoveries: discoveries,
        claims: DeviceClaims(directory: FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID())").path),
        environment: { _ in nil }, warn: { message in warnings.lines.withLock { $0.append(message) } })
}

@Suite("nvidia-smi output that attacks the parser")
struct NvidiaSMIHostileOutputTests {
    @Test("memory of 2^43 MiB or more: the line is skipped with a warning, never a trap")
    func overflow() {
        for value in ["8796093022208", "9223372036854775807", "99999999999999999999999"] {
            let (gpus, warnings) = NvidiaSMIParser.parse("0, GPU-a, A100, \(value), 1, 81919, 0\n1, GPU-b, A100, 81920, 1, 81919, 0")
            if value.count > 19 {
                // Not a 64-bit number at all: unknown memory, the GPU kept.
                #expect(gpus.count == 2)
            } else {
                #expect(gpus.map(\.index) == [1], "\(value)")
                #expect(warnings.count == 1)
                #expect(warnings.first?.contains("line 1: the memory is not a number of MiB that fits in 64 bits") == true)
            }
        }
        let (gpus, _) = NvidiaSMIParser.parse("0, GPU-a, A100, 81920, 8796093022208, 0, 0")
        #expect(gpus.isEmpty)
        // The free column too: a figure too large to be true makes the line unusable, never a trap.
        let (free, freeWarnings) = NvidiaSMIParser.parse("0, GPU-a, A100, 81920, 0, 8796093022208, 0")
        #expect(free.isEmpty)
        #expect(freeWarnings == ["nvidia-smi line 1: the memory is not a number of MiB that fits in 64 bits: 0, GPU-a, A100, 81920, 0, 8796093022208, 0"])
    }

    @Test("a repeated line (same index or same UUID) is not a second GPU")
    func duplicate() {
        let line = "0, GPU-aaaa, NVIDIA A100, 81920, 100, 81820, 1"
        let (gpus, warnings) = NvidiaSMIParser.parse([line, line, "1, GPU-aaaa, NVIDIA A100, 81920, 100, 81820, 1"].joined(separator: "\n"))
        #expect(gpus.count == 1)
        #expect(warnings.count == 2)
        #expect(warnings[0].contains("line 2 repeats the GPU of line 1"))
        #expect(warnings[1].contains("line 3 repeats the GPU of line 1"))
    }

    @Test("a huge bad line is quoted once, cut short")
    func hugeLine() {
        let huge = String(repeating: "x", count: 2_000_000)
        let (gpus, warnings) = NvidiaSMIParser.parse(huge)
        #expect(gpus.isEmpty)
        #expect(warnings.count == 1)
        #expect(warnings[0].utf8.count < 300)
        #expect(warnings[0].hasSuffix("…"))
    }

    @Test("escape codes in a GPU name are escaped, not kept raw")
    func escapes() {
        let (gpus, _) = NvidiaSMIParser.parse("0, GPU-a\u{1B}[31m, \u{1B}]0;pwned\u{7}A100\u{1B}[2J\u{9B}1m, 81920, 1, 81919, 0")
        let gpu = gpus.first
        #expect(gpu?.name == "\\u{1B}]0;pwned\\u{7}A100\\u{1B}[2J\\u{9B}1m")
        #expect(gpu?.uuid == "GPU-a\\u{1B}[31m")
        #expect(gpu?.name.unicodeScalars.allSatisfy { $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) } == true)
    }

    @Test("binary garbage from a real nvidia-smi process: a warning, not a silent 'no GPU'")
    func binaryGarbage() throws {
        var bytes: [UInt8] = [0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x1B, 0x5B, 0x32, 0x4A]
        bytes += (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 197 &+ 13) }.filter { $0 != 0x0A }
        let fake = try FakeNvidiaSMI(bytes: bytes)
        defer { fake.remove() }
        let result = try #require(NvidiaSMIDiscovery(executable: fake.path, timeout: 30).discover())
        #expect(result.gpus.isEmpty)
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("\u{1B}") == false)
        #expect((result.warnings.first?.utf8.count ?? 0) < 400)
        let empty = try FakeNvidiaSMI(bytes: [])
        defer { empty.remove() }
        #expect(try #require(NvidiaSMIDiscovery(executable: empty.path, timeout: 30).discover()).warnings
            == ["nvidia-smi exited with status 0 but printed nothing"])
    }
}

@Suite("getDevice() over time")
struct DeviceStabilityTests {
    @Test("getDevice() never changes the process environment (no setenv racing with other threads)")
    func noSetenv() throws {
        try #require(getenv("CUDA_DEVICE_ORDER") == nil, "the test needs CUDA_DEVICE_ORDER unset")
        let warnings = Warnings()
        let models = [gpu(0, used: 10), GPUInfo(index: 1, uuid: "GPU-h100-\(UUID())", name: "NVIDIA H100", memoryTotal: 80 << 30, memoryUsed: 0, memoryFree: 80 << 30, utilization: 0)]
        let device = manager(models, warnings: warnings).getDevice()
        #expect(device.kind == .cuda)
        #expect(getenv("CUDA_DEVICE_ORDER") == nil)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("start the program with CUDA_DEVICE_ORDER=PCI_BUS_ID") == true)
        let quiet = Warnings()
        _ = manager(models, environment: ["CUDA_DEVICE_ORDER": "PCI_BUS_ID"], warnings: quiet).getDevice()
        _ = manager([gpu(0, used: 10), gpu(1, used: 20)], warnings: quiet).getDevice()  // one model: orders agree
        #expect(quiet.all.isEmpty)
    }

    @Test("a second getDevice() returns the first device even once it is full (fake nvidia-smi changing between calls)")
    func sameDevice() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let m = manager(discoveries: [NvidiaSMIDiscovery(executable: fake.path, timeout: 30)])
        let first = m.getDevice()
        #expect(first.description == "cuda:1")
        // This process filled GPU 1; GPU 0 is now the freest.
        try fake.setOutput(
            """
            0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA A100-SXM4-80GB, 81920, 100, 81820, 0
            1, GPU-bbbbbbbb-1111-1111-1111-111111111111, NVIDIA A100-SXM4-80GB, 81920, 80000, 1920, 99
            2, GPU-cccccccc-2222-2222-2222-222222222222, NVIDIA A100-SXM4-80GB, 81920, 70000, 11920, 5
            """)
        let second = m.getDevice()
        #expect(second.uuid == first.uuid)
        #expect(second.description == "cuda:1")
        #expect(second.memoryFree == (81920 - 80000) * mib)  // fresh figures, same GPU
        // Asking for two adds the best other GPU after the first.
        #expect(m.getDevices(count: 2).map(\.description) == ["cuda:1", "cuda:0"])
    }

    @Test("a stuck NVML is abandoned after the timeout, with a warning; nvidia-smi is tried next")
    func stuckNVML() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let warnings = Warnings()
        let nvml = TimeLimitedDiscovery(StuckDiscovery(seconds: 30), timeout: 0.5)
        let m = manager(discoveries: [nvml, NvidiaSMIDiscovery(executable: fake.path, timeout: 30)], warnings: warnings)
        let start = Date()
        #expect(m.getDevice().description == "cuda:1")
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(warnings.all == ["nvml did not answer within 0.5 s (TIPI_NVIDIA_SMI_TIMEOUT); the driver may be stuck"])
        // While it is still stuck, a later survey does not wait again.
        let again = Date()
        #expect(nvml.discover()?.gpus.isEmpty == true)
        #expect(Date().timeIntervalSince(again) < 0.4)
        // A backend that answers in time is passed through.
        let quick = TimeLimitedDiscovery(StuckDiscovery(seconds: 0), timeout: 10)
        #expect(quick.discover()?.gpus.count == 1)
    }
}
