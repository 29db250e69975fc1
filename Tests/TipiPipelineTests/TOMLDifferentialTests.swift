import Foundation
import Testing
import Tipi

@testable import TipiPipeline

/// The single-tree parser (finished values stored in place, open tables moved in at the end, compact
/// locations) must read every text exactly as the two-tree parser it replaced (``ReferenceTOMLParser``):
/// the same values, keys in the same order, the same positions — or the same error at the same place.
/// Checked on thousands of random texts made of TOML fragments (valid and invalid) and on random byte
/// mutations of the fuzz corpus.
@Suite("TOML parser against the previous parser")
struct TOMLDifferentialTests {
    /// Lines and pieces that combine into valid and invalid TOML: every kind of key, value and table.
    static let fragments = [
        "[a]", "[a.b]", "[a.b.c]", "[[a]]", "[[a.b]]", "[[t]]", "[t.u]", "[[t.v]]", "[ a . \"b\" ]", "[x]", "[x.y]", "['q k'.z]",
        "[processes.p1]", "[processes.p2]", "[processes.p1.params]", "[[processes]]", "[a]]", "[", "[a.]", "[[a]",
        "k = 1", "k = 2", "b = 3", "c = true", "d = 'lit'", "e = \"s\\u00E9\\n\"", "f = 1.5e3", "g = -0x1F", "g2 = 0o17", "g3 = 0b101",
        "h = 1_000", "i = inf", "j = nan", "dt = 1979-05-27T07:32:00Z", "d2 = 1979-05-27 07:32:00", "t = 07:32:00.5", "dd = 1979-05-27",
        "a.b = 1", "a.b.c = 2", "a.d = 'x'", "x.y.z = []", "\"quoted key\".x = 1", "'lit key' = 2", "b.c = { d = 1 }",
        "it = { x = 1, y.z = 2, y.w = [1, 2] }", "it = {}", "it.q = 1", "e2 = { a = { b = { c = 1 } } }", "bad = { a = 1, }",
        "dup = { a = 1, a = 2 }", "dot = { a.b = 1, a.c = 2, a = 3 }", "arr = [1, 2, 3]", "arr = [ [1, 2], ['a'], [{ x = 1 }] ]",
        "ml = \"\"\"\nline one\\\n   two\r\n\"\"\"", "ml2 = '''\n raw \\n text\n'''", "ar = [\n  1, # c\n  2,\n]", "big = 9223372036854775808",
        "neg = -9223372036854775808", "fl = 1e400", "lead = 01", "under = 1__0", "ws = \t 5 \t# comment", "# just a comment",
        "", "", "", "type = \"noop\"", "params = { index = 3 }", "index = 4", "params.index = 5", "k = ", "= 1", "k = \"unterminated",
        "k = 'x' y", "k = [1 2]", "k = {a = 1", "k = \"\\q\"", "k = 1979-13-01", "k = truee", "p\u{E9} = 1", "\"\u{E9}t\u{E9}\" = 'ok'",
        "k = \"tab\there\"", "[a.k]", "[[a.k]]", "[k]", "[ [a] ]", "[a . b . c . d . e]", "key-with_dash = 1", "1234 = 'numeric key'",
    ]

    func outcome(_ parse: () throws(TOMLParser.SyntaxError) -> ConfigTable) -> String {
        do throws(TOMLParser.SyntaxError) {
            return Self.describe(.table(try parse(), nil))
        } catch {
            return "error \(error.line):\(error.column) \(error.message) | \(error.help ?? "-")"
        }
    }

    /// Every value, key, order and position (doubles by their bits, so that NaN compares).
    static func describe(_ node: ConfigNode) -> String {
        let at = node.location.map { "@\($0.file):\($0.line):\($0.column)" } ?? "@-"
        switch node {
        case .int(let value, _): return "i\(value)\(at)"
        case .double(let value, _): return "f\(value.bitPattern)\(at)"
        case .string(let value, _): return "s\(value.debugDescription)\(at)"
        case .bool(let value, _): return "b\(value)\(at)"
        case .date(let value, _): return "d\(value)\(at)"
        case .array(let values, _): return "[" + values.map(describe).joined(separator: ",") + "]\(at)"
        case .table(let table, _):
            return "{" + table.entries.map { "\($0.key.debugDescription)=\(describe($0.value))" }.joined(separator: ",") + "}\(at)"
        }
    }

    func check(_ text: String) {
        let new = outcome { () throws(TOMLParser.SyntaxError) in try TOMLParser.parse(text, file: "d.toml") }
        let old = outcome { () throws(TOMLParser.SyntaxError) in try ReferenceTOMLParser.parse(text, file: "d.toml") }
        #expect(new == old, "text: \(text.debugDescription)")
    }

    @Test("random texts of TOML fragments read the same (values, order, positions, errors)")
    func randomFragments() {
        var generator = SeededRandomNumberGenerator(seed: 0x70A1)
        var valid = 0
        for _ in 0..<6000 {
            let count = Int.random(in: 1...14, using: &generator)
            let separator = Bool.random(using: &generator) ? "\n" : "\r\n"
            let text = (0..<count).map { _ in Self.fragments.randomElement(using: &generator)! }.joined(separator: separator)
            check(text)
            if (try? TOMLParser.parse(text, file: "d.toml")) != nil { valid += 1 }
        }
        // Both kinds are exercised.
        #expect(valid > 300)
        #expect(valid < 5700)
    }

    @Test("random mutations of the fuzz corpus and the test configs read the same")
    func mutations() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var texts: [[UInt8]] = []
        for folder in ["Fuzz/Corpus/config", "Tests/TipiPipelineTests/Configs"] {
            let directory = root.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
                if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) { texts.append(Array(data)) }
            }
        }
        try #require(texts.count > 10)
        var generator = SeededRandomNumberGenerator(seed: 0xC0FF)
        let alphabet = Array("[]{}.,=\"'#\n\r\t _-ab1:+".utf8)
        for text in texts {
            check(String(decoding: text, as: UTF8.self))
            for _ in 0..<120 {
                var bytes = text
                for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                    let position = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes[position] = alphabet.randomElement(using: &generator)!
                    case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                    default: bytes.remove(at: position)
                    }
                }
                check(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    @Test("a config of many processes in every form reads the same")
    func largeConfig() {
        let text = (0..<300).map { index in
            switch index % 5 {
            case 0: return "[processes.p\(index)]\ntype = \"noop\"\nparams = { index = \(index), name = \"n\(index)\" }"
            case 1: return "[processes.p\(index)]\ntype = \"noop\"\nindex = \(index)\nlr = 0.5"
            case 2: return "[processes.p\(index)]\ntype = \"noop\"\n[processes.p\(index).params]\nindex = \(index)\n[processes.p\(index).params.deep]\nx = [1, 2]"
            case 3: return "[processes.p\(index)]\ntype = \"noop\"\nparams.index = \(index)\nparams.opt.lr = 0.1"
            default: return "[[runs]]\nname = \"r\(index)\"\n[runs.opt]\nlr = 0.1\n[[runs.stages]]\nsteps = \(index)"
            }
        }.joined(separator: "\n\n")
        check(text)
    }

    /// Keys `k0`…, values of every kind, inline tables and arrays of `0...count` elements (nested).
    static func randomValue(_ generator: inout SeededRandomNumberGenerator, depth: Int) -> String {
        switch Int.random(in: 0..<(depth > 2 ? 4 : 7), using: &generator) {
        case 0: return String(Int.random(in: -5...5000, using: &generator))
        case 1: return "\"s\(Int.random(in: 0...9, using: &generator))\""
        case 2: return "'a text longer than fifteen bytes \(Int.random(in: 0...9, using: &generator))'"
        case 3: return ["true", "1.5", "1979-05-27", "0x1F"].randomElement(using: &generator)!
        case 4:
            let count = Int.random(in: 0...12, using: &generator)
            return "[" + (0..<count).map { _ in randomValue(&generator, depth: depth + 1) }.joined(separator: ", ") + "]"
        default:
            // Large inline tables at the top only (nested ones would multiply the text).
            let count = Int.random(in: 0...(depth == 0 && Bool.random(using: &generator) ? 40 : 10), using: &generator)
            return "{ " + (0..<count).map { _ in "\(randomKey(&generator, pool: 16)) = \(randomValue(&generator, depth: depth + 1))" }
                .joined(separator: ", ") + " }"
        }
    }

    /// A key from a pool of `pool` names (sometimes dotted), so that some are defined twice.
    static func randomKey(_ generator: inout SeededRandomNumberGenerator, pool: Int) -> String {
        let key = "k\(Int.random(in: 0..<pool, using: &generator))"
        return Int.random(in: 0..<6, using: &generator) == 0 ? "\(key).d\(Int.random(in: 0..<3, using: &generator))" : key
    }

    @Test("tables, inline tables and arrays of 0–40 elements read the same (small ones collected, large ones indexed)")
    func tablesOfEverySize() {
        var generator = SeededRandomNumberGenerator(seed: 0x5CA7)
        let headers = ["[t]", "[t.u]", "[t.u.v]", "[w]", "[[l]]", "[l.m]", "[[l.n]]", "[processes.p1]", "[processes.p2]", "[processes.p1.params]"]
        var valid = 0
        for _ in 0..<1500 {
            var lines: [String] = []
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                let keys = Int.random(in: 0...(Bool.random(using: &generator) ? 12 : 40), using: &generator)
                for _ in 0..<keys {
                    lines.append("\(Self.randomKey(&generator, pool: keys + 12)) = \(Self.randomValue(&generator, depth: 0))")
                }
                lines.append(headers.randomElement(using: &generator)!)
            }
            let text = lines.joined(separator: "\n")
            check(text)
            if (try? TOMLParser.parse(text, file: "d.toml")) != nil { valid += 1 }
        }
        #expect(valid > 100)
        #expect(valid < 1400)
    }

    /// A table that many headers add to takes room for the header lines left at once (counted before reading:
    /// an over-count when lines of arrays or multi-line strings start with `[`, an under-count when headers
    /// are indented): two such tables, headers indented or not, tables defined twice at random, must read as
    /// before.
    @Test("many headers adding to two tables read the same, whatever the header-line count says")
    func manyHeaderChildren() {
        var generator = SeededRandomNumberGenerator(seed: 0x4EAD)
        for round in 0..<40 {
            var lines: [String] = []
            let sections = Int.random(in: 60...260, using: &generator)
            for index in 0..<sections {
                let parent = Int.random(in: 0..<4, using: &generator) == 0 ? "permanences" : "processes"
                // Now and then a name written before (a table defined twice: an error at the same place).
                let name = round % 3 == 0 && Int.random(in: 0..<150, using: &generator) == 0 ? 0 : index
                let indent = Bool.random(using: &generator) ? "  " : ""
                lines.append("\(indent)[\(parent).p\(name)]")
                lines.append("type = \"noop\"")
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: lines.append("params = { index = \(index) }")
                case 1: lines.append("grid = [\n[1, 2],\n[3]\n]")  // lines starting with `[`, counted as headers
                case 2: lines.append("text = '''\n[not.a.header]\n'''")
                case 3: lines.append("[\(parent).p\(name).params]\nindex = \(index)")
                default: lines.append("[[runs]]\nseed = \(index)")
                }
            }
            check(lines.joined(separator: "\n"))
        }
    }

    @Test("short texts come out of the cache as String(decoding:) makes them")
    func shortTexts() {
        var generator = SeededRandomNumberGenerator(seed: 0x7E47)
        let cache = ShortTextCache()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz_-0123456789 \"'.".utf8) + [0xC3, 0xA9, 0x00, 0x7F, 0xFF]
        for _ in 0..<20_000 {
            // Few distinct texts, so that the cache hits, collides and is overwritten; near the end of the
            // buffer too (read byte by byte there).
            let count = Int.random(in: 0...24, using: &generator)
            let pool = Int.random(in: 0..<3, using: &generator)
            let text: [UInt8] = (0..<count).map { position in
                pool == 0 ? alphabet[(position * 7 + count) % 20] : alphabet.randomElement(using: &generator)!
            }
            let before = Int.random(in: 0...3, using: &generator)
            let after = Int.random(in: 0...20, using: &generator)
            let buffer = [UInt8](repeating: UInt8(ascii: "x"), count: before) + text + [UInt8](repeating: UInt8(ascii: "y"), count: after)
            buffer.withUnsafeBufferPointer { pointer in
                let range = before..<(before + count)
                let cached = cache.text(range, of: pointer)
                let made = String(decoding: text, as: UTF8.self)
                #expect(cached == made && Array(cached.utf8) == Array(made.utf8), "bytes: \(text)")
            }
        }
    }
}
