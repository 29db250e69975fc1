/// A line plot in the terminal, drawn with braille dots (2 × 4 per character), several series overlaid
/// in different colours. Without colours, each series gets its own marker on a character grid instead.
enum TerminalPlot {
    struct Series {
        var label: String
        var steps: [Int]
        var values: [Double]
    }

    static let colors = ["36", "33", "35", "32", "31", "34"]
    static let markers: [Character] = ["•", "×", "+", "o", "#", "~"]

    static func render(_ series: [Series], title: String, width: Int, height: Int, colors useColors: Bool) -> [String] {
        let finite = series.flatMap { $0.values.filter(\.isFinite) }
        let steps = series.flatMap(\.steps)
        guard let low = finite.min(), let high = finite.max(), let first = steps.min(), let last = steps.max() else {
            return ["\(title): no finite values to plot"]
        }
        let span = high > low ? high - low : max(abs(high), 1)
        let bottom = high > low ? low : low - span / 2
        let top = high > low ? high : high + span / 2
        let labelWidth = max(label(top).count, label(bottom).count)
        let plotWidth = max(width - labelWidth - 3, 10)
        let stepSpan = Double(max(last - first, 1))
        let braille = useColors || series.count == 1
        let dotsX = braille ? plotWidth * 2 : plotWidth
        let dotsY = braille ? height * 4 : height
        // cell owner (series index) and braille bits per character cell
        var bits = [[UInt8]](repeating: [UInt8](repeating: 0, count: plotWidth), count: height)
        var owner = [[Int]](repeating: [Int](repeating: -1, count: plotWidth), count: height)
        for (index, item) in series.enumerated() {
            // Per x column, the min and max value (keeps spikes when there are more points than columns).
            var columnLow = [Double](repeating: .infinity, count: dotsX)
            var columnHigh = [Double](repeating: -.infinity, count: dotsX)
            for (position, value) in item.values.enumerated() where value.isFinite {
                let x = min(Int(Double(item.steps[position] - first) / stepSpan * Double(dotsX - 1)), dotsX - 1)
                columnLow[x] = min(columnLow[x], value)
                columnHigh[x] = max(columnHigh[x], value)
            }
            var previous: (x: Int, y: Int)?
            for x in 0..<dotsX where columnLow[x].isFinite {
                let yLow = dotY(columnLow[x], bottom: bottom, top: top, dots: dotsY)
                let yHigh = dotY(columnHigh[x], bottom: bottom, top: top, dots: dotsY)
                for y in min(yLow, yHigh)...max(yLow, yHigh) { plot(x, y) }
                let y = (yLow + yHigh) / 2
                if let previous { line(from: previous, to: (x, y), plot: plot) }
                previous = (x, y)
            }
            func plot(_ x: Int, _ y: Int) {
                let row = y / (braille ? 4 : 1)
                let column = x / (braille ? 2 : 1)
                if braille { bits[row][column] |= brailleBit(x: x % 2, y: y % 4) }
                owner[row][column] = index
            }
        }
        var lines = ["\(title)  (\(series.count == 1 ? series[0].label : "\(series.count) runs"))"]
        for row in 0..<height {
            let axis: String
            if row == 0 {
                axis = label(top)
            } else if row == height - 1 {
                axis = label(bottom)
            } else {
                axis = ""
            }
            var line = String(repeating: " ", count: labelWidth - axis.count) + axis + " ┤"
            for column in 0..<plotWidth {
                let index = owner[row][column]
                guard index >= 0 else {
                    line += " "
                    continue
                }
                let glyph: Character =
                    braille
                    ? Character(Unicode.Scalar(0x2800 + UInt32(bits[row][column])) ?? " ")
                    : markers[index % markers.count]
                line += useColors ? "\u{1B}[\(colors[index % colors.count])m\(glyph)\u{1B}[0m" : String(glyph)
            }
            lines.append(line)
        }
        lines.append(String(repeating: " ", count: labelWidth) + " └" + String(repeating: "─", count: plotWidth))
        let firstLabel = "step \(first)"
        let lastLabel = "\(last)"
        lines.append(
            String(repeating: " ", count: labelWidth + 2) + firstLabel
                + String(repeating: " ", count: max(plotWidth - firstLabel.count - lastLabel.count, 1)) + lastLabel)
        if series.count > 1 {
            for (index, item) in series.enumerated() {
                let mark = braille ? "━━" : String(markers[index % markers.count])
                lines.append("  " + (useColors ? "\u{1B}[\(colors[index % colors.count])m\(mark)\u{1B}[0m" : mark) + " \(item.label)")
            }
        }
        return lines
    }

    /// Bresenham's line between two dots.
    private static func line(from start: (x: Int, y: Int), to end: (x: Int, y: Int), plot: (Int, Int) -> Void) {
        var x = start.x
        var y = start.y
        let dx = abs(end.x - x)
        let dy = -abs(end.y - y)
        let sx = x < end.x ? 1 : -1
        let sy = y < end.y ? 1 : -1
        var error = dx + dy
        while true {
            plot(x, y)
            if x == end.x && y == end.y { break }
            let doubled = 2 * error
            if doubled >= dy {
                error += dy
                x += sx
            }
            if doubled <= dx {
                error += dx
                y += sy
            }
        }
    }

    private static func dotY(_ value: Double, bottom: Double, top: Double, dots: Int) -> Int {
        let fraction = (value - bottom) / (top - bottom)
        // Clamped as a Double first: values near ±Double.greatestFiniteMagnitude overflow the span to
        // infinity (a NaN fraction lands on the bottom row), and no Double beyond Int's range reaches Int().
        let row = ((1 - fraction) * Double(dots - 1)).rounded()
        return row.isNaN ? dots - 1 : Int(min(max(row, 0), Double(dots - 1)))
    }

    /// Braille dot bits: columns 0–1, rows 0–3.
    private static func brailleBit(x: Int, y: Int) -> UInt8 {
        let table: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
        return table[y][x]
    }

    private static func label(_ value: Double) -> String {
        RunsTable.number(value)
    }
}
