import Foundation

/// The HTML of the dashboard's pages. Every page is the same small shell: the bundled stylesheet and
/// script, and a JSON block saying which page to draw (`{"page": "run", "run": "…"}`); the script fetches
/// the data from the JSON API and draws it with `textContent` and SVG attributes only.
package enum DashboardPage {
    /// The served shell for `boot` (the page and its parameters, from the request's path).
    package static func shell(boot: [String: String]) -> String {
        HTML.tag(
            "html", [("lang", "en")],
            .tag(
                "head", [],
                .tag("meta", [("charset", "utf-8")]),
                .tag("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")]),
                .tag("title", [], .text("tipi")),
                .tag("link", [("rel", "stylesheet"), ("href", "/assets/dashboard.css")])),
            .tag(
                "body", [],
                header,
                .tag("main", [("id", "app")], .tag("p", [("class", "muted")], .text("loading…"))),
                .json(id: "tipi-boot", encode(boot)),
                .tag("script", [("src", "/assets/dashboard.js")]))
        ).document()
    }

    /// One self-contained file (`tipi report`): the stylesheet and script inlined, and all the data the
    /// pages would fetch (`report`: runs, their details and downsampled metrics) in a JSON block.
    package static func report(title: String, data: Data, assets: DashboardAssets) -> String {
        HTML.tag(
            "html", [("lang", "en")],
            .tag(
                "head", [],
                .tag("meta", [("charset", "utf-8")]),
                .tag("title", [], .text(title)),
                .tag("style", [], .asset(assets.asset("dashboard.css")))),
            .tag(
                "body", [],
                .tag("header", [], .tag("strong", [], .text("tipi report")), .tag("span", [("class", "muted")], .text(" " + title))),
                .tag("main", [("id", "app")], .tag("p", [], .text("This report needs JavaScript to draw its charts."))),
                .json(id: "tipi-boot", encode(["page": "report"])),
                .json(id: "tipi-report", data),
                .tag("script", [], .asset(assets.asset("dashboard.js"))))
        ).document()
    }

    static let header = HTML.tag(
        "header", [],
        .tag("a", [("href", "/"), ("class", "brand")], .text("tipi")),
        .tag("a", [("href", "/")], .text("Runs")),
        .tag("span", [("id", "live"), ("class", "muted")], .text("")))

    static func encode(_ value: [String: String]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
