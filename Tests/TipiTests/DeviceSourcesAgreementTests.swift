import Foundation
import Testing
import TipiTestSupport

@testable import Tipi

/// NVML and `nvidia-smi` read the same GPU the same way: free memory is what a program can allocate, and
/// the memory the driver reserves counts as used. Before `nvidia-smi`'s `memory.free` was read, the two
/// disagreed by the reserved 615 MiB on a real H200.
@Suite("NVML and nvidia-smi agree")
struct DeviceSourcesAgreementTests {
    @Test("the H200's real readings: the same GPU, the same memory to nvidia-smi's 1 MiB, the same choice")
    func h200() throws {
        #expect(Environment.value("TIPI_NVML") != "0", "TIPI_NVML=0 is set: NVML discovery is off in this process")
        let nvml = try FakeNVML(gpus: [FakeNVML.h200])
        defer { nvml.remove() }
        let smi = try FakeNvidiaSMI(output: FakeNvidiaSMI.h200)
        defer { smi.remove() }
        let fromNVML = try #require(NVMLDiscovery(library: nvml.path).discover())
        let fromSMI = try #require(NvidiaSMIDiscovery(executable: smi.path, timeout: 30).discover())
        #expect(fromNVML.warnings.isEmpty && fromSMI.warnings.isEmpty, "\(fromNVML.warnings) \(fromSMI.warnings)")
        let a = try #require(fromNVML.gpus.first)
        let b = try #require(fromSMI.gpus.first)
        #expect(fromNVML.gpus.count == 1 && fromSMI.gpus.count == 1)
        #expect(a.index == b.index && a.uuid == b.uuid && a.name == b.name && a.utilization == b.utilization)
        #expect(a.memoryTotal == b.memoryTotal)
        // nvidia-smi prints whole MiB: 150109880320 bytes free is 143155.94 MiB, printed 143156.
        let free = try #require(b.memoryFree) - (try #require(a.memoryFree))
        let used = try #require(b.memoryUsed) - (try #require(a.memoryUsed))
        #expect(abs(free) < mib && abs(used) < mib, "free differs by \(free) B, used by \(used) B")

        let viaNVML = manager(discoveries: [NVMLDiscovery(library: nvml.path)]).getDevice()
        let viaSMI = manager(discoveries: [NvidiaSMIDiscovery(executable: smi.path, timeout: 30)]).getDevice()
        #expect(viaNVML.description == "cuda:0" && viaSMI.description == "cuda:0")
        #expect(DeviceManager.gibibytes(try #require(viaSMI.memoryFree)) == "139.8 GiB")
        #expect(DeviceManager.gibibytes(try #require(viaNVML.memoryFree)) == "139.8 GiB")
        #expect(DeviceManager.gibibytes(try #require(viaSMI.memoryUsed)) == DeviceManager.gibibytes(try #require(viaNVML.memoryUsed)))
    }

    @Test("the H200 with 85 % held by PyTorch: both sources see 85.1 % used, so a limit of 85 % gives the CPU through either")
    func h200Loaded() throws {
        #expect(Environment.value("TIPI_NVML") != "0", "TIPI_NVML=0 is set: NVML discovery is off in this process")
        let nvml = try FakeNVML(gpus: [FakeNVML.h200Loaded])
        defer { nvml.remove() }
        let smi = try FakeNvidiaSMI(output: FakeNvidiaSMI.h200Loaded)
        defer { smi.remove() }
        // (Through total − memory.used, nvidia-smi's reading was 84.6 %: under the limit, the GPU chosen.)
        for discovery in [NVMLDiscovery(library: nvml.path), NvidiaSMIDiscovery(executable: smi.path, timeout: 30)] as [any GPUDiscovery] {
            let warnings = Warnings()
            let m = DeviceManager(
                discoveries: [discovery],
                claims: DeviceClaims(directory: FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID())").path),
                environment: { _ in nil }, warn: { message in warnings.lines.withLock { $0.append(message) } },
                maxMemoryUsage: 0.85)
            #expect(m.getDevice().kind == .cpu, "\(discovery.name)")
            #expect(warnings.all.first?.contains("(cuda:0 85% used)") == true, "\(discovery.name): \(warnings.all)")
        }
    }
}
