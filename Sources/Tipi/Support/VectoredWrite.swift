#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes every byte of `pieces`, in order, to `descriptor` with `writev(2)`: text of megabytes kept in
/// several buffers (a pipeline's `run.json`: its config, its process records) is written from where it is,
/// not joined into one buffer first. Returns the bytes written and the `errno` text of a failure, or `nil`.
///
/// A partial write goes on from the byte where it stopped, an interrupted call (`EINTR`) is made again, and
/// one call takes at most `IOV_MAX` pieces.
func writeFully(_ pieces: [[UInt8]], to descriptor: Int32) -> (written: Int, error: String?) {
    writeFully(pieces, limit: VectoredWrite.limit) { vectors, count in writev(descriptor, vectors, count) }
}

/// ``writeFully(_:to:)`` through `write`, a `writev` taking at most `limit` vectors (the tests give one
/// that writes partially and is interrupted).
func writeFully(
    _ pieces: [[UInt8]], limit: Int, write: (UnsafePointer<iovec>, Int32) -> Int
) -> (written: Int, error: String?) {
    VectoredWrite.withBuffers(of: pieces[...]) { buffers in
        var vectors: [iovec] = []
        vectors.reserveCapacity(buffers.count)
        for buffer in buffers where buffer.count > 0 {
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress), iov_len: buffer.count))
        }
        var written = 0
        var next = 0
        while next < vectors.count {
            let count = min(max(limit, 1), vectors.count - next)
            let result = vectors.withUnsafeBufferPointer { write($0.baseAddress! + next, Int32(count)) }
            if result < 0 {
                if errno == EINTR { continue }
                return (written, String(cString: strerror(errno)))
            }
            // Nothing written of a non-empty request: the file takes no more (not an error `write` names).
            if result == 0 { return (written, "the file took no more bytes") }
            written += result
            // Past the pieces written whole, and into the one written in part.
            var left = result
            while left > 0, next < vectors.count {
                if left >= vectors[next].iov_len {
                    left -= vectors[next].iov_len
                    next += 1
                } else {
                    vectors[next].iov_base = vectors[next].iov_base.map { $0 + left }
                    vectors[next].iov_len -= left
                    left = 0
                }
            }
        }
        return (written, nil)
    }
}

enum VectoredWrite {
    /// The most vectors one `writev` takes (`IOV_MAX`; 16, POSIX's least, when the system does not say).
    static let limit: Int = {
        let limit = sysconf(Int32(_SC_IOV_MAX))
        return limit > 0 ? limit : 16
    }()

    /// `body` with the storage of each of `pieces` (each array's buffer stays valid for the call).
    static func withBuffers<Result>(
        of pieces: ArraySlice<[UInt8]>, _ body: ([UnsafeRawBufferPointer]) -> Result
    ) -> Result {
        var buffers: [UnsafeRawBufferPointer] = []
        buffers.reserveCapacity(pieces.count)
        return collect(pieces, into: &buffers, body)
    }

    /// One piece's storage at a time, nested, so that each is valid while `body` runs.
    private static func collect<Result>(
        _ pieces: ArraySlice<[UInt8]>, into buffers: inout [UnsafeRawBufferPointer], _ body: ([UnsafeRawBufferPointer]) -> Result
    ) -> Result {
        guard let first = pieces.first else { return body(buffers) }
        return first.withUnsafeBytes { buffer in
            buffers.append(buffer)
            return collect(pieces.dropFirst(), into: &buffers, body)
        }
    }
}
