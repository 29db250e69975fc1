import Foundation

/// Finds NVIDIA GPUs by running `nvidia-smi` (the fallback when NVML cannot be loaded).
///
/// The binary is `TIPI_NVIDIA_SMI` or `nvidia-smi` on `PATH`; a run that takes longer than
/// `TIPI_NVIDIA_SMI_TIMEOUT` seconds (default 5) is killed, so a wedged driver never hangs the program.
struct NvidiaSMIDiscovery: GPUDiscovery {
    /// The fields asked for. `memory.free` is what a program can allocate: like NVML's, it leaves out the
    /// memory the driver reserves for itself (616 MiB on an H200 with driver 580), which recent drivers leave
    /// out of `memory.used` too, so total − used would overstate it. `memory.reserved` is not asked for: older
    /// drivers reject the field, and with it the whole query.
    static let query = "index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu"
    var executable: String?
    var timeout: Double

    var name: String { "nvidia-smi" }

    init(executable: String? = Environment.value("TIPI_NVIDIA_SMI"), timeout: Double? = nil) {
        self.executable = executable
        self.timeout = timeout ?? Self.defaultTimeout()
    }

    /// `TIPI_NVIDIA_SMI_TIMEOUT` (seconds, default 5), validated: `inf`, `nan` or garbage give one warning
    /// and the default. It bounds NVML discovery too.
    static func defaultTimeout() -> Double {
        Environment.number("TIPI_NVIDIA_SMI_TIMEOUT", default: 5, in: 0.1...3600)
    }

    func discover() -> GPUDiscoveryResult? {
        guard let path = resolvedExecutable() else { return nil }
        let arguments = ["--query-gpu=\(Self.query)", "--format=csv,noheader,nounits"]
        switch ProcessRunner.run(path, arguments, timeout: timeout) {
        case .failedToStart(let reason):
            return GPUDiscoveryResult(gpus: [], source: name, warnings: ["could not run \(path): \(reason)"])
        case .timedOut:
            return GPUDiscoveryResult(
                gpus: [], source: name,
                warnings: ["\(path) did not answer within \(TimeLimitedDiscovery.seconds(timeout)) and was stopped (TIPI_NVIDIA_SMI_TIMEOUT)"])
        case .exited(let status, let output):
            if status == 9 {
                return GPUDiscoveryResult(
                    gpus: [], source: name, warnings: ["nvidia-smi cannot reach the NVIDIA driver (exit 9)"])
            }
            guard status == 0 else {
                let detail = output.split(separator: "\n").first.map { TerminalText.excerpt($0) } ?? ""
                return GPUDiscoveryResult(
                    gpus: [], source: name, warnings: ["nvidia-smi failed with exit status \(status): \(detail)"])
            }
            var parsed = NvidiaSMIParser.parse(output)
            if parsed.gpus.isEmpty, parsed.warnings.isEmpty {
                parsed.warnings.append(
                    output.isEmpty
                        ? "nvidia-smi exited with status 0 but printed nothing"
                        : "nvidia-smi printed no GPU line: \(TerminalText.excerpt(output))")
            }
            return GPUDiscoveryResult(gpus: parsed.gpus, source: name, warnings: parsed.warnings)
        }
    }

    private func resolvedExecutable() -> String? {
        if let executable, !executable.isEmpty {
            return executable
        }
        return ProcessRunner.executableOnPath("nvidia-smi")
    }
}

/// Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu --format=csv…`.
///
/// Accepts the output with or without a header and with or without units (`81920 MiB`, `37 %`).
/// Unavailable values (`[N/A]`, `[Not Supported]`, `[Insufficient Permissions]`) become `nil`.
/// Lines that cannot be read (too few fields, an index that is not a number, memory beyond what fits in
/// bytes, more memory free than in total, an index or UUID already seen) are skipped with a warning naming
/// the line and quoting at most ``quoteLimit`` characters of it. GPU names are made printable (control
/// characters escaped).
///
/// Memory has NVML's meaning (`nvmlDeviceGetMemoryInfo`, version 1), so both sources agree on one GPU:
/// - free is `memory.free`, what a program can allocate;
/// - used is total − free, so it includes the memory the driver reserves (recent drivers leave that out of
///   `memory.used`, and total − `memory.used` would overstate free memory by it);
/// - when `memory.free` is unknown but total and `memory.used` are known, free falls back to
///   total − `memory.used` (at least 0), and used is total − free as above. The figure may overstate free
///   memory by the reserved memory (under 1 %), but it ranks a GPU better than no figure, which ranks it
///   last. No driver is known to print this; it is how Tipi read every driver before it asked for `memory.free`;
/// - when total is unknown, free is still `memory.free` and used is unknown.
enum NvidiaSMIParser {
    /// How much of a bad line a warning quotes.
    static let quoteLimit = 120

    /// The fields after the name: memory.total, memory.used, memory.free, utilization.gpu.
    static let trailingFields = 4

    /// The fields of a line: index, uuid, name (which may hold commas), and ``trailingFields`` after it.
    static let fieldCount = 3 + trailingFields

    static func parse(_ output: String) -> (gpus: [GPUInfo], warnings: [String]) {
        var gpus: [GPUInfo] = []
        var warnings: [String] = []
        var lineOfIndex: [Int: Int] = [:]
        var lineOfUUID: [String: Int] = [:]
        for (offset, rawLine) in output.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("index,") || line == "index" { continue }
            let quoted = TerminalText.excerpt(line, limit: quoteLimit)
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= fieldCount else {
                warnings.append("nvidia-smi line \(number) has \(fields.count) fields, expected \(fieldCount): \(quoted)")
                continue
            }
            // Names may in principle contain commas: the name is everything between the uuid and the last four.
            let trailing = fields.count - trailingFields
            let name = TerminalText.printable(fields[2..<trailing].joined(separator: ", "))
            guard let index = Int(fields[0]), index >= 0 else {
                warnings.append(
                    "nvidia-smi line \(number): '\(TerminalText.excerpt(fields[0], limit: 20))' is not a GPU index: \(quoted)")
                continue
            }
            guard let total = mebibytes(fields[trailing]), let used = mebibytes(fields[trailing + 1]),
                let free = mebibytes(fields[trailing + 2])
            else {
                warnings.append("nvidia-smi line \(number): the memory is not a number of MiB that fits in 64 bits: \(quoted)")
                continue
            }
            guard let memory = memory(total: total.value, used: used.value, free: free.value) else {
                warnings.append("nvidia-smi line \(number): more memory free than in total, so its figures cannot be trusted: \(quoted)")
                continue
            }
            let uuid = fields[1].hasPrefix("[") || fields[1].isEmpty ? nil : TerminalText.printable(fields[1])
            if let earlier = lineOfIndex[index] ?? uuid.flatMap({ lineOfUUID[$0] }) {
                warnings.append("nvidia-smi line \(number) repeats the GPU of line \(earlier); ignored: \(quoted)")
                continue
            }
            lineOfIndex[index] = number
            if let uuid { lineOfUUID[uuid] = number }
            gpus.append(
                GPUInfo(
                    index: index, uuid: uuid, name: name, memoryTotal: total.value, memoryUsed: memory.used,
                    memoryFree: memory.free, utilization: percent(fields[trailing + 3])))
        }
        return (gpus, warnings)
    }

    /// Used and free bytes in NVML's meaning from the three memory columns (see ``NvidiaSMIParser``);
    /// `nil` when more is free than there is in total, which no driver reports: the line's columns are not
    /// what they seem (an unexpected extra column, say), so none of its figures is believed.
    static func memory(total: Int64?, used: Int64?, free: Int64?) -> (used: Int64?, free: Int64?)? {
        switch (total, free) {
        case let (total?, free?):
            guard free <= total else { return nil }
            return (total - free, free)
        case (_, let free?):
            return (nil, free)
        case let (total?, nil):
            guard let used else { return (nil, nil) }
            let free = max(total - used, 0)
            return (total - free, free)
        case (nil, nil):
            return (used, nil)
        }
    }

    /// A memory field that could be read: its bytes, or `nil` bytes when the value is unknown (a bracketed
    /// `[N/A]`, or not a number). ``mebibytes(_:)`` returns no `Memory` at all for a figure too large to be true.
    struct Memory {
        var value: Int64?
    }

    /// `81920`, `81920 MiB` → bytes; bracketed values → unknown; anything else, or more MiB than fit in
    /// 64-bit bytes → `nil`.
    static func mebibytes(_ field: String) -> Memory? {
        let number = field.replacingOccurrences(of: "MiB", with: "").trimmingCharacters(in: .whitespaces)
        if number.hasPrefix("[") { return Memory(value: nil) }
        guard let value = Int64(number), value >= 0 else { return Memory(value: nil) }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: 1_048_576)
        return overflow ? nil : Memory(value: bytes)
    }

    /// `37`, `37 %` → 37; bracketed values → `nil`.
    static func percent(_ field: String) -> Int? {
        let number = field.replacingOccurrences(of: "%", with: "").trimmingCharacters(in: .whitespaces)
        guard !number.hasPrefix("["), let value = Int(number), (0...100).contains(value) else { return nil }
        return value
    }
}
