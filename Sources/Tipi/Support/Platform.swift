import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one place for calls that differ between Linux and macOS: the process environment for
/// `posix_spawn`, the clocks, `/proc` reads (on macOS: `sysctl` and the Mach host statistics).
///
/// Linux (x86_64) is built and tested; the macOS branches are written but not built here (see the
/// README's "Platforms"). Everything else in Tipi uses POSIX calls both systems have.
package enum Platform {
    /// The process's environment block, as `posix_spawn` wants it (`environ`; `_NSGetEnviron()` on macOS).
    package static var environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        #if os(Linux)
            return environ
        #else
            return _NSGetEnviron()?.pointee
        #endif
    }

    /// Unix seconds at the coarse clock's resolution (a few milliseconds on Linux): cheap enough for every
    /// logged step. macOS has no coarse clock; its `CLOCK_REALTIME` is cheap already.
    package static func coarseWallTime() -> Double {
        #if os(Linux)
            seconds(of: CLOCK_REALTIME_COARSE)
        #else
            seconds(of: CLOCK_REALTIME)
        #endif
    }

    /// Seconds of a monotonic clock that does not stop while the process sleeps (`CLOCK_MONOTONIC` on
    /// Linux; on macOS `CLOCK_MONOTONIC_RAW`, which also counts time asleep).
    package static func monotonicTime() -> Double {
        #if os(Linux)
            seconds(of: CLOCK_MONOTONIC)
        #else
            seconds(of: CLOCK_MONOTONIC_RAW)
        #endif
    }

    private static func seconds(of clock: clockid_t) -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    /// When process `pid` started, as a number that is only compared with itself (a pid reused by a new
    /// process gets another): field 22 of `/proc/<pid>/stat` on Linux, `p_starttime` in microseconds on
    /// macOS. `nil` when it cannot be read.
    package static func processStartTime(of pid: Int32) -> UInt64? {
        #if os(Linux)
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { return nil }
            let fields = text[text.index(after: close)...].split(separator: " ")
            // After the command: state is field 3, so the start time (field 22) is at offset 19.
            guard fields.count > 19 else { return nil }
            return UInt64(fields[19])
        #else
            var info = kinfo_proc()
            var size = MemoryLayout<kinfo_proc>.stride
            var name: [Int32] = [CTL_KERN, KERN_PROC, KERN_PROC_PID, pid]
            guard sysctl(&name, UInt32(name.count), &info, &size, nil, 0) == 0, size > 0 else { return nil }
            let start = info.kp_proc.p_un.__p_starttime
            return UInt64(start.tv_sec) * 1_000_000 + UInt64(start.tv_usec)
        #endif
    }

    /// The CPU's model name (`model name` in `/proc/cpuinfo`; `machdep.cpu.brand_string` on macOS).
    package static func cpuModelName() -> String? {
        #if os(Linux)
            guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix("model name") {
                if let value = line.split(separator: ":", maxSplits: 1).last {
                    return value.trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        #else
            var size = 0
            guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: size)
            guard sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #endif
    }

    /// Memory the system can give to programs now, in bytes: `MemAvailable` in `/proc/meminfo` on Linux;
    /// free, inactive and purgeable pages on macOS (where GPUs share this memory).
    package static func availableMemory() -> Int64? {
        #if os(Linux)
            guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let parts = line.split(separator: " ")
                if parts.count >= 2, let kib = Int64(parts[1]) { return kib * 1024 }
            }
            return nil
        #else
            var statistics = vm_statistics64()
            var count = mach_msg_type_number_t(MemoryLayout<vm_statistics64>.stride / MemoryLayout<integer_t>.stride)
            let status = withUnsafeMutablePointer(to: &statistics) { pointer in
                pointer.withMemoryRebound(to: integer_t.self, capacity: Int(count)) {
                    host_statistics64(mach_host_self(), HOST_VM_INFO64, $0, &count)
                }
            }
            guard status == KERN_SUCCESS else { return nil }
            let pages = Int64(statistics.free_count) + Int64(statistics.inactive_count) + Int64(statistics.purgeable_count)
            return pages * Int64(vm_kernel_page_size)
        #endif
    }
}
