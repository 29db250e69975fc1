import Foundation

/// HTML built as a tree, so that escaping happens by construction: text and attribute values are always
/// escaped when the tree is rendered, JSON is escaped for a `<script>` block, and only the project's own
/// bundled assets are ever written as they are. There is no way to put a user's string into the page
/// unescaped.
package indirect enum HTML: Sendable {
    /// Text (escaped).
    case text(String)
    /// An element: its name (a literal in this project's code), attributes (values escaped) and children.
    case element(StaticString, attributes: [(StaticString, String)], children: [HTML])
    /// JSON data in `<script type="application/json" id="ID">`: `<`, `>`, `&` and the JavaScript line
    /// separators are written as `\uXXXX`, so no value can end the block (`</script>`) or open a comment.
    case json(id: StaticString, Data)
    /// One of this project's bundled assets, inlined as it is (a `<style>` or `<script>` body).
    case asset(DashboardAssets.Asset)
    /// Several nodes in a row.
    case group([HTML])

    /// An element with attributes and children.
    package static func tag(_ name: StaticString, _ attributes: [(StaticString, String)] = [], _ children: HTML...) -> HTML {
        .element(name, attributes: attributes, children: children)
    }

    /// The document text, starting with `<!doctype html>`.
    package func document() -> String {
        var output = "<!doctype html>\n"
        render(into: &output)
        return output
    }

    /// Appends this node's HTML to `output`.
    package func render(into output: inout String) {
        switch self {
        case .text(let text):
            output += Self.escape(text)
        case .element(let name, let attributes, let children):
            output += "<\(name)"
            for (key, value) in attributes { output += " \(key)=\"\(Self.escape(value))\"" }
            output += ">"
            if Self.voidElements.contains("\(name)") { return }
            for child in children { child.render(into: &output) }
            output += "</\(name)>"
        case .json(let id, let data):
            output += "<script type=\"application/json\" id=\"\(id)\">"
            output += Self.scriptSafeJSON(data)
            output += "</script>"
        case .asset(let asset):
            // Our own file, but still never allowed to close its element early.
            output += asset.text.replacing("</script", with: "<\\/script").replacing("</style", with: "<\\/style")
        case .group(let nodes):
            for node in nodes { node.render(into: &output) }
        }
    }

    static let voidElements: Set<String> = ["meta", "link", "br", "input", "img", "hr"]

    /// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted attribute values.
    package static func escape(_ text: String) -> String {
        substituting(text) { scalar in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&#39;"
            case "\0": "\u{FFFD}"
            default: nil
            }
        }
    }

    /// JSON text that is safe inside a `<script>` element (still the same JSON for `JSON.parse`).
    package static func scriptSafeJSON(_ data: Data) -> String {
        substituting(String(decoding: data, as: UTF8.self)) { scalar in
            switch scalar {
            case "<": "\\u003c"
            case ">": "\\u003e"
            case "&": "\\u0026"
            case "\u{2028}": "\\u2028"
            case "\u{2029}": "\\u2029"
            default: nil
            }
        }
    }

    /// `text` with each scalar that `replacement` maps replaced by its text.
    static func substituting(_ text: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let replaced = replacement(scalar) {
                output += replaced
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
