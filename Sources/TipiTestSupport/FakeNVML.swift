import Foundation

/// A fake NVML for tests: a small C library, built with the machine's C compiler, that answers the calls
/// Tipi's NVML discovery makes with fixed GPUs. Pass ``path`` as `TIPI_NVML_LIBRARY` (or to the discovery).
public struct FakeNVML: Sendable {
    /// One GPU as `nvmlDeviceGetMemoryInfo` (version 1) and the other calls report it; memory in bytes.
    public struct GPU: Sendable {
        public var index: UInt32
        public var uuid: String
        public var name: String
        public var total: UInt64
        public var free: UInt64
        public var used: UInt64
        public var utilization: UInt32

        public init(index: UInt32, uuid: String, name: String, total: UInt64, free: UInt64, used: UInt64, utilization: UInt32) {
            self.index = index
            self.uuid = uuid
            self.name = name
            self.total = total
            self.free = free
            self.used = used
            self.utilization = utilization
        }
    }

    /// What NVML reported for the real, idle H200 that ``FakeNvidiaSMI/h200`` is the `nvidia-smi` reading of
    /// (driver 580.159.04): the 615 MiB the driver reserves count as used.
    public static let h200 = GPU(
        index: 0, uuid: "GPU-d787f051-447a-01b5-cbb2-1ced6301a160", name: "NVIDIA H200", total: 150_754_820_096,
        free: 150_109_880_320, used: 644_939_776, utilization: 0)

    /// What NVML reported for it at the moment ``FakeNvidiaSMI/h200Loaded`` was printed.
    public static let h200Loaded = GPU(
        index: 0, uuid: "GPU-d787f051-447a-01b5-cbb2-1ced6301a160", name: "NVIDIA H200", total: 150_754_820_096,
        free: 22_516_203_520, used: 128_238_616_576, utilization: 0)

    /// The folder holding the library (a fresh temporary directory).
    public let directory: String
    /// The library's path.
    public var path: String { directory + "/libnvidia-ml.so.1" }

    /// The first C compiler found, `nil` when there is none.
    public static var compiler: String? {
        ["/usr/bin/cc", "/usr/bin/clang", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Builds a library reporting `gpus`; throws when there is no C compiler or it fails.
    public init(gpus: [GPU]) throws {
        guard let compiler = Self.compiler else { throw FakeNVMLError("no C compiler to build the fake NVML library") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fake-nvml-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var built = false
        defer { if !built { try? FileManager.default.removeItem(atPath: directory) } }
        let source = directory + "/nvml.c"
        try Self.source(gpus).write(toFile: source, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        process.arguments = ["-shared", "-fPIC", "-o", path, source]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FakeNVMLError("\(compiler) failed: \(message)") }
        built = true
    }

    /// The C source: one table of GPUs, and the NVML functions Tipi looks up, answering from it.
    static func source(_ gpus: [GPU]) -> String {
        func literal(_ text: String) -> String {
            "\"" + text.utf8.map { String(format: "\\%03o", $0) }.joined() + "\""
        }
        let rows = gpus.map { gpu in
            "{\(gpu.index)u, \(literal(gpu.uuid)), \(literal(gpu.name)), {\(gpu.total)ull, \(gpu.free)ull, \(gpu.used)ull}, \(gpu.utilization)u}"
        }
        return """
            #include <stdint.h>
            #include <string.h>
            typedef struct { unsigned long long total, free, used; } memory_t;
            typedef struct { unsigned index; const char *uuid, *name; memory_t memory; unsigned utilization; } gpu_t;
            static const gpu_t gpus[] = { \(rows.isEmpty ? "{0}" : rows.joined(separator: ", ")) };
            static const unsigned count = \(gpus.count);
            static const gpu_t *at(void *device) {
                uintptr_t position = (uintptr_t)device;
                return position >= 1 && position <= count ? &gpus[position - 1] : 0;
            }
            static int text(const char *value, char *buffer, unsigned length) {
                if (length == 0 || strlen(value) >= length) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
                strcpy(buffer, value);
                return 0;
            }
            int nvmlInit_v2(void) { return 0; }
            int nvmlShutdown(void) { return 0; }
            int nvmlDeviceGetCount_v2(unsigned *result) { *result = count; return 0; }
            int nvmlDeviceGetHandleByIndex_v2(unsigned index, void **device) {
                if (index >= count) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
                *device = (void *)(uintptr_t)(index + 1);
                return 0;
            }
            int nvmlDeviceGetIndex(void *device, unsigned *index) {
                if (!at(device)) return 2;
                *index = at(device)->index;
                return 0;
            }
            int nvmlDeviceGetName(void *device, char *name, unsigned length) { return at(device) ? text(at(device)->name, name, length) : 2; }
            int nvmlDeviceGetUUID(void *device, char *uuid, unsigned length) { return at(device) ? text(at(device)->uuid, uuid, length) : 2; }
            int nvmlDeviceGetMemoryInfo(void *device, memory_t *memory) {
                if (!at(device)) return 2;
                *memory = at(device)->memory;
                return 0;
            }
            int nvmlDeviceGetUtilizationRates(void *device, unsigned *rates) {
                if (!at(device)) return 2;
                rates[0] = at(device)->utilization;
                rates[1] = 0;
                return 0;
            }

            """
    }

    /// Removes the library.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Why a ``FakeNVML`` could not be built.
public struct FakeNVMLError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
