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
        self.timeout = timeout ?? Environment.value("TIPI_NVIDIA_SMI_TIMEOUT").flatMap(Double.init) ?? 5
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
                warnings: ["\(path) did not answer within \(Int(timeout)) s and was stopped (TIPI_NVIDIA_SMI_TIMEOUT)"])
        case .exited(let status, let output):
            if status == 9 {
                return GPUDiscoveryResult(
                    gpus: [], source: name, warnings: ["nvidia-smi cannot reach the NVIDIA driver (exit 9)"])
            }
            guard status == 0 else {
                let detail = output.split(separator: "\n").first.map(String.init) ?? ""
                return GPUDiscoveryResult(
                    gpus: [], source: name, warnings: ["nvidia-smi failed with exit status \(status): \(detail)"])
            }
            let parsed = NvidiaSMIParser.parse(output)
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
/// Unavailable values (`[N/A]`, `[Not Supported]`, `[Insufficient Permissions]`) become `nil`;
/// lines that cannot be read are skipped with a warning naming them.
enum NvidiaSMIParser {
    static func parse(_ output: String) -> (gpus: [GPUInfo], warnings: [String]) {
        var gpus: [GPUInfo] = []
        var warnings: [String] = []
        for (number, rawLine) in output.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("index") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= 6 else {
                warnings.append("nvidia-smi line \(number + 1) has \(fields.count) fields, expected 6: \(line)")
                continue
            }
            // Names may in principle contain commas: the name is everything between the uuid and the last three.
            let name = fields[2..<(fields.count - 3)].joined(separator: ", ")
            guard let index = Int(fields[0]) else {
                warnings.append("nvidia-smi line \(number + 1): '\(fields[0])' is not a GPU index: \(line)")
                continue
            }
            let total = mebibytes(fields[fields.count - 3])
            let used = mebibytes(fields[fields.count - 2])
            let uuid = fields[1].hasPrefix("[") || fields[1].isEmpty ? nil : fields[1]
            gpus.append(
                GPUInfo(
                    index: index, uuid: uuid, name: name, memoryTotal: total, memoryUsed: used,
                    memoryFree: total.flatMap { total in used.map { max(total - $0, 0) } },
                    utilization: percent(fields[fields.count - 1])))
        }
        return (gpus, warnings)
    }

    /// `81920`, `81920 MiB` → bytes; bracketed values → `nil`.
    static func mebibytes(_ field: String) -> Int64? {
        let number = field.replacingOccurrences(of: "MiB", with: "").trimmingCharacters(in: .whitespaces)
        guard !number.hasPrefix("["), let value = Int64(number), value >= 0 else { return nil }
        return value * 1024 * 1024
    }

    /// `37`, `37 %` → 37; bracketed values → `nil`.
    static func percent(_ field: String) -> Int? {
        let number = field.replacingOccurrences(of: "%", with: "").trimmingCharacters(in: .whitespaces)
        guard !number.hasPrefix("["), let value = Int(number), (0...100).contains(value) else { return nil }
        return value
    }
}
