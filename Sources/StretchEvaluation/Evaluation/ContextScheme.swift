import Foundation
import Stretch

/// A context-extension scheme as the user wrote it (`self-extend:G=16:W=256`) with its parsed map.
///
/// Reports carry ``spec`` verbatim, so a JSON result can be fed back to ``PositionSpec/parse(_:trainedContext:)``
/// (or `--compare`) to reproduce the run, plus the resolved parameters (defaults filled in).
public struct ContextScheme: Sendable {
    /// The spec string, exactly as given.
    public let spec: String
    /// The position map it parses to.
    public let positions: PositionMap

    /// Parses `spec` with ``PositionSpec`` for a model trained at `trainedContext`.
    public init(spec: String, trainedContext: Int) throws {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        self.spec = trimmed.isEmpty ? "none" : trimmed
        positions = try PositionSpec.parse(self.spec, trainedContext: trainedContext)
    }

    /// Wraps an already-built map; `spec` must parse back to it.
    public init(spec: String, positions: PositionMap) {
        self.spec = spec
        self.positions = positions
    }

    /// The canonical spec of a map built elsewhere (e.g. from `-gan`/`-gaw`): `none` or `self-extend:G=…:W=…`.
    public static func canonicalSpec(of positions: PositionMap) -> String {
        if let se = positions as? SelfExtendPositions { return "self-extend:G=\(se.groupSize):W=\(se.window)" }
        return positions.description
    }

    /// Scheme name: the part of the spec before the first `:`, lower-cased.
    public var name: String {
        String(spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "none").lowercased()
    }

    /// Resolved parameters: Self-Extend's G and W, DCA's C and L (and ORIG), STRING's S and W (defaults
    /// filled in), else the spec's own `NAME=VALUE` pairs.
    public var parameters: [(String, JSONValue)] {
        if let se = positions as? SelfExtendPositions {
            return [("G", .int(se.groupSize)), ("W", .int(se.window))]
        }
        if let dca = positions as? DualChunkPositions {
            return [("C", .int(dca.chunkSize)), ("L", .int(dca.localWindow))]
                + (dca.originalContext.map { [("ORIG", JSONValue.int($0))] } ?? [])
        }
        if let string = positions as? StringPositions {
            return [("S", .int(string.shift)), ("W", .int(string.localWindow))]
        }
        return spec.split(separator: ":").dropFirst().compactMap { part in
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { return nil }
            if let i = Int(kv[1]) { return (kv[0].uppercased(), .int(i)) }
            if let d = Double(kv[1]) { return (kv[0].uppercased(), .double(d)) }
            return (kv[0].uppercased(), .string(kv[1]))
        }
    }

    /// `{"scheme": spec, "name": ..., "parameters": {...}}` members for JSON reports.
    public var jsonMembers: [(String, JSONValue)] {
        [("scheme", .string(spec)), ("name", .string(name)), ("parameters", .object(parameters))]
    }
}
