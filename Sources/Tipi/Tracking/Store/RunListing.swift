import Foundation

extension RunStore {
    /// What listing one run folder gave: the run (or a problem), and its entry for the next index.
    private struct ListedFolder {
        var result: Result<StoredRun, RunStoreProblem>
        var entry: RunIndex.Entry?
        /// The entry was read from `run.json` now (not taken from the index).
        var fresh = false
        /// The old index had an entry for this folder.
        var wasIndexed = false
        /// `run.json` was read (the index had no trusted entry).
        var readFile = true
    }

    /// Lists the run `folders` (project folder name, run folder name) through the run index: a run whose
    /// `run.json` still has the identity its entry records is taken from the index; any other is read from its
    /// `run.json`. Writes a new index when runs were read that the next listing can trust, or entries went away.
    ///
    /// - Parameter scope: the project folders listed (`nil`: all); entries of other projects are kept as
    ///   they were.
    func listWithIndex(
        _ folders: [(project: String, name: String)], scope: [String]?, withConfig: Bool
    ) -> (results: [Result<StoredRun, RunStoreProblem>], filesRead: Int) {
        let index = RunIndex.load(root: root)
        var projectFolders: [String: URL] = [:]
        for folder in folders where projectFolders[folder.project] == nil {
            projectFolders[folder.project] = root.appendingPathComponent(folder.project, isDirectory: true)
        }
        let count = folders.count
        let projectURLs = projectFolders
        // Each chunk writes only its own slots.
        nonisolated(unsafe) let listed = UnsafeMutableBufferPointer<ListedFolder?>.allocate(capacity: count)
        listed.initialize(repeating: nil)
        defer {
            listed.deinitialize()
            listed.deallocate()
        }
        // Thousands of stat calls (and, for changed runs, reads and decodes): spread over the cores, each
        // chunk writing its own slots of `listed`.
        let chunks = min(count, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for position in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                let (project, name) = folders[position]
                guard let projectFolder = projectURLs[project] else { continue }
                listed[position] = Self.listFolder(
                    projectFolder.appendingPathComponent(name, isDirectory: true), path: project + "/" + name,
                    index: index, withConfig: withConfig)
            }
        }

        var entries: [RunIndex.Entry] = []
        entries.reserveCapacity(count)
        var results: [Result<StoredRun, RunStoreProblem>] = []
        results.reserveCapacity(count)
        var settled = false
        var kept = 0
        var filesRead = 0
        let settledBefore = Int64(Date().timeIntervalSince1970 * 1e9) - RunIndex.settleNanoseconds
        for item in listed {
            guard let item else { continue }
            results.append(item.result)
            if item.readFile { filesRead += 1 }
            guard let entry = item.entry else { continue }
            entries.append(entry)
            if item.fresh, entry.key.modified < settledBefore { settled = true }
            if item.wasIndexed { kept += 1 }
        }
        var indexedInScope = 0
        if let index {
            for (path, slot) in index.slots {
                let project = String(path.prefix { $0 != "/" })
                if let scope, !scope.contains(project) {
                    entries.append(RunIndex.Entry(path: path, key: slot.key, fields: index.bytes[slot.start..<slot.start + slot.count]))
                } else {
                    indexedInScope += 1
                }
            }
        }
        if settled || indexedInScope > kept {
            RunIndex.write(entries, root: root)
        }
        return (results, filesRead)
    }

    /// One run folder, from the index when its entry is trusted, else from its `run.json`.
    private static func listFolder(_ folder: URL, path: String, index: RunIndex?, withConfig: Bool) -> ListedFolder {
        // The key is taken before reading: a run.json replaced meanwhile gets a new key, so the entry written
        // now (older key, newer content) is read again next time; never the other way round.
        let key = RunIndex.FileKey(path: folder.path + "/" + metadataFile)
        let slot = index?.slots[path]
        if let key, let index, let slot, index.trusts(slot, key: key),
            let metadata = index.metadata(slot, withConfig: withConfig)
        {
            let run = StoredRun(metadata: metadata, folder: folder, status: effectiveStatus(metadata))
            let entry = RunIndex.Entry(path: path, key: key, fields: index.bytes[slot.start..<slot.start + slot.count])
            return ListedFolder(result: .success(run), entry: entry, wasIndexed: true, readFile: false)
        }
        let result = readRun(folder, withConfig: true)
        guard case .success(let run) = result, run.damage == nil, let key else {
            return ListedFolder(result: result, entry: nil)
        }
        // Through the index's own fields, so that a run lists the same whether it came from the index or not.
        let fields = RunIndex.encode(run.metadata)
        guard let metadata = try? fields.withUnsafeBytes({ try RunIndex.decode($0, withConfig: withConfig) }) else {
            return ListedFolder(result: result, entry: nil)
        }
        return ListedFolder(
            result: .success(StoredRun(metadata: metadata, folder: folder, status: run.status)),
            entry: RunIndex.Entry(path: path, key: key, fields: fields[...]), fresh: true, wasIndexed: slot != nil)
    }
}
