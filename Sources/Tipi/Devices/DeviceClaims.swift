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
/// The directory is `TIPI_CLAIMS_DIR`, else `$XDG_RUNTIME_DIR/tipi-claims`, else `/tmp/tipi-claims-<uid>`;
/// Tipi creates it with mode 0700. Every process of one user finds the same directory, so claims work
/// across them.
///
/// Nothing in the directory is trusted: a directory that someone else could tamper with (not owned by this
/// user or by root with the sticky bit, or group/world-writable without the sticky bit, or a symbolic link)
/// is refused. Lock files are opened without following symbolic links, never truncated, never given a wider
/// mode; the owner's pid is written only into a regular file this user owns that has no other link.
final class DeviceClaims: Sendable {
    let directory: String

    init(directory: String? = nil) {
        self.directory = directory ?? Self.defaultDirectory()
    }

    /// `TIPI_CLAIMS_DIR`, else `$XDG_RUNTIME_DIR/tipi-claims`, else `/tmp/tipi-claims-<uid>`.
    static func defaultDirectory() -> String {
        if let chosen = Environment.value("TIPI_CLAIMS_DIR"), !chosen.isEmpty { return chosen }
        if let runtime = Environment.value("XDG_RUNTIME_DIR"), runtime.hasPrefix("/") { return runtime + "/tipi-claims" }
        return "/tmp/tipi-claims-\(geteuid())"
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

    /// What an attempt to claim a GPU gave.
    enum Attempt {
        /// This process holds the claim now.
        case claimed(Claim)
        /// Another process holds it.
        case busy
        /// The lock file cannot be used safely (not a regular file, a link, unreadable): the reason.
        case unusable(String)
    }

    static func key(for gpu: GPUInfo) -> String {
        let raw = gpu.uuid ?? "gpu-\(gpu.index)"
        return String(raw.prefix(128).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "_" })
    }

    private static func fileName(_ key: String) -> String {
        "\(key).lock"
    }

    /// Makes sure the directory exists and is safe to use; returns a reason when it is not.
    func prepare() -> String? {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            return "cannot create the GPU claims directory \(directory): \(String(cString: strerror(errno)))"
        }
        switch openDirectory() {
        case .success(let descriptor):
            close(descriptor)
            return nil
        case .failure(let problem):
            return problem.reason
        }
    }

    /// Why a claims directory is refused.
    struct DirectoryProblem: Error {
        let reason: String
    }

    /// Opens the directory (not following a symbolic link) and checks its owner and mode.
    private func openDirectory() -> Result<Int32, DirectoryProblem> {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            let cause = errno == ELOOP || errno == ENOTDIR ? "it is a symbolic link or not a directory" : String(cString: strerror(errno))
            return .failure(DirectoryProblem(reason: "the GPU claims directory \(directory) cannot be used: \(cause)"))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            return .failure(DirectoryProblem(reason: "the GPU claims directory \(directory) cannot be read: \(String(cString: strerror(errno)))"))
        }
        if let problem = Self.problem(owner: info.st_uid, mode: UInt32(info.st_mode)) {
            close(descriptor)
            return .failure(
                DirectoryProblem(
                    reason: "the GPU claims directory \(directory) is refused: \(problem) "
                        + "(use a directory of yours with mode 0700, or 1777 to share claims; TIPI_CLAIMS_DIR)"))
        }
        return .success(descriptor)
    }

    /// Why a directory with this owner and mode is unsafe for claims, or `nil` when it is safe.
    static func problem(owner: uid_t, mode: UInt32) -> String? {
        let sticky = mode & UInt32(S_ISVTX) != 0
        let octal = String(mode & 0o7777, radix: 8)
        if owner != geteuid(), !(owner == 0 && sticky) {
            return "it belongs to user \(owner), not to you (and is not root's with the sticky bit)"
        }
        if mode & 0o022 != 0, !sticky {
            return "others may write to it (mode \(octal)) and it has no sticky bit"
        }
        return nil
    }

    /// Tries to claim `key` without waiting.
    func tryClaim(_ key: String) -> Attempt {
        let directoryDescriptor: Int32
        switch openDirectory() {
        case .success(let descriptor): directoryDescriptor = descriptor
        case .failure(let problem): return .unusable(problem.reason)
        }
        defer { close(directoryDescriptor) }
        let name = Self.fileName(key)
        let flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var descriptor = openat(directoryDescriptor, name, O_RDWR | O_CREAT | flags, 0o644)
        var writable = true
        if descriptor < 0, errno == EACCES {
            descriptor = openat(directoryDescriptor, name, O_RDONLY | flags)
            writable = false
        }
        guard descriptor >= 0 else {
            let cause = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            return .unusable("the claim file \(directory)/\(name) cannot be used: \(cause)")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
            close(descriptor)
            return .unusable("the claim file \(directory)/\(name) is not a plain file with one link; remove it")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return .busy
        }
        if writable, info.st_uid == geteuid() {
            // Fixed width, so the record always covers an earlier one without truncating the file.
            let text = String(getpid()).padding(toLength: 11, withPad: " ", startingAt: 0) + "\n"
            _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        }
        return .claimed(Claim(descriptor: descriptor, key: key))
    }

    /// The pid holding `key`, or `nil` when nobody holds it (or the directory or file cannot be trusted).
    /// A lock held by this very process is reported with this process's pid.
    func holder(of key: String) -> Int32? {
        guard case .success(let directoryDescriptor) = openDirectory() else { return nil }
        defer { close(directoryDescriptor) }
        let descriptor = openat(directoryDescriptor, Self.fileName(key), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return -1 }
        let line = buffer[0..<count].split(separator: UInt8(ascii: "\n")).first ?? []
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return Int32(text).flatMap { $0 > 0 ? $0 : nil } ?? -1
    }
}
