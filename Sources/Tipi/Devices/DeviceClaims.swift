import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Advisory claims on GPUs across processes: one lock file per GPU, locked with `flock` and held until the
/// process exits. The kernel drops the lock when the process dies, even after `kill -9`, so a claim can
/// never outlive its owner.
///
/// The directory is `TIPI_CLAIMS_DIR`, or `/tmp/tipi-claims` (created world-writable with the sticky bit,
/// so that every user on a shared node sees the same claims).
final class DeviceClaims: Sendable {
    let directory: String

    init(directory: String? = nil) {
        self.directory = directory ?? Environment.value("TIPI_CLAIMS_DIR") ?? "/tmp/tipi-claims"
    }

    /// A claim held by this process: the open, locked file.
    final class Claim: Sendable {
        let descriptor: Int32
        let key: String

        init(descriptor: Int32, key: String) {
            self.descriptor = descriptor
            self.key = key
        }

        deinit {
            close(descriptor)  // also releases the lock
        }
    }

    static func key(for gpu: GPUInfo) -> String {
        let raw = gpu.uuid ?? "gpu-\(gpu.index)"
        return String(raw.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }

    private func path(_ key: String) -> String {
        "\(directory)/\(key).lock"
    }

    /// Makes sure the directory exists; returns a reason when it cannot.
    func prepare() -> String? {
        var info = stat()
        if stat(directory, &info) == 0 { return nil }
        if mkdir(directory, 0o1777) != 0, errno != EEXIST {
            return "cannot create the GPU claims directory \(directory): \(String(cString: strerror(errno)))"
        }
        chmod(directory, 0o1777)
        return nil
    }

    /// Tries to claim `key` without waiting; `nil` when another process holds it (or it cannot be locked).
    func tryClaim(_ key: String) -> Claim? {
        let file = path(key)
        var descriptor = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        var writable = true
        if descriptor < 0 {
            descriptor = open(file, O_RDONLY | O_CLOEXEC)
            writable = false
        }
        guard descriptor >= 0 else { return nil }
        if writable { fchmod(descriptor, 0o666) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        if writable {
            let text = "\(getpid())\n"
            _ = ftruncate(descriptor, 0)
            _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        }
        return Claim(descriptor: descriptor, key: key)
    }

    /// The pid holding `key`, or `nil` when nobody holds it. A lock held by this very process is reported
    /// with this process's pid.
    func holder(of key: String) -> Int32? {
        let file = path(key)
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return -1 }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text) ?? -1
    }
}
