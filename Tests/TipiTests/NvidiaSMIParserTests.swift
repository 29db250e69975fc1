import Testing

@testable import Tipi

@Suite("nvidia-smi output parsing")
struct NvidiaSMIParserTests {
    let gib: Int64 = 1024 * 1024 * 1024

    @Test("csv,noheader,nounits")
    func plain() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 81920, 36537, 0
            1, GPU-bbbb, NVIDIA A100-SXM4-80GB, 81920, 1, 37

            """)
        #expect(warnings.isEmpty)
        #expect(gpus.count == 2)
        #expect(gpus[0] == GPUInfo(index: 0, uuid: "GPU-aaaa", name: "NVIDIA A100-SXM4-80GB", memoryTotal: 80 * gib, memoryUsed: 36537 * 1_048_576, memoryFree: (81920 - 36537) * 1_048_576, utilization: 0))
        #expect(gpus[1].utilization == 37)
        #expect(gpus[1].memoryFree == Int64(81920 - 1) * 1_048_576)
    }

    @Test("a header line and units are accepted")
    func headerAndUnits() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            index, uuid, name, memory.total [MiB], memory.used [MiB], utilization.gpu [%]
            0, GPU-aaaa, NVIDIA GeForce RTX 3090, 24576 MiB, 11279 MiB, 12 %
            """)
        #expect(warnings.isEmpty)
        #expect(gpus.count == 1)
        #expect(gpus[0].memoryTotal == 24 * gib)
        #expect(gpus[0].memoryUsed == Int64(11279) * 1_048_576)
        #expect(gpus[0].utilization == 12)
    }

    @Test("[N/A], [Not Supported] and [Insufficient Permissions] become unknown values (MIG, old drivers)")
    func unavailable() {
        let (gpus, warnings) = NvidiaSMIParser.parse(
            """
            0, GPU-aaaa, NVIDIA A100-SXM4-80GB, 81920, 36537, [N/A]
            1, GPU-bbbb, Tesla K80, 11441, 0, [Not Supported]
            2, [N/A], NVIDIA H100, [Insufficient Permissions], [Insufficient Permissions], 3
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
            0, GPU-aaaa, NVIDIA A100, 81920, 100, 1
            Segmentation fault
            x, GPU-cccc, NVIDIA A100, 81920, 100, 1
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
        let (gpus, _) = NvidiaSMIParser.parse("3, GPU-eeee, Odd, Name, 1000, 10, 50")
        #expect(gpus.first?.name == "Odd, Name")
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
