import TipiCLI

/// The entry point of the `tipi` executable (the target is not named `tipi`: macOS file systems ignore
/// case, and a target `tipi` would collide with the module `Tipi`).
@main
enum TipiTool {
    static func main() async {
        await TipiCommand.main()
    }
}
