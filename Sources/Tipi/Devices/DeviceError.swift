/// Why a device request cannot be met.
public enum DeviceError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `TIPI_DEVICE` (or a requested name) is not of the form `cpu`, `cuda`, `cuda:N`, `metal`, `metal:N`, `auto`.
    case invalidName(String, source: String)
    /// The requested device does not exist here.
    case notFound(String, source: String, available: [String])

    public var description: String {
        switch self {
        case .invalidName(let name, let source):
            return "\(source)=\(TerminalText.excerpt(name, limit: 60)) is not a device name; expected cpu, cuda, cuda:N, metal, metal:N or auto"
        case .notFound(let name, let source, let available):
            let list = available.joined(separator: ", ")
            var text = "\(source)=\(TerminalText.excerpt(name, limit: 60)): no such device here; devices found: \(list)"
            if name.hasPrefix("cuda"), !available.contains(where: { $0.hasPrefix("cuda") }) {
                text += " (no NVIDIA GPU is visible: check the driver, nvidia-smi and CUDA_VISIBLE_DEVICES)"
            }
            return text
        }
    }
}

/// A parsed device request such as `cuda:1`.
struct DeviceRequest: Equatable, Sendable {
    var kind: Device.Kind?
    var index: Int?

    /// `nil` kind means automatic choice.
    static func parse(_ text: String) -> DeviceRequest? {
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        if value == "auto" || value.isEmpty { return DeviceRequest(kind: nil, index: nil) }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let kind: Device.Kind
        switch parts[0] {
        case "cpu": kind = .cpu
        case "cuda", "gpu": kind = .cuda
        case "metal", "mps": kind = .metal
        default: return nil
        }
        if parts.count == 2 {
            guard let index = Int(parts[1]), index >= 0, kind != .cpu || index == 0 else { return nil }
            return DeviceRequest(kind: kind, index: index)
        }
        return DeviceRequest(kind: kind, index: nil)
    }
}
