import Foundation
import Tipi

/// The built-in device permanence (`type = "Device"`, as in Python tipi): picks and claims the device
/// when the pipeline starts, and hands it to every process, so `deviceManager.getDevice()` inside a
/// process returns it.
///
/// ```toml
/// [permanences.device]
/// type = "Device"
/// device = "auto"            # or "cuda:1", "cpu"; TIPI_DEVICE still wins
/// min_free_memory_gb = 20    # optional
/// ```
///
/// Restorable with nothing to restore: a resumed run picks (and claims) a device again in `initialize()`,
/// as processes never change it.
public final class DevicePermanence: RestorablePermanence, @unchecked Sendable {
    public static var permanenceName: String { "Device" }
    public static var summary: String? { "Picks the freest GPU (or the CPU) for the whole pipeline." }

    /// The requested device (`auto`, `cpu`, `cuda`, `cuda:N`, `metal`).
    public let request: String
    /// The free memory required, in GiB.
    public let minFreeMemoryGB: Double?
    /// The chosen device, after `initialize()`.
    public private(set) var device: Device?

    enum CodingKeys: String, CodingKey {
        case request = "device"
        case minFreeMemoryGB = "min_free_memory_gb"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        request = try container.decodeIfPresent(String.self, forKey: .request) ?? "auto"
        minFreeMemoryGB = try container.decodeIfPresent(Double.self, forKey: .minFreeMemoryGB)
    }

    public func initialize() async throws {
        let minimum = minFreeMemoryGB.map { Int64($0 * 1_073_741_824) }
        if request != "auto", ProcessInfo.processInfo.environment["TIPI_DEVICE"] == nil {
            device = try deviceManager.select(request, minFreeMemory: minimum)
        } else {
            device = try deviceManager.selectDevice(minFreeMemory: minimum)
        }
    }

    /// Nothing to restore: the device was chosen again by ``initialize()``.
    public func restore(from directory: URL) async throws {}
}
