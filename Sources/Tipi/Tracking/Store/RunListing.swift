import Foundation

/// The runs of a store as a listing found them, newest first, each decoded only when it is read.
///
/// Listing 10,000 runs costs one `stat` each; decoding each run's fields into a ``RunStore/StoredRun``
/// (strings, summary, config, the folder's `URL`) costs more than that, and a table shows 30 of them. The
/// listing keeps each run's encoded fields (the run index's, see `RunIndex`, whether they came from the
/// index or from a `run.json` read now) and its start time, sorted; ``subscript(_:)`` decodes one run,
/// exactly as ``RunStore/runs(project:withConfig:)`` lists it (that function is this listing, decoded whole).
package struct RunListing: RandomAccessCollection, Sendable {
    /// One listed run: its index fields and folder, or a run read whole (a damaged one).
    enum Item: Sendable {
        case fields(ArraySlice<UInt8>, folder: String)
        /// Boxed: a whole run is hundreds of bytes, and thousands of items are made, copied and sorted.
        indirect case run(RunStore.StoredRun)
    }

    let items: [Item]
    let withConfig: Bool
    /// Entries of the store that could not be listed at all (one line each).
    package let problems: [String]
    /// How many `run.json` files the listing read (those the index could not vouch for).
    let filesRead: Int
    /// How many runs the store holds in the listing's scope: ``count``, or more when only the newest were
    /// listed (see ``RunStore/listing(project:withConfig:newest:)``).
    package let total: Int

    init(items: [Item], withConfig: Bool, problems: [String], filesRead: Int, total: Int? = nil) {
        self.items = items
        self.withConfig = withConfig
        self.problems = problems
        self.filesRead = filesRead
        self.total = total ?? items.count
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { items.count }

    /// The run at `position`, decoded now (each read decodes again: read each run once).
    package subscript(position: Int) -> RunStore.StoredRun {
        switch items[position] {
        case .run(let run): return run
        case .fields(let fields, let folderPath):
            let folder = URL(fileURLWithPath: folderPath, isDirectory: true)
            guard let metadata = try? fields.withUnsafeBytes({ try RunIndex.decode($0, withConfig: withConfig) }) else {
                // Fields that passed the index's checksum but do not decode (never written so): the run.json.
                return (try? RunStore.readRun(folder, withConfig: withConfig).get())
                    ?? RunStore.damagedRun(folder, reason: "run.json cannot be read", partial: nil)
            }
            return RunStore.StoredRun(metadata: metadata, folder: folder, status: RunStore.effectiveStatus(metadata))
        }
    }

    /// A digest of everything the listed runs are decoded from, in their order: each run's fields (as
    /// validated by the listing against its `run.json`), folder and status shown now (the status of a
    /// `running` run depends on its process). Two listings with the same digest decode to the same runs (up to
    /// a 64-bit hash collision), so what was computed from one (the dashboard's encoded list) serves the other.
    package func digest() -> UInt64 {
        digest(combining: runDigests())
    }

    /// The digest of this listing from its ``runDigests()``.
    package func digest(combining runDigests: [UInt64]) -> UInt64 {
        var hash = ListingDigest()
        hash.mix(withConfig ? 1 : 2)
        hash.mix(UInt64(runDigests.count))
        for digest in runDigests { hash.mix(digest) }
        return hash.value
    }

    /// Each run's digest (its fields, folder and status now; see ``digest()``): equal digests, the same run
    /// decoded, so what was computed from a run can be kept by its digest.
    package func runDigests() -> [UInt64] {
        items.indices.map { position in
            var hash = ListingDigest()
            hash.mix(withConfig ? 1 : 2)
            switch items[position] {
            case .fields(let fields, let folder):
                hash.mix(fields)
                hash.mix(folder)
                if RunIndex.isRunning(fields) { hash.mix(self[position].status.rawValue) }
            case .run(let run):
                hash.mix(RunIndex.encode(run.metadata)[...])
                hash.mix(run.folder.path)
                hash.mix(run.status.rawValue)
                hash.mix(run.damage ?? "")
            }
            return hash.value
        }
    }

    /// Every run, decoded (on several threads when there are many).
    package func decodedRuns() -> [RunStore.StoredRun] {
        let count = items.count
        guard count >= 512 else { return Array(self) }
        return [RunStore.StoredRun](unsafeUninitializedCapacity: count) { buffer, initialized in
            nonisolated(unsafe) let slots = buffer
            let chunks = Swift.min(count / 256, ProcessInfo.processInfo.activeProcessorCount * 2)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for position in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                    (slots.baseAddress! + position).initialize(to: self[position])
                }
            }
            initialized = count
        }
    }
}

/// A 64-bit digest (FNV-style, eight bytes at a time, as the index's checksum).
private struct ListingDigest {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* 0x100_0000_01b3
        value ^= value >> 29
    }

    mutating func mix(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { mix(RunIndex.checksum($0)) }
        mix(UInt64(bytes.count))
    }

    mutating func mix(_ text: String) {
        var text = text
        text.withUTF8 { mix(RunIndex.checksum(UnsafeRawBufferPointer($0))) }
        mix(UInt64(text.utf8.count))
    }
}

extension RunStore {
    /// A folder a listing found in a project folder, and whether `readdir` said it is a folder (`false` also
    /// when it could not say: a symbolic link, or a file system that does not give types).
    typealias FolderName = (project: String, name: String, isFolder: Bool)

    /// What listing one run folder gave: the run (or a problem), and its entry for the next index.
    private struct ListedFolder {
        var result: Result<RunListing.Item, RunStoreProblem>
        /// What the listing sorts by.
        var startTime: Double = 0
        var entry: RunIndex.Entry?
        /// The entry was read from `run.json` now (not taken from the index).
        var fresh = false
        /// The old index had an entry for this folder.
        var wasIndexed = false
        /// `run.json` was read (the index had no trusted entry).
        var readFile = true
    }

    /// Lists the run `folders` (project folder name, run folder name, inside ``root``) through the run index: a run whose
    /// `run.json` still has the identity its entry records is taken from the index; any other is read from its
    /// `run.json`. Writes a new index when runs were read that the next listing can trust, or entries went away.
    /// The runs come sorted newest first (by start time; folders of the same start time in `folders`' order),
    /// not yet decoded.
    ///
    /// - Parameter scope: the project folders listed (`nil`: all); entries of other projects that the index
    ///   trusts are kept as they were.
    func listWithIndex(_ folders: [FolderName], scope: [String]?, withConfig: Bool) -> RunListing {
        let index = RunIndex.load(root: root)
        let listed = listFolders(folders, positions: nil, index: index)
        var kept = 0
        var filesRead = 0
        for position in listed.indices {
            if listed[position].readFile { filesRead += 1 }
            if listed[position].entry != nil, listed[position].wasIndexed { kept += 1 }
        }
        rewriteIndex(index, scope: scope, read: listed, kept: kept) { entries in
            for position in listed.indices {
                if let entry = listed[position].entry { entries.append(entry) }
            }
        }
        // Newest first; the same start time keeps the folders' order (as a stable sort of the runs did).
        var order: [(startTime: Double, position: Int)] = []
        order.reserveCapacity(listed.count)
        var problems: [String] = []
        for position in listed.indices {
            switch listed[position].result {
            case .success: order.append((listed[position].startTime, position))
            case .failure(let problem): if !problem.removed { problems.append(problem.text) }
            }
        }
        order.sort { $0.startTime > $1.startTime || ($0.startTime == $1.startTime && $0.position < $1.position) }
        let items = order.map { listed[$0.position].result.success! }
        return RunListing(items: items, withConfig: withConfig, problems: problems, filesRead: filesRead)
    }

    /// The newest `limit` of the run `folders`, as ``listWithIndex(_:scope:withConfig:)`` lists them, checking
    /// only those against their `run.json` (and reading every run the index does not know yet); `nil` when
    /// there is no index, or when a checked run's start time is not the one indexed (the order it was taken
    /// in is then unsure), for the caller to list every run instead.
    ///
    /// Runs are ordered by the start time their index entry holds, without a `stat` each: Tipi writes a run's
    /// start time once, when the run starts, so the entry of a run that changed since still sorts it where
    /// its `run.json` would. The runs shown are then each checked as a whole listing checks them. Entries
    /// of the runs not checked go into a new index only when the old index trusted them already (an entry
    /// written within ``RunIndex/settleNanoseconds`` of its `run.json` must be read again, not be carried
    /// into an index written later, which would trust it).
    func listNewest(_ folders: [FolderName], limit: Int, scope: [String]?, withConfig: Bool) -> RunListing? {
        guard limit > 0, let index = RunIndex.load(root: root) else { return nil }
        // Indexed runs sort by their entries' start times; the others are read now (new runs, damaged ones,
        // and anything `readdir` did not call a folder).
        var order: [(startTime: Double, position: Int)] = []
        order.reserveCapacity(folders.count)
        var unindexed: [Int] = []
        var slots: [RunIndex.Slot?] = []
        slots.reserveCapacity(folders.count)
        for (position, folder) in folders.enumerated() {
            let slot = folder.isFolder ? index.slots[folder.project + "/" + folder.name] : nil
            slots.append(slot)
            if let slot, let startTime = RunIndex.startTime(index.fields(slot)) {
                order.append((startTime, position))
            } else {
                unindexed.append(position)
            }
        }
        var listed: [Int: ListedFolder] = [:]
        var problems: [String] = []
        for (offset, item) in listFolders(folders, positions: unindexed, index: index).enumerated() {
            let position = unindexed[offset]
            listed[position] = item
            switch item.result {
            case .success: order.append((item.startTime, position))
            case .failure(let problem): if !problem.removed { problems.append(problem.text) }
            }
        }
        order.sort { $0.startTime > $1.startTime || ($0.startTime == $1.startTime && $0.position < $1.position) }
        // The newest, each checked now: a run whose start time is not the indexed one (edited by hand,
        // damaged, gone) may belong elsewhere in the order, so the whole listing is made instead.
        let shown = order.prefix(limit)
        let unchecked = shown.map(\.position).filter { listed[$0] == nil }
        for (offset, item) in listFolders(folders, positions: unchecked, index: index).enumerated() {
            listed[unchecked[offset]] = item
        }
        var items: [RunListing.Item] = []
        items.reserveCapacity(shown.count)
        for (startTime, position) in shown {
            guard let item = listed[position], case .success(let listedItem) = item.result, item.startTime == startTime,
                item.entry != nil || slots[position] == nil
            else { return nil }
            items.append(listedItem)
        }
        rewriteIndex(index, scope: scope, read: listed.values, kept: slots.count { $0 != nil }) { entries in
            for (position, folder) in folders.enumerated() {
                if let item = listed[position] {
                    if let entry = item.entry { entries.append(entry) }
                } else if let slot = slots[position], index.isSettled(slot) {
                    entries.append(RunIndex.Entry(path: folder.project + "/" + folder.name, key: slot.key, fields: index.fields(slot)))
                }
            }
        }
        return RunListing(
            items: items, withConfig: withConfig, problems: problems, filesRead: listed.values.count { $0.readFile },
            total: order.count)
    }

    /// Writes a new index when it pays: when runs were read now that the next listing can trust (their
    /// `run.json` settled), or when fewer of the old index's runs in `scope` were `kept` than it had (runs
    /// went away). The new index holds the other projects' trusted entries and what `addEntries` adds.
    private func rewriteIndex<Listed: Collection<ListedFolder>>(
        _ index: RunIndex?, scope: [String]?, read listed: Listed, kept: Int, addEntries: (inout [RunIndex.Entry]) -> Void
    ) {
        let settledBefore = Int64(Date().timeIntervalSince1970 * 1e9) - RunIndex.settleNanoseconds
        let settled = listed.contains { $0.fresh && ($0.entry?.key.modified ?? .max) < settledBefore }
        guard settled || Self.indexedInScope(index, scope: scope) > kept else { return }
        var entries = Self.keptEntries(index, outside: scope)
        addEntries(&entries)
        RunIndex.write(entries, root: root)
    }

    /// How many entries of `index` lie in `scope` (project folders; `nil`: all).
    private static func indexedInScope(_ index: RunIndex?, scope: [String]?) -> Int {
        guard let index else { return 0 }
        guard let scope else { return index.slots.count }
        return index.slots.keys.count { scope.contains(String($0.prefix { $0 != "/" })) }
    }

    /// The entries of `index` outside `scope` that it trusts, as they are: a listing of one project keeps the
    /// other projects' (an entry the old index did not trust yet is left out, to be read again).
    private static func keptEntries(_ index: RunIndex?, outside scope: [String]?) -> [RunIndex.Entry] {
        guard let index, let scope else { return [] }
        return index.slots.compactMap { path, slot in
            scope.contains(String(path.prefix { $0 != "/" })) || !index.isSettled(slot)
                ? nil : RunIndex.Entry(path: path, key: slot.key, fields: index.fields(slot))
        }
    }

    /// Lists the folders at `positions` of `folders` (all of them when `nil`), each as ``listFolder`` does:
    /// on every core when there are many (thousands of `stat` calls, and reads and decodes of changed runs).
    private func listFolders(_ folders: [FolderName], positions: [Int]?, index: RunIndex?) -> [ListedFolder] {
        let count = positions?.count ?? folders.count
        guard count > 0 else { return [] }
        let rootPath = root.path
        // Each project folder opened once: `stat` relative to it walks two path components, not the whole path.
        var projectDescriptors: [String: Int32] = [:]
        for offset in 0..<count {
            let project = folders[positions?[offset] ?? offset].project
            if projectDescriptors[project] == nil {
                projectDescriptors[project] = open(rootPath + "/" + project, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            }
        }
        let descriptors = projectDescriptors
        defer { for descriptor in descriptors.values where descriptor >= 0 { close(descriptor) } }
        let chunks = count < 32 ? 1 : min(count, ProcessInfo.processInfo.activeProcessorCount * 4)
        return [ListedFolder](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Each slot is initialized by the one chunk that lists its folder (touching the memory once).
            nonisolated(unsafe) let slots = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for offset in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                    let (project, name, _) = folders[positions?[offset] ?? offset]
                    let path = project + "/" + name
                    (slots.baseAddress! + offset).initialize(
                        to: Self.listFolder(
                            rootPath + "/" + path, path: path, directory: descriptors[project] ?? -1, name: name, index: index))
                }
            }
            initialized = count
        }
    }

    /// One run folder, from the index when its entry is trusted, else from its `run.json`.
    private static func listFolder(
        _ folderPath: String, path: String, directory: Int32, name: String, index: RunIndex?
    ) -> ListedFolder {
        // The key is taken before reading: a run.json replaced meanwhile gets a new key, so the entry written
        // now (older key, newer content) is read again next time; never the other way round.
        let key = RunIndex.FileKey(directory: directory, path: name + "/" + metadataFile)
        let slot = index?.slots[path]
        if let key, let index, let slot, index.trusts(slot, key: key) {
            let fields = index.fields(slot)
            if let startTime = RunIndex.startTime(fields) {
                return ListedFolder(
                    result: .success(.fields(fields, folder: folderPath)), startTime: startTime,
                    entry: RunIndex.Entry(path: path, key: key, fields: fields), wasIndexed: true, readFile: false)
            }
        }
        let folder = URL(fileURLWithPath: folderPath, isDirectory: true)
        let result = readRun(folder, withConfig: true)
        guard case .success(let run) = result, run.damage == nil, let key else {
            return ListedFolder(result: result.map { .run($0) }, startTime: (try? result.get())?.metadata.startTime ?? 0)
        }
        // Kept as the index's own fields, so that a run lists the same whether it came from the index or not.
        let fields = RunIndex.encode(run.metadata)[...]
        return ListedFolder(
            result: .success(.fields(fields, folder: folderPath)), startTime: run.metadata.startTime,
            entry: RunIndex.Entry(path: path, key: key, fields: fields), fresh: true, wasIndexed: slot != nil)
    }
}

extension Result {
    /// The value, or `nil` for a failure.
    fileprivate var success: Success? { try? get() }
}
