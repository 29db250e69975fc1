import Foundation

/// The CPU as a ``Device``: model name, cores, total and available memory.
enum CPUInfo {
    static func device() -> Device {
        let info = ProcessInfo.processInfo
        return Device(
            kind: .cpu, index: 0, name: modelName() ?? machine(), memoryTotal: Int64(clamping: info.physicalMemory),
            memoryFree: availableMemory(), utilization: nil, cores: info.activeProcessorCount)
    }

    private static func modelName() -> String? {
        Platform.cpuModelName()
    }

    private static func machine() -> String {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The memory programs can have now, in bytes (see ``Platform/availableMemory()``).
    private static func availableMemory() -> Int64? {
        Platform.availableMemory()
    }
}
