import Foundation
import Testing
import TipiTestSupport

extension TrackingProcessTests {
    @Test("kill -9 during a tight logging loop: the metric file reads back a prefix of the steps, no gap, at most a torn tail, and no more than ~1 s behind")
    func killedTightLoop() throws {
        let (process, id) = try startLogging(["--project", "killed", "--steps", "1000000000", "--keys", "2", "--report", "5000"])
        let reported = try #require(waitForLine(process, prefix: "step 20000"))
        // Values logged at least 1.2 s before the kill are on disk (a round takes them within a second).
        usleep(1_200_000)
        process.signal(SIGKILL)
        #expect(process.wait(timeout: 30).signal == SIGKILL)
        let run = try show(id)
        let damage = run["metricFile"] as? [String: Any] ?? [:]
        #expect((damage["skippedRecords"] as? Int ?? 0) == 0, "\(damage)")
        #expect((damage["unnamedValues"] as? Int ?? 0) == 0, "\(damage)")
        let history = try #require(run["history"] as? [String: [[String: Any]]])
        let loss = try #require(history["loss"])
        #expect(loss.count > 20_000, "\(reported): only \(loss.count) steps on disk")
        #expect(loss.enumerated().allSatisfy { index, point in point["step"] as? Int == index && point["value"] as? Double == Double(index) })
        for key in ["train/acc"] {
            #expect(history[key]?.count == loss.count, "\(key): \(history[key]?.count ?? -1) values, loss \(loss.count)")
        }
    }
}
