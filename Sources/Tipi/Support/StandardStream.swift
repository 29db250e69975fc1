import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes all bytes of a string to a file descriptor, retrying on short writes and `EINTR`.
///
/// Errors (a closed pipe, a full disk) are swallowed: a progress line that cannot be written must never
/// stop the training loop that produced it.
func writeAll(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { buffer in
        guard var pointer = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = write(descriptor, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            remaining -= written
            pointer += written
        }
    }
}

/// Flushes C stdio buffers (what `print` writes into) so that text written around them stays in order.
func flushStandardIO() {
    fflush(nil)
}

/// `write(2)`, under a name that does not clash with methods called `write`.
func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

/// `close(2)`, under a name that does not clash with methods called `close`.
func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}

/// Writes every byte, retrying short writes and `EINTR`; returns the `errno` text of a failure, or `nil`.
func writeFully(_ bytes: [UInt8], to descriptor: Int32) -> (written: Int, error: String?) {
    bytes.withUnsafeBytes { writeFully($0, to: descriptor) }
}

/// `writeFully(_:to:)` of any bytes in memory.
func writeFully(_ buffer: UnsafeRawBufferPointer, to descriptor: Int32) -> (written: Int, error: String?) {
    guard let base = buffer.baseAddress else { return (0, nil) }
    var offset = 0
    while offset < buffer.count {
        let result = write(descriptor, base + offset, buffer.count - offset)
        if result < 0 {
            if errno == EINTR { continue }
            return (offset, String(cString: strerror(errno)))
        }
        offset += result
    }
    return (offset, nil)
}

/// `YYYYMMDD<separator>HHMMSS` in UTC, for folder names (run folders, W&B offline runs).
func utcStamp(_ time: Double, separator: String) -> String {
    var seconds = time_t(time)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return String(format: "%04d%02d%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday) + separator
        + String(format: "%02d%02d%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
}
