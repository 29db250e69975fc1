#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds NVIDIA GPUs through NVML, loaded at run time with `dlopen("libnvidia-ml.so.1")`, so nothing links
/// against CUDA and the package builds everywhere. `TIPI_NVML=0` skips it; `TIPI_NVML_LIBRARY` names
/// another library file.
struct NVMLDiscovery: GPUDiscovery {
    var library: String = Environment.value("TIPI_NVML_LIBRARY") ?? "libnvidia-ml.so.1"

    var name: String { "nvml" }

    private typealias InitFunction = @convention(c) () -> Int32
    private typealias CountFunction = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    private typealias HandleFunction = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    private typealias TextFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    private typealias MemoryFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32
    private typealias UtilizationFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    private typealias IndexFunction = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32

    private static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func discover() -> GPUDiscoveryResult? {
        if Environment.value("TIPI_NVML") == "0" { return nil }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else { return nil }
        defer { dlclose(handle) }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            guard let pointer = dlsym(handle, name) else { return nil }
            return unsafeBitCast(pointer, to: type)
        }
        guard let initialize = symbol("nvmlInit_v2", as: InitFunction.self),
            let shutdown = symbol("nvmlShutdown", as: InitFunction.self),
            let count = symbol("nvmlDeviceGetCount_v2", as: CountFunction.self),
            let handleAt = symbol("nvmlDeviceGetHandleByIndex_v2", as: HandleFunction.self)
        else {
            return GPUDiscoveryResult(gpus: [], source: name, warnings: ["\(library) lacks the NVML functions Tipi needs"])
        }
        let initStatus = initialize()
        guard initStatus == 0 else {
            // 9 = NVML_ERROR_DRIVER_NOT_LOADED: let nvidia-smi have a go and report.
            return nil
        }
        defer { _ = shutdown() }
        let getName = symbol("nvmlDeviceGetName", as: TextFunction.self)
        let getUUID = symbol("nvmlDeviceGetUUID", as: TextFunction.self)
        let getMemory = symbol("nvmlDeviceGetMemoryInfo", as: MemoryFunction.self)
        let getUtilization = symbol("nvmlDeviceGetUtilizationRates", as: UtilizationFunction.self)
        let getIndex = symbol("nvmlDeviceGetIndex", as: IndexFunction.self)

        var total: UInt32 = 0
        guard count(&total) == 0 else {
            return GPUDiscoveryResult(gpus: [], source: name, warnings: ["NVML could not count the GPUs"])
        }
        var gpus: [GPUInfo] = []
        var warnings: [String] = []
        for position in 0..<total {
            var device: OpaquePointer?
            guard handleAt(position, &device) == 0 else {
                warnings.append("NVML could not open GPU \(position)")
                continue
            }
            var index = position
            if let getIndex { _ = getIndex(device, &index) }
            var info = GPUInfo(index: Int(index), name: "NVIDIA GPU \(index)")
            var text = [CChar](repeating: 0, count: 128)
            if let getName, getName(device, &text, UInt32(text.count)) == 0 {
                info.name = TerminalText.printable(Self.string(text))
            }
            text = [CChar](repeating: 0, count: 128)
            if let getUUID, getUUID(device, &text, UInt32(text.count)) == 0 {
                info.uuid = TerminalText.printable(Self.string(text))
            }
            var memory = [UInt64](repeating: 0, count: 3)  // nvmlMemory_t: total, free, used
            if let getMemory, getMemory(device, &memory) == 0 {
                info.memoryTotal = Int64(clamping: memory[0])
                info.memoryFree = Int64(clamping: memory[1])
                info.memoryUsed = Int64(clamping: memory[2])
            }
            var utilization = [UInt32](repeating: 0, count: 2)  // nvmlUtilization_t: gpu, memory
            if let getUtilization, getUtilization(device, &utilization) == 0 {
                info.utilization = Int(utilization[0])
            }
            gpus.append(info)
        }
        return GPUDiscoveryResult(gpus: gpus.sorted { $0.index < $1.index }, source: name, warnings: warnings)
    }
}
