import ArgumentParser
import Stretch

/// Context size and context-extension settings (llama.cpp's `-c`, `-gan`, `-gaw`).
struct ContextOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("ctx-size")],
            help: "Context size in tokens (default: the trained context, or N_max with Self-Extend; 0 = default).")
    var contextSize: Int?

    @Option(name: .customLong("context-extension"), help: "none or self-extend (more schemes are planned).")
    var contextExtension: String?

    @Option(name: [.customLong("grp-attn-n"), .customLong("gan", withSingleDash: true)],
            help: "Self-Extend group size G (G > 1 turns Self-Extend on).")
    var groupSize: Int?

    @Option(name: [.customLong("grp-attn-w"), .customLong("gaw", withSingleDash: true)],
            help: "Self-Extend neighbor window W (default: half the trained context).")
    var window: Int?

    func validate() throws {
        if let contextSize, contextSize < 0 { throw ValidationError("-c must be ≥ 0 (got \(contextSize))") }
    }

    /// The position map these options describe, for a model trained at `trainedContext`.
    func positions(trainedContext: Int) throws -> PositionMap {
        let scheme = contextExtension ?? ((groupSize ?? 1) > 1 ? "self-extend" : "none")
        switch scheme {
        case "none":
            if let g = groupSize, g > 1 {
                throw ValidationError("--context-extension none contradicts --grp-attn-n \(g)")
            }
            return PlainPositions()
        case "self-extend":
            let g = groupSize ?? 4
            let w = window ?? trainedContext / 2
            let se = try SelfExtendPositions(groupSize: g, window: w)
            try se.validate(trainedContext: trainedContext)
            return se
        default:
            throw ValidationError("unknown --context-extension '\(scheme)' (supported now: none, self-extend)")
        }
    }
}
