import Foundation

/// Where the dashboard's data comes from: the `tipi` tool implements it on a run store, with the same
/// JSON encoding as `tipi runs --json` (so the dashboard and the CLI never disagree on a field).
package protocol DashboardSource: Sendable {
    /// `GET /api/runs`: the JSON array of `tipi runs --json`, newest first; with `since` (seconds since
    /// 1970), only the runs started, ended or heard from at or after it, and those still running; with
    /// `limit`, at most that many of them from `offset` on (the runs page asks for its first rows so).
    func runsJSON(since: Double?, offset: Int, limit: Int?) throws -> Data
    /// `GET /api/runs/RUN`: one run as `tipi runs show RUN --json` prints it, without the histories.
    func runJSON(_ run: String) throws -> Data
    /// One metric's full history (steps and values in logging order).
    func series(run: String, metric: String) throws -> (steps: [Int], values: [Double])
}

/// A request the source cannot answer: no such run or metric (404), or a bad parameter (400).
package struct DashboardRequestError: Error, CustomStringConvertible {
    /// The HTTP status to answer with.
    package var status: Int
    /// One line for the user.
    package var message: String

    /// An error with its HTTP status.
    package init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The message.
    package var description: String { message }
}
