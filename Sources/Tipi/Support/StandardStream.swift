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
