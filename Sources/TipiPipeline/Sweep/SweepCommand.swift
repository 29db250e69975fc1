import ArgumentParser
import Foundation
import Tipi

/// The sweep's own flags (`--sweep`, `--method`, …), shared by the `sweep` command and `--resume`.
struct SweepCommandFlags: ParsableArguments {
    @Option(name: .customLong("sweep"), help: ArgumentHelp("Sweep a config value over a list, e.g. processes.training.params.learningRate=0.1,0.3,1.0 (repeatable; a grid over the lists).", valueName: "key=v1,v2,…"))
    var sweeps: [String] = []

    @Option(help: ArgumentHelp("grid, random or tpe (default: [sweep] method, or grid).", valueName: "method"))
    var method: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Points of a random or tpe sweep (default: [sweep] trials, or 10).", valueName: "n"))
    var trials: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Points at once (default: [sweep] parallel, or 1).", valueName: "n"))
    var parallel: Int?

    @Option(help: ArgumentHelp("local or slurm (default: [sweep] launcher, or local).", valueName: "launcher"))
    var launcher: String?

    @Option(help: ArgumentHelp("The metric the sweep ranks points by (a name the processes log).", valueName: "name"))
    var metric: String?

    @Option(help: ArgumentHelp("minimize or maximize the metric (default: minimize).", valueName: "goal"))
    var goal: String?

    @Option(help: ArgumentHelp("The seed of random and tpe sweeps (default: [sweep] seed, or a random one, recorded).", valueName: "n"))
    var seed: UInt64?

    /// The flags as the spec reads them.
    var flags: SweepSpec.Flags {
        SweepSpec.Flags(sweeps: sweeps, method: method, trials: trials, parallel: parallel, launcher: launcher, metric: metric, goal: goal, seed: seed)
    }

    /// The flags as arguments again (recorded, for `--resume`).
    var arguments: [String] {
        var result = sweeps.flatMap { ["--sweep", $0] }
        let options: [(String, String?)] = [
            ("--method", method), ("--trials", trials.map(String.init)), ("--parallel", parallel.map(String.init)),
            ("--launcher", launcher), ("--metric", metric), ("--goal", goal), ("--seed", seed.map(String.init)),
        ]
        for (name, value) in options { if let value { result += [name, value] } }
        return result
    }
}

/// `sweep [CONFIG]`: many runs of the pipeline with values varied.
struct PipelineSweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run the pipeline many times with config values varied (a grid, random or tpe search).",
        discussion: "The sweep is read from the config's [sweep] section and the flags below; it is validated before any point runs. Each point is an ordinary run in the store; the sweep is recorded in <store>/sweeps/<id>/ (see `tipi sweeps`).")

    @OptionGroup var config: ConfigOptions

    @OptionGroup var sweep: SweepCommandFlags

    @Option(help: ArgumentHelp("Continue a sweep: only its points that did not finish run (CONFIG and the other flags are the sweep's own).", valueName: "sweep"))
    var resume: String?

    @Flag(help: "With launcher = \"slurm\": return right after submitting (follow it with `tipi sweeps show SWEEP`).")
    var detach = false

    @Option(help: .hidden)
    var task: String?

    func run() async throws {
        if let task {
            // A Slurm array task of the sweep (its batch script runs this).
            let status = await SweepTask.run(task, definition: PipelineProgram.definition)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let status = await SweepController.run(
            .init(configFile: config.path, overrides: config.overrides, flags: sweep.flags, arguments: sweep.arguments, resume: resume, detach: detach),
            definition: PipelineProgram.definition)
        if status != 0 { throw ExitCode(status) }
    }
}
