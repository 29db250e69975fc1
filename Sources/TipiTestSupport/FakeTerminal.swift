import Synchronization
import Tipi

/// A terminal for tests: records every byte written and emulates the screen that a user would see.
///
/// It understands what ``ProgressDisplay`` emits: printable text, `\r`, `\n`, `ESC[nA`, `ESC[K`, `ESC[J`,
/// `ESC[2K` and colour codes (ignored). ``screen`` is the visible text, one string per line, trailing spaces
/// removed; ``raw`` is everything written, escape sequences included.
public final class FakeTerminal: TerminalOutput, Sendable {
    private let state: Mutex<ScreenState>
    public let isTerminal: Bool
    private let dimensions: Mutex<(columns: Int, rows: Int)>

    /// Creates a fake terminal `columns` wide; `isTerminal: false` stands for a log file or a pipe.
    public init(columns: Int = 80, rows: Int = 24, isTerminal: Bool = true) {
        self.isTerminal = isTerminal
        self.state = Mutex(ScreenState())
        self.dimensions = Mutex((columns, rows))
    }

    /// Everything written so far.
    public var raw: String {
        state.withLock { $0.raw }
    }

    /// The visible screen: one entry per line, trailing spaces removed, trailing empty lines dropped.
    public var screen: [String] {
        state.withLock { state in
            var lines = state.lines.map { String($0).replacing(#/ +$/#, with: "") }
            while let last = lines.last, last.isEmpty { lines.removeLast() }
            return lines
        }
    }

    /// Changes the terminal width (as a window resize would).
    public func resize(columns: Int, rows: Int = 24) {
        dimensions.withLock { $0 = (columns, rows) }
    }

    public func size() -> (columns: Int, rows: Int)? {
        isTerminal ? dimensions.withLock { $0 } : nil
    }

    public func write(_ text: String) {
        state.withLock { $0.apply(text) }
    }
}

/// The emulated screen: a grid of characters and a cursor.
struct ScreenState {
    var raw = ""
    var lines: [[Character]] = [[]]
    var row = 0
    var column = 0

    mutating func apply(_ text: String) {
        raw += text
        var iterator = Array(text).makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\r":
                column = 0
            case "\n":
                row += 1
                column = 0
                while lines.count <= row { lines.append([]) }
            case "\u{1B}":
                guard iterator.next() == "[" else { continue }
                var parameter = ""
                while let next = iterator.next() {
                    if next.isLetter {
                        escape(parameter, next)
                        break
                    }
                    parameter.append(next)
                }
            default:
                put(character)
            }
        }
    }

    private mutating func put(_ character: Character) {
        while lines.count <= row { lines.append([]) }
        while lines[row].count < column { lines[row].append(" ") }
        if column < lines[row].count {
            lines[row][column] = character
        } else {
            lines[row].append(character)
        }
        column += 1
    }

    private mutating func escape(_ parameter: String, _ command: Character) {
        let count = Int(parameter) ?? 1
        switch command {
        case "A": row = max(0, row - count)
        case "B": row += count
        case "K":
            if parameter == "2" {
                if row < lines.count { lines[row] = [] }
            } else if row < lines.count, column < lines[row].count {
                lines[row].removeSubrange(column...)
            }
        case "J":
            if row < lines.count {
                if column < lines[row].count { lines[row].removeSubrange(column...) }
                lines.removeSubrange((row + 1)...)
            }
        default: break  // colours and cursor visibility
        }
    }
}

/// A clock that moves only when told to.
public final class ManualTime: MonotonicTimeSource, Sendable {
    private let seconds: Mutex<Double>

    public init(_ start: Double = 1000) {
        seconds = Mutex(start)
    }

    public func now() -> Double {
        seconds.withLock { $0 }
    }

    /// Moves the clock forward.
    public func advance(by delta: Double) {
        seconds.withLock { $0 += delta }
    }
}
