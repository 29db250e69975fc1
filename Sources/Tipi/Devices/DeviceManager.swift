import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process-wide device manager (level 3): `deviceManager.getDevice()`.
public let deviceManager = DeviceManager()

/// Picks the best device for this process, and claims it so that other processes on the machine pick another.
///
/// ```swift
/// let device = deviceManager.getDevice()                  // the freest GPU, or the CPU
/// let big = deviceManager.getDevice(minFreeMemory: 40 << 30)
/// let pair = deviceManager.getDevices(count: 2)
/// ```
///
/// The rules, in order:
/// 1. Inside a pipeline the pipeline's device (``PipelineContext/device``) is returned as it is.
/// 2. `TIPI_DEVICE=cuda:1 | cuda | metal | cpu | auto` forces the choice; a device that does not exist is an
///    error naming the devices that do.
/// 3. Otherwise: among the GPUs visible to the process (`CUDA_VISIBLE_DEVICES`), those with enough free
///    memory and at most ``maxMemoryUsage`` in use, the one with the most free memory, ties broken by lower
///    utilization; a GPU already claimed by another process is skipped while an unclaimed one is left.
///    With no such GPU: the CPU, with one warning line that says why.
///
/// The claim is an advisory lock (`flock`) held until the process exits; the kernel releases it even after
/// `kill -9`. When every suitable GPU is claimed, the best one is shared, with a warning. Calling
/// `getDevice()` again in the same process returns the device it chose first, even once that GPU is full
/// (this process is probably what fills it).
///
/// NVIDIA GPUs are found through NVML (`libnvidia-ml.so.1`, loaded at run time) or, failing that,
/// `nvidia-smi` (`TIPI_NVIDIA_SMI`); both are abandoned after `TIPI_NVIDIA_SMI_TIMEOUT` seconds. Apple GPUs
/// through Metal. ``Device/index`` follows `nvidia-smi`'s (PCI bus) order: set `CUDA_DEVICE_ORDER=PCI_BUS_ID`
/// before the program starts so that CUDA numbers GPUs the same way (Tipi never changes the environment of
/// a running program; it warns when GPUs of different models make the two orders differ).
public final class DeviceManager: Sendable {
    let discoveries: [any GPUDiscovery]
    let claims: DeviceClaims
    let environment: @Sendable (String) -> String?
    let warn: @Sendable (String) -> Void
    private let state: Mutex<ManagerState>

    private struct ManagerState {
        var maxMemoryUsage: Double
        var held: [String: DeviceClaims.Claim] = [:]
        /// The GPUs automatic choice returned, first choice first (by claim key): later calls return them again.
        var chosen: [String] = []
        var warned: Set<String> = []
    }

    /// Creates a manager reading the process environment and warning through Tipi's diagnostics (on
    /// standard error, above any bars).
    public convenience init() {
        let timeout = NvidiaSMIDiscovery.defaultTimeout()
        var discoveries: [any GPUDiscovery] = [
            TimeLimitedDiscovery(NVMLDiscovery(), timeout: timeout), NvidiaSMIDiscovery(timeout: timeout),
        ]
        #if canImport(Metal)
            discoveries.append(MetalDiscovery())
        #endif
        self.init(
            discoveries: discoveries, claims: DeviceClaims(), environment: { Environment.value($0) },
            warn: { Diagnostics.warn($0) },
            maxMemoryUsage: Environment.number("TIPI_MAX_MEMORY_USAGE", default: 0.8, in: 0...1))
    }

    init(
        discoveries: [any GPUDiscovery], claims: DeviceClaims,
        environment: @escaping @Sendable (String) -> String?, warn: @escaping @Sendable (String) -> Void,
        maxMemoryUsage: Double = 0.8
    ) {
        self.discoveries = discoveries
        self.claims = claims
        self.environment = environment
        self.warn = warn
        self.state = Mutex(ManagerState(maxMemoryUsage: Self.clamped(maxMemoryUsage)))
    }

    /// `value` within 0…1 (NaN is 0.8, the default).
    private static func clamped(_ value: Double) -> Double {
        value.isNaN ? 0.8 : min(max(value, 0), 1)
    }

    /// GPUs with more than this fraction of their memory in use are not chosen (Python tipi's 80 % by default;
    /// `TIPI_MAX_MEMORY_USAGE`).
    public var maxMemoryUsage: Double {
        get { state.withLock { $0.maxMemoryUsage } }
        set { state.withLock { $0.maxMemoryUsage = Self.clamped(newValue) } }
    }

    // MARK: - Choosing

    /// The best device for this process, claimed for its lifetime (see the type's documentation).
    ///
    /// A `TIPI_DEVICE` that names no device here is a configuration error: the message names the devices
    /// found, and the program exits with status 2 (an open run is marked `failed`). Use ``selectDevice(minFreeMemory:)`` to handle it yourself.
    public func getDevice(minFreeMemory: Int64? = nil) -> Device {
        do {
            return try selectDevice(minFreeMemory: minFreeMemory)
        } catch {
            exitWithConfigurationError(error)
        }
    }

    /// Up to `count` distinct GPUs, claimed; the CPU alone when there is no suitable GPU.
    public func getDevices(count: Int, minFreeMemory: Int64? = nil) -> [Device] {
        do {
            return try selectDevices(count: count, minFreeMemory: minFreeMemory)
        } catch {
            exitWithConfigurationError(error)
        }
    }

    /// Like ``getDevice(minFreeMemory:)``, but throws ``DeviceError`` instead of exiting.
    public func selectDevice(minFreeMemory: Int64? = nil) throws -> Device {
        try selectDevices(count: 1, minFreeMemory: minFreeMemory).first ?? fellBack(CPUInfo.device(), because: "no GPU found")
    }

    /// Like ``getDevices(count:minFreeMemory:)``, but throws ``DeviceError`` instead of exiting.
    public func selectDevices(count: Int, minFreeMemory: Int64? = nil) throws -> [Device] {
        if let device = PipelineContext.current?.device { return [device] }
        let survey = survey()
        if let forced = try forcedDevice(in: survey) {
            if forced.kind == .cuda, let gpu = survey.gpu(for: forced) { _ = claim(gpu, force: true) }
            return [finalize(forced, in: survey)]
        }
        // The GPUs this process chose before, still visible, come first and whatever their load now: a
        // second getDevice() returns the same device as the first.
        let earlier = state.withLock { state in state.chosen + state.held.keys.filter { !state.chosen.contains($0) }.sorted() }
        var chosen: [Device] = earlier.compactMap { key in
            survey.devices.first { device in survey.gpu(for: device).map(DeviceClaims.key(for:)) == key }
        }
        chosen = Array(chosen.prefix(count))
        let plan = rank(survey, minFreeMemory: minFreeMemory)
        if let reason = plan.fallbackReason, chosen.isEmpty {
            warnOnce(reason)
            return [fellBack(survey.cpu, because: reason)]
        }
        survey.warnings.forEach(warnOnce)
        for device in plan.ranked where chosen.count < count && !chosen.contains(device) {
            if let gpu = survey.gpu(for: device), claim(gpu, force: false) { chosen.append(device) }
        }
        if chosen.isEmpty, let best = plan.ranked.first {
            let holders = plan.ranked.compactMap { device in
                survey.gpu(for: device).flatMap { claims.holder(of: DeviceClaims.key(for: $0)) }.map { "\(device) by pid \($0)" }
            }
            warnOnce(
                "every suitable GPU is claimed by another process (\(holders.joined(separator: ", "))); "
                    + "sharing \(best) with it")
            chosen.append(best)
        } else if chosen.count < count {
            warnOnce("asked for \(count) GPUs, \(chosen.count) available and unclaimed: using \(chosen.map(\.description).joined(separator: ", "))")
        }
        remember(chosen, in: survey)
        return chosen.map { finalize($0, in: survey) }
    }

    /// Records the GPUs returned by automatic choice, so later calls return them again.
    private func remember(_ devices: [Device], in survey: Survey) {
        let keys = devices.compactMap { survey.gpu(for: $0).map(DeviceClaims.key(for:)) }
        state.withLock { state in
            for key in keys where !state.chosen.contains(key) { state.chosen.append(key) }
        }
    }

    /// The device a name designates (`cpu`, `cuda`, `cuda:1`, `metal`, `auto`), claimed like
    /// ``getDevice(minFreeMemory:)`` claims its choice. `TIPI_DEVICE` still wins when set.
    public func select(_ name: String, minFreeMemory: Int64? = nil) throws -> Device {
        if let device = PipelineContext.current?.device { return device }
        let survey = survey()
        if let forced = try forcedDevice(in: survey) ?? named(name, source: "device", in: survey) {
            if forced.kind == .cuda, let gpu = survey.gpu(for: forced) { _ = claim(gpu, force: true) }
            return finalize(forced, in: survey)
        }
        return try selectDevice(minFreeMemory: minFreeMemory)
    }

    /// Every device found, who claims it, and what ``getDevice(minFreeMemory:)`` would pick now and why
    /// (nothing is claimed).
    public func inventory() -> DeviceInventory {
        let survey = survey()
        var warnings = survey.warnings
        let entries =
            survey.devices.map { device in
                DeviceInventory.Entry(
                    device: device,
                    claimedBy: survey.gpu(for: device).flatMap { claims.holder(of: DeviceClaims.key(for: $0)) })
            } + [DeviceInventory.Entry(device: survey.cpu, claimedBy: nil)]
        let choice: Device
        let reason: String
        do {
            if let forced = try forcedDevice(in: survey) {
                choice = forced
                reason = "TIPI_DEVICE=\(TerminalText.excerpt(environment("TIPI_DEVICE") ?? "", limit: 60)) forces it"
            } else {
                let plan = rank(survey, minFreeMemory: nil)
                if let fallback = plan.fallbackReason {
                    choice = survey.cpu
                    reason = fallback
                } else {
                    let free = entries.filter { $0.claimedBy == nil || $0.claimedBy == getpid() }.map(\.device)
                    let best = plan.ranked.first { free.contains($0) } ?? plan.ranked.first ?? survey.cpu
                    choice = best
                    reason = explain(best, unclaimed: free.contains(best))
                }
            }
        } catch {
            warnings.append("\(error)")
            choice = survey.cpu
            reason = "TIPI_DEVICE is not usable (see the warning); getDevice() would stop with an error"
        }
        return DeviceInventory(
            devices: entries, source: survey.source, choice: choice, reason: reason, warnings: warnings)
    }

    // MARK: - Steps

    /// The machine as discovered now: visible GPUs as devices, the CPU, and the warnings met.
    struct Survey {
        var devices: [Device]
        var gpus: [Int: GPUInfo]  // by visible ordinal
        var cpu: Device
        var source: String
        var warnings: [String]

        func gpu(for device: Device) -> GPUInfo? {
            device.kind == .cpu ? nil : gpus[device.index]
        }
    }

    func survey() -> Survey {
        var warnings: [String] = []
        var result: GPUDiscoveryResult?
        for discovery in discoveries {
            if let found = discovery.discover() {
                warnings += found.warnings
                if !found.gpus.isEmpty || discovery.name != "nvml" {
                    result = found
                    if !found.gpus.isEmpty { break }
                }
            }
        }
        let cpu = CPUInfo.device()
        guard let result, !result.gpus.isEmpty else {
            return Survey(devices: [], gpus: [:], cpu: cpu, source: result?.source ?? "none", warnings: warnings)
        }
        let kind: Device.Kind = result.source == "metal" ? .metal : .cuda
        var visible = result.gpus
        if kind == .cuda {
            let applied = VisibleDevices.apply(environment("CUDA_VISIBLE_DEVICES"), to: result.gpus)
            visible = applied.visible
            warnings += applied.warnings
            if visible.isEmpty, applied.warnings.isEmpty {
                warnings.append("CUDA_VISIBLE_DEVICES is empty: no GPU is visible to this process")
            }
        }
        var devices: [Device] = []
        var gpus: [Int: GPUInfo] = [:]
        for (ordinal, gpu) in visible.enumerated() {
            devices.append(
                Device(
                    kind: kind, index: ordinal, physicalIndex: gpu.index, uuid: gpu.uuid, name: gpu.name,
                    memoryTotal: gpu.memoryTotal, memoryFree: gpu.memoryFree, utilization: gpu.utilization))
            gpus[ordinal] = gpu
        }
        return Survey(devices: devices, gpus: gpus, cpu: cpu, source: result.source, warnings: warnings)
    }

    /// The device `TIPI_DEVICE` forces, `nil` for automatic choice.
    func forcedDevice(in survey: Survey) throws -> Device? {
        guard let text = environment("TIPI_DEVICE"), !text.isEmpty else { return nil }
        return try named(text, source: "TIPI_DEVICE", in: survey)
    }

    /// The device a name such as `cuda:1` designates here; `nil` for `auto`.
    func named(_ text: String, source: String, in survey: Survey) throws -> Device? {
        guard let request = DeviceRequest.parse(text) else { throw DeviceError.invalidName(text, source: source) }
        guard let kind = request.kind else { return nil }
        if kind == .cpu { return survey.cpu }
        let candidates = survey.devices.filter { $0.kind == kind }
        let available = survey.devices.map(\.description) + ["cpu"]
        if let index = request.index {
            guard let device = candidates.first(where: { $0.index == index }) else {
                throw DeviceError.notFound(text, source: source, available: available)
            }
            return device
        }
        guard !candidates.isEmpty else { throw DeviceError.notFound(text, source: source, available: available) }
        return rank(Survey(devices: candidates, gpus: survey.gpus, cpu: survey.cpu, source: survey.source, warnings: []), minFreeMemory: nil)
            .ranked.first ?? candidates[0]
    }

    struct Plan {
        var ranked: [Device]
        var fallbackReason: String?
    }

    /// Suitable GPUs, best first: most free memory, then lowest utilization, then lowest index.
    func rank(_ survey: Survey, minFreeMemory: Int64?) -> Plan {
        guard !survey.devices.isEmpty else {
            let cause =
                survey.warnings.isEmpty
                ? (survey.source == "none" ? "no GPU found (no NVML library, no nvidia-smi on PATH)" : "no GPU found")
                : survey.warnings.joined(separator: "; ")
            return Plan(ranked: [], fallbackReason: cause + "; using the CPU")
        }
        let limit = maxMemoryUsage
        var suitable = survey.devices.filter { device in
            if let usage = device.memoryUsage, usage > limit { return false }
            if let minFreeMemory {
                guard let free = device.memoryFree, free >= minFreeMemory else { return false }
            }
            return true
        }
        suitable.sort { a, b in
            switch (a.memoryFree, b.memoryFree) {
            case let (x?, y?) where x != y: return x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: break
            }
            let ua = a.utilization ?? 101
            let ub = b.utilization ?? 101
            if ua != ub { return ua < ub }
            return a.index < b.index
        }
        if suitable.isEmpty {
            let usage = survey.devices.map { device in
                "\(device) \(device.memoryUsage.map { "\(Int(($0 * 100).rounded()))% used" } ?? "memory unknown")"
            }.joined(separator: ", ")
            let reason: String
            if let minFreeMemory {
                reason = "no GPU has \(Self.gibibytes(minFreeMemory)) free and at most \(Int(limit * 100))% in use (\(usage)); using the CPU"
            } else {
                reason = "every GPU has more than \(Int(limit * 100))% of its memory in use (\(usage)); using the CPU (TIPI_MAX_MEMORY_USAGE raises the limit)"
            }
            return Plan(ranked: [], fallbackReason: reason)
        }
        return Plan(ranked: suitable, fallbackReason: nil)
    }

    func explain(_ device: Device, unclaimed: Bool) -> String {
        var parts = ["the most free memory" + (unclaimed ? " among unclaimed GPUs" : " (every suitable GPU is claimed: it would be shared)")]
        if let free = device.memoryFree, let total = device.memoryTotal {
            parts.append("\(Self.gibibytes(free)) free of \(Self.gibibytes(total))")
        }
        if let utilization = device.utilization { parts.append("\(utilization)% busy") }
        return parts.joined(separator: ", ")
    }

    static func gibibytes(_ bytes: Int64) -> String {
        String(format: "%.1f GiB", Double(bytes) / 1_073_741_824)
    }

    /// Claims `gpu` for this process; `false` when another process holds it (and `force` is not set).
    /// When claims cannot be used safely, GPUs are chosen without them (one warning).
    private func claim(_ gpu: GPUInfo, force: Bool) -> Bool {
        let key = DeviceClaims.key(for: gpu)
        if state.withLock({ $0.held[key] != nil }) { return true }
        if let problem = claims.prepare() {
            warnOnce(problem + "; GPUs are chosen without claims")
            return true
        }
        switch claims.tryClaim(key) {
        case .claimed(let claim):
            state.withLock { $0.held[key] = claim }
            return true
        case .busy:
            return force
        case .unusable(let problem):
            warnOnce(problem + "; this GPU is chosen without a claim")
            return true
        }
    }

    private func finalize(_ device: Device, in survey: Survey) -> Device {
        if device.kind == .cuda, environment("CUDA_DEVICE_ORDER") != "PCI_BUS_ID" {
            warnAboutDeviceOrder(survey)
        }
        // Published, not handed to tracking by name: the run in use records it (see `RunRegistry`).
        Lifecycle.publish(device)
        return device
    }

    /// The CPU, chosen because no GPU would do: announced with the reason, which the run in use records.
    private func fellBack(_ cpu: Device, because reason: String) -> Device {
        Lifecycle.publish(DeviceFallback(device: cpu, reason: reason))
        return cpu
    }

    private func warnOnce(_ message: String) {
        let isNew = state.withLock { $0.warned.insert(message).inserted }
        if isNew { warn(message) }
    }

    /// CUDA numbers GPUs fastest first unless `CUDA_DEVICE_ORDER=PCI_BUS_ID`; with GPUs of one model the two
    /// orders agree, with several models they may not, and `cuda:N` could then name another GPU in CUDA.
    private func warnAboutDeviceOrder(_ survey: Survey) {
        let models = Set(survey.gpus.values.map(\.name))
        guard models.count > 1 else { return }
        warnOnce(
            "GPUs of different models (\(models.sorted().joined(separator: ", "))) and CUDA_DEVICE_ORDER is not PCI_BUS_ID: "
                + "CUDA may number them differently from Tipi and nvidia-smi; start the program with CUDA_DEVICE_ORDER=PCI_BUS_ID")
    }

    private func exitWithConfigurationError(_ error: any Error) -> Never {
        ConfigurationExit.exit("\(error)")
    }
}

/// The announcement that the device chosen is the CPU because no GPU would do, and why.
package struct DeviceFallback: Sendable {
    /// The CPU.
    package var device: Device
    /// `no GPU found`, `every GPU has more than 90% of its memory in use (…); using the CPU`.
    package var reason: String
}
