import Foundation
import Synchronization
import Testing
import TipiTestSupport

@testable import Tipi

/// GPUs given by the test, as a discovery backend would report them.
struct StubDiscovery: GPUDiscovery {
    var gpus: [GPUInfo]
    var warnings: [String] = []
    var name: String { "nvidia-smi" }
    func discover() -> GPUDiscoveryResult? {
        GPUDiscoveryResult(gpus: gpus, source: name, warnings: warnings)
    }
}

final class Warnings: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
}

let mib: Int64 = 1_048_576

func gpu(_ index: Int, total: Int64 = 81920, used: Int64, utilization: Int? = 0) -> GPUInfo {
    GPUInfo(
        index: index, uuid: "GPU-\(index)-\(UUID().uuidString.prefix(8))", name: "NVIDIA A100-SXM4-80GB",
        memoryTotal: total * mib, memoryUsed: used * mib, memoryFree: (total - used) * mib, utilization: utilization)
}

func manager(
    _ gpus: [GPUInfo], environment: [String: String] = [:], claimsDirectory: String? = nil, warnings: Warnings = Warnings()
) -> DeviceManager {
    let directory =
        claimsDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)").path
    return DeviceManager(
        discoveries: [StubDiscovery(gpus: gpus)], claims: DeviceClaims(directory: directory),
        environment: { environment[$0] }, warn: { message in warnings.lines.withLock { $0.append(message) } })
}

@Suite("Choosing a device")
struct DeviceManagerTests {
    @Test("the GPU with the most free memory wins")
    func freest() {
        let device = manager([gpu(0, used: 36537), gpu(1, used: 1), gpu(2, used: 70000)]).getDevice()
        #expect(device.description == "cuda:1")
        #expect(device.memoryFree == (81920 - 1) * mib)
        #expect(device.memoryTotal == 81920 * mib)
    }

    @Test("ties go to the less busy GPU, then the lower index")
    func ties() {
        #expect(manager([gpu(0, used: 100, utilization: 90), gpu(1, used: 100, utilization: 10)]).getDevice().index == 1)
        #expect(manager([gpu(0, used: 100, utilization: 5), gpu(1, used: 100, utilization: 5)]).getDevice().index == 0)
    }

    @Test("when every GPU is fuller than 80 %, the CPU, with one warning that says why")
    func full() {
        let warnings = Warnings()
        let m = manager([gpu(0, used: 76000), gpu(1, used: 70000)], warnings: warnings)
        #expect(m.getDevice().kind == .cpu)
        #expect(m.getDevice().kind == .cpu)
        #expect(warnings.all.count == 1)
        #expect(warnings.all[0].contains("more than 80% of its memory in use (cuda:0 93% used, cuda:1 85% used)"))
        m.maxMemoryUsage = 0.95
        #expect(m.getDevice().description == "cuda:1")
        let loose = manager([gpu(0, used: 76000)])
        loose.maxMemoryUsage = 0.99
        #expect(loose.getDevice().kind == .cuda)
        loose.maxMemoryUsage = .nan  // never a NaN limit: the default
        #expect(loose.maxMemoryUsage == 0.8)
    }

    @Test("minFreeMemory skips GPUs that are too full")
    func minimumFree() {
        let m = manager([gpu(0, used: 40000), gpu(1, used: 60000)])
        #expect(m.getDevice(minFreeMemory: 30 << 30).index == 0)
        let warnings = Warnings()
        let tight = manager([gpu(0, used: 60000)], warnings: warnings)
        #expect(tight.getDevice(minFreeMemory: 40 << 30).kind == .cpu)
        #expect(warnings.all.first?.contains("no GPU has 40.0 GiB free") == true)
    }

    @Test("CUDA_VISIBLE_DEVICES: the index is the ordinal the program sees")
    func visibility() {
        let gpus = [gpu(0, used: 100), gpu(1, used: 50000), gpu(2, used: 10)]
        let device = manager(gpus, environment: ["CUDA_VISIBLE_DEVICES": "1,0"]).getDevice()
        #expect(device.index == 1)  // physical GPU 0 is the second visible one
        #expect(device.physicalIndex == 0)
        #expect(manager(gpus, environment: ["CUDA_VISIBLE_DEVICES": ""]).getDevice().kind == .cpu)
        let byUUID = manager(gpus, environment: ["CUDA_VISIBLE_DEVICES": gpus[2].uuid ?? ""]).getDevice()
        #expect(byUUID.index == 0 && byUUID.physicalIndex == 2)
        let warnings = Warnings()
        let nothing = manager(gpus, environment: ["CUDA_VISIBLE_DEVICES": "9"], warnings: warnings).getDevice()
        #expect(nothing.kind == .cpu)
        #expect(warnings.all.count == 1)
        #expect(warnings.all[0].contains("'9' names no GPU here"))
        #expect(warnings.all[0].hasSuffix("using the CPU"))
    }

    @Test("TIPI_DEVICE forces the choice; a device that does not exist is an error naming those that do")
    func forced() throws {
        let gpus = [gpu(0, used: 100), gpu(1, used: 10)]
        #expect(try manager(gpus, environment: ["TIPI_DEVICE": "cuda:0"]).selectDevice().description == "cuda:0")
        #expect(try manager(gpus, environment: ["TIPI_DEVICE": "cpu"]).selectDevice().kind == .cpu)
        #expect(try manager(gpus, environment: ["TIPI_DEVICE": "cuda"]).selectDevice().index == 1)
        #expect(try manager(gpus, environment: ["TIPI_DEVICE": "auto"]).selectDevice().index == 1)
        #expect(throws: DeviceError.notFound("cuda:5", source: "TIPI_DEVICE", available: ["cuda:0", "cuda:1", "cpu"])) {
            try manager(gpus, environment: ["TIPI_DEVICE": "cuda:5"]).selectDevice()
        }
        #expect(throws: DeviceError.invalidName("tpu:0", source: "TIPI_DEVICE")) {
            try manager(gpus, environment: ["TIPI_DEVICE": "tpu:0"]).selectDevice()
        }
        let message = DeviceError.notFound("cuda:0", source: "TIPI_DEVICE", available: ["cpu"]).description
        #expect(message == "TIPI_DEVICE=cuda:0: no such device here; devices found: cpu (no NVIDIA GPU is visible: check the driver, nvidia-smi and CUDA_VISIBLE_DEVICES)")
    }

    @Test("inside a pipeline, the pipeline's device is returned")
    func context() {
        let pipelineDevice = Device(kind: .cuda, index: 3, name: "from the pipeline")
        let m = manager([gpu(0, used: 1)])
        let device = withPipelineContext(PipelineContext(device: pipelineDevice)) { m.getDevice() }
        #expect(device == pipelineDevice)
        #expect(m.getDevice().index == 0)
    }

    @Test("a claimed GPU is skipped while another is free; the same manager keeps its own claim")
    func claims() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)").path
        let gpus = [gpu(0, used: 100), gpu(1, used: 10), gpu(2, used: 5000)]
        let first = manager(gpus, claimsDirectory: directory)
        let second = manager(gpus, claimsDirectory: directory)
        #expect(first.getDevice().index == 1)
        #expect(first.getDevice().index == 1)  // again: its own claim
        #expect(second.getDevice().index == 0)
        let third = manager(gpus, claimsDirectory: directory)
        let pair = third.getDevices(count: 2)
        #expect(pair.map(\.index) == [2])  // only one unclaimed left
        let inventory = first.inventory()
        #expect(inventory.devices.filter { $0.claimedBy == getpid() }.count == 3)
        withExtendedLifetime((second, third)) {}
    }

    @Test("when every GPU is claimed, the best one is shared, with a warning")
    func allClaimed() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)").path
        let gpus = [gpu(0, used: 100), gpu(1, used: 10)]
        let early = manager(gpus, claimsDirectory: directory)
        #expect(early.getDevices(count: 2).count == 2)
        let warnings = Warnings()
        let late = manager(gpus, claimsDirectory: directory, warnings: warnings)
        #expect(late.getDevice().index == 1)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("every suitable GPU is claimed by another process") == true)
        #expect(warnings.all.first?.contains("sharing cuda:1") == true)
        withExtendedLifetime(early) {}
        // Claims end with their owner: once `early` is gone, the GPU is free again.
        let afterwards = Warnings()
        let next = manager(gpus, claimsDirectory: directory, warnings: afterwards)
        withExtendedLifetime(early) {}
        _ = next
    }

    @Test("getDevices(count:) returns distinct GPUs, best first")
    func several() {
        let devices = manager([gpu(0, used: 100), gpu(1, used: 10), gpu(2, used: 5000)]).getDevices(count: 2)
        #expect(devices.map(\.index) == [1, 0])
    }

    @Test("no GPU at all: the CPU, with cores and memory")
    func cpuOnly() {
        let warnings = Warnings()
        let device = DeviceManager(
            discoveries: [], claims: DeviceClaims(directory: "/nonexistent/x"), environment: { _ in nil },
            warn: { message in warnings.lines.withLock { $0.append(message) } }
        ).getDevice()
        #expect(device.kind == .cpu)
        #expect((device.cores ?? 0) >= 1)
        #expect((device.memoryTotal ?? 0) > 0)
        #expect(warnings.all == ["no GPU found (no NVML library, no nvidia-smi on PATH); using the CPU"])
    }
}

@Suite("nvidia-smi as a process")
struct NvidiaSMIProcessTests {
    @Test("a fake nvidia-smi with three GPUs: the freest is picked")
    func threeGPUs() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let result = try #require(NvidiaSMIDiscovery(executable: fake.path, timeout: 10).discover())
        #expect(result.gpus.map(\.index) == [0, 1, 2])
        #expect(result.warnings.isEmpty)
        let m = DeviceManager(
            discoveries: [NvidiaSMIDiscovery(executable: fake.path, timeout: 10)],
            claims: DeviceClaims(directory: FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID())").path),
            environment: { _ in nil }, warn: { _ in })
        #expect(m.getDevice().description == "cuda:1")
        #expect(m.getDevice().uuid == "GPU-bbbbbbbb-1111-1111-1111-111111111111")
    }

    @Test("no driver (exit 9): the CPU, with the reason")
    func noDriver() throws {
        let fake = try FakeNvidiaSMI.noDriver()
        defer { fake.remove() }
        let warnings = Warnings()
        let m = DeviceManager(
            discoveries: [NvidiaSMIDiscovery(executable: fake.path, timeout: 10)],
            claims: DeviceClaims(directory: "/tmp/tipi-test-claims-\(UUID())"), environment: { _ in nil },
            warn: { message in warnings.lines.withLock { $0.append(message) } })
        #expect(m.getDevice().kind == .cpu)
        #expect(warnings.all == ["nvidia-smi cannot reach the NVIDIA driver (exit 9); using the CPU"])
    }

    @Test("a hanging nvidia-smi is stopped after the timeout")
    func hang() throws {
        let fake = try FakeNvidiaSMI(delay: 30)
        defer { fake.remove() }
        let start = Date()
        let result = try #require(NvidiaSMIDiscovery(executable: fake.path, timeout: 0.5).discover())
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(result.gpus.isEmpty)
        #expect(result.warnings.first?.contains("did not answer within") == true)
    }

    @Test("a missing binary means no GPU, not a crash")
    func missing() {
        let result = NvidiaSMIDiscovery(executable: "/nonexistent/nvidia-smi", timeout: 1).discover()
        #expect(result?.gpus.isEmpty == true)
        #expect(result?.warnings.first?.contains("could not run /nonexistent/nvidia-smi") == true)
    }
}
