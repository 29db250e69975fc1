/// Everything needed to draw one bar, copied out of the bar so rendering happens without locks.
struct ProgressSnapshot: Sendable {
    var description: String
    var count: Int
    var total: Int?
    var elapsed: Double
    var rate: Double?
    var unit: String
    var unitScale: Bool
    var unitDivisor: Int
    var postfix: String
    var status: String
    var finished: Bool
}

/// How a line is drawn: live on a terminal (optionally coloured, with a spinner frame) or as a plain log line.
enum LineStyle: Sendable {
    case live(colors: Bool, spinner: Character?)
    case plain
}

/// Renders the line of one bar, e.g.
/// `Training  42%|████▏     | 42/100 [00:03<00:04, 12.3 it/s, loss=0.31]`.
enum ProgressLine {
    static let maximumBarWidth = 40
    static let minimumBarWidth = 4
    static let spinnerFrames: [Character] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    /// Draws `snapshot`; live lines are cut to `columns - 1` cells and never wrap.
    static func render(_ snapshot: ProgressSnapshot, style: LineStyle, columns: Int?) -> String {
        let scale = snapshot.unitScale
        let divisor = snapshot.unitDivisor
        var head = snapshot.description
        let rate = ProgressFormat.rate(snapshot.rate, unit: snapshot.unit, scale: scale, divisor: divisor)
        var bracket = "[" + ProgressFormat.interval(snapshot.elapsed)
        var fraction: Double?
        var counts: String

        if let total = snapshot.total {
            let done = Double(snapshot.count)
            let frac = total > 0 ? min(done / Double(total), 1) : (snapshot.count >= total ? 1 : 0)
            fraction = frac
            let percent = Int((frac * 100).rounded(.down))
            let percentText = String(repeating: " ", count: max(0, 3 - String(percent).count)) + "\(percent)%"
            head += (head.isEmpty ? "" : " ") + percentText
            counts =
                ProgressFormat.count(done, scale: scale, divisor: divisor) + "/"
                + ProgressFormat.count(Double(total), scale: scale, divisor: divisor)
            let remaining: String
            if snapshot.finished || snapshot.count >= total {
                remaining = "00:00"
            } else if let perSecond = snapshot.rate, perSecond > 0 {
                remaining = ProgressFormat.interval(Double(total - snapshot.count) / perSecond)
            } else {
                remaining = "?"
            }
            bracket += "<" + remaining
        } else {
            counts =
                ProgressFormat.count(Double(snapshot.count), scale: scale, divisor: divisor) + " "
                + snapshot.unit
        }
        bracket += ", " + rate
        if !snapshot.postfix.isEmpty { bracket += ", " + snapshot.postfix }
        bracket += "]"
        var tail = counts + " " + bracket
        if !snapshot.status.isEmpty { tail += " " + snapshot.status }

        switch style {
        case .plain:
            if fraction != nil { return head + " " + tail }
            return head.isEmpty ? tail : head + " " + tail
        case .live(let colors, let spinner):
            var prefix = ""
            var prefixWidth = 0
            if let spinner {
                let color = spinner == "✔" ? "32" : "36"
                prefix = colors ? "\u{1B}[\(color)m\(spinner)\u{1B}[0m " : "\(spinner) "
                prefixWidth = 2
            }
            let limit = max((columns ?? 80) - 1, 1)
            guard let fraction else {
                let text = head.isEmpty ? tail : head + " " + tail
                return prefix + DisplayWidth.truncate(text, to: limit - prefixWidth)
            }
            let fixed = prefixWidth + DisplayWidth.of(head) + 2 + 1 + DisplayWidth.of(tail)
            let available = limit - fixed
            if available >= minimumBarWidth {
                let width = min(available, maximumBarWidth)
                var bar = ProgressFormat.bar(fraction: fraction, width: width)
                if colors {
                    let color = snapshot.finished && fraction >= 1 ? "32" : "36"
                    bar = "\u{1B}[\(color)m" + bar + "\u{1B}[0m"
                }
                return prefix + head + "|" + bar + "| " + tail
            }
            return prefix + DisplayWidth.truncate(head + " " + tail, to: limit - prefixWidth)
        }
    }
}
