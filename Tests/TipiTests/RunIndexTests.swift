import Foundation
import Testing
import TipiTestSupport

@testable import Tipi

/// The run index (`.tipi-index`): a listing reads it instead of every `run.json`, and is never wrong
/// because of it (changed, racy, damaged or foreign indexes, other processes writing at the same time).
@Suite("Listing runs through the run index")
struct RunIndexTests {
    /// What a listing shows of each run, comparable across listings.
    func shown(_ runs: [RunStore.StoredRun]) -> [String] {
        runs.map { run in
            let metadata = run.metadata
            let summary = metadata.summary.keys.sorted().map { "\($0)=\(metadata.summary[$0].map { "\($0.last)/\($0.count)/\($0.step)" } ?? "")" }
            let config = metadata.config.keys.sorted().map { "\($0)=\(metadata.config[$0]?.description ?? "")" }
            let sources = (metadata.configSources ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)<-\($0.value)" }
            return [
                metadata.id, metadata.project, metadata.name, run.status.rawValue, "\(metadata.startTime)",
                "\(metadata.endTime ?? -1)", metadata.tags.joined(separator: ","), metadata.host, "\(metadata.pid)",
                summary.joined(separator: ","), config.joined(separator: ","), sources.joined(separator: ","),
                metadata.sweep.map { "\($0.id)#\($0.index ?? -1)" } ?? "", run.folder.path, run.damage ?? "",
            ].joined(separator: " | ")
        }
    }

    /// A listing that does not use the index (it is removed first).
    func listedWithoutIndex(_ store: RunStore, withConfig: Bool = true) -> [String] {
        unlink(indexPath(store))
        return shown(store.listRuns(project: nil, withConfig: withConfig).runs)
    }

    func indexPath(_ store: RunStore) -> String {
        store.root.appendingPathComponent(".tipi-index").path
    }

    /// Sets a file's modification time `seconds` into the past (a run that ended a while ago).
    func age(_ path: String, by seconds: Int = 3600) {
        let past = timeval(tv_sec: time(nil) - seconds, tv_usec: 0)
        #expect(utimes(path, [past, past]) == 0)
    }

    /// `count` finished runs whose run.json was last written an hour ago.
    func oldRuns(_ store: RunStore, count: Int, project: String = "tests") throws -> [Run] {
        var runs: [Run] = []
        for index in 0..<count {
            let run = try startRun(store, project: project, config: ["lr": .double(0.01 * Double(index + 1)), "opt": "adam"])
            run.log(["loss": Double(index), "acc": 0.5])
            // Every other run as a pipeline's: where each config value came from, listed beside the config.
            if index % 2 == 0 { try run.recordConfigSources(["lr": "--set lr=\(index)", "opt": "default"]) }
            run.finish()
            age(run.folder.appendingPathComponent("run.json").path)
            runs.append(run)
        }
        return runs
    }

    @Test("a second listing reads no run.json, and lists exactly what reading every run.json lists")
    func unchangedRunsComeFromTheIndex() throws {
        let store = temporaryStore()
        _ = try oldRuns(store, count: 12)
        let first = store.listRuns(project: nil, withConfig: true)
        #expect(first.filesRead == 12)
        #expect(FileManager.default.fileExists(atPath: indexPath(store)))
        let second = store.listRuns(project: nil, withConfig: true)
        #expect(second.filesRead == 0)
        #expect(shown(second.runs) == shown(first.runs))
        let table = store.listRuns(project: nil, withConfig: false)
        #expect(table.filesRead == 0)
        #expect(table.runs.allSatisfy { $0.metadata.config.isEmpty })
        #expect(shown(second.runs) == listedWithoutIndex(store))
        #expect(second.runs.count == 12)
        #expect(second.runs.allSatisfy { $0.metadata.config["opt"] == .string("adam") && $0.metadata.summary["loss"] != nil })
        #expect(second.runs.filter { $0.metadata.configSources?["opt"] == "default" }.count == 6)
    }

    @Test("a run.json rewritten after indexing, even with its old modification time and size, is read again")
    func changedRunJSONIsReadAgain() throws {
        let store = temporaryStore()
        let runs = try oldRuns(store, count: 3)
        _ = store.listRuns(project: nil, withConfig: true)
        let file = runs[1].folder.appendingPathComponent("run.json").path
        var before = stat()
        #expect(stat(file, &before) == 0)
        // Same length, other content, the old modification time put back: only the inode and ctime differ.
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let renamed = text.replacingOccurrences(of: "\"name\" : \"test-run\"", with: "\"name\" : \"best-run\"")
        #expect(renamed != text)
        try renamed.write(toFile: file, atomically: true, encoding: .utf8)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        let listing = store.listRuns(project: nil, withConfig: true)
        #expect(listing.filesRead == 1)
        #expect(listing.runs.first { $0.metadata.id == runs[1].id }?.metadata.name == "best-run")
        #expect(shown(listing.runs) == listedWithoutIndex(store))
    }

    @Test("a run.json modified within two seconds of the index is never taken from it")
    func racyEntriesAreReadAgain() throws {
        let store = temporaryStore()
        _ = try oldRuns(store, count: 1)
        let run = try startRun(store)
        run.log(["loss": 1])
        run.finish()
        // The old run makes this listing write the index; the new run's entry is in it, but racy.
        #expect(store.listRuns(project: nil, withConfig: true).filesRead == 2)
        let index = try #require(RunIndex.load(root: store.root))
        #expect(index.slots.count == 2)
        #expect(store.listRuns(project: nil, withConfig: true).filesRead == 1)
        // Rewritten in place with the same size and its old timestamps put back: still read, never trusted.
        let file = run.folder.appendingPathComponent("run.json").path
        var before = stat()
        #expect(stat(file, &before) == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"name\" : \"test-run\"", with: "\"name\" : \"tent-run\"").write(
            toFile: file, atomically: false, encoding: .utf8)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        let listing = store.listRuns(project: nil, withConfig: true)
        #expect(listing.filesRead == 1)
        #expect(listing.runs.first { $0.metadata.id == run.id }?.metadata.name == "tent-run")
    }

    @Test(
        "a damaged, truncated, empty, foreign or unreadable index is ignored and rebuilt",
        arguments: ["truncated", "flipped", "empty", "foreign", "garbage", "folder", "huge count", "sparse 3 GiB"])
    func damagedIndex(_ damage: String) throws {
        let store = temporaryStore()
        _ = try oldRuns(store, count: 5)
        let expected = listedWithoutIndex(store)
        let path = indexPath(store)
        #expect(FileManager.default.fileExists(atPath: path))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        switch damage {
        case "truncated": bytes = Array(bytes.prefix(bytes.count - 7))
        case "flipped": bytes[bytes.count / 2] ^= 0x20
        case "empty": bytes = []
        case "foreign": bytes.replaceSubrange(0..<8, with: Array("TIPIRIX9".utf8))
        case "garbage": bytes = Array("{\"runs\": []}\r\n\0".utf8)
        case "huge count":
            // A well-formed header whose payload claims 2^32-1 runs.
            var writer = RunIndexWriter()
            writer.unsigned32(Int(UInt32.max))
            var file = RunIndexWriter()
            file.bytes = RunIndex.magic
            file.unsigned(UInt64(writer.bytes.count))
            file.unsigned(writer.bytes.withUnsafeBytes(RunIndex.checksum))
            bytes = file.bytes + writer.bytes
        default: break
        }
        if damage == "folder" {
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } else {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        // Its header intact, zeros to 3 GiB (no disk used): refused from its header, not read.
        if damage == "sparse 3 GiB" { #expect(truncate(path, 3 << 30) == 0) }
        let listing = store.listRuns(project: nil, withConfig: true)
        #expect(listing.filesRead == 5)
        #expect(listing.problems.isEmpty)
        #expect(shown(listing.runs) == expected)
        if damage != "folder" {
            // Rebuilt: the next listing is served by it.
            #expect(store.listRuns(project: nil, withConfig: true).filesRead == 0)
        }
    }

    @Test("a listing of one project keeps the other projects' entries; a removed run leaves the index")
    func projectsAndRemovedRuns() throws {
        let store = temporaryStore()
        let mine = try oldRuns(store, count: 3, project: "mine")
        _ = try oldRuns(store, count: 2, project: "other")
        _ = store.listRuns(project: "mine", withConfig: true)
        #expect(store.listRuns(project: nil, withConfig: true).filesRead == 2)
        #expect(store.listRuns(project: nil, withConfig: true).filesRead == 0)
        try FileManager.default.removeItem(at: mine[0].folder)
        let listing = store.listRuns(project: "mine", withConfig: false)
        #expect(listing.runs.map(\.metadata.id).sorted() == [mine[1].id, mine[2].id].sorted())
        let index = try #require(RunIndex.load(root: store.root))
        #expect(index.slots.count == 4)
        #expect(index.slots["mine/\(mine[0].folder.lastPathComponent)"] == nil)
    }

    @Test("a run folder removed while a listing reads it is left out without a warning; a folder without run.json is damaged")
    func folderRemovedWhileListed() throws {
        let store = temporaryStore()
        let runs = try oldRuns(store, count: 2)
        // What a listing meets when the folder goes between `readdir` and its read: no folder at all.
        try FileManager.default.removeItem(at: runs[0].folder)
        guard case .failure(let gone) = RunStore.readRun(runs[0].folder, withConfig: false) else {
            Issue.record("a removed folder was read")
            return
        }
        #expect(gone.removed)
        // A folder that is there without its run.json is a damaged run, not a removed one.
        try FileManager.default.removeItem(at: runs[1].folder.appendingPathComponent("run.json"))
        let damaged = try RunStore.readRun(runs[1].folder, withConfig: false).get()
        #expect(damaged.status == .damaged)
        // A listing given the removed folder's name (as `readdir` gave it) says nothing about it.
        let listing = store.listWithIndex(
            [("tests", runs[0].folder.lastPathComponent, true), ("tests", runs[1].folder.lastPathComponent, true)], scope: nil, withConfig: false)
        #expect(listing.problems.isEmpty)
        #expect(listing.items.count == 1)
    }

    @Test("a run.json removed or replaced by a folder after indexing lists as damaged, as without an index")
    func runJSONGoneAfterIndexing() throws {
        let store = temporaryStore()
        let runs = try oldRuns(store, count: 2)
        _ = store.listRuns(project: nil, withConfig: true)
        let file = runs[0].folder.appendingPathComponent("run.json")
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        let listing = store.listRuns(project: nil, withConfig: true)
        #expect(listing.runs.first { $0.folder == runs[0].folder }?.status == .damaged)
        #expect(shown(listing.runs) == listedWithoutIndex(store))
    }

    @Test("an index that cannot be read or replaced (a folder in its place) is not needed")
    func storeWithoutIndex() throws {
        let store = temporaryStore()
        _ = try oldRuns(store, count: 2)
        unlink(indexPath(store))
        try FileManager.default.createDirectory(atPath: indexPath(store) + "/inside", withIntermediateDirectories: true)
        let listing = store.listRuns(project: nil, withConfig: true)
        #expect(listing.runs.count == 2)
        #expect(listing.problems.isEmpty)
        #expect(store.listRuns(project: nil, withConfig: true).filesRead == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("runs written by other processes while listings (and their index writes) run in parallel")
    func concurrentWritersAndListers() async throws {
        let store = temporaryStore()
        let old = try oldRuns(store, count: 20)
        let oldShown = shown(store.listRuns(project: nil, withConfig: true).runs)
        let fixture = try #require(Executables.path(of: "TipiFixture"), "build the package first (swift build)")
        let writers = try (0..<4).map { index in
            try Executables.start(
                fixture, ["log", "--steps", "300", "--sleep", "0.002", "--name", "writer-\(index)"],
                environment: ["TIPI_DIR": store.root.path, "TIPI_BACKENDS": ""])
        }
        // Three listers at once, each writing the index when it pays, until the writers are done; the third
        // lists the newest 22 alone (as `tipi runs --limit 22`), which checks only those against their run.json.
        let failures = await withTaskGroup(of: [String].self) { group in
            for lister in 0..<3 {
                group.addTask {
                    var failures: [String] = []
                    for _ in 0..<40 {
                        let listing: (runs: [RunStore.StoredRun], problems: [String])
                        if lister == 2 {
                            let newest = store.listing(withConfig: true, newest: 22)
                            listing = (Array(newest), newest.problems)
                            if newest.count != min(22, newest.total) || !(20...24).contains(newest.total) { failures.append("newest: \(newest.count) of \(newest.total)") }
                        } else {
                            let whole = store.listRuns(project: nil, withConfig: true)
                            listing = (whole.runs, whole.problems)
                        }
                        if !listing.problems.isEmpty { failures.append("problems: \(listing.problems)") }
                        let shownOld = self.shown(listing.runs.filter { run in old.contains { $0.id == run.metadata.id } })
                        if shownOld != Array(oldShown.prefix(shownOld.count)) { failures.append("old runs listed differently") }
                        // (A run being created has no run.json for an instant: listed as damaged, with or without
                        // the index; an old run never is.)
                        if listing.runs.contains(where: { $0.status == .damaged && $0.metadata.project != "fixture" }) {
                            failures.append("a damaged run: \(listing.runs.filter { $0.status == .damaged }.map(\.folder.path))")
                        }
                        usleep(10_000)
                    }
                    return failures
                }
            }
            var all: [String] = []
            for await failures in group { all += failures }
            return all
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        for writer in writers { #expect(writer.wait().status == 0) }
        let afterWriters = store.listRuns(project: nil, withConfig: true)
        #expect(afterWriters.runs.count == 24)
        #expect(afterWriters.runs.allSatisfy { $0.status == .finished })
        #expect(shown(Array(store.listing(withConfig: true, newest: 22))) == Array(shown(afterWriters.runs).prefix(22)))
        #expect(shown(afterWriters.runs) == listedWithoutIndex(store))
        // Once the new run.json files have settled, they are indexed and served from the index too.
        try await Task.sleep(for: .milliseconds(2_200))
        _ = store.listRuns(project: nil, withConfig: true)
        let settled = store.listRuns(project: nil, withConfig: true)
        #expect(settled.filesRead == 0)
        #expect(shown(settled.runs) == listedWithoutIndex(store))
    }

    @Test("the newest N are the first N of the whole listing, checking only those runs against their run.json")
    func newestRunsAreTheListingsFirst() throws {
        let store = temporaryStore()
        var runs = try oldRuns(store, count: 12)  // runs[11] is the newest
        /// The newest `count` runs listed alone, beside the first `count` of the whole listing made after it.
        func newest(_ count: Int, project: String? = nil, withConfig: Bool = true) -> (listing: RunListing, expected: [String]) {
            let listing = store.listing(project: project, withConfig: withConfig, newest: count)
            let whole = store.listing(project: project, withConfig: withConfig)
            #expect(shown(Array(listing)) == shown(Array(whole.prefix(count))))
            #expect(listing.total == whole.count && listing.problems == whole.problems)
            return (listing, shown(Array(whole.prefix(count))))
        }
        func rewrite(_ run: Run, _ change: (String) -> String) throws {
            let file = run.folder.appendingPathComponent("run.json").path
            var before = stat()
            #expect(stat(file, &before) == 0)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(change(text) != text)
            try change(text).write(toFile: file, atomically: true, encoding: .utf8)
            var times = [before.st_atim, before.st_mtim]  // its old modification time put back
            #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        }
        _ = store.listing(withConfig: true)  // writes the index
        for withConfig in [true, false] {
            let unchanged = newest(3, withConfig: withConfig).listing
            #expect(unchanged.filesRead == 0 && unchanged.count == 3 && unchanged.total == 12)
            #expect(unchanged.map(\.metadata.id) == [runs[11].id, runs[10].id, runs[9].id])
        }
        #expect(newest(40).listing.count == 12)
        // A shown run rewritten by another process: read again.
        try rewrite(runs[10]) { $0.replacingOccurrences(of: "\"name\" : \"test-run\"", with: "\"name\" : \"best-run\"") }
        let rewritten = newest(3).listing
        #expect(rewritten.filesRead == 1 && rewritten[1].metadata.name == "best-run")
        // A run not shown, rewritten: not read (its entry is kept as it was, for the next whole listing to check).
        try rewrite(runs[2]) { $0.replacingOccurrences(of: "\"name\" : \"test-run\"", with: "\"name\" : \"west-run\"") }
        #expect(store.listing(withConfig: true, newest: 3).filesRead == 0)
        #expect(store.listing(withConfig: true).first { $0.metadata.id == runs[2].id }?.metadata.name == "west-run")
        // New runs (not yet indexed) are read and sorted in; a removed one leaves the listing and the index.
        runs += try oldRuns(store, count: 2)
        let added = newest(3).listing
        #expect(added.filesRead == 2 && added.total == 14 && added.first?.metadata.id == runs[13].id)
        try FileManager.default.removeItem(at: runs[13].folder)
        let removed = newest(3).listing
        #expect(removed.total == 13 && removed.first?.metadata.id == runs[12].id)
        // A shown run whose start time is not the indexed one, or whose run.json is gone: the whole listing.
        try rewrite(runs[12]) { text in
            text.replacingOccurrences(of: "\"startTime\" : ", with: "\"startTime\" : 1")
        }
        #expect(newest(3).expected.count == 3)
        try FileManager.default.removeItem(at: runs[11].folder.appendingPathComponent("run.json"))
        let damaged = newest(13).listing
        #expect(damaged.first { $0.folder == runs[11].folder }?.status == .damaged)
        // One project of several: the other projects' entries stay in the index.
        let others = try oldRuns(store, count: 3, project: "other")
        _ = store.listing(withConfig: false)
        let mine = newest(2, project: "tests", withConfig: false).listing
        #expect(mine.total == 13 && mine.allSatisfy { $0.metadata.project == "tests" })
        #expect(try #require(RunIndex.load(root: store.root)).slots.keys.filter { $0.hasPrefix("other/") }.count == others.count)
    }

    @Test("the newest N without an index, or with many runs it does not know: those are read (on every core) and indexed")
    func newestRunsWithoutIndex() throws {
        let store = temporaryStore()
        _ = try oldRuns(store, count: 3)
        _ = store.listing(withConfig: false)
        _ = try oldRuns(store, count: 65, project: "more")
        let many = store.listing(withConfig: false, newest: 2)
        #expect(many.filesRead == 65 && many.count == 2 && many.total == 68)
        #expect(store.listing(withConfig: false).filesRead == 0)
        unlink(indexPath(store))
        let first = store.listing(withConfig: false, newest: 2)
        #expect(first.filesRead == 68 && first.count == 2)
        #expect(store.listing(withConfig: false, newest: 2).filesRead == 0)
    }

    @Test(
        "an entry not yet trusted is never carried into a later index unread (one-second timestamps)",
        arguments: ["newest 3", "another project"])
    func untrustedEntriesAreNotCarried(_ writer: String) throws {
        let store = temporaryStore()
        let runs = try oldRuns(store, count: 6)
        let others = try oldRuns(store, count: 2, project: "other")
        _ = store.listing(withConfig: true)  // the index, trusting all eight
        // runs[0] (not among the newest 3) rewritten with its modification time set to the index's own: as on
        // a file system with one-second timestamps, where a listing read it just before this rewrite, within
        // the same second, and wrote an index whose entry has the file's key now and the content it read.
        let file = runs[0].folder.appendingPathComponent("run.json").path
        var indexInfo = stat()
        #expect(stat(indexPath(store), &indexInfo) == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"name\" : \"test-run\"", with: "\"name\" : \"late-run\"").write(
            toFile: file, atomically: false, encoding: .utf8)
        var times = [indexInfo.st_mtim, indexInfo.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        let index = try #require(RunIndex.load(root: store.root))
        let newKey = try #require(RunIndex.FileKey(directory: AT_FDCWD, path: file))
        RunIndex.write(
            index.slots.map { path, slot in
                RunIndex.Entry(
                    path: path, key: path.hasSuffix(runs[0].folder.lastPathComponent) ? newKey : slot.key, fields: index.fields(slot))
            }, root: store.root)
        #expect(utimensat(AT_FDCWD, indexPath(store), &times, 0) == 0)
        #expect(store.listing(withConfig: true).first { $0.metadata.id == runs[0].id }?.metadata.name == "late-run")
        // A listing that writes an index seconds later (a run went away) must not carry that entry over
        // unread: the next whole listing reads the file and shows the new name.
        sleep(3)
        if writer == "newest 3" {
            try FileManager.default.removeItem(at: runs[1].folder)
            _ = store.listing(withConfig: true, newest: 3)
        } else {
            try FileManager.default.removeItem(at: others[0].folder)
            _ = store.listing(project: "other", withConfig: true)
        }
        #expect(try #require(RunIndex.load(root: store.root)).modified > indexInfo.st_mtim.tv_sec * 1_000_000_000 + 2_000_000_000)
        #expect(store.listing(withConfig: true).first { $0.metadata.id == runs[0].id }?.metadata.name == "late-run")
    }

    @Test("the newest N count and name what is no longer a run folder (a file, a dangling link), as the whole listing does")
    func newestRunsSeeReplacedFolders() throws {
        let store = temporaryStore()
        let runs = try oldRuns(store, count: 8)
        _ = store.listing(withConfig: false)
        try FileManager.default.removeItem(at: runs[0].folder)
        try "x".write(to: runs[0].folder, atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(at: runs[1].folder)
        try FileManager.default.createSymbolicLink(atPath: runs[1].folder.path, withDestinationPath: "/nonexistent")
        let newest = store.listing(withConfig: false, newest: 3)
        let whole = store.listing(withConfig: false)
        #expect(newest.total == whole.count && newest.total == 6)
        #expect(newest.problems.count == 2 && newest.problems == whole.problems)
    }

    @Test("the lazy listing decodes each run as the whole listing does; its first N are the table's N, any source")
    func lazyListingIsTheListing() throws {
        let store = temporaryStore()
        _ = try oldRuns(store, count: 9)
        let fresh = try Run.start(
            project: "tests", name: "fresh </script> \u{1}\"ü/x", config: ["opt": "sgd"], tags: ["a/b"], notes: nil, group: nil,
            backends: [], store: store)
        fresh.log(["loss": .nan])
        fresh.finish()
        // A damaged run (no run.json) among them.
        try FileManager.default.createDirectory(
            at: store.root.appendingPathComponent("tests/20261130-041200-deadbeef"), withIntermediateDirectories: true)
        for withConfig in [true, false] {
            let expected = listedWithoutIndex(store, withConfig: withConfig)  // writes the index
            #expect(expected.count == 11)
            for _ in 0..<2 {  // from run.json files (the first), then from the index
                let listing = store.listing(withConfig: withConfig)
                #expect(shown(Array(listing)) == expected)
                #expect(shown(listing.decodedRuns()) == expected)
                #expect(shown(Array(listing.prefix(4))) == Array(expected.prefix(4)))
                #expect(listing.count == 11 && listing.problems.isEmpty)
            }
        }
        let many = try oldRuns(store, count: 600, project: "many")  // decoded on several threads
        let listing = store.listing(withConfig: true)
        #expect(shown(listing.decodedRuns()) == shown(Array(listing)))
        #expect(listing.count == 611 && many.count == 600)
    }

    @Test("the listing's digest: the same while nothing changes; another when a run is rewritten, added, removed or its process ends")
    func digestFollowsTheRuns() throws {
        let store = temporaryStore()
        let runs = try oldRuns(store, count: 4)
        _ = store.listing(withConfig: true)  // writes the index
        let first = store.listing(withConfig: true).digest()
        #expect(store.listing(withConfig: true).digest() == first)
        #expect(store.listing(withConfig: false).digest() != first)
        // Rewritten by another process, with its old modification time put back.
        let file = runs[1].folder.appendingPathComponent("run.json").path
        var before = stat()
        #expect(stat(file, &before) == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"name\" : \"test-run\"", with: "\"name\" : \"best-run\"").write(
            toFile: file, atomically: true, encoding: .utf8)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        let rewritten = store.listing(withConfig: true).digest()
        #expect(rewritten != first)
        #expect(store.listing(withConfig: true).digest() == rewritten)
        // A run whose run.json says `running` for a live process of this host; then the process ends (its
        // run.json untouched): the status shown changes, and so does the digest.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        let live = try Run.start(
            project: "tests", name: "live", config: [:], tags: [], notes: nil, group: nil, backends: [], store: store)
        live.finish()
        let liveFile = live.folder.appendingPathComponent("run.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: liveFile)) as? [String: Any])
        object["status"] = "running"
        object["pid"] = Int(sleeper.processIdentifier)
        object["processStart"] = ProcessFacts.startTime(of: sleeper.processIdentifier).map { Int($0) }
        object["endTime"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: liveFile)
        age(liveFile.path)
        let whileRunning = store.listing(withConfig: true)
        #expect(whileRunning.first { $0.metadata.name == "live" }?.status == .running)
        let runningDigest = whileRunning.digest()
        #expect(store.listing(withConfig: true).digest() == runningDigest)
        sleeper.terminate()
        sleeper.waitUntilExit()
        let ended = store.listing(withConfig: true)
        #expect(ended.first { $0.metadata.name == "live" }?.status == .crashed)
        #expect(ended.digest() != runningDigest)
        // Removed and added runs.
        try FileManager.default.removeItem(at: runs[0].folder)
        let removed = store.listing(withConfig: true).digest()
        #expect(removed != ended.digest())
        _ = try oldRuns(store, count: 1)
        #expect(store.listing(withConfig: true).digest() != removed)
    }
}
