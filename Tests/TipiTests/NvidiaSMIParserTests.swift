import Foundation
import Testing
import TipiTestSupport

@testable import Tipi

@Suite("nvidia-smi output parsing")
struct NvidiaSMIParserTests {
    let gib: Int64 = 1024 * 1024 * 1024
    let mib: Int64 = 1_048_576

    @Test("csv,noheader,nounits")
    func plain() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 81920, 36537, 45383, 0
            1, GPU-bbbb, NVIDIA A100-SXM4-80GB, 81920, 1, 81919, 37

            """)
        #expect(warnings.isEmpty)
        #expect(gpus.count == 2)
        #expect(gpus[0] == GPUInfo(index: 0, uuid: "GPU-aaaa", name: "NVIDIA A100-SXM4-80GB", memoryTotal: 80 * gib, memoryUsed: 36537 * 1_048_576, memoryFree: (81920 - 36537) * 1_048_576, utilization: 0))
        #expect(gpus[1].utilization == 37)
        #expect(gpus[1].memoryFree == Int64(81920 - 1) * 1_048_576)
    }

    @Test("a real H200: free is memory.free, used is total − free (the 615 MiB the driver reserves count as used, as in NVML)")
    func reservedMemory() {
        let (gpus, warnings) = NvidiaSMIParser.parse(FakeNvidiaSMI.h200)
        #expect(warnings.isEmpty)
        #expect(
            gpus == [
                GPUInfo(
                    index: 0, uuid: "GPU-d787f051-447a-01b5-cbb2-1ced6301a160", name: "NVIDIA H200", memoryTotal: 143771 * mib,
                    memoryUsed: 615 * mib, memoryFree: 143156 * mib, utilization: 0)
            ])
        // An older driver counts the reserved memory in memory.used: the same reading.
        #expect(NvidiaSMIParser.parse("0, GPU-d787f051-447a-01b5-cbb2-1ced6301a160, NVIDIA H200, 143771, 615, 143156, 0").gpus == gpus)
    }

    @Test("random figures: with nothing reserved the reading is the old total − used; with reserved memory, free is memory.free")
    func randomFigures() {
        var generator = SeededRandomNumberGenerator(seed: 0x5EED_14)
        for _ in 0..<2_000 {
            let total = Int64.random(in: 0...1 << 22, using: &generator)
            let used = Int64.random(in: 0...total, using: &generator)
            let reserved = Int64.random(in: 0...(total - used), using: &generator)
            let free = total - used - reserved
            let line = "3, GPU-r, NVIDIA GPU, \(total), \(used), \(free), 5"
            let (gpus, warnings) = NvidiaSMIParser.parse(line)
            #expect(warnings.isEmpty)
            #expect(gpus.first?.memoryTotal == total * mib, "\(line)")
            #expect(gpus.first?.memoryFree == free * mib, "\(line)")
            #expect(gpus.first?.memoryUsed == (used + reserved) * mib, "\(line)")
            if reserved == 0 {
                // What the parser read before it asked for memory.free.
                #expect(gpus.first?.memoryFree == max(total - used, 0) * mib, "\(line)")
                #expect(gpus.first?.memoryUsed == used * mib, "\(line)")
            }
        }
    }

    @Test("more memory free than in total: the line is skipped with a warning naming it; the others survive")
    func freeBeyondTotal() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100, 81920, 0, 81921, 0
            1, GPU-bbbb, NVIDIA A100, 81920, 0, 81920, 0
            """)
        #expect(gpus.map(\.index) == [1])
        #expect(gpus.first?.memoryUsed == 0)
        #expect(
            warnings == [
                "nvidia-smi line 1: more memory free than in total, so its figures cannot be trusted: 0, GPU-aaaa, NVIDIA A100, 81920, 0, 81921, 0"
            ])
    }

    @Test("unknown memory.free: free falls back to total − memory.used; unknown total: free is still memory.free")
    func unknownFree() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100, 81920, 1000, [N/A], 3
            1, GPU-bbbb, NVIDIA A100, 81920, 90000, [N/A], 3
            2, GPU-cccc, NVIDIA A100, [N/A], 1000, 80000, 3
            3, GPU-dddd, NVIDIA A100, 81920, [N/A], [N/A], 3
            4, GPU-eeee, NVIDIA A100, [N/A], 1000, [N/A], 3
            """)
        #expect(warnings.isEmpty)
        #expect(gpus.count == 5)
        #expect(gpus[0].memoryFree == 80920 * mib)
        #expect(gpus[0].memoryUsed == 1000 * mib)
        #expect(gpus[1].memoryFree == 0)  // more used than in total: nothing free, as before memory.free
        #expect(gpus[1].memoryUsed == 81920 * mib)  // and used is total − free
        #expect(gpus[2].memoryTotal == nil)
        #expect(gpus[2].memoryFree == 80000 * mib)
        #expect(gpus[2].memoryUsed == nil)
        #expect(gpus[3].memoryFree == nil)
        #expect(gpus[3].memoryUsed == nil)
        #expect(gpus[4].memoryFree == nil)
        #expect(gpus[4].memoryUsed == 1000 * mib)
    }

    @Test("a line of the old query (six fields) is skipped, saying seven are expected")
    func oldQuery() {
        let (gpus, warnings) = NvidiaSMIParser.parse("0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 81920, 36537, 0")
        #expect(gpus.isEmpty)
        #expect(warnings == ["nvidia-smi line 1 has 6 fields, expected 7: 0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 81920, 36537, 0"])
    }

    @Test("the query asks for memory.free, never memory.reserved (older drivers reject it and the whole query)")
    func query() throws {
        #expect(NvidiaSMIDiscovery.query == "index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu")
        #expect(NvidiaSMIDiscovery.query == FakeNvidiaSMI.query)
        #expect(!NvidiaSMIDiscovery.query.contains("reserved"))
        // The fake refuses any other query, as a real nvidia-smi refuses a field it does not know.
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        #expect(NvidiaSMIDiscovery(executable: fake.path, timeout: 30).discover()?.gpus.count == 3)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fake.path)
        process.arguments = ["--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu", "--format=csv,noheader,nounits"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
    }

    @Test("a header line and units are accepted")
    func headerAndUnits() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            index, uuid, name, memory.total [MiB], memory.used [MiB], memory.free [MiB], utilization.gpu [%]
            0, GPU-aaaa, NVIDIA GeForce RTX 3090, 24576 MiB, 11279 MiB, 12985 MiB, 12 %
            """)
        #expect(warnings.isEmpty)
        #expect(gpus.count == 1)
        #expect(gpus[0].memoryTotal == 24 * gib)
        #expect(gpus[0].memoryUsed == Int64(24576 - 12985) * 1_048_576)
        #expect(gpus[0].memoryFree == Int64(12985) * 1_048_576)
        #expect(gpus[0].utilization == 12)
    }

    @Test("[N/A], [Not Supported] and [Insufficient Permissions] become unknown values (MIG, old drivers)")
    func unavailable() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 81920, 36537, 45383, [N/A]
            1, GPU-bbbb, Tesla K80, 11441, 0, 11441, [Not Supported]
            2, [N/A], NVIDIA H100, [Insufficient Permissions], [Insufficient Permissions], [Insufficient Permissions], 3
            """)
        #expect(warnings.isEmpty)
        #expect(gpus.count == 3)
        #expect(gpus[0].utilization == nil)
        #expect(gpus[0].memoryFree != nil)
        #expect(gpus[1].utilization == nil)
        #expect(gpus[2].uuid == nil)
        #expect(gpus[2].memoryTotal == nil)
        #expect(gpus[2].memoryFree == nil)
        #expect(gpus[2].utilization == 3)
    }

    @Test("garbage and truncated lines are skipped with a warning naming them; good lines survive")
    func garbage() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100, 81920, 100, 81820, 1
            Segmentation fault
            x, GPU-cccc, NVIDIA A100, 81920, 100, 81820, 1
            2, GPU-dddd, NVIDIA A1
            """)
        #expect(gpus.map(\.index) == [0])
        #expect(warnings.count == 3)
        #expect(warnings[0].contains("line 2"))
        #expect(warnings[1].contains("'x' is not a GPU index"))
        #expect(warnings[2].contains("line 4"))
    }

    @Test("the no-driver message is not mistaken for GPUs")
    func noDriver() {
        let (gpus, _) = NvidiaSMIParser.parse(
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.")
        #expect(gpus.isEmpty)
        #expect(NvidiaSMIParser.parse("").gpus.isEmpty)
    }

    @Test("names with commas are kept whole")
    func commaInName() {
        let (gpus, _) = NvidiaSMIParser.parse("3, GPU-eeee, Odd, Name, 1000, 10, 990, 50")
        #expect(gpus.first?.name == "Odd, Name")
        #expect(gpus.first?.memoryFree == 990 * mib)
        #expect(gpus.first?.utilization == 50)
    }
}

@Suite("CUDA_VISIBLE_DEVICES")
struct VisibleDevicesTests {
    let gpus = (0..<3).map { GPUInfo(index: $0, uuid: "GPU-\($0)abc-\($0)", name: "GPU \($0)") }

    @Test("unset: all, in order; empty: none")
    func unsetAndEmpty() {
        #expect(VisibleDevices.apply(nil, to: gpus.reversed()).visible.map(\.index) == [0, 1, 2])
        #expect(VisibleDevices.apply("", to: gpus).visible.isEmpty)
        #expect(VisibleDevices.apply(" ", to: gpus).warnings.isEmpty)
    }

    @Test("indices and UUIDs select and reorder; a unique UUID prefix is enough")
    func selection() {
        #expect(VisibleDevices.apply("2,0", to: gpus).visible.map(\.index) == [2, 0])
        #expect(VisibleDevices.apply("GPU-1abc-1", to: gpus).visible.map(\.index) == [1])
        #expect(VisibleDevices.apply("GPU-2a, 0", to: gpus).visible.map(\.index) == [2, 0])
    }

    @Test("like CUDA, reading stops at the first entry that matches nothing, with a warning")
    func invalid() {
        let result = VisibleDevices.apply("1,7,0", to: gpus)
        #expect(result.visible.map(\.index) == [1])
        #expect(result.warnings.count == 1)
        #expect(result.warnings[0].contains("'7' names no GPU here"))
        #expect(VisibleDevices.apply("GPU-", to: gpus).visible.isEmpty)  // ambiguous prefix
        #expect(VisibleDevices.apply("0,0", to: gpus).visible.map(\.index) == [0])
        #expect(VisibleDevices.apply("MIG-abc", to: gpus).warnings.count == 1)
    }
}

@Suite("Device names")
struct DeviceRequestTests {
    @Test("cpu, cuda, cuda:N, metal, auto; anything else is refused")
    func parse() {
        #expect(DeviceRequest.parse("cpu") == DeviceRequest(kind: .cpu, index: nil))
        #expect(DeviceRequest.parse("CUDA:1") == DeviceRequest(kind: .cuda, index: 1))
        #expect(DeviceRequest.parse("cuda") == DeviceRequest(kind: .cuda, index: nil))
        #expect(DeviceRequest.parse("metal:0") == DeviceRequest(kind: .metal, index: 0))
        #expect(DeviceRequest.parse("auto") == DeviceRequest(kind: nil, index: nil))
        #expect(DeviceRequest.parse("cuda:-1") == nil)
        #expect(DeviceRequest.parse("tpu") == nil)
        #expect(DeviceRequest.parse("cuda:1:2") == nil)
        #expect(DeviceRequest.parse("cpu:1") == nil)
        #expect(Device(kind: .cuda, index: 1, name: "x").description == "cuda:1")
        #expect(Device(kind: .cpu, index: 0, name: "x").description == "cpu")
    }
}
