/// One GPU as a discovery backend reports it, before visibility and policy are applied.
struct GPUInfo: Sendable, Hashable {
    var index: Int
    var uuid: String?
    var name: String
    /// Bytes; `nil` when the driver reports `[N/A]`, `[Not Supported]` or `[Insufficient Permissions]`.
    var memoryTotal: Int64?
    var memoryUsed: Int64?
    var memoryFree: Int64?
    var utilization: Int?
}

/// What a discovery backend found, and what went wrong on the way (each warning is one line for the user).
struct GPUDiscoveryResult: Sendable {
    var gpus: [GPUInfo]
    var source: String
    var warnings: [String]
}

/// A way of finding GPUs: NVML, `nvidia-smi`, Metal. Adding one touches one file and the list in
/// ``DeviceManager``.
protocol GPUDiscovery: Sendable {
    /// A short name for `tipi devices` (`nvml`, `nvidia-smi`, `metal`).
    var name: String { get }
    /// The GPUs found; `nil` when this backend is not available here (so the next one is tried).
    func discover() -> GPUDiscoveryResult?
}
