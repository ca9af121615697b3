import ArgumentParser
import Stretch
import StretchEvaluation

/// Context size and context-extension settings, shared by every command that runs a model.
///
/// llama.cpp's `-c`, `-gan/--grp-attn-n` and `-gaw/--grp-attn-w` keep their meaning; `--context-extension`
/// takes any scheme of ``PositionSpec`` (a name, or a full spec such as `yarn:S=4`).
struct ContextOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("ctx-size")],
            help: "Context size in tokens (default: the trained context L, or N_max with Self-Extend; 0 = default).")
    var contextSize: Int?

    @Option(name: .customLong("context-extension"),
            help: ArgumentHelp("Context extension: none, self-extend, rerope, leaky-rerope, dca, string, linear, ntk, "
                + "dynamic-ntk, yarn, optionally with parameters (rerope:W=256, leaky-rerope:W=256:K=16, "
                + "dca:C=chunk:L=local (default C=3L/4, L=L/8 of the trained L), string:S=shift:W=local "
                + "(default S=L/3, W=128), yarn:S=4:BF=32:BS=1).",
                valueName: "spec"))
    var contextExtension: String?

    @Option(name: [.customLong("grp-attn-n"), .customLong("gan", withSingleDash: true)],
            help: "Self-Extend group size G (G > 1 turns Self-Extend on).")
    var groupSize: Int?

    @Option(name: [.customLong("grp-attn-w"), .customLong("gaw", withSingleDash: true)],
            help: "Self-Extend (or ReRoPE) neighbor window W (default: L/2).")
    var window: Int?

    @Flag(name: .customLong("log-n-scaling"), help: "Multiply queries by max(1, ln(i+1)/ln L) (helps long passkeys).")
    var logNScaling = false

    @Option(name: .customLong("target-context"),
            help: "Pick the smallest Self-Extend G that reaches this many tokens for the window W (default W = L/2).")
    var targetContext: Int?

    func validate() throws {
        if let contextSize, contextSize < 0 { throw ValidationError("-c must be ≥ 0 (got \(contextSize))") }
        if let targetContext, targetContext < 1 { throw ValidationError("--target-context must be ≥ 1 (got \(targetContext))") }
        if let g = groupSize, g < 1 { throw ValidationError("--grp-attn-n must be ≥ 1 (got \(g))") }
        if let w = window, w < 1 { throw ValidationError("--grp-attn-w must be ≥ 1 (got \(w))") }
    }

    /// The spec string these options describe, and a note about choices made for the user.
    func spec(trainedContext L: Int) throws -> (spec: String, note: String?) {
        var spec = contextExtension ?? ""
        var note: String?
        let name = spec.split(separator: ":").first.map(String.init)?.lowercased() ?? ""
        if spec.isEmpty {
            if let target = targetContext, target > L {
                spec = "self-extend"
            } else if (groupSize ?? 1) > 1 {
                spec = "self-extend"
            } else {
                spec = "none"
            }
        } else if name == "none", let g = groupSize, g > 1 {
            throw ValidationError("--context-extension none contradicts --grp-attn-n \(g)")
        }
        let scheme = spec.split(separator: ":").first.map(String.init)?.lowercased() ?? ""
        if ["self-extend", "se", "selfextend"].contains(scheme) {
            let has = { (key: String) in spec.uppercased().contains(":\(key)=") }
            let w = window ?? L / 2
            if !has("W") { spec += ":W=\(w)" }
            if !has("G") {
                if let target = targetContext, groupSize == nil {
                    let g = SelfExtendPositions.smallestGroupSize(target: target, window: w, trainedContext: L)
                    spec += ":G=\(g)"
                    note = "--target-context \(target): chose G=\(g) for W=\(w) (N_max = \(g * (L - w + w / g)))"
                } else {
                    spec += ":G=\(groupSize ?? 4)"
                }
            }
        } else if ["rerope", "leaky-rerope"].contains(scheme), let w = window, !spec.uppercased().contains(":W=") {
            spec += ":W=\(w)"
        }
        if logNScaling && !spec.lowercased().contains("logn") { spec += ":logn=1" }
        return (spec, note)
    }

    /// The position map these options describe, for a model trained at `trainedContext`.
    func positions(trainedContext: Int) throws -> PositionMap {
        try PositionSpec.parse(spec(trainedContext: trainedContext).spec, trainedContext: trainedContext)
    }

    /// Resolves the map and the context plan, printing the effective context (and any choice) on stderr.
    func plan(trainedContext: Int, quiet: Bool = false) throws -> (PositionMap, ContextPlan) {
        let (spec, note) = try spec(trainedContext: trainedContext)
        let positions = try PositionSpec.parse(spec, trainedContext: trainedContext)
        let requested = contextSize ?? targetContext
        let plan = try ContextPlan(trainedContext: trainedContext, requested: requested, positions: positions)
        if !quiet {
            if let note { Console.error(note) }
            Console.error(plan.summary)
        }
        if let w = ErrorHints.warning(plan, positions: positions) { Console.error(w) }
        return (positions, plan)
    }

    /// Opens a session on `model` with these options' position map and context size, printing the
    /// effective context (and any choice) on stderr.
    func session(on model: LanguageModel, quiet: Bool = false) throws -> Session {
        let (positions, plan) = try plan(trainedContext: model.trainedContext, quiet: quiet)
        if !quiet { Console.error(Self.kvSummary(model.network, positions: positions, tokens: plan.contextSize)) }
        return try Session(model: model, positions: positions, contextSize: plan.contextSize)
    }

    /// The KV cache line printed at start-up: types, bytes per token, the rings and the most the cache can take.
    static func kvSummary(_ network: LlamaModel, positions: PositionMap, tokens: Int) -> String {
        let options = network.options
        let footprint = network.kvFootprint(positions: positions)
        let copies = !positions.storesFarKeyCopy ? ""
            : options.keepsFullKVHistory ? " (two key copies)" : " (far keys for every token, near keys in a ring)"
        let rings = footprint.rings.isEmpty ? "" : " + rings of "
            + footprint.rings.map { "\($0.slots) slots" }.joined(separator: ", ") + " ("
            + Self.mebibytes(footprint.ringBytes) + ")"
        return "KV cache: K \(options.resolvedKVKeyType.rawValue), V \(options.resolvedKVValueType.rawValue)\(copies), "
            + "\(footprint.bytesPerToken) B per token\(rings), at most "
            + Self.mebibytes(Int(clamping: footprint.bytes(tokens: tokens)))
            + " for \(tokens) tokens (allocated as the sequence grows)"
    }

    private static func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    /// The schemes a tool runs: each of `compare` (comma-separated specs) when given; otherwise the one
    /// these options choose, preceded by plain attention when `withBaseline` is set and the choice is not
    /// plain attention itself (so a benchmark always has its reference).
    func schemes(compare: String?, trainedContext L: Int, withBaseline: Bool = false) throws -> [ContextScheme] {
        if let compare {
            return try compare.split(separator: ",").map { try ContextScheme(spec: String($0), trainedContext: L) }
        }
        let map = try positions(trainedContext: L)
        let chosen = ContextScheme(spec: ContextScheme.canonicalSpec(of: map), positions: map)
        let plain = ContextScheme(spec: "none", positions: PlainPositions())
        if withBaseline && chosen.spec != plain.spec { return [plain, chosen] }
        return [chosen]
    }
}
