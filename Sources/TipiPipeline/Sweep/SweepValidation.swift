import Tipi

extension SweepSpec {
    /// Every problem of the swept values against the pipeline, found before any point runs: each listed
    /// value (and each range's ends) is applied as a `--set` override and the whole config is pre-flighted,
    /// so a path that does not exist, a value of the wrong type or one outside a param's range is reported
    /// with the config's own messages and suggestions, at the place the sweep declared it.
    func problems(in document: ConfigTable, definition: PipelineDefinition) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        var seen = Set<String>()
        for parameter in parameters {
            for value in parameter.domain.representatives.prefix(1000) {
                let assignment = "\(parameter.path)=\(SweepValueText.toml(value))"
                var found: [ConfigProblem]
                do throws(ConfigProblems) {
                    let changed = try ConfigLoader.apply(overrides: [assignment], to: document)
                    switch PipelineBuilder.build(changed, definition: definition) {
                    case .success: found = []
                    case .failure(let error): found = error.problems
                    }
                } catch {
                    found = error.problems
                }
                for var problem in found {
                    // Only what the swept value changed: its own location is the override's.
                    guard problem.location?.override != nil || problem.location == nil else { continue }
                    problem.location = parameter.location
                    if let argument = parameter.argument { problem.message = "\(argument): \(problem.message)" }
                    if parameter.location != nil { problem.message += " (a value of sweep.params.\"\(parameter.path)\")" }
                    if seen.insert(problem.description).inserted { problems.append(problem) }
                }
            }
        }
        return problems
    }
}
