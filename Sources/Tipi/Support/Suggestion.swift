/// Near-miss suggestions for error messages ("did you mean `train`?").
public enum Suggestion {
    /// The candidate closest to `text` by edit distance, when it is close enough to be a likely typo.
    public static func nearest(to text: String, in candidates: [String]) -> String? {
        let lowered = text.lowercased()
        var best: (String, Int)?
        for candidate in Set(candidates) where !candidate.isEmpty {
            let distance = editDistance(lowered, candidate.lowercased())
            if let current = best, distance > current.1 || (distance == current.1 && candidate >= current.0) {
                continue
            }
            best = (candidate, distance)
        }
        guard let (candidate, distance) = best else { return nil }
        let limit = max(1, min(3, (max(text.count, candidate.count) + 2) / 4))
        if distance <= limit { return candidate }
        if candidate.lowercased().hasPrefix(lowered) || lowered.hasPrefix(candidate.lowercased()) { return candidate }
        return nil
    }

    /// Levenshtein distance with transpositions counted as one edit.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
