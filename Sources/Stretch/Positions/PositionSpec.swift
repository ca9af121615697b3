/// Parses context-extension specs such as `none`, `self-extend:G=16:W=256` or `rerope:W=256`.
///
/// The same text works on the command line (`--compare none,self-extend:G=16:W=256`) and in JSON
/// outputs, so a run can be reproduced from its report.
public enum PositionSpec {
    /// Scheme names accepted by ``parse(_:trainedContext:)``.
    public static let schemes = ["none", "self-extend"]

    /// Builds the position map a spec describes, for a model trained at `trainedContext`.
    ///
    /// Parameters are `NAME=VALUE` pairs separated by `:`; missing ones take defaults (Self-Extend:
    /// G=4, W=L/2). Unknown schemes or parameters are errors that list what is accepted.
    public static func parse(_ spec: String, trainedContext: Int) throws -> PositionMap {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0].lowercased()
        var params: [String: String] = [:]
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
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
        let map: PositionMap
        switch name {
        case "none", "":
            map = PlainPositions()
        case "self-extend", "selfextend", "se":
            let g = try int("G", default: 4)
            let w = try int("W", default: trainedContext / 2)
            let se = try SelfExtendPositions(groupSize: g, window: w)
            try se.validate(trainedContext: trainedContext)
            map = se
        default:
            throw PositionError.invalidParameter(
                scheme: name, parameter: "scheme", value: name, requirement: "known schemes: \(schemes.joined(separator: ", "))")
        }
        if let extra = params.keys.sorted().first {
            throw PositionError.invalidParameter(
                scheme: name, parameter: extra, value: params[extra]!, requirement: "not a parameter of \(name)")
        }
        return map
    }
}
