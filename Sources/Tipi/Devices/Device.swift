/// A compute device a program can run on: an NVIDIA GPU, an Apple GPU, or the CPU.
///
/// ```swift
/// let device = deviceManager.getDevice()
/// print(device)                 // "cuda:1", "metal:0" or "cpu"
/// ```
public struct Device: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The kind of device.
    public enum Kind: String, Sendable, Hashable, Codable {
        case cuda
        case metal
        case cpu
    }

    /// The kind of device.
    public var kind: Kind
    /// The ordinal the program's runtime uses (`cuda:1` is the second GPU *visible* to the process,
    /// after `CUDA_VISIBLE_DEVICES`); 0 for the CPU.
    public var index: Int
    /// The index `nvidia-smi` shows for this GPU (differs from ``index`` when `CUDA_VISIBLE_DEVICES` is set).
    public var physicalIndex: Int?
    /// The GPU's UUID (`GPU-…`), when known.
    public var uuid: String?
    /// A human-readable name (`NVIDIA A100-SXM4-80GB`, the CPU model).
    public var name: String
    /// Total memory in bytes, when known.
    public var memoryTotal: Int64?
    /// Free memory in bytes, when known.
    public var memoryFree: Int64?
    /// Utilization in percent, when known.
    public var utilization: Int?
    /// CPU cores (for the CPU device).
    public var cores: Int?

    public init(
        kind: Kind, index: Int, physicalIndex: Int? = nil, uuid: String? = nil, name: String,
        memoryTotal: Int64? = nil, memoryFree: Int64? = nil, utilization: Int? = nil, cores: Int? = nil
    ) {
        self.kind = kind
        self.index = index
        self.physicalIndex = physicalIndex
        self.uuid = uuid
        self.name = name
        self.memoryTotal = memoryTotal
        self.memoryFree = memoryFree
        self.utilization = utilization
        self.cores = cores
    }

    /// `cuda:1`, `metal:0` or `cpu` — the form PyTorch and `TIPI_DEVICE` use.
    public var description: String {
        kind == .cpu ? "cpu" : "\(kind.rawValue):\(index)"
    }

    /// Used memory in bytes, when both figures are known.
    public var memoryUsed: Int64? {
        guard let memoryTotal, let memoryFree else { return nil }
        return memoryTotal - memoryFree
    }

    /// The fraction of memory in use (0…1), when known.
    public var memoryUsage: Double? {
        guard let memoryTotal, let memoryUsed, memoryTotal > 0 else { return nil }
        return Double(memoryUsed) / Double(memoryTotal)
    }
}
