import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The artifacts of one run: the files under `artifacts/` in its folder and their manifest,
/// `artifacts.json` (name, size, SHA-256, step, time, version of each).
///
/// A file is put in place under a temporary name and renamed over the old one, and the manifest is
/// rewritten atomically after it, so `kill -9` at any moment leaves the previous artifact or the new one,
/// whole. The manifest is written at each save (not with the metrics a second later): a checkpoint saved
/// before a crash is found on resume.
final class ArtifactStore: Sendable {
    /// The run's folder.
    let runFolder: URL
    /// `artifacts/` in the run's folder.
    let directory: URL
    private let manifest: Mutex<[String: Artifact]>
    private let counter = Atomic<Int>(0)
    /// Held while a file is renamed into place and recorded, and while the manifest is written, so that
    /// concurrent saves never put an older snapshot over a newer one or a record beside another file.
    private let placing = Mutex(())

    /// The manifest's file name, beside `run.json`.
    static let manifestFile = "artifacts.json"
    /// The folder of the artifacts in a run's folder.
    static let folderName = "artifacts"
    /// Files from this size on are hard-linked by ``ArtifactTransfer/automatic``.
    static let linkThreshold: Int64 = 64 << 20

    init(runFolder: URL) {
        self.runFolder = runFolder
        directory = runFolder.appendingPathComponent(Self.folderName, isDirectory: true)
        manifest = Mutex(Dictionary(Self.recorded(inRunFolder: runFolder).map { ($0.name, $0) }, uniquingKeysWith: { _, new in new }))
        Self.setAsideIfDamaged(runFolder: runFolder)
    }

    /// A manifest that exists but cannot be read is kept under another name (with one warning) rather
    /// than written over by the next save.
    private static func setAsideIfDamaged(runFolder: URL) {
        let path = runFolder.appendingPathComponent(manifestFile, isDirectory: false).path
        guard let data = FileManager.default.contents(atPath: path), (try? JSONDecoder().decode(ManifestFile.self, from: data)) == nil
        else { return }
        let aside = path + ".damaged-\(Int(Date().timeIntervalSince1970))"
        if rename(path, aside) == 0 {
            Diagnostics.warn("\(path) could not be read; it is kept as \(aside) and a new manifest is started")
        }
    }

    /// The artifacts recorded in a run's folder, by name; empty when it has none (or the manifest is unreadable).
    static func recorded(inRunFolder runFolder: URL) -> [Artifact] {
        guard let data = FileManager.default.contents(atPath: runFolder.appendingPathComponent(manifestFile, isDirectory: false).path),
            let file = try? JSONDecoder().decode(ManifestFile.self, from: data)
        else { return [] }
        return file.artifacts.sorted { $0.name < $1.name }
    }

    private struct ManifestFile: Codable {
        var artifacts: [Artifact]
    }

    // MARK: - Saving

    /// Saves a file or a folder (each file in it, under `name/…`); returns what was recorded.
    func save(_ source: URL, name: String?, step: Int?, transfer: ArtifactTransfer) throws(ArtifactError) -> [Artifact] {
        let path = source.path
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ArtifactError("cannot save \(path) as an artifact: \(String(cString: strerror(errno)))")
        }
        let given = name ?? source.lastPathComponent
        let parts: [String]
        switch ArtifactName.components(of: given) {
        case .success(let value): parts = value
        case .failure(let error): throw error
        }
        // A link given by the caller is the caller's own choice: its target is saved.
        guard let real = Self.realPath(path) else {
            throw ArtifactError("cannot save \(path) as an artifact: it is a symbolic link whose target does not exist")
        }
        guard stat(real, &info) == 0 else {
            throw ArtifactError("cannot save \(path) as an artifact: \(String(cString: strerror(errno)))")
        }
        if Self.isDirectory(info) {
            if real == directory.path || real.hasPrefix(directory.path + "/") || directory.path.hasPrefix(real + "/") {
                throw ArtifactError("cannot save \(path) as an artifact: it is (or contains) the run's own artifacts folder")
            }
            var files: [(source: String, parts: [String])] = []
            try Self.collect(directory: real, root: real, prefix: parts, shown: path, into: &files)
            var saved: [Artifact] = []
            for file in files {
                saved.append(try saveFile(file.source, parts: file.parts, step: step, transfer: transfer))
            }
            return saved
        }
        guard Self.isRegular(info) else {
            throw ArtifactError("cannot save \(path) as an artifact: it is not a regular file or a folder")
        }
        return [try saveFile(real, parts: parts, step: step, transfer: transfer)]
    }

    /// The files of a folder, sorted; links inside are followed only to files inside the folder.
    private static func collect(
        directory: String, root: String, prefix: [String], shown: String, into files: inout [(source: String, parts: [String])]
    ) throws(ArtifactError) {
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ArtifactError("cannot read the folder \(directory): \(error.localizedDescription)")
        }
        for entry in entries {
            let full = directory + "/" + entry
            let parts = prefix + [entry]
            if case .failure(let error) = ArtifactName.components(of: parts.joined(separator: "/")) { throw error }
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                guard let target = realPath(full), target.hasPrefix(root + "/") else {
                    throw ArtifactError(
                        "cannot save \(shown) as an artifact: \(full) is a symbolic link that points outside the folder "
                            + "(save its target separately, or copy it into the folder)")
                }
                var targetInfo = stat()
                guard stat(target, &targetInfo) == 0, isRegular(targetInfo) else {
                    throw ArtifactError(
                        "cannot save \(shown) as an artifact: \(full) is a symbolic link to a folder (links to folders are not followed)")
                }
                files.append((target, parts))
            } else if isDirectory(info) {
                try collect(directory: full, root: root, prefix: parts, shown: shown, into: &files)
            } else if isRegular(info) {
                files.append((full, parts))
            } else {
                throw ArtifactError("cannot save \(shown) as an artifact: \(full) is not a regular file or a folder")
            }
        }
    }

    /// Puts one file in place under a temporary name, renames it over `artifacts/<name>`, records it.
    private func saveFile(_ source: String, parts: [String], step: Int?, transfer: ArtifactTransfer) throws(ArtifactError) -> Artifact {
        let name = parts.joined(separator: "/")
        let parent = try makeParents(parts)
        let destination = parent + "/" + (parts.last ?? name)
        var existing = stat()
        if lstat(destination, &existing) == 0, isDirectoryOrOther(existing) {
            throw ArtifactError("cannot save the artifact \(name): \(destination) is a folder (or not a regular file)")
        }
        let temporary = parent + "/" + ArtifactName.temporaryPrefix + "\(getpid())-\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
        var info = stat()
        _ = stat(source, &info)
        let size = Int64(info.st_size)
        var movedAway = false
        do throws(ArtifactError) {
            var placed = false
            if transfer == .move, rename(source, temporary) == 0 {
                placed = true
                movedAway = true
            } else if transfer == .link || transfer == .move || (transfer == .automatic && size >= Self.linkThreshold) {
                placed = link(source, temporary) == 0
            }
            let digest = placed ? try Self.hash(path: temporary) : try Self.copy(from: source, to: temporary)
            var placedInfo = stat()
            let placedSize = stat(temporary, &placedInfo) == 0 ? Int64(placedInfo.st_size) : size
            // The file in place and its record change together: concurrent saves of one name never leave a
            // record that describes another file.
            let artifact = try placing.withLock { _ throws(ArtifactError) -> Artifact in
                guard rename(temporary, destination) == 0 else {
                    throw ArtifactError("cannot save the artifact \(name) to \(destination): \(String(cString: strerror(errno)))")
                }
                let artifact = record(name: name, size: placedSize, sha256: digest, step: step)
                try writeManifestNow()
                return artifact
            }
            if transfer == .move, !movedAway, FileManager.default.fileExists(atPath: source) {
                // Copied or linked across: the move is completed by removing the source.
                unlink(source)
            }
            return artifact
        } catch {
            // Nothing half-done stays, and a file being moved goes back where it was.
            if movedAway { rename(temporary, source) } else { unlink(temporary) }
            throw error
        }
    }

    private func record(name: String, size: Int64, sha256: String, step: Int?) -> Artifact {
        manifest.withLock { manifest in
            let version = manifest[name].map { $0.version + 1 } ?? 0
            let artifact = Artifact(name: name, size: size, sha256: sha256, step: step, time: Date().timeIntervalSince1970, version: version)
            manifest[name] = artifact
            return artifact
        }
    }

    /// Creates `artifacts/` and the folders of a name, refusing to write through links.
    private func makeParents(_ parts: [String]) throws(ArtifactError) -> String {
        var current = directory.path
        for part in [""] + parts.dropLast() {
            if !part.isEmpty { current += "/" + part }
            var info = stat()
            if lstat(current, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFLNK {
                    throw ArtifactError(
                        "cannot save the artifact \(parts.joined(separator: "/")): \(current) is a symbolic link (artifacts are never written through links)")
                }
                guard Self.isDirectory(info) else {
                    throw ArtifactError("cannot save the artifact \(parts.joined(separator: "/")): \(current) is a file, not a folder")
                }
            } else if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw ArtifactError("cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
        return current
    }

    /// Rewrites `artifacts.json` atomically.
    private func writeManifest() throws(ArtifactError) {
        try placing.withLock { _ throws(ArtifactError) in try writeManifestNow() }
    }

    private func writeManifestNow() throws(ArtifactError) {
        let artifacts = manifest.withLock { $0.values.sorted { $0.name < $1.name } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let target = runFolder.appendingPathComponent(Self.manifestFile).path
        let temporary = runFolder.appendingPathComponent(".\(Self.manifestFile).\(getpid()).\(counter.wrappingAdd(1, ordering: .relaxed).newValue).tmp")
        do {
            try encoder.encode(ManifestFile(artifacts: artifacts)).write(to: temporary)
        } catch {
            unlink(temporary.path)
            throw ArtifactError("cannot write \(target): \(error.localizedDescription)")
        }
        guard rename(temporary.path, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw ArtifactError("cannot write \(target): \(reason)")
        }
    }

    // MARK: - The folder written directly

    /// Records the files written straight into `artifacts/` that the manifest does not list (or lists with
    /// another size or an older time); returns them. Links there are not followed: each gets a reason.
    func recordUnlisted() -> (recorded: [Artifact], problems: [String]) {
        var found: [(name: String, path: String, size: Int64, modified: Double)] = []
        var problems: [String] = []
        walk(directory.path, prefix: [], found: &found, problems: &problems)
        let known = manifest.withLock { $0 }
        var recorded: [Artifact] = []
        for file in found {
            if let previous = known[file.name], previous.size == file.size, file.modified <= previous.time { continue }
            do {
                let digest = try Self.hash(path: file.path)
                recorded.append(record(name: file.name, size: file.size, sha256: digest, step: nil))
            } catch {
                problems.append(error.description)
            }
        }
        if !recorded.isEmpty {
            do { try writeManifest() } catch { problems.append(error.description) }
        }
        return (recorded, problems)
    }

    private func walk(
        _ path: String, prefix: [String], found: inout [(name: String, path: String, size: Int64, modified: Double)],
        problems: inout [String]
    ) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for entry in entries.sorted() where !entry.hasPrefix(ArtifactName.temporaryPrefix) {
            let full = path + "/" + entry
            let parts = prefix + [entry]
            let name = parts.joined(separator: "/")
            if case .failure(let error) = ArtifactName.components(of: name) {
                problems.append("\(full) is not recorded: \(error.description)")
                continue
            }
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                problems.append("\(full) is a symbolic link and is not recorded as an artifact (write the file itself there)")
            } else if Self.isDirectory(info) {
                walk(full, prefix: parts, found: &found, problems: &problems)
            } else if Self.isRegular(info) {
                found.append((name, full, Int64(info.st_size), Self.modificationTime(info)))
            }
        }
    }

    // MARK: - Files

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFDIR }
    static func isRegular(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFREG }
    private func isDirectoryOrOther(_ info: stat) -> Bool {
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFLNK
    }

    static func modificationTime(_ info: stat) -> Double {
        #if canImport(Darwin)
            Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) / 1e9
        #else
            Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        #endif
    }

    static let chunkSize = 1 << 20

    /// The SHA-256 of a file.
    static func hash(path: String) throws(ArtifactError) -> String {
        var hasher = FileHasher()
        try readChunks(of: path) { chunk throws(ArtifactError) in hasher.update(chunk) }
        return hasher.hexDigest()
    }

    /// Copies a file (hashing what it copies); returns the SHA-256.
    static func copy(from source: String, to target: String) throws(ArtifactError) -> String {
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw ArtifactError("cannot write \(target): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var hasher = FileHasher()
        try readChunks(of: source) { chunk throws(ArtifactError) in
            hasher.update(chunk)
            if let error = writeFully(chunk, to: output).error { throw ArtifactError("cannot write \(target): \(error)") }
        }
        return hasher.hexDigest()
    }

    /// Reads a file in 1 MiB chunks.
    private static func readChunks(of path: String, _ body: ([UInt8]) throws(ArtifactError) -> Void) throws(ArtifactError) {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ArtifactError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, chunkSize) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { throw ArtifactError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { return }
            try body(count == chunkSize ? buffer : Array(buffer[0..<count]))
        }
    }
}

/// SHA-256 by the system's library when there is one, else by Tipi's own.
struct FileHasher {
    private let system = SystemSHA256()
    private var own = SHA256()

    mutating func update(_ bytes: [UInt8]) {
        if let system {
            bytes.withUnsafeBytes { system.update($0) }
        } else {
            own.update(bytes)
        }
    }

    func hexDigest() -> String {
        system?.hexDigest() ?? own.hexDigest()
    }
}
