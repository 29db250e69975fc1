import Foundation
import Testing

@testable import Tipi

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `run.json` is written from its pieces with `writev`: every byte must land in order, whatever the system
/// takes per call (part of a piece, several pieces, an interrupted call) and however many pieces there are.
@Suite("writing pieces with writev")
struct VectoredWriteTests {
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func pieces(_ random: inout Generator) -> [[UInt8]] {
        (0..<random.next(40)).map { _ in
            // Empty pieces too, and long ones.
            let count = random.next(3) == 0 ? 0 : random.next(random.next(4) == 0 ? 20_000 : 50)
            return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next(256)) }
        }
    }

    @Test("partial writes, interrupted calls and the vector limit: every byte, in order")
    func partialAndInterrupted() {
        var random = Generator(state: 77)
        for round in 0..<300 {
            let pieces = Self.pieces(&random)
            let limit = 1 + random.next(5)
            var output: [UInt8] = []
            var calls = 0
            let result = writeFully(pieces, limit: limit) { vectors, count in
                calls += 1
                #expect(count >= 1 && Int(count) <= limit, "round \(round): \(count) vectors for a limit of \(limit)")
                if random.next(5) == 0 {
                    errno = EINTR
                    return -1
                }
                // Takes part of what is asked: up to a random number of bytes, across the vectors.
                var room = 1 + random.next(random.next(2) == 0 ? 30 : 30_000)
                var taken = 0
                for index in 0..<Int(count) where room > 0 {
                    let vector = vectors[index]
                    let part = min(room, vector.iov_len)
                    #expect(part > 0, "round \(round): an empty vector")
                    let bytes = UnsafeRawBufferPointer(start: vector.iov_base, count: part)
                    output.append(contentsOf: bytes)
                    room -= part
                    taken += part
                }
                return taken
            }
            let expected = pieces.flatMap { $0 }
            #expect(result.error == nil, "round \(round)")
            #expect(result.written == expected.count, "round \(round)")
            #expect(output == expected, "round \(round)")
            if output != expected { return }
            if expected.isEmpty { #expect(calls == 0, "round \(round): nothing to write, no call") }
        }
    }

    @Test("a failing write reports its error and how much was written")
    func failure() {
        let pieces: [[UInt8]] = [Array(repeating: 1, count: 10), Array(repeating: 2, count: 10)]
        var calls = 0
        let result = writeFully(pieces, limit: 16) { _, _ in
            calls += 1
            if calls == 1 { return 15 }
            errno = ENOSPC
            return -1
        }
        #expect(result.written == 15)
        #expect(result.error == String(cString: strerror(ENOSPC)))
        let stalled = writeFully(pieces, limit: 16) { _, _ in 0 }
        #expect(stalled.written == 0)
        #expect(stalled.error != nil, "a write that takes nothing ends with an error, not a loop")
    }

    @Test("into a file: more pieces than one writev takes (IOV_MAX), and the atomic replacement")
    func intoFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("writev-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var random = Generator(state: 9)
        let count = VectoredWrite.limit + 37
        let pieces = (0..<count).map { index in (0..<random.next(9)).map { _ in UInt8(truncatingIfNeeded: index &+ random.next(256)) } }
        for round in 0..<2 {
            let written = round == 0 ? pieces : [[UInt8](repeating: 7, count: 100_000), []]
            try RunFile.replace(folder.appendingPathComponent("x.json").path, pieces: written)
            let read = try [UInt8](Data(contentsOf: folder.appendingPathComponent("x.json")))
            #expect(read == written.flatMap { $0 }, "round \(round)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(left == ["x.json"], "no temporary file stays")
    }

    @Test("a file that cannot be written: the error names it, and no temporary file stays")
    func unwritable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("writev-missing-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        #expect {
            try RunFile.replace(folder.appendingPathComponent("run.json").path, pieces: [[1, 2, 3]])
        } throws: { error in
            guard case TrackingError.storeNotWritable(let path, let reason)? = error as? TrackingError else { return false }
            return path == folder.appendingPathComponent("run.json").path && reason == String(cString: strerror(ENOENT))
        }
        // A target that cannot be replaced (a folder): the temporary file is removed.
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("writev-folder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: parent.appendingPathComponent("run.json"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: parent.appendingPathComponent("run.json/inside"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: parent) }
        #expect(throws: TrackingError.self) { try RunFile.replace(parent.appendingPathComponent("run.json").path, with: [1, 2, 3]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path) == ["run.json"])
    }
}
