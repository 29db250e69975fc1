/// Applies `CUDA_VISIBLE_DEVICES` the way the CUDA runtime does, so ``Device/index`` is the ordinal the
/// program's CUDA code will see.
///
/// - unset: every GPU, in index order;
/// - empty: no GPU;
/// - a comma list of indices (`1,0`) or UUIDs (`GPU-8f3…`, a unique prefix is enough): those GPUs, in that
///   order; CUDA stops reading at the first entry it cannot match, and so does this (with a warning).
enum VisibleDevices {
    static func apply(_ value: String?, to gpus: [GPUInfo]) -> (visible: [GPUInfo], warnings: [String]) {
        guard let value else { return (gpus.sorted { $0.index < $1.index }, []) }
        let entries = value.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if value.trimmingCharacters(in: .whitespaces).isEmpty { return ([], []) }
        var visible: [GPUInfo] = []
        for entry in entries {
            let match: GPUInfo?
            if let index = Int(entry) {
                match = gpus.first { $0.index == index }
            } else if entry.hasPrefix("GPU-") {
                let candidates = gpus.filter { $0.uuid?.hasPrefix(entry) == true }
                match = candidates.count == 1 ? candidates[0] : nil
            } else {
                match = nil
            }
            guard let match, !visible.contains(match) else {
                let known = gpus.map { "\($0.index)" + ($0.uuid.map { " (\($0))" } ?? "") }.joined(separator: ", ")
                let warning =
                    "CUDA_VISIBLE_DEVICES=\(TerminalText.excerpt(value, limit: 80)): '\(TerminalText.excerpt(entry, limit: 40))' names no GPU here or repeats one (GPUs: \(known.isEmpty ? "none" : known)); "
                    + "like CUDA, only the entries before it are used"
                return (visible, [warning])
            }
            visible.append(match)
        }
        return (visible, [])
    }
}
