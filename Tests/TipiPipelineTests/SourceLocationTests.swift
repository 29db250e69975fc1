import Foundation
import Testing

@testable import TipiPipeline

/// `Testing` has a `SourceLocation` too.
private typealias Location = TipiPipeline.SourceLocation

/// A location does not retain its origin: origins are kept by content for the life of the program. These
/// check that a location stays whole after everything that made it is gone, and that keeping origins by
/// content gives one origin per content, from any thread.
@Suite("Source locations")
struct SourceLocationTests {
    /// Locations of a document parsed, checked and dropped in a function of its own (nothing else holds them).
    private func locationsOfADroppedDocument(file: String) throws -> [Location] {
        let text = "[processes.a]\ntype = \"t\"\nparams = { n = 1, name = \"x\" }\n"
        let document = try ConfigLoader.parse(text: text, file: file)
        let params = try #require(document["processes"]?.table?["a"]?.table?["params"]?.table)
        return params.entries.compactMap(\.value.location)
    }

    @Test("a location read after its document, parser and tree are gone keeps its file, line and column")
    func outlivesItsDocument() throws {
        let file = "configs/" + UUID().uuidString + ".toml"  // a heap string, made here only
        let locations = try locationsOfADroppedDocument(file: file)
        #expect(locations.map(\.description) == ["\(file):3:16", "\(file):3:26"])
        #expect(locations[0] == Location(file: file, line: 3, column: 16))
    }

    @Test("one origin per content: the same file or override gives the same origin, another gives another")
    func oneOriginPerContent() {
        let file = "a-" + UUID().uuidString + ".toml"
        let first = Location.Origin.make(file: file)
        #expect(Location.Origin.make(file: String(file.reversed().reversed())) === first)
        #expect(Location.Origin.make(file: file + "x") !== first)
        #expect(Location.Origin.make(file: file, override: "k=1") !== first)
        #expect(Location.Origin.make(file: file, override: "k=1", overrideOrigin: "sweep") !== Location.Origin.make(file: file, override: "k=1"))
        #expect(Location.Origin.make(file: file, wide: (1 << 40, 3)) !== first)
        #expect(Location.Origin.make(file: file, wide: (1 << 40, 3)) === Location.Origin.make(file: file, wide: (1 << 40, 3)))
    }

    @Test("a position beyond 32 bits, and changed files and overrides, read back exactly")
    func setters() {
        let file = "w-" + UUID().uuidString
        var location = Location(file: file, line: 1 << 40, column: 7)
        #expect(location.line == 1 << 40 && location.column == 7 && location.file == file)
        location.line = 12
        #expect(location == Location(file: file, line: 12, column: 7))
        location.file = file + ".toml"
        location.override = "a.b=2"
        location.overrideOrigin = "sweep"
        #expect(location.description == "sweep a.b=2")
        #expect(location.file == file + ".toml" && location.line == 12 && location.column == 7)
        #expect(Set([location, location, Location(file: file, line: 12, column: 7)]).count == 2)
    }

    @Test("origins made from many threads at once: one per content, each whole")
    func concurrentMakes() async {
        let base = "c-" + UUID().uuidString
        let found = await withTaskGroup(of: [ObjectIdentifier].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<200).map { ObjectIdentifier(Location.Origin.make(file: base + String($0 % 50))) }
                }
            }
            var all: [[ObjectIdentifier]] = []
            for await ids in group { all.append(ids) }
            return all
        }
        for ids in found { #expect(ids == found[0]) }
        #expect(Set(found[0]).count == 50)
        #expect((0..<50).allSatisfy { Location.Origin.make(file: base + String($0)).file == base + String($0) })
    }
}
