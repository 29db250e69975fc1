/// The rules for an artifact's name: a relative path inside the run's `artifacts/` folder.
///
/// Names are user data, so everything that could leave the folder or confuse a reader is refused with a
/// clear reason: an absolute path, `..` or `.` parts, empty parts (`a//b`), NUL and other control
/// characters, a backslash, a part over 255 bytes or a name over 1024 bytes, and names Tipi uses itself.
enum ArtifactName {
    /// The prefix of Tipi's temporary files inside `artifacts/` (never recorded).
    static let temporaryPrefix = ".tipi-tmp-"

    /// The name's parts, or the reason it cannot be used.
    static func components(of name: String) -> Result<[String], ArtifactError> {
        let quoted = JSONNumber.quote(String(name.prefix(80)))
        func refuse(_ reason: String) -> Result<[String], ArtifactError> {
            .failure(ArtifactError("artifact name \(quoted) \(reason)"))
        }
        if name.isEmpty { return refuse("is empty") }
        if name.utf8.count > 1024 { return refuse("is \(name.utf8.count) bytes long (at most 1024)") }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return refuse("contains a control character (NUL, newline, tab…); use letters, digits, `-`, `_`, `.` and `/`")
        }
        if name.contains("\\") { return refuse("contains a backslash; separate folders with `/`") }
        if name.hasPrefix("/") { return refuse("is an absolute path; give a path inside the run's artifacts folder (`model/weights.bin`)") }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            if part.isEmpty { return refuse("has an empty part (`//` or a trailing `/`)") }
            if part == ".." { return refuse("contains `..`: artifacts stay inside the run's artifacts folder") }
            if part == "." { return refuse("contains a `.` part") }
            if part.utf8.count > 255 { return refuse("has a part of \(part.utf8.count) bytes (at most 255)") }
            if part.hasPrefix(temporaryPrefix) { return refuse("starts with \(temporaryPrefix), which Tipi uses for its temporary files") }
        }
        return .success(parts)
    }
}
