import Foundation
import Tipi

extension TipiFixture {
    /// `tipi-fixture artifacts --source DIR [--names N1,N2…] [--transfer copy|link|move|automatic] [--project P]`:
    /// saves `DIR/model.bin` (as `model.bin`, then again as a second version), the folder `DIR/tree` (as
    /// `tree/…`), writes `direct/notes.txt` into the artifacts folder, and tries each name of `--names`
    /// (`\0` stands for NUL), printing `refused <name>: <error>` or `saved <name>`. Prints `run <id> <folder>` first.
    static func artifacts(_ options: [String: String]) {
        let source = URL(fileURLWithPath: options["source"] ?? ".")
        let transfer: ArtifactTransfer =
            ["copy": .copy, "link": .link, "move": .move][options["transfer"] ?? ""] ?? .automatic
        do {
            let run = try logger.start(project: options["project"] ?? "artifacts", config: ["kind": "artifacts"])
            print("run \(run.id) \(run.folder.path)")
            fflush(nil)
            logger.log(["loss": 1])
            let model = source.appendingPathComponent("model.bin")
            if FileManager.default.fileExists(atPath: model.path) {
                try logger.saveArtifact(model, step: 1, transfer: transfer)
                if transfer != .move { try logger.saveArtifact(model, step: 2, transfer: transfer) }
                print("saved model.bin")
            }
            let tree = source.appendingPathComponent("tree")
            if FileManager.default.fileExists(atPath: tree.path) {
                do {
                    let saved = try logger.saveArtifact(tree)
                    print("saved tree (\(saved.count) files)")
                } catch {
                    print("refused tree: \(error)")
                }
            }
            if let folder = logger.artifactsFolder {
                let direct = folder.appendingPathComponent("direct")
                try FileManager.default.createDirectory(at: direct, withIntermediateDirectories: true)
                try Data("written directly\n".utf8).write(to: direct.appendingPathComponent("notes.txt"))
            }
            for name in (options["names"] ?? "").split(separator: ",", omittingEmptySubsequences: false) where options["names"] != nil {
                let name = name.replacingOccurrences(of: "\\0", with: "\u{0}")
                do {
                    try logger.saveArtifact(model, name: name, transfer: .copy)
                    print("saved \(name)")
                } catch {
                    print("refused \(name.replacingOccurrences(of: "\u{0}", with: "\\0")): \(error)")
                }
            }
            fflush(nil)
            logger.finish()
            print("done")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    /// `tipi-fixture checkpoint --epochs N --every K [--sleep S] [--continue RUN]`: the checkpoint pattern.
    /// Loads the latest `checkpoint.json` (of this run, or of the run given by `--continue`), prints
    /// `resumed at epoch E from <run>` or `fresh start`, then trains from the next epoch, saving the
    /// checkpoint every K epochs and printing `epoch E` after each.
    static func checkpoint(_ options: [String: String]) {
        let epochs = Int(options["epochs"] ?? "10") ?? 10
        let every = max(Int(options["every"] ?? "2") ?? 2, 1)
        let pause = Double(options["sleep"] ?? "0") ?? 0
        do {
            let run = try logger.start(project: "checkpoints", config: ["epochs": .int(epochs)])
            print("run \(run.id) \(run.folder.path)")
            var first = 0
            var weight = 0.0
            if let latest = logger.latestArtifact(named: "checkpoint.json", earlier: options["continue"].map { [$0] } ?? []) {
                let state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: latest.url))
                first = state.epoch + 1
                weight = state.weight
                print("resumed at epoch \(state.epoch) from \(latest.runID) (step \(latest.artifact.step ?? -1))")
            } else {
                print("fresh start")
            }
            fflush(nil)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(getpid()).json")
            for epoch in first..<epochs {
                weight += 0.5
                logger.log(["weight": weight], step: epoch)
                if (epoch + 1) % every == 0 {
                    try JSONEncoder().encode(TrainingState(epoch: epoch, weight: weight)).write(to: scratch)
                    try logger.saveArtifact(scratch, name: "checkpoint.json", step: epoch, transfer: .move)
                }
                print("epoch \(epoch) weight \(weight)")
                fflush(nil)
                if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            }
            logger.finish()
            print("done weight \(weight)")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    struct TrainingState: Codable {
        var epoch: Int
        var weight: Double
    }

    /// `tipi-fixture console [--lines N] [--bytes N] [--hold S] [--bar 1]`: prints `out N` lines to standard
    /// output (flushed) and `err N` to standard error, a line rewritten with `\r`, a coloured word, then
    /// `--bytes` more bytes of `x` lines, then waits `--hold` seconds (for kill -9) and finishes.
    static func console(_ options: [String: String]) {
        let lines = Int(options["lines"] ?? "3") ?? 3
        do {
            let run = try logger.start(project: "console")
            print("run \(run.id) \(run.folder.path)")
            for index in 0..<lines {
                print("out \(index)")
                FileHandle.standardError.write(Data("err \(index)\n".utf8))
                logger.log(["index": Double(index)])
            }
            print("progress 10%\rprogress 50%\rprogress 100%")
            print("\u{1B}[1;32mgreen\u{1B}[0m word")
            if options["bar"] != nil {
                for _ in progressBar(0..<3, desc: "bar") { usleep(50_000) }
            }
            if let bytes = options["bytes"].flatMap(Int.init) {
                let line = String(repeating: "x", count: 99)
                for _ in 0..<(bytes / 100) { print(line) }
            }
            fflush(nil)
            if let hold = options["hold"].flatMap(Double.init) {
                print("holding")
                fflush(nil)
                usleep(UInt32(hold * 1_000_000))
            }
            logger.finish()
            print("after finish")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }
}
