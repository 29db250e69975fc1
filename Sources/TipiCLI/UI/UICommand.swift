import ArgumentParser
import Foundation
import Synchronization
import Tipi
import TipiUI

/// `tipi ui`: the run store on a local web page until Ctrl-C.
struct UICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui", abstract: "Show the run store on a local web page (runs, charts, comparisons) until Ctrl-C.",
        discussion: """
            The first line printed is the page's address. The server reads the store and never changes it; \
            it listens on the loopback address unless --host says otherwise, and loads nothing from the network.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "The address to listen on; any but 127.0.0.1 or ::1 exposes the store to that network.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "The port (0: a free one).")
    var port = 8321

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be 0 (a free port) to 65535, not \(port) (for example --port 8321)")
        }
    }

    func run() async throws {
        let runStore = try store.existingStore()
        let assets: DashboardAssets
        do {
            assets = try DashboardAssets.load()
        } catch {
            throw CLIError("\(error)")
        }
        let loopback = DashboardRouter.loopbackHosts.contains(host.lowercased())
        let router = DashboardRouter(
            source: StoreDashboardSource(store: runStore), assets: assets, allowedHosts: loopback ? DashboardRouter.loopbackHosts : nil)
        // Signals first: a Ctrl-C right after the address is printed must already stop the server cleanly.
        let started = Mutex<Task<Void, any Error>?>(nil)
        let stopOwner = Lifecycle.addStopOwner { started.withLock { $0?.cancel() } }
        let server: DashboardServer
        let port: Int
        let task: Task<Void, any Error>
        do {
            server = try DashboardServer(router: router, host: host, port: UInt16(self.port))
            (port, task) = try await server.start()
        } catch {
            Lifecycle.removeStopOwner(stopOwner)
            throw CLIError(TerminalText.printable("\(error)"))
        }
        started.withLock { $0 = task }
        if StopRequest.isRequested { task.cancel() }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        print("http://\(shownHost):\(port)/")
        if !loopback {
            print(TerminalText.printable(
                "note: --host \(host) exposes the run store \(runStore.root.path) (read-only) to every machine that can reach this one on port \(port)"))
        }
        fflush(nil)
        do {
            try await task.value
        } catch is CancellationError {
        } catch {
            if !StopRequest.isRequested {
                Lifecycle.removeStopOwner(stopOwner)
                throw CLIError(TerminalText.printable("the dashboard stopped: \(error)"))
            }
        }
        guard StopRequest.isRequested else {
            Lifecycle.removeStopOwner(stopOwner)
            throw CLIError("the dashboard's server stopped by itself")
        }
        Lifecycle.stopOwnerIsCleaningUp(stopOwner)
        await server.stop()
        FileHandle.standardError.write(Data("tipi ui: stopped\n".utf8))
        Lifecycle.endBySignal()
    }
}
