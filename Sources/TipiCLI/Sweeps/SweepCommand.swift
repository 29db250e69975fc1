import ArgumentParser
import Foundation
import Tipi

/// `tipi sweep NAME …`: a linked project's `sweep` command.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Build a linked project and run a sweep of its pipeline.",
        discussion: """
            Every other flag goes to the project's `sweep` command: --sweep KEY=V1,V2,… (repeatable), --method \
            grid|random|tpe, --trials N, --parallel N, --launcher local|slurm, --metric NAME, --goal minimize|maximize, \
            --seed N, --resume SWEEP. Points are recorded under the current folder's tipi-runs (or TIPI_DIR); \
            `tipi sweeps` lists the sweeps.
            """)

    @OptionGroup var options: ProjectRunOptions

    @OptionGroup var build: BuildChoice

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The sweep's flags (see above).", valueName: "sweep-flags"))
    var sweepArguments: [String] = []

    func run() throws {
        let project = try ProjectRegistry(paths: ProjectPaths()).require(options.name)
        let config = try options.configPath(project)
        let binary = try PackageRunner.build(project, build)
        let status = try PackageRunner.spawn([binary, "sweep", config] + options.overrides.flatMap { ["--set", $0] } + sweepArguments)
        if status != 0 { throw ExitCode(status) }
    }
}
