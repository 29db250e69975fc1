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

    /// Lists the run `folders` (project folder name, run folder name, inside ``root``) through the run index: a run whose
    /// `run.json` still has the identity its entry records is taken from the index; any other is read from its
    /// `run.json`. Writes a new index when runs were read that the next listing can trust, or entries went away.
    ///
    /// - Parameter scope: the project folders listed (`nil`: all); entries of other projects are kept as
    ///   they were.
    func listWithIndex(
        _ folders: [(project: String, name: String)], scope: [String]?, withConfig: Bool
    ) -> (runs: [StoredRun], problems: [String], filesRead: Int) {
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
        defer { listed.deallocate() }
        // Thousands of stat calls (and, for changed runs, reads and decodes): spread over the cores, each
        // chunk writing its own slots of `listed`.
        let chunks = min(count, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for position in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                let (project, name) = folders[position]
                let path = project + "/" + name
                listed[position] = Self.listFolder(
                    rootPath + "/" + path, path: path, directory: descriptors[project] ?? -1, name: name, index: index,
                    withConfig: withConfig)
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
        if let index {
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
        // Moved out, not copied: a copy of a run's metadata is some twenty retains and releases.
        var runs: [StoredRun] = []
        runs.reserveCapacity(count)
        var problems: [String] = []
        for position in 0..<count {
            guard let item = (listed.baseAddress! + position).move() else { continue }
            switch item.result {
            case .success(let run): runs.append(run)
            case .failure(let problem): problems.append(problem.text)
            }
        }
        return (runs, problems, filesRead)
    }

    /// One run folder, from the index when its entry is trusted, else from its `run.json`.
    private static func listFolder(
        _ folderPath: String, path: String, directory: Int32, name: String, index: RunIndex?, withConfig: Bool
    ) -> ListedFolder {
        // The key is taken before reading: a run.json replaced meanwhile gets a new key, so the entry written
        // now (older key, newer content) is read again next time; never the other way round.
        let key = RunIndex.FileKey(directory: directory, path: name + "/" + metadataFile)
        let folder = URL(fileURLWithPath: folderPath, isDirectory: true)
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
