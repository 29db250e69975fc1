import SwiftSyntax
import SwiftSyntaxMacros

/// `#processes(train, evaluate)` → `[trainProcess.self, evaluateProcess.self]`: the processes of functions
/// marked `@PipelineProcess`, without naming the generated types. Process types written by hand can be
/// listed too: `#processes(train, ExportProcess.self)`.
public struct ProcessListMacro: ExpressionMacro {
    public static func expansion(
        of node: some FreestandingMacroExpansionSyntax,
        in context: some MacroExpansionContext
    ) throws -> ExprSyntax {
        let items = node.arguments.map { argument -> String in
            let expression = argument.expression.trimmedDescription
            if expression.hasSuffix(".self") { return expression }
            if let member = argument.expression.as(MemberAccessExprSyntax.self), let base = member.base {
                return "\(base.trimmedDescription).\(member.declName.baseName.text)Process.self"
            }
            return "\(expression)Process.self"
        }
        return "[\(raw: items.joined(separator: ", "))] as [any PipelineProcess.Type]"
    }
}
