import Foundation
import Testing

@testable import Tipi

/// The platform-specific calls, all in `Platform` (Linux is what is built and tested here).
@Suite("Platform: the one place for system-specific calls")
struct PlatformTests {
    @Test("the clocks: coarse wall time agrees with Date, monotonic time never goes back")
    func clocks() {
        #expect(abs(Platform.coarseWallTime() - Date().timeIntervalSince1970) < 1)
        let first = Platform.monotonicTime()
        let second = Platform.monotonicTime()
        #expect(second >= first)
        #expect(first > 0)
    }

    @Test("a process's start time is readable and stable; a process that does not exist has none")
    func startTime() {
        let own = Platform.processStartTime(of: getpid())
        #expect(own != nil)
        #expect(Platform.processStartTime(of: getpid()) == own)
        #expect(Platform.processStartTime(of: Int32.max) == nil)
    }

    @Test("the environment block for posix_spawn holds this process's variables")
    func environment() throws {
        var block = try #require(Platform.environment)
        var names: [String] = []
        while let entry = block.pointee {
            names.append(String(cString: entry).split(separator: "=", maxSplits: 1).first.map(String.init) ?? "")
            block += 1
        }
        #expect(names.contains("PATH") == (ProcessInfo.processInfo.environment["PATH"] != nil))
        #expect(names.count == ProcessInfo.processInfo.environment.count)
    }

    @Test("memory available now is positive and at most the machine's memory")
    func memory() throws {
        let available = try #require(Platform.availableMemory())
        #expect(available > 0)
        #expect(UInt64(available) <= ProcessInfo.processInfo.physicalMemory)
    }
}
