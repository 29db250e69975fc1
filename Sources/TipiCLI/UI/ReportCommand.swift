import ArgumentParser
import Foundation
import Tipi
import TipiUI

/// `tipi report RUN… --out report.html`: one self-contained HTML file with the runs' charts, configs and
/// their differences, to mail or attach to a paper's supplementary material.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write one self-contained HTML file with runs' charts, configs and config differences.",
        discussion: "The file needs no server and loads nothing from the network. Example: tipi report baseline wide-net --out report.html")

    @OptionGroup var store: StoreOptions

    @Argument(help: "One or more runs: id, id prefix, folder name or name.")
    var runs: [String]

    @Option(help: "The HTML file to write.")
    var out: String

    @Option(name: .customLong("max-points"), parsing: .unconditional, help: "Points per metric and run at most (min/max downsampling keeps every spike).")
    var maxPoints = 2000

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run: tipi report RUN… --out report.html") }
        guard (2...DashboardRouter.maximumMaxPoints).contains(maxPoints) else {
            throw ValidationError("--max-points must be 2 to \(DashboardRouter.maximumMaxPoints), not \(maxPoints) (for example --max-points 2000)")
        }
        guard !out.isEmpty else { throw ValidationError("--out needs a file name, for example --out report.html") }
    }

    func run() throws {
        let assets: DashboardAssets
        do {
            assets = try DashboardAssets.load()
        } catch {
            throw CLIError("\(error)")
        }
        let source = StoreDashboardSource(store: try store.existingStore())
        var details: [String] = []
        var seriesParts: [String] = []
        var names: [String] = []
        var seen = Set<String>()
        for query in runs {
            let stored = try store.find(query)
            guard seen.insert(stored.metadata.id).inserted else { continue }
            names.append(stored.metadata.name)
            let history = source.history(of: stored)
            details.append(try RunsJSON.detail(stored, history: history))
            var metrics: [String] = []
            for name in history.series.keys.sorted() {
                guard let series = history.series[name] else { continue }
                let points = Downsampling.minMax(steps: series.steps, values: series.values, maxPoints: maxPoints)
                metrics.append("\(try RunsJSON.quote(name)):\(Downsampling.json(points))")
            }
            seriesParts.append("\(try RunsJSON.quote(stored.metadata.id)):{\(metrics.joined(separator: ","))}")
        }
        let generated = RunsTable.timestamp(Date().timeIntervalSince1970)
        let data = "{\"generated\":\(try RunsJSON.quote(generated)),\"runs\":[\(details.joined(separator: ","))],"
            + "\"series\":{\(seriesParts.joined(separator: ","))}}"
        let title = names.joined(separator: ", ")
        let html = DashboardPage.report(title: title, data: Data(data.utf8), assets: assets)
        let url = URL(fileURLWithPath: out)
        do {
            try Data(html.utf8).write(to: url, options: .atomic)
        } catch {
            throw CLIError(TerminalText.printable("cannot write \(out): \(error.localizedDescription)"))
        }
        print(TerminalText.printable("wrote \(out): \(details.count) run\(details.count == 1 ? "" : "s"), \(html.utf8.count / 1024) KiB"))
    }
}
