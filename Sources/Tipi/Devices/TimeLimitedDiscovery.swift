import Foundation
import Synchronization

/// Bounds a discovery backend in time: NVML calls into the driver and has no timeout of its own, so a
/// wedged driver would hang `getDevice()` forever. The backend runs on its own thread; when it has not
/// answered within `timeout` seconds, this gives up on it (the thread is left to finish, or never) and
/// reports an empty result with a warning, so the next backend (`nvidia-smi`, the CPU) is tried.
///
/// While an earlier call is still stuck, later calls do not start another thread: they report the same
/// warning at once.
struct TimeLimitedDiscovery: GPUDiscovery {
    let base: any GPUDiscovery
    let timeout: Double
    /// Whether an earlier call of this backend is still running (shared by copies of this value).
    private let busy: BusyFlag

    /// A flag shared between the caller and the thread it started.
    final class BusyFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// Where the thread leaves its answer.
    final class Answer: Sendable {
        let value = Mutex<GPUDiscoveryResult??>(nil)
    }

    init(_ base: any GPUDiscovery, timeout: Double) {
        self.base = base
        self.timeout = timeout
        self.busy = BusyFlag()
    }

    var name: String { base.name }

    func discover() -> GPUDiscoveryResult? {
        let stuck = GPUDiscoveryResult(
            gpus: [], source: name,
            warnings: ["\(name) did not answer within \(Self.seconds(timeout)) (TIPI_NVIDIA_SMI_TIMEOUT); the driver may be stuck"])
        guard busy.value.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return stuck
        }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        let base = self.base
        let busy = self.busy
        let thread = Thread {
            let result = base.discover()
            answer.value.withLock { $0 = .some(result) }
            busy.value.store(false, ordering: .releasing)
            done.signal()
        }
        thread.name = "tipi-\(name)-discovery"
        thread.start()
        guard done.wait(timeout: .now() + timeout) == .success else { return stuck }
        return answer.value.withLock { $0 } ?? nil
    }

    /// `5 s`, `0.5 s`.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
