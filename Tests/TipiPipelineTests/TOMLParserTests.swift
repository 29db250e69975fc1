import Foundation
import Testing
import TipiTestSupport

@testable import TipiPipeline

/// The one TOML reading of a config: values, file order and positions together, whatever the line endings,
/// escapes, comments or nesting; and a located error (never a crash or a silent drop) for what is not TOML.
@Suite("TOML parser")
struct TOMLParserTests {
    static let threeProcesses = """
        # a config with comments everywhere
        [pipeline]  # settings
        enable_progress = false # no bars

        [processes.first] # the first
        type = "noop"
        note = \"\"\"
        [processes.fake]
        type = "x" = y
        \"\"\"
        [processes."sec\\u006Fnd"]
        type = 'noop'   # literal
        lines = '''
        [processes.also_fake]
        '''
        [ processes . third ]
        type = "noop"
        """

    func parse(_ text: String) throws -> ConfigTable {
        try ConfigLoader.parse(text: text, file: "t.toml")
    }

    func problem(_ text: String) -> ConfigProblem? {
        do throws(ConfigProblems) {
            _ = try ConfigLoader.parse(text: text, file: "t.toml")
            return nil
        } catch {
            return error.problems.first
        }
    }

    @Test("process order, positions and values: LF, CRLF, a BOM and tabs read the same")
    func lineEndings() throws {
        let plain = try parse(Self.threeProcesses)
        let crlf = try parse(Self.threeProcesses.replacingOccurrences(of: "\n", with: "\r\n"))
        let bom = try parse("\u{FEFF}" + Self.threeProcesses.replacingOccurrences(of: "\n", with: "\r\n"))
        for table in [plain, crlf, bom] {
            let processes = try #require(table["processes"]?.table)
            #expect(processes.keys == ["first", "second", "third"])
            #expect(processes["first"]?.table?["note"]?.stringValue?.hasPrefix("[processes.fake]") == true)
            #expect(processes["second"]?.location == SourceLocation(file: "t.toml", line: 11, column: 1))
            #expect(processes["second"]?.table?["type"]?.location == SourceLocation(file: "t.toml", line: 12, column: 8))
            #expect(processes["third"]?.table?["type"]?.location == SourceLocation(file: "t.toml", line: 17, column: 8))
            #expect(table["pipeline"]?.table?["enable_progress"] == .bool(false, SourceLocation(file: "t.toml", line: 3, column: 19)))
        }
        // CRLF inside multi-line strings is a line break; the string's text is the same as with LF.
        #expect(crlf["processes"]?.table?["first"]?.table?["note"]?.stringValue?.contains("\r") == false)
        let tabs = try parse("\t[processes.a]\t# c\n\ttype\t=\t\"noop\"\t\n[processes.b]\ntype=\"noop\"")
        #expect(tabs["processes"]?.table?.keys == ["a", "b"])
        #expect(tabs["processes"]?.table?["a"]?.table?["type"]?.location == SourceLocation(file: "t.toml", line: 2, column: 9))
    }

    @Test("the pipeline sees every process of a CRLF file with escaped keys, in file order")
    func built() throws {
        let text = "[processes.\"n\\u006Fop_one\"]\r\ntype = \"noop\"\r\n# c\r\n[processes.two]\r\ntype = \"noop\"\r\n"
        let built = try PipelineBuilder.build(try parse(text), definition: testDefinition).get()
        #expect(built.processes.map(\.key) == ["noop_one", "two"])
    }

    @Test("a NUL byte or another control character in a comment or string is a located error, not a dropped process")
    func controlCharacters() throws {
        let nul = problem("[processes.a]\ntype = \"noop\" # a\u{0}b\n[processes.b]\ntype = \"noop\"\n")
        #expect(nul?.code == "CFG003")
        #expect(nul?.location == SourceLocation(file: "t.toml", line: 2, column: 18))
        #expect(nul?.message.contains("U+0000") == true)
        #expect(problem("a = \"x\u{1B}[2J\"")?.location?.column == 7)
        #expect(problem("a = 'x\u{7F}'")?.message.contains("U+007F") == true)
        #expect(problem("a = 1 # bell \u{07}")?.location == SourceLocation(file: "t.toml", line: 1, column: 14))
        // A bare carriage return is not a line ending.
        #expect(problem("a = 1\rb = 2")?.code == "CFG003")
    }

    @Test("strings: every escape, literal and multi-line forms, line-ending backslashes, quotes before the end")
    func strings() throws {
        let table = try parse(
            #"""
            basic = "tab\there \"q\" \\ \u00E9 \U0001F600 \b\f\r\n"
            literal = 'C:\path\no escapes'
            multi = """
            one
              two \
                 three"""
            quotes = """""x"""""
            raw = '''
            keep \n this'''
            "quoted key" = 1
            'literal key' = 2
            "" = 3
            """#)
        #expect(table["basic"]?.stringValue == "tab\there \"q\" \\ é 😀 \u{08}\u{0C}\r\n")
        #expect(table["literal"]?.stringValue == #"C:\path\no escapes"#)
        #expect(table["multi"]?.stringValue == "one\n  two three")
        #expect(table["quotes"]?.stringValue == "\"\"x\"\"")
        #expect(table["raw"]?.stringValue == #"keep \n this"#)
        #expect(table.keys.suffix(3) == ["quoted key", "literal key", ""])
        #expect(problem(#"a = "\x""#)?.message.contains("invalid escape") == true)
        #expect(problem(#"a = "\uD800""#)?.message.contains("not a Unicode scalar") == true)
        #expect(problem("a = \"open\nb = 1")?.location == SourceLocation(file: "t.toml", line: 1, column: 10))
        #expect(problem("a = \"\"\"never closed\n")?.location == SourceLocation(file: "t.toml", line: 1, column: 5))
    }

    @Test("numbers, booleans and dates in every TOML form; overflow is an error, not a wrong value")
    func scalars() throws {
        let table = try parse(
            """
            a = +1_000
            b = -17
            c = 0xDEAD_beef
            d = 0o755
            e = 0b1101
            f = 6.626e-34
            g = -inf
            h = nan
            i = 1E3
            j = true
            k = 1979-05-27T07:32:00.999-07:00
            l = 1979-05-27 07:32:00
            m = 07:32:00
            n = 1979-05-27
            o = 9_223_372_036_854_775_807
            """)
        #expect(table["a"] == .int(1000, SourceLocation(file: "t.toml", line: 1, column: 5)))
        #expect(table["b"]?.configValue == .int(-17))
        #expect(table["c"]?.configValue == .int(0xDEAD_BEEF))
        #expect(table["d"]?.configValue == .int(0o755))
        #expect(table["e"]?.configValue == .int(13))
        #expect(table["f"]?.configValue == .double(6.626e-34))
        #expect(table["g"]?.configValue == .double(-.infinity))
        if case .double(let value, _)? = table["h"] { #expect(value.isNaN) } else { Issue.record("nan is a float") }
        #expect(table["i"]?.configValue == .double(1000))
        #expect(table["j"]?.configValue == .bool(true))
        #expect(table["k"]?.typeName == "date" && table["l"]?.typeName == "date" && table["m"]?.typeName == "date")
        #expect(table["l"]?.text == "1979-05-27 07:32:00")
        #expect(table["n"]?.typeName == "date")
        #expect(table["o"]?.configValue == .int(Int.max))
        for bad in ["01", "1__0", "_1", "1_", "0x", "+0x1", "1.", ".5", "1e", "1.e5", "00.5", "1979-13-01", "07:60:00", "tru", "1 2"] {
            #expect(problem("v = \(bad)")?.code == "CFG003", "\(bad)")
        }
        let overflow = problem("\n v = 99999999999999999999")
        #expect(overflow?.location == SourceLocation(file: "t.toml", line: 2, column: 6))
        #expect(overflow?.message.contains("too large for an integer") == true)
        #expect(problem("v = 0xFFFFFFFFFFFFFFFF")?.message.contains("too large") == true)
        #expect(problem("v = 1e999")?.message.contains("too large for a float") == true)
    }

    @Test("plain decimal integers (the quick path) read as before: signs, zeros, 18 and 19 digits, the limits")
    func plainIntegers() throws {
        let texts = [
            "0", "-0", "+0", "7", "+7", "-7", "10", "100", "123456789012345678", "-123456789012345678", "999999999999999999",
            "1234567890123456789", "9223372036854775807", "-9223372036854775808",
        ]
        for text in texts {
            #expect(try parse("v = \(text)")["v"]?.configValue == .int(Int(text)!), "\(text)")
        }
        for bad in ["00", "-01", "+00", "--1", "+-1", "-", "+", "1-", "12a"] {
            #expect(problem("v = \(bad)")?.code == "CFG003", "\(bad)")
        }
        #expect(problem("v = 9223372036854775808")?.message.contains("too large for an integer") == true)
        #expect(problem("v = -9223372036854775809")?.message.contains("too large for an integer") == true)
    }

    @Test("tables, arrays of tables, dotted keys and inline tables; each redefinition is a located error")
    func structure() throws {
        let table = try parse(
            """
            fruit.apple.color = "red"
            fruit.apple.taste.sweet = true
            [fruit.apple.texture]
            smooth = true
            [[points]]
            x = 1
            [[points]]
            x = 2
            [points.meta]
            tag = "second"
            [[points]]
            inline = { a.b = 1, c = [ { d = 2 }, ], e = {} }
            nested = [ [1, 2], ["a"], [ ], ]
            """)
        #expect(table.keys == ["fruit", "points"])
        #expect(table["fruit"]?.table?["apple"]?.table?.keys == ["color", "taste", "texture"])
        guard case .array(let points, _)? = table["points"] else {
            Issue.record("points is an array of tables")
            return
        }
        #expect(points.count == 3)
        #expect(points[1].location == SourceLocation(file: "t.toml", line: 7, column: 1))
        #expect(points[1].table?["meta"]?.table?["tag"]?.stringValue == "second")
        #expect(points[2].table?["inline"]?.table?["a"]?.table?["b"]?.configValue == .int(1))
        #expect(points[2].table?["nested"]?.configValue == .array([.array([.int(1), .int(2)]), .array([.string("a")]), .array([])]))

        let redefinitions: [(String, Int, Int, String)] = [
            ("a = 1\na = 2", 2, 1, "defined twice"),
            ("[t]\nx = 1\n[t]\ny = 2", 3, 1, "defined twice"),
            ("[t.u]\n[t]\n[t]", 3, 1, "defined twice"),
            ("a = 1\n[a]", 2, 1, "cannot be a table"),
            ("a = { b = 1 }\n[a.c]", 2, 1, "inline table"),
            ("a = { b = 1 }\na.c = 2", 2, 1, "already defined"),
            ("[t]\na.b = 1\n[t.a]", 3, 1, "defined twice"),
            ("[[t]]\n[t]", 2, 1, "array of tables"),
            ("t = [1]\n[[t]]", 2, 1, "cannot be a table"),
            ("a = { b = 1, b = 2 }", 1, 14, "defined twice"),
            ("a = { b = 1, }", 1, 14, "comma"),
            ("a = { b = 1\n}", 1, 12, "`,` or `}`"),
            ("a = [1 2]", 1, 8, "`,` or `]`"),
            ("[a\nb = 1", 1, 3, "`]`"),
            ("a = 1 b = 2", 1, 7, "end of the line"),
            ("= 1", 1, 1, "expected a key"),
            ("a", 1, 2, "expected `=`"),
            ("a =", 1, 4, "expected a value"),
        ]
        for (text, line, column, words) in redefinitions {
            let found = problem(text)
            #expect(found?.location == SourceLocation(file: "t.toml", line: line, column: column), "\(text)")
            #expect(found?.message.contains(words) == true, "\(text): \(found?.message ?? "no error")")
        }
    }

    @Test("4,000 levels of headers, dotted keys, arrays or inline tables: a located error, not a stack overflow")
    func depth() throws {
        let deep = 4000
        let parts = Array(repeating: "a", count: deep).joined(separator: ".")
        for text in [
            "\n[\(parts)]\n", "\n\(parts) = 1\n", "\nv = " + String(repeating: "[", count: deep) + String(repeating: "]", count: deep),
            "\nv = " + String(repeating: "{a=", count: deep) + "1" + String(repeating: "}", count: deep),
            "\n" + (0..<40).map { "[" + Array(repeating: "b", count: $0 + 1).joined(separator: ".") + "]\n" }.joined()
                + Array(repeating: "c", count: 40).joined(separator: ".") + " = 1",
        ] {
            let found = problem(text)
            #expect(found?.code == "CFG003")
            #expect(found?.location?.line ?? 0 >= 2)
            #expect(found?.message.contains("at most \(TOMLParser.maximumDepth)") == true, "\(found?.message ?? "no error")")
        }
        // 64 levels are fine.
        let fine = Array(repeating: "a", count: TOMLParser.maximumDepth).joined(separator: ".")
        #expect(problem("\(fine) = 1") == nil)
    }

    @Test("huge inputs: a 50 MB string and 1,000,000 keys are read, not crashed on")
    func huge() throws {
        let big = String(repeating: "x", count: 50_000_000)
        let table = try parse("[processes.p]\ntype = \"noop\"\nnote = \"\(big)\"\nafter = 1\n")
        #expect(table["processes"]?.table?["p"]?.table?["note"]?.stringValue?.utf8.count == 50_000_000)
        #expect(table["processes"]?.table?["p"]?.table?["after"]?.location?.line == 4)
        var keys = "[many]\n"
        keys.reserveCapacity(14_000_000)
        for index in 0..<1_000_000 { keys += "k\(index) = \(index)\n" }
        let many = try parse(keys)
        #expect(many["many"]?.table?.entries.count == 1_000_000)
        #expect(many["many"]?.table?.entries.last?.value.location?.line == 1_000_001)
    }
}
