/// What `tipi devices` shows: every device found, who claims it, and what `getDevice()` would pick and why.
public struct DeviceInventory: Sendable, Codable {
    /// One device and its claim.
    public struct Entry: Sendable, Codable {
        public var device: Device
        /// The pid of the process holding the device's claim, if any.
        public var claimedBy: Int32?
    }

    /// Every device found: the visible GPUs, then the CPU.
    public var devices: [Entry]
    /// How GPUs were found: `nvml`, `nvidia-smi`, `metal`, or `none`.
    public var source: String
    /// What `getDevice()` would pick now (without claiming it).
    public var choice: Device
    /// Why.
    public var reason: String
    /// Problems met on the way, one line each.
    public var warnings: [String]
}
