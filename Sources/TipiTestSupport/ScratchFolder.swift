import Foundation

/// A fresh temporary folder for one test's files (configs, a run store), made on first write.
public struct ScratchFolder: Sendable {
    /// The folder (not created until something is written).
    public let url: URL

    /// A new, unique folder under the temporary directory, named after `label`.
    public init(label: String) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    }

    /// The folder's path.
    public var path: String { url.path }

    /// Writes `text` into the file `name` of the folder (creating the folder); returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let file = url.appendingPathComponent(name).path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}
