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
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let value = line.split(separator: ":", maxSplits: 1).last {
                return value.trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    private static func machine() -> String {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// `MemAvailable` from `/proc/meminfo`, in bytes (Linux); `nil` elsewhere.
    private static func availableMemory() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kib = Int64(parts[1]) { return kib * 1024 }
        }
        return nil
    }
}
