import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lock of a sweep's record (`<sweep>/sweep.lock`, `flock`, which NFS and Lustre honour on current
/// kernels): Slurm array tasks take their next point under it, so two tasks never take the same one.
enum SweepLock {
    /// Runs `body` holding the lock of the sweep in `folder`.
    static func withLock<T>(_ folder: URL, _ body: () throws -> T) throws -> T {
        let path = folder.appendingPathComponent("sweep.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw SweepError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SweepError("cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
