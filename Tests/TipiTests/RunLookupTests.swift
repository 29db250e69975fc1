import Foundation
import Testing

@testable import Tipi

/// `RunStore.run(matching:)`: the ways a run can be named, in order, and the errors when none or several fit.
@Suite("Finding a run by id, name or prefix")
struct RunLookupTests {
    func start(_ store: RunStore, _ name: String) throws -> Run {
        let run = try Run.start(
            project: "lookup", name: name, config: [:], tags: [], notes: nil, group: nil, backends: [], store: store)
        run.finish()
        return run
    }

    @Test("a unique prefix of a name names the newest run of that name; the id comes first")
    func namePrefix() throws {
        let store = temporaryStore()
        let hardy = try start(store, "hardy-otter-78")
        _ = try start(store, "swift-fox-1")
        let newerFox = try start(store, "swift-fox-1")
        #expect(try store.run(matching: "hardy").metadata.id == hardy.id)
        #expect(try store.run(matching: "hardy-otter-78").metadata.id == hardy.id)
        #expect(try store.run(matching: "swift").metadata.id == newerFox.id)
        #expect(try store.run(matching: String(hardy.id.prefix(6))).metadata.id == hardy.id)
    }

    @Test("an ambiguous prefix lists the runs it fits; an empty query and an unknown one find nothing")
    func ambiguousAndMissing() throws {
        let store = temporaryStore()
        let cat = try start(store, "happy-cat")
        let fox = try start(store, "happy-fox")
        #expect(throws: TrackingError.ambiguousRun("happy", candidates: ["\(fox.id) (happy-fox)", "\(cat.id) (happy-cat)"])) {
            try store.run(matching: "happy")
        }
        #expect(throws: TrackingError.runNotFound("", store: store.root.path, suggestion: nil)) { try store.run(matching: "") }
        #expect(throws: TrackingError.runNotFound("hapy-fox", store: store.root.path, suggestion: "happy-fox")) {
            try store.run(matching: "hapy-fox")
        }
    }

    @Test("the ambiguous-run message shows at most eight candidates")
    func longCandidateList() {
        let error = TrackingError.ambiguousRun("r", candidates: (0..<12).map { "id\($0) (r\($0))" })
        #expect(
            error.description
                == "'r' matches several runs: id0 (r0), id1 (r1), id2 (r2), id3 (r3), id4 (r4), id5 (r5), id6 (r6), id7 (r7), … (4 more); give more of the id or name"
        )
    }
}
