import Testing
import Tipi

@testable import TipiPipeline

/// `ByteBuffer`: what a writer puts through its cursor is what `JSONText` appends to an array.
@Suite("Byte buffers")
struct ByteBufferTests {
    @Test("escaped strings and integers equal JSONText's, through growth, truncation and copies")
    func sameAsJSONText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", ".", "/", "\\", "\"", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "é", "→", "🙂", " "]
        var buffer = ByteBuffer()
        var expected: [UInt8] = []
        for round in 0..<2_000 {
            let text = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let number = [Int.min, Int.max, 0, -1, 9, 10, 99, 100, 1_000_000_007, -987_654_321].randomElement(using: &generator)!
                &+ (round % 3 == 0 ? Int.random(in: -5...5, using: &generator) : 0)
            buffer.write(atMost: ByteCursor.escapedMaximum(text.utf8.count) + ByteCursor.integerMaximum + 1) { cursor in
                cursor.escaped(text)
                cursor.put(UInt8(ascii: ":"))
                cursor.integer(number)
            }
            JSONText.appendEscaped(text, to: &expected)
            expected.append(UInt8(ascii: ":"))
            JSONText.appendInteger(number, to: &expected)
            if round % 97 == 0 {
                // A copy is a copy: writing to it leaves the original as it was.
                var copy = buffer
                copy.append(UInt8(ascii: "!"))
                #expect(copy.count == buffer.count + 1)
                let cut = Int.random(in: 0...expected.count, using: &generator)
                buffer.truncate(to: cut)
                expected.removeSubrange(cut...)
            }
            #expect(buffer.count == expected.count)
        }
        #expect(buffer.bytes == expected)
        #expect(buffer.withUnsafeBufferPointer { Array($0) } == expected)
        #expect(buffer[0..<min(10, expected.count)] == expected[0..<min(10, expected.count)])
        #expect(buffer.take() == expected)
        #expect(buffer.count == 0 && buffer.bytes.isEmpty)
    }
}
