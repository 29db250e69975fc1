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
        case run(RunStore.StoredRun)
    }

    let items: [Item]
    let withConfig: Bool
    /// Entries of the store that could not be listed at all (one line each).
    package let problems: [String]
    /// How many `run.json` files the listing read (those the index could not vouch for).
    let filesRead: Int

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
    /// - Parameter scope: the project folders listed (`nil`: all); entries of other projects are kept as
    ///   they were.
    func listWithIndex(_ folders: [(project: String, name: String)], scope: [String]?, withConfig: Bool) -> RunListing {
        let index = RunIndex.load(root: root)
        let rootPath = root.path
        let count = folders.count
        // Each project folder opened once: `stat` relative to it walks two path components, not the whole path.
        var projectDescriptors: [String: Int32] = [:]
        for folder in folders where projectDescriptors[folder.project] == nil {
            projectDescriptors[folder.project] = open(rootPath + "/" + folder.project, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        let descriptors = projectDescriptors
        defer { for descriptor in descriptors.values where descriptor >= 0 { close(descriptor) } }
        // Each chunk writes only its own slots.
        nonisolated(unsafe) let listed = UnsafeMutableBufferPointer<ListedFolder?>.allocate(capacity: count)
        listed.initialize(repeating: nil)
        defer {
            _ = listed.deinitialize()
            listed.deallocate()
        }
        // Thousands of stat calls (and, for changed runs, reads and decodes): spread over the cores, each
        // chunk writing its own slots of `listed`.
        let chunks = min(count, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for position in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                let (project, name) = folders[position]
                let path = project + "/" + name
                listed[position] = Self.listFolder(
                    rootPath + "/" + path, path: path, directory: descriptors[project] ?? -1, name: name, index: index)
            }
        }

        var settled = false
        var kept = 0
        var filesRead = 0
        let settledBefore = Int64(Date().timeIntervalSince1970 * 1e9) - RunIndex.settleNanoseconds
        for position in 0..<count {
            guard let item = listed[position] else { continue }
            if item.readFile { filesRead += 1 }
            guard let entry = item.entry else { continue }
            if item.fresh, entry.key.modified < settledBefore { settled = true }
            if item.wasIndexed { kept += 1 }
        }
        var indexedInScope = 0
        var otherProjects: [RunIndex.Entry] = []
        if let index, scope == nil {
            indexedInScope = index.slots.count
        } else if let index {
            for (path, slot) in index.slots {
                let project = String(path.prefix { $0 != "/" })
                if let scope, !scope.contains(project) {
                    otherProjects.append(RunIndex.Entry(path: path, key: slot.key, fields: index.bytes[slot.start..<slot.start + slot.count]))
                } else {
                    indexedInScope += 1
                }
            }
        }
        if settled || indexedInScope > kept {
            var entries = otherProjects
            entries.reserveCapacity(otherProjects.count + count)
            for position in 0..<count {
                if let entry = listed[position]?.entry { entries.append(entry) }
            }
            RunIndex.write(entries, root: root)
        }
        // Newest first; the same start time keeps the folders' order (as a stable sort of the runs did).
        var order: [(startTime: Double, position: Int)] = []
        order.reserveCapacity(count)
        var problems: [String] = []
        for position in 0..<count {
            guard let item = listed[position] else { continue }
            switch item.result {
            case .success: order.append((item.startTime, position))
            case .failure(let problem): problems.append(problem.text)
            }
        }
        order.sort { $0.startTime > $1.startTime || ($0.startTime == $1.startTime && $0.position < $1.position) }
        let items = order.map { listed[$0.position]!.result.success! }
        return RunListing(items: items, withConfig: withConfig, problems: problems, filesRead: filesRead)
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
            let fields = index.bytes[slot.start..<slot.start + slot.count]
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
