import ArgumentParser
import Foundation
import Logging
import Tipi

/// `tipi demo`: the progress bars at work on a small simulated training run.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the progress bars on a simulated training run.",
        discussion: """
            Three nested levels (epochs, batches, evaluation), a postfix with the loss, log lines written \
            above the bars, a download counted in bytes and a stream of unknown length. \
            Pipe the output to a file (or set TIPI_PROGRESS=plain) to see the log-file form.
            """
    )

    @Option(parsing: .unconditional, help: "Number of epochs.")
    var epochs = 3

    @Option(parsing: .unconditional, help: "Batches per epoch.")
    var batches = 60

    @Option(parsing: .unconditional, help: "Seconds one batch takes (simulated).")
    var batchTime = 0.02

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be 1 or more, not \(epochs)") }
        guard batches > 0 else { throw ValidationError("--batches must be 1 or more, not \(batches)") }
        guard batchTime >= 0, batchTime <= 10 else {
            throw ValidationError("--batch-time must be seconds from 0 to 10, not \(batchTime) (for example --batch-time 0.02)")
        }
    }

    func run() async throws {
        let log = Logger(label: "demo") { ProgressLogHandler(label: $0) }
        let pause = UInt32(batchTime * 1_000_000)

        var loss = 2.3
        for epoch in progressBar(1...epochs, desc: "Epochs", unit: "epoch") {
            let training = progressBar(0..<batches, desc: "Training")
            for batch in training {
                usleep(pause)
                loss *= 0.985 + 0.01 * Double((batch * 7919) % 13) / 13
                training.setPostfix(["loss": loss])
            }
            for _ in progressBar(0..<(batches / 3), desc: "Evaluating") {
                usleep(pause / 2)
            }
            log.info("epoch \(epoch) done", metadata: ["loss": "\(String(format: "%.3f", loss))"])
        }

        let size = 48 * 1024 * 1024
        let download = ProgressBar(total: size, desc: "Download", unit: "B")
        var received = 0
        while received < size {
            let chunk = min(1024 * 1024, size - received)
            usleep(pause)
            received += chunk
            download.update(chunk)
        }
        download.close()

        let stream = AsyncStream<Int> { continuation in
            for value in 0..<(batches * 2) { continuation.yield(value) }
            continuation.finish()
        }
        for await _ in progressBar(stream, desc: "Stream (unknown length)") {
            usleep(pause / 4)
        }
        ProgressBar.write("demo finished: final loss \(String(format: "%.3f", loss))")
    }
}
