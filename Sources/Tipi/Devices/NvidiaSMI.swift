import Foundation

/// Finds NVIDIA GPUs by running `nvidia-smi` (the fallback when NVML cannot be loaded).
///
/// The binary is `TIPI_NVIDIA_SMI` or `nvidia-smi` on `PATH`; a run that takes longer than
/// `TIPI_NVIDIA_SMI_TIMEOUT` seconds (default 5) is killed, so a wedged driver never hangs the program.
struct NvidiaSMIDiscovery: GPUDiscovery {
    static let query = "index,uuid,name,memory.total,memory.used,utilization.gpu"
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

/// Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu --format=csv…`.
///
/// Accepts the output with or without a header and with or without units (`81920 MiB`, `37 %`).
/// Unavailable values (`[N/A]`, `[Not Supported]`, `[Insufficient Permissions]`) become `nil`.
/// Lines that cannot be read (too few fields, an index that is not a number, memory beyond what fits in
/// bytes, an index or UUID already seen) are skipped with a warning naming the line and quoting at most
/// ``quoteLimit`` characters of it. GPU names are made printable (control characters escaped).
enum NvidiaSMIParser {
    /// How much of a bad line a warning quotes.
    static let quoteLimit = 120

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
            guard fields.count >= 6 else {
                warnings.append("nvidia-smi line \(number) has \(fields.count) fields, expected 6: \(quoted)")
                continue
            }
            // Names may in principle contain commas: the name is everything between the uuid and the last three.
            let name = TerminalText.printable(fields[2..<(fields.count - 3)].joined(separator: ", "))
            guard let index = Int(fields[0]), index >= 0 else {
                warnings.append(
                    "nvidia-smi line \(number): '\(TerminalText.excerpt(fields[0], limit: 20))' is not a GPU index: \(quoted)")
                continue
            }
            guard let total = mebibytes(fields[fields.count - 3]), let used = mebibytes(fields[fields.count - 2]) else {
                warnings.append("nvidia-smi line \(number): the memory is not a number of MiB that fits in 64 bits: \(quoted)")
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
                    index: index, uuid: uuid, name: name, memoryTotal: total.value, memoryUsed: used.value,
                    memoryFree: total.value.flatMap { total in used.value.map { max(total - $0, 0) } },
                    utilization: percent(fields[fields.count - 1])))
        }
        return (gpus, warnings)
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
