import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@PipelineProcess` on a function: adds a peer struct `<name>Process` that stores the parameters, reads them
/// from config params (defaults kept; permanences injected), documents them, and calls the function.
public struct PipelineProcessMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax,
        providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard let function = declaration.as(FunctionDeclSyntax.self) else {
            context.diagnose(Diagnostic(node: node, message: ProcessDiagnostic.notAFunction))
            return []
        }
        var valid = true
        func fail(_ node: some SyntaxProtocol, _ message: ProcessDiagnostic) {
            context.diagnose(Diagnostic(node: Syntax(node), message: message))
            valid = false
        }
        if let generics = function.genericParameterClause { fail(generics, .generic) }
        if let clause = function.genericWhereClause { fail(clause, .generic) }

        let isStatic = function.modifiers.contains { $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class) }
        let enclosingType = Self.enclosingTypeName(context)
        if enclosingType != nil, !isStatic { fail(function.name, .instanceMethod) }

        var parameters: [Parameter] = []
        for parameter in function.signature.parameterClause.parameters {
            if parameter.ellipsis != nil { fail(parameter, .variadic(parameter.firstName.text)) }
            let name = (parameter.secondName ?? parameter.firstName).text
            if let problem = Self.undecodable(parameter.type) { fail(parameter.type, .cannotDecode(name, problem)) }
            parameters.append(
                Parameter(
                    label: parameter.firstName.text, name: name, type: parameter.type.trimmedDescription,
                    defaultValue: parameter.defaultValue?.value.trimmedDescription))
        }
        let constraints = Self.constraintsArgument(node)
        if let constraints, let dictionary = constraints.as(DictionaryExprSyntax.self),
            case .elements(let elements) = dictionary.content
        {
            let names = parameters.map(\.name)
            for element in elements {
                guard let key = element.key.as(StringLiteralExprSyntax.self), let name = key.representedLiteralValue else { continue }
                if !names.contains(name) { fail(element.key, .unknownConstraint(name, names)) }
            }
        }
        guard valid else { return [] }

        let functionName = function.name.text
        let structName = "\(functionName)Process"
        let access = Self.accessLevel(function.modifiers)
        let accessPrefix = access.map { "\($0) " } ?? ""
        let output = function.signature.returnClause?.type.trimmedDescription ?? "Void"
        let docs = DocComment(function.leadingTrivia)
        let reference = (enclosingType.map { "\($0)." } ?? "")
            + (parameters.isEmpty ? functionName : "\(functionName)(" + parameters.map { "\($0.label):" }.joined() + ")")
        let functionType = "(" + parameters.map(\.type).joined(separator: ", ") + ") async throws -> \(output)"

        var members: [String] = []
        members.append("\(accessPrefix)static var processName: String { \(literal(functionName)) }")
        members.append("\(accessPrefix)static var summary: String? { \(docs.summary.map(literal) ?? "nil") }")
        let descriptions = parameters.map { parameter in
            "ProcessParameter(name: \(literal(parameter.name)), type: \(parameter.type).self, typeName: \(literal(parameter.type)), "
                + "defaultValue: \(parameter.defaultValue.map(literal) ?? "nil"), help: \(docs.parameters[parameter.name].map(literal) ?? "nil"))"
        }
        members.append("\(accessPrefix)static var parameters: [ProcessParameter] { [\(descriptions.joined(separator: ", "))] }")
        if let constraints {
            members.append("\(accessPrefix)static var constraints: [String: ParameterConstraint] { \(constraints.trimmedDescription) }")
        }
        for parameter in parameters {
            members.append("\(accessPrefix)var \(parameter.name): \(parameter.type)")
        }
        let initParameters = parameters.map { "\($0.name): \($0.type)" + ($0.defaultValue.map { " = \($0)" } ?? "") }
        let assignments = parameters.map { "self.\($0.name) = \($0.name)" }
        members.append(
            "\(accessPrefix)init(\(initParameters.joined(separator: ", "))) {\n\(assignments.joined(separator: "\n"))\n}")
        var decoding = ["let parameters = try ProcessParameterDecoder(decoder, process: Self.self)"]
        for parameter in parameters {
            let fallback = parameter.defaultValue.map { "{ \($0) }" } ?? "nil"
            decoding.append(
                "let \(parameter.name) = parameters.decode(\(parameter.type).self, \(literal(parameter.name)), default: \(fallback))")
        }
        if parameters.isEmpty {
            decoding.append("try parameters.finish()")
        } else {
            decoding.append(
                "guard " + parameters.map { "let \($0.name)" }.joined(separator: ", ")
                    + " else {\nthrow parameters.failure()\n}")
            decoding.append("try parameters.finish()")
            decoding += assignments
        }
        members.append("\(accessPrefix)init(from decoder: any Decoder) throws {\n\(decoding.joined(separator: "\n"))\n}")
        // The same reading without a decoder: each parameter straight from the params table. The table is
        // `__params`, a name no Swift parameter can clash with in practice.
        var making: [String] = []
        for parameter in parameters {
            let fallback = parameter.defaultValue.map { "{ \($0) }" } ?? "nil"
            making.append(
                "let \(parameter.name) = __params.decode(\(parameter.type).self, \(literal(parameter.name)), default: \(fallback))")
        }
        if !parameters.isEmpty {
            making.append("guard " + parameters.map { "let \($0.name)" }.joined(separator: ", ") + " else {\nreturn nil\n}")
        }
        making.append("return Self(" + parameters.map { "\($0.name): \($0.name)" }.joined(separator: ", ") + ")")
        members.append(
            "\(accessPrefix)static func make(params __params: inout ProcessParams) -> Self? {\n\(making.joined(separator: "\n"))\n}")
        members.append(
            "\(accessPrefix)func run() async throws -> \(output) {\n"
                + "let function: \(functionType) = \(reference)\n"
                + "return try await function(\(parameters.map { "self.\($0.name)" }.joined(separator: ", ")))\n}")

        let body = members.joined(separator: "\n")
        let declaration: DeclSyntax = """
            /// The pipeline process of `\(raw: functionName)`, generated by `@PipelineProcess`.
            \(raw: accessPrefix)struct \(raw: structName): PipelineProcess {
            \(raw: body)
            }
            """
        return [declaration]
    }

    /// The expression given as `constraints:` (`@PipelineProcess(constraints: ["epochs": .range(1...)])`), if any.
    static func constraintsArgument(_ node: AttributeSyntax) -> ExprSyntax? {
        guard case .argumentList(let arguments)? = node.arguments else { return nil }
        return arguments.first { $0.label?.text == "constraints" }?.expression
    }

    struct Parameter {
        var label: String
        var name: String
        var type: String
        var defaultValue: String?
    }

    static func literal(_ text: String) -> String {
        StringLiteralExprSyntax(content: text).trimmedDescription
    }

    static func accessLevel(_ modifiers: DeclModifierListSyntax) -> String? {
        for modifier in modifiers {
            switch modifier.name.tokenKind {
            case .keyword(.public): return "public"
            case .keyword(.package): return "package"
            case .keyword(.fileprivate), .keyword(.private): return "fileprivate"
            case .keyword(.internal): return nil
            default: continue
            }
        }
        return nil
    }

    /// The type a function is declared in (`Steps` for `extension Steps { static func … }`), if any.
    static func enclosingTypeName(_ context: some MacroExpansionContext) -> String? {
        for syntax in context.lexicalContext {
            if let decl = syntax.as(ExtensionDeclSyntax.self) { return decl.extendedType.trimmedDescription }
            if let decl = syntax.as(StructDeclSyntax.self) { return decl.name.text }
            if let decl = syntax.as(ClassDeclSyntax.self) { return decl.name.text }
            if let decl = syntax.as(EnumDeclSyntax.self) { return decl.name.text }
            if let decl = syntax.as(ActorDeclSyntax.self) { return decl.name.text }
        }
        return nil
    }

    /// Why a parameter type cannot come from a config file, when that can be seen from its syntax.
    static func undecodable(_ type: TypeSyntax) -> String? {
        if let attributed = type.as(AttributedTypeSyntax.self) {
            if attributed.specifiers.contains(where: { $0.trimmedDescription.hasPrefix("inout") }) {
                return "an `inout` parameter cannot be set from a config"
            }
            if !attributed.attributes.isEmpty { return "an attributed type (such as `@escaping`) cannot be read from a config" }
            return undecodable(attributed.baseType)
        }
        if type.is(FunctionTypeSyntax.self) { return "a function type cannot be read from a config" }
        if type.is(SomeOrAnyTypeSyntax.self) { return "`some`/`any` types cannot be decoded; use a concrete type" }
        if type.is(MetatypeTypeSyntax.self) { return "a metatype cannot be read from a config" }
        if let tuple = type.as(TupleTypeSyntax.self), tuple.elements.count != 1 {
            return "a tuple cannot be read from a config; use a struct that is Decodable"
        }
        if type.is(ImplicitlyUnwrappedOptionalTypeSyntax.self) { return "use `T?` instead of `T!`" }
        return nil
    }
}

/// Doc comments of a function: the summary (first paragraph) and each parameter's text.
struct DocComment {
    var summary: String?
    var parameters: [String: String] = [:]

    init(_ trivia: Trivia) {
        var lines: [String] = []
        for piece in trivia {
            if case .docLineComment(let text) = piece {
                lines.append(String(text.dropFirst(3)).trimmingCharacters(in: " "))
            } else if case .docBlockComment(let text) = piece {
                let body = text.dropFirst(3).dropLast(2)
                lines += body.split(separator: "\n", omittingEmptySubsequences: false).map {
                    String($0).trimmingCharacters(in: " *")
                }
            }
        }
        var summaryLines: [String] = []
        var inParameters = false
        var current: String?
        var ended = false
        for line in lines {
            let lowered = line.lowercased()
            if lowered.hasPrefix("- parameters:") {
                inParameters = true
                current = nil
                continue
            }
            if lowered.hasPrefix("- parameter "), let colon = line.firstIndex(of: ":") {
                let name = line[line.index(line.startIndex, offsetBy: 12)..<colon].trimmingCharacters(in: " ")
                parameters[name] = line[line.index(after: colon)...].trimmingCharacters(in: " ")
                current = name
                continue
            }
            if inParameters, line.hasPrefix("- "), let colon = line.firstIndex(of: ":") {
                let name = line[line.index(line.startIndex, offsetBy: 2)..<colon].trimmingCharacters(in: " ")
                if !name.contains(" ") {
                    parameters[name] = line[line.index(after: colon)...].trimmingCharacters(in: " ")
                    current = name
                    continue
                }
            }
            if line.hasPrefix("- ") {
                inParameters = false
                current = nil
                ended = true
                continue
            }
            if let name = current, !line.isEmpty {
                parameters[name, default: ""] += " " + line
                continue
            }
            if line.isEmpty {
                if !summaryLines.isEmpty { ended = true }
                current = nil
                continue
            }
            if !ended { summaryLines.append(line) }
        }
        summary = summaryLines.isEmpty ? nil : summaryLines.joined(separator: " ")
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var result = Substring(self)
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return String(result)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(self).trimmingCharacters(in: set)
    }
}

/// Compile-time diagnostics for functions `@PipelineProcess` cannot turn into a process.
enum ProcessDiagnostic: DiagnosticMessage {
    case notAFunction
    case generic
    case instanceMethod
    case variadic(String)
    case cannotDecode(String, String)
    case unknownConstraint(String, [String])

    var message: String {
        switch self {
        case .notAFunction: return "@PipelineProcess can only be attached to a function"
        case .generic:
            return "@PipelineProcess cannot be attached to a generic function: a config file cannot choose its type parameters"
        case .instanceMethod:
            return "@PipelineProcess needs a global or static function; make this method `static` or move it out of the type"
        case .variadic(let name):
            return "parameter '\(name)' is variadic; use an array (`[T]`), which a config can give as a list"
        case .cannotDecode(let name, let reason): return "parameter '\(name)': \(reason)"
        case .unknownConstraint(let name, let names):
            return "constraint on '\(name)', which is not a parameter"
                + (names.isEmpty ? " (the function has none)" : "; parameters: \(names.joined(separator: ", "))")
        }
    }

    var diagnosticID: MessageID {
        let id: String
        switch self {
        case .notAFunction: id = "notAFunction"
        case .generic: id = "generic"
        case .instanceMethod: id = "instanceMethod"
        case .variadic: id = "variadic"
        case .cannotDecode: id = "cannotDecode"
        case .unknownConstraint: id = "unknownConstraint"
        }
        return MessageID(domain: "TipiMacros", id: id)
    }

    var severity: DiagnosticSeverity { .error }
}
