import Foundation
import TipiCLI

/// The entry point of the `tipi` executable (the target is not named `tipi`: macOS file systems ignore
/// case, and a target `tipi` would collide with the module `Tipi`).
@main
enum TipiTool {
    static func main() async {
        if let error = UnknownCommand.error(in: Array(CommandLine.arguments.dropFirst())) {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            exit(UnknownCommand.exitStatus)
        }
        await TipiCommand.main()
    }
}
