/// Parses context-extension specs such as `none`, `self-extend:G=16:W=256`, `rerope:W=256`,
/// `leaky-rerope:W=256:K=16`, `dca:C=3072:L=512`, `string:S=1365:W=128`, `linear:S=4`, `ntk:S=4`,
/// `dynamic-ntk`, `yarn:S=4:BF=32:BS=1`.
///
/// Any spec takes `:logn=1` for log-n query scaling (`:logn=entropy`, `:logn=length`: the other
/// log-length variants, ``LogLengthScaling``). The same text works on the command line
/// (`--compare none,self-extend:G=16:W=256`) and in JSON reports, so a run can be reproduced from them;
/// every map's `description` prints its spec back.
public enum PositionSpec {
    /// Scheme names accepted by ``parse(_:trainedContext:)`` (and `--context-extension`).
    public static let schemes = [
        "none", "self-extend", "rerope", "leaky-rerope", "dca", "string", "linear", "ntk", "dynamic-ntk", "yarn",
    ]

    /// Builds the position map a spec describes, for a model trained at `trainedContext`.
    ///
    /// Parameters are `NAME=VALUE` pairs separated by `:`; missing ones take defaults (Self-Extend G=4,
    /// W=L/2; ReRoPE W=L/2; leaky ReRoPE k=16; DCA C=3·P/4, L=P/8 of the trained (or `ORIG`) context P,
    /// also spelled with Qwen's `dual_chunk_attention_config` names `chunk_size`, `local_size`,
    /// `original_max_position_embeddings`; STRING S=L/3, W=128; YaRN β_fast=32, β_slow=1). Unknown
    /// schemes or parameters, and invalid values, are errors that say what is accepted.
    public static func parse(_ spec: String, trainedContext: Int) throws -> PositionMap {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0].lowercased()
        var params: [String: String] = [:]
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 1, kv[0].lowercased() == "logn" {
                params["LOGN"] = "1"
                continue
            }
            guard kv.count == 2, !kv[0].isEmpty else {
                throw PositionError.invalidParameter(scheme: name, parameter: p, value: "", requirement: "expected NAME=VALUE")
            }
            params[kv[0].uppercased()] = kv[1]
        }
        func int(_ key: String, default value: Int) throws -> Int {
            guard let text = params.removeValue(forKey: key) else { return value }
            guard let v = Int(text) else {
                throw PositionError.invalidParameter(scheme: name, parameter: key, value: text, requirement: "must be an integer")
            }
            return v
        }
        /// A 0/1 switch.
        func flag(_ key: String, default value: Bool) throws -> Bool {
            guard let text = params.removeValue(forKey: key) else { return value }
            switch text.lowercased() {
            case "0", "false", "off": return false
            case "1", "true", "on": return true
            default:
                throw PositionError.invalidParameter(scheme: name, parameter: key, value: text, requirement: "must be 0 or 1")
            }
        }
        /// Moves a parameter given under another accepted name (Qwen's config keys) to `key`.
        func alias(_ other: String, _ key: String) throws {
            guard let text = params.removeValue(forKey: other) else { return }
            if params[key] != nil {
                throw PositionError.invalidParameter(
                    scheme: name, parameter: other, value: text, requirement: "gives \(key) twice")
            }
            params[key] = text
        }
        func double(_ key: String, default value: Double?) throws -> Double {
            guard let text = params.removeValue(forKey: key) else {
                guard let value else {
                    throw PositionError.invalidParameter(scheme: name, parameter: key, value: "(missing)", requirement: "is required")
                }
                return value
            }
            guard let v = Double(text) else {
                throw PositionError.invalidParameter(scheme: name, parameter: key, value: text, requirement: "must be a number")
            }
            return v
        }
        let logScaling: LogLengthScaling?
        switch params.removeValue(forKey: "LOGN")?.lowercased() {
        case nil, "0", "false", "off": logScaling = nil
        case "1", "true", "on": logScaling = .logN
        case "entropy": logScaling = .entropyAware
        case "length": logScaling = .logLength
        case let other?:
            throw PositionError.invalidParameter(
                scheme: name, parameter: "logn", value: other, requirement: "must be 0, 1, entropy or length")
        }
        let L = trainedContext
        var positions: PositionMap = PlainPositions()
        var scaling: FrequencyScaling?
        switch name {
        case "none", "":
            break
        case "self-extend", "selfextend", "se":
            positions = try SelfExtendPositions(groupSize: try int("G", default: 4), window: try int("W", default: L / 2))
        case "rerope":
            positions = try ReRoPEPositions(window: try int("W", default: L / 2))
        case "leaky-rerope":
            positions = try LeakyReRoPEPositions(window: try int("W", default: L / 2), slope: try double("K", default: 16))
        case "dca", "dual-chunk", "chunkllama":
            try alias("CHUNK_SIZE", "C")
            try alias("LOCAL_SIZE", "L")
            try alias("ORIGINAL_MAX_POSITION_EMBEDDINGS", "ORIG")
            let orig = params["ORIG"] == nil ? nil : try int("ORIG", default: L)
            let d = DualChunkPositions.defaults(trainedContext: orig ?? L)
            positions = try DualChunkPositions(
                chunkSize: try int("C", default: d.chunkSize), localWindow: try int("L", default: d.localWindow),
                originalContext: orig, temperature: try flag("MSCALE", default: true))
        case "string":
            positions = try StringPositions(
                shift: try int("S", default: L / 3), localWindow: try int("W", default: 128),
                temperature: try flag("MSCALE", default: true))
        case "linear", "pi":
            scaling = try LinearScaling(factor: try double("S", default: nil))
        case "ntk":
            scaling = try NTKScaling(factor: try double("S", default: nil))
        case "dynamic-ntk":
            scaling = try DynamicNTKScaling(factor: try double("S", default: 1))
        case "yarn":
            scaling = try YaRNScaling(
                factor: try double("S", default: nil), betaFast: try double("BF", default: 32),
                betaSlow: try double("BS", default: 1),
                originalContext: params["ORIG"] == nil ? nil : try int("ORIG", default: L))
        default:
            throw PositionError.invalidParameter(
                scheme: name, parameter: "scheme", value: name, requirement: "known schemes: \(schemes.joined(separator: ", "))")
        }
        if let extra = params.keys.sorted().first {
            throw PositionError.invalidParameter(
                scheme: name, parameter: extra, value: params[extra]!, requirement: "not a parameter of \(name)")
        }
        try positions.validate(trainedContext: L)
        if scaling == nil && logScaling == nil { return positions }
        return ContextExtension(positions: positions, scaling: scaling, logScaling: logScaling)
    }
}
