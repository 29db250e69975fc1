/// The short ASCII texts a parse made last, by content: a config repeats its keys and many of its values
/// (`type`, `params`, `"train"`, …), and handing out a text made before costs a few comparisons, where
/// making it again validates its bytes as UTF-8 (about 20 ns each, ~6 texts a process of a large pipeline).
///
/// Only texts of at most 15 ASCII bytes, which Swift stores inline (no buffer to share, nothing retained):
/// a text the cache gives is the same value `String(decoding:as:)` makes of those bytes. Direct-mapped: a
/// text whose slot another took is made again, never wrong.
final class ShortTextCache {
    /// A slot: the text's bytes packed into two words (the length in the top byte of the second; 0: empty).
    private struct Slot {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var text = ""
    }

    private static let slotCount = 64
    private let slots: UnsafeMutablePointer<Slot>

    init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(), count: Self.slotCount)
    }

    deinit {
        slots.deinitialize(count: Self.slotCount)
        slots.deallocate()
    }

    /// The text of `range` of `bytes`: the cached one when the same bytes were made a text before, else a new
    /// one (kept).
    func text(_ range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> String {
        let count = range.count
        guard count > 0, count <= 15, let base = bytes.baseAddress else { return make(range, of: bytes) }
        // The bytes packed into two words, read 8 at a time where the buffer goes on far enough.
        var low: UInt64 = 0
        var high: UInt64 = 0
        let start = UnsafeRawPointer(base + range.lowerBound)
        if range.lowerBound + 16 <= bytes.count {
            // The first byte in the low bits (as read on a little-endian machine); the bytes after the text cleared.
            low = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
            high = count > 8 ? UInt64(littleEndian: start.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) : 0
            if count < 8 { low &= (1 &<< UInt64(count * 8)) &- 1 }
            if count > 8 { high &= (1 &<< UInt64((count - 8) * 8)) &- 1 }
        } else {
            for position in 0..<count {
                let byte = UInt64(bytes[range.lowerBound + position])
                if position < 8 { low |= byte << UInt64(position * 8) } else { high |= byte << UInt64((position - 8) * 8) }
            }
        }
        guard (low | high) & 0x8080_8080_8080_8080 == 0 else { return make(range, of: bytes) }
        high |= UInt64(count) << 56
        let slot = slots + Int(truncatingIfNeeded: ((low ^ (high &* 31)) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        if slot.pointee.low == low, slot.pointee.high == high { return slot.pointee.text }
        let text = make(range, of: bytes)
        slot.pointee = Slot(low: low, high: high, text: text)
        return text
    }

    private func make(_ range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
