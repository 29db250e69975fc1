import Foundation

/// The dashboard's CSS and JavaScript, shipped inside the package as resources (`Sources/TipiUI/Assets`,
/// copied next to the `tipi` executable as `Tipi_TipiUI.resources`). They are read once, at start: the
/// server answers `/assets/NAME` from this fixed table, never by opening a path taken from a request.
package struct DashboardAssets: Sendable {
    /// One asset: its file name, text and MIME type.
    package struct Asset: Sendable {
        /// The file name (`dashboard.js`).
        package var name: String
        /// The file's text.
        package var text: String
        /// The `Content-Type` to serve it with.
        package var contentType: String
    }

    /// The assets by file name.
    package let byName: [String: Asset]

    /// The assets the pages need; loading fails if one is missing.
    package static let required = ["dashboard.js", "dashboard.css"]

    /// Reads the bundled assets; a missing resource folder or file is an error naming where it was looked for.
    package static func load() throws -> DashboardAssets {
        let candidates = resourceFolders()
        guard let folder = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("dashboard.js").path) })
        else {
            throw DashboardError.missingAssets(
                "the dashboard's files (Tipi_TipiUI.resources/Assets) are not next to the tipi executable "
                    + "(looked in \(candidates.map(\.path).joined(separator: ", "))); install tipi with that folder beside it")
        }
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let type: String
            if name.hasSuffix(".js") {
                type = "text/javascript; charset=utf-8"
            } else if name.hasSuffix(".css") {
                type = "text/css; charset=utf-8"
            } else {
                continue
            }
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            assets[name] = Asset(name: name, text: text, contentType: type)
        }
        for name in required where assets[name] == nil {
            throw DashboardError.missingAssets("\(folder.path)/\(name) is missing; reinstall tipi")
        }
        return DashboardAssets(byName: assets)
    }

    /// The asset `name` (one of ``required``).
    package func asset(_ name: String) -> Asset {
        byName[name] ?? Asset(name: name, text: "", contentType: "text/plain; charset=utf-8")
    }

    /// Where SwiftPM puts the resource bundle: next to the executable (or test bundle), by its real path too.
    static func resourceFolders() -> [URL] {
        let bundleName = "Tipi_TipiUI.resources"
        var folders: [URL] = []
        var seen = Set<String>()
        var directories = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        if let path = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for directory in directories where seen.insert(directory.standardizedFileURL.path).inserted {
            // `.copy("Assets")` keeps the folder: Tipi_TipiUI.resources/Assets/dashboard.js.
            folders.append(directory.appendingPathComponent(bundleName + "/Assets", isDirectory: true))
            // macOS: Tipi_TipiUI.bundle/Contents/Resources/Assets.
            folders.append(directory.appendingPathComponent("Tipi_TipiUI.bundle/Contents/Resources/Assets", isDirectory: true))
        }
        return folders
    }
}

/// What the dashboard can fail with.
package enum DashboardError: Error, CustomStringConvertible {
    /// The bundled assets were not found.
    case missingAssets(String)
    /// The server could not start (address in use, bad host).
    case cannotServe(String)

    /// One line for the user.
    package var description: String {
        switch self {
        case .missingAssets(let text), .cannotServe(let text): text
        }
    }
}
