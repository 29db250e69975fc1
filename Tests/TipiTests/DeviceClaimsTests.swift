import Foundation
import Testing
import TipiTestSupport

@testable import Tipi

/// The claims directory is shared ground: nothing in it may make Tipi write to, truncate or widen the mode
/// of a file it did not create, and a directory others could tamper with is refused.
@Suite("GPU claims: a hostile claims directory")
struct DeviceClaimsTests {
    let gpus = [
        GPUInfo(index: 0, uuid: "GPU-victim-0", name: "A100", memoryTotal: 80 << 30, memoryUsed: 1 << 30, memoryFree: 79 << 30, utilization: 0)
    ]

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    func mode(_ path: String) -> Int {
        var info = stat()
        lstat(path, &info)
        return Int(info.st_mode & 0o7777)
    }

    func makeDirectory(_ path: String, mode: mode_t) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try #require(chmod(path, mode) == 0)
    }

    /// A file of someone's that must survive: `content`, with `mode`.
    func victim(_ content: String, mode: mode_t = 0o600) throws -> String {
        let path = temporary("victim")
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        try #require(chmod(path, mode) == 0)
        return path
    }

    @Test("a symlink planted in a world-writable claims directory: the victim file keeps its content and mode")
    func plantedSymlink() throws {
        let directory = temporary("claims")
        try makeDirectory(directory, mode: 0o1777)
        let victim = try victim("secret\n")
        try FileManager.default.createSymbolicLink(atPath: directory + "/GPU-victim-0.lock", withDestinationPath: victim)
        let warnings = Warnings()
        let device = manager(gpus, claimsDirectory: directory, warnings: warnings).getDevice()
        #expect(device.description == "cuda:0")  // chosen, without a claim
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "secret\n")
        #expect(mode(victim) == 0o600)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("GPU-victim-0.lock cannot be used: it is a symbolic link") == true)
    }

    @Test("a hard link to a file of ours is never written to; a FIFO never blocks")
    func hardLinkAndFIFO() throws {
        let directory = temporary("claims")
        try makeDirectory(directory, mode: 0o700)
        let victim = try victim("precious data\n", mode: 0o644)
        try #require(link(victim, directory + "/GPU-victim-0.lock") == 0)
        let warnings = Warnings()
        #expect(manager(gpus, claimsDirectory: directory, warnings: warnings).getDevice().description == "cuda:0")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious data\n")
        #expect(warnings.all.first?.contains("not a plain file with one link") == true)

        let fifoDirectory = temporary("claims")
        try makeDirectory(fifoDirectory, mode: 0o700)
        try #require(mkfifo(fifoDirectory + "/GPU-victim-0.lock", 0o600) == 0)
        let start = Date()
        let m = manager(gpus, claimsDirectory: fifoDirectory)
        #expect(m.getDevice().description == "cuda:0")
        #expect(m.inventory().devices.first?.claimedBy == nil)
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test("claims directories others could tamper with are refused with one warning; GPUs are chosen without claims")
    func badModes() throws {
        for bad: mode_t in [0o777, 0o770, 0o707, 0o720] {
            let directory = temporary("claims")
            try makeDirectory(directory, mode: bad)
            let warnings = Warnings()
            let m = manager(gpus, claimsDirectory: directory, warnings: warnings)
            #expect(m.getDevice().description == "cuda:0")
            #expect(m.getDevice().description == "cuda:0")
            #expect(warnings.all.count == 1, "mode \(String(bad, radix: 8)): \(warnings.all)")
            #expect(warnings.all.first?.contains("is refused: others may write to it (mode \(String(bad, radix: 8)))") == true)
            #expect(warnings.all.first?.hasSuffix("GPUs are chosen without claims") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)  // nothing created in it
        }
        // A symbolic link in place of the directory is refused too.
        let real = temporary("claims-real")
        try makeDirectory(real, mode: 0o700)
        let linked = temporary("claims-link")
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: real)
        let warnings = Warnings()
        #expect(manager(gpus, claimsDirectory: linked, warnings: warnings).getDevice().kind == .cuda)
        #expect(warnings.all.first?.contains("it is a symbolic link or not a directory") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: real).isEmpty)
    }

    @Test("owner and mode rules: ours (0700, or 1777 to share), root's with the sticky bit; nothing else")
    func rules() {
        let me = geteuid()
        #expect(DeviceClaims.problem(owner: me, mode: 0o40700) == nil)
        #expect(DeviceClaims.problem(owner: me, mode: 0o41777) == nil)
        #expect(DeviceClaims.problem(owner: me, mode: 0o40755) == nil)
        #expect(DeviceClaims.problem(owner: me, mode: 0o40777) != nil)
        if me != 0 {
            #expect(DeviceClaims.problem(owner: 0, mode: 0o41777) == nil)
            #expect(DeviceClaims.problem(owner: 0, mode: 0o40755)?.contains("not to you") == true)
            #expect(DeviceClaims.problem(owner: me + 1, mode: 0o40700)?.contains("belongs to user \(me + 1)") == true)
        }
    }

    @Test("a new claims directory is private (0700); the lock file is never widened, and holds our pid")
    func created() throws {
        let directory = temporary("claims")
        let m = manager(gpus, claimsDirectory: directory)
        #expect(m.getDevice().description == "cuda:0")
        #expect(mode(directory) == 0o700)
        let file = directory + "/GPU-victim-0.lock"
        #expect(mode(file) & ~0o644 == 0)  // at most rw-r--r--, whatever the umask
        #expect(m.inventory().devices.first?.claimedBy == getpid())
        // An earlier, longer record is covered without truncating the file.
        let other = temporary("claims")
        try makeDirectory(other, mode: 0o700)
        try "99999999999999999999 leftover\n".write(toFile: other + "/GPU-victim-0.lock", atomically: false, encoding: .utf8)
        try #require(chmod(other + "/GPU-victim-0.lock", 0o600) == 0)
        let second = manager(gpus, claimsDirectory: other)
        #expect(second.getDevice().description == "cuda:0")
        #expect(mode(other + "/GPU-victim-0.lock") == 0o600)
        let text = try String(contentsOfFile: other + "/GPU-victim-0.lock", encoding: .utf8)
        #expect(text.hasPrefix(String(getpid()) + " "))
        #expect(text.count == "99999999999999999999 leftover\n".count)
    }
}
