import SwiftCompilerPlugin
import SwiftSyntaxMacros

@main
struct TipiMacrosPlugin: CompilerPlugin {
    let providingMacros: [any Macro.Type] = [PipelineProcessMacro.self, ProcessListMacro.self]
}
