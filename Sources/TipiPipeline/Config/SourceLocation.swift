import Synchronization

/// Where a config value came from: a file position, or a `--set` override (or a sweep's value for its point).
///
/// A location is small (16 bytes) and cheap to copy: what the locations of one file (or one override) have
/// in common — the file's name, the override and its origin — is one shared ``Origin``, and the line and
/// column are 32-bit (a position beyond 2³¹ − 1 is kept exactly, in its own origin).
///
/// Copying a location costs no reference counting: origins are kept for the life of the program, one per
/// distinct file, override and exact position (``Origin/make(file:override:overrideOrigin:wide:)``), so a
/// location refers to its origin without retaining it. A config node is copied many times while a pipeline
/// is checked and recorded; a retain and a release of one shared object each time cost ~60 atomic operations
/// per process of a large pipeline.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// What the locations of one file, or of one override, share. Made only by
    /// ``make(file:override:overrideOrigin:wide:)``, which keeps it (and gives it again for the same content).
    final class Origin: Sendable, Hashable {
        let file: String
        /// The `--set` argument, when the values came from the command line.
        let override: String?
        let overrideOrigin: String
        /// The exact line and column of a location whose line or column does not fit in 32 bits.
        let wide: (line: Int, column: Int)?

        private init(file: String, override: String?, overrideOrigin: String, wide: (line: Int, column: Int)?) {
            self.file = file
            self.override = override
            self.overrideOrigin = overrideOrigin
            self.wide = wide
        }

        /// What tells two origins apart (their content).
        private struct Key: Hashable {
            var file: String
            var override: String?
            var overrideOrigin: String
            var wideLine: Int?
            var wideColumn: Int?
        }

        /// Every origin made, by content: never freed, so that a location need not retain its origin. They are
        /// few (a config file, each `--set` argument, each distinct sweep value), and the same content gives
        /// the same origin, so reading one file again adds none.
        private static let kept = Mutex<[Key: Origin]>([:])

        /// The origin of this content, kept for the life of the program.
        static func make(file: String, override: String? = nil, overrideOrigin: String = "--set", wide: (line: Int, column: Int)? = nil) -> Origin {
            let key = Key(file: file, override: override, overrideOrigin: overrideOrigin, wideLine: wide?.line, wideColumn: wide?.column)
            return kept.withLock { kept in
                if let origin = kept[key] { return origin }
                let origin = Origin(file: file, override: override, overrideOrigin: overrideOrigin, wide: wide)
                kept[key] = origin
                return origin
            }
        }

        static func == (lhs: Origin, rhs: Origin) -> Bool {
            lhs === rhs
                || (lhs.file == rhs.file && lhs.override == rhs.override && lhs.overrideOrigin == rhs.overrideOrigin
                    && lhs.wide?.line == rhs.wide?.line && lhs.wide?.column == rhs.wide?.column)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(file)
            hasher.combine(override)
            hasher.combine(overrideOrigin)
            hasher.combine(wide?.line)
            hasher.combine(wide?.column)
        }

        /// The same origin with another position's exact line and column (or none).
        func with(wide: (line: Int, column: Int)?) -> Origin {
            if wide == nil, self.wide == nil { return self }
            return Origin.make(file: file, override: override, overrideOrigin: overrideOrigin, wide: wide)
        }
    }

    /// Not retained: every origin is kept for the life of the program (``Origin/make(file:override:overrideOrigin:wide:)``).
    private(set) unowned(unsafe) var origin: Origin
    /// The line and column when they fit in 32 bits (else 0, and the origin holds them: ``Origin/wide``).
    private(set) var compactLine: Int32
    private(set) var compactColumn: Int32

    public init(file: String, line: Int, column: Int, override: String? = nil, overrideOrigin: String = "--set") {
        self.init(origin: Origin.make(file: file, override: override, overrideOrigin: overrideOrigin), line: line, column: column)
    }

    /// A location in `origin` (shared with the other locations of the same file).
    init(origin: Origin, line: Int, column: Int) {
        if let compactLine = Int32(exactly: line), let compactColumn = Int32(exactly: column) {
            // `origin` itself when it has no exact position (the usual case): not through `with(wide:)`, whose
            // result would be retained and released for nothing.
            if origin.wide == nil {
                self.origin = origin
            } else {
                self.origin = origin.with(wide: nil)
            }
            self.compactLine = compactLine
            self.compactColumn = compactColumn
        } else {
            self.origin = origin.with(wide: (line, column))
            self.compactLine = 0
            self.compactColumn = 0
        }
    }

    public var file: String {
        get { origin.file }
        set { origin = Origin.make(file: newValue, override: origin.override, overrideOrigin: origin.overrideOrigin, wide: origin.wide) }
    }

    public var line: Int {
        get { origin.wide?.line ?? Int(compactLine) }
        set { self = SourceLocation(origin: origin, line: newValue, column: column) }
    }

    public var column: Int {
        get { origin.wide?.column ?? Int(compactColumn) }
        set { self = SourceLocation(origin: origin, line: line, column: newValue) }
    }

    /// The `--set` argument, when the value came from the command line.
    public var override: String? {
        get { origin.override }
        set { origin = Origin.make(file: origin.file, override: newValue, overrideOrigin: origin.overrideOrigin, wide: origin.wide) }
    }

    /// What gave the override: `--set` (the command line) or `sweep` (the value of a sweep's point).
    public var overrideOrigin: String {
        get { origin.overrideOrigin }
        set { origin = Origin.make(file: origin.file, override: origin.override, overrideOrigin: newValue, wide: origin.wide) }
    }

    public var description: String {
        if let override { return "\(overrideOrigin) \(override)" }
        return "\(file):\(line):\(column)"
    }
}
