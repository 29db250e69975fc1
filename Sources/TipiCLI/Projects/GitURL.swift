/// Telling a git URL from a local path, for `tipi add` and `tipi create --tipi`.
enum GitURL {
    static let prefixes = ["https://", "http://", "ssh://", "git://", "file://", "git@"]

    static func isURL(_ source: String) -> Bool {
        prefixes.contains { source.hasPrefix($0) }
    }

    /// The repository's name: the last path component without `.git` (`https://host/me/Spirals.git` →
    /// `Spirals`).
    static func repositoryName(_ source: String) -> String? {
        guard let last = source.split(separator: "/").last else { return nil }
        return last.hasSuffix(".git") ? String(last.dropLast(4)) : String(last)
    }
}
