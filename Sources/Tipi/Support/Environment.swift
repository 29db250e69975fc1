import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads process environment variables (one place, so the list of overrides stays documented).
enum Environment {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }

    /// A number read from the environment, validated: finite, within `range`. Anything else (`nan`,
    /// `inf`, `1e300`, garbage, out of range) gives one warning naming the variable, what was expected and
    /// the default used, and the default. An unset or empty variable is the default, silently.
    package static func number(_ name: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        guard let text = value(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return fallback }
        if let number = Double(text), number.isFinite, range.contains(number) { return number }
        Diagnostics.warnOnce(
            key: "environment:" + name,
            "\(name)=\(TerminalText.excerpt(text, limit: 40)) is not a number from \(format(range.lowerBound)) to "
                + "\(format(range.upperBound)); using \(format(fallback))")
        return fallback
    }

    /// An integer read from the environment, validated like ``number(_:default:in:)``.
    package static func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = value(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return fallback }
        if let number = Int(text), range.contains(number) { return number }
        Diagnostics.warnOnce(
            key: "environment:" + name,
            "\(name)=\(TerminalText.excerpt(text, limit: 40)) is not a whole number from \(range.lowerBound) to "
                + "\(range.upperBound); using \(fallback)")
        return fallback
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// An environment variable Tipi reads, with what it does (listed by `tipi info`).
public struct EnvironmentVariable: Sendable {
    public let name: String
    public let meaning: String

    /// Every variable Tipi reads.
    public static let all: [EnvironmentVariable] = [
        .init(name: "TIPI_PROGRESS", meaning: "progress display: auto | tty | plain | off"),
        .init(name: "TIPI_PROGRESS_INTERVAL", meaning: "seconds between status lines when not on a terminal (default 10)"),
        .init(name: "NO_COLOR", meaning: "any value turns colours off"),
        .init(name: "TERM", meaning: "'dumb' means plain progress lines even on a terminal"),
        .init(name: "COLUMNS", meaning: "terminal width when the terminal cannot be asked"),
        .init(name: "TIPI_DEVICE", meaning: "force the device: cpu | cuda | cuda:N | metal | auto"),
        .init(name: "CUDA_VISIBLE_DEVICES", meaning: "GPUs visible to the process (indices or GPU-UUIDs)"),
        .init(name: "TIPI_MAX_MEMORY_USAGE", meaning: "fullest a GPU may be to be chosen (default 0.8)"),
        .init(name: "TIPI_NVIDIA_SMI", meaning: "path of nvidia-smi (default: found on PATH)"),
        .init(name: "TIPI_NVIDIA_SMI_TIMEOUT", meaning: "seconds before a stuck nvidia-smi is killed or a stuck NVML abandoned (default 5)"),
        .init(name: "TIPI_NVML", meaning: "0 skips NVML and uses nvidia-smi"),
        .init(name: "TIPI_NVML_LIBRARY", meaning: "NVML library file (default libnvidia-ml.so.1)"),
        .init(name: "TIPI_CLAIMS_DIR", meaning: "directory of GPU claim locks (default $XDG_RUNTIME_DIR/tipi-claims, else /tmp/tipi-claims-UID)"),
        .init(name: "TIPI_DIR", meaning: "the run store (default ./tipi-runs)"),
        .init(name: "TIPI_BACKENDS", meaning: "extra backends: tensorboard, wandb, mlflow, jsonl (comma list)"),
        .init(name: "MLFLOW_TRACKING_URI", meaning: "the MLflow server of the mlflow backend"),
        .init(name: "MLFLOW_TRACKING_TOKEN", meaning: "a bearer token sent to the MLflow server"),
        .init(name: "MLFLOW_TRACKING_USERNAME", meaning: "basic authentication with the MLflow server (with MLFLOW_TRACKING_PASSWORD)"),
        .init(name: "MLFLOW_TRACKING_PASSWORD", meaning: "basic authentication with the MLflow server (with MLFLOW_TRACKING_USERNAME)"),
        .init(name: "MLFLOW_TRACKING_INSECURE_TLS", meaning: "true: do not verify the MLflow server's TLS certificate"),
        .init(name: "MLFLOW_TRACKING_SERVER_CERT_PATH", meaning: "a CA bundle to verify the MLflow server's certificate with"),
        .init(name: "TIPI_FINISH_TIMEOUT", meaning: "seconds backends get to finish a run (default 10)"),
        .init(name: "TIPI_WRITE_BUFFER_MB", meaning: "memory for metrics a full disk refuses, before the oldest are dropped (default 64)"),
        .init(name: "TIPI_STOP_GRACE", meaning: "seconds a pipeline gets to stop after Ctrl-C/SIGTERM (default 10)"),
        .init(name: "TIPI_OUTPUT_LOG_MB", meaning: "cap of a run's kept console output, output.log (default 100; 0 keeps none)"),
        .init(name: "TIPI_QUIET", meaning: "1 leaves out a script's end-of-run line (tipi: run … finished)"),
        .init(name: "TIPI_SWEEP_ID", meaning: "the sweep a run belongs to (with TIPI_SWEEP_INDEX)"),
        .init(name: "TIPI_CONFIG_DIR", meaning: "tipi's config folder (default $XDG_CONFIG_HOME/tipi)"),
        .init(name: "TIPI_PROJECTS_DIR", meaning: "linked projects (default <config>/projects)"),
        .init(name: "TIPI_CACHE_DIR", meaning: "clones of `tipi add URL` (default $XDG_CACHE_HOME/tipi)"),
        .init(name: "TIPI_BUILD_CONFIGURATION", meaning: "how tipi run/validate/inspect build projects: debug (default) or release"),
        .init(name: "TIPI_BUILD_PATH", meaning: "keep projects' build products here instead of in the projects"),
        .init(name: "TIPI_PACKAGE", meaning: "the Tipi dependency `tipi create` writes (a path or a git URL)"),
    ]
}
