import Foundation

/// How a model runs, fixed when it is loaded: threads, prefill batch, numeric path and KV cache type.
///
/// A loaded model is shared by every session on it, so none of this can change afterwards; load the file
/// again (the weights are memory-mapped, so a second load costs little memory) to run it differently.
public struct LoadOptions: Sendable, Equatable {
    /// Threads for matrix products and attention, the calling thread included.
    public var threads: Int
    /// Tokens per forward chunk during prefill; bounds activation memory.
    public var batchSize: Int
    /// Numeric path: `.f32` keeps activations, accumulation and the KV cache in float32 end to end;
    /// `.auto` may use faster reduced-precision paths (quantized activations, F16 KV cache).
    public var precision: ComputePrecision
    /// KV cache storage of keys; nil picks F16 for `.auto` and F32 for `.f32`.
    public var kvKeyType: KVElementType?
    /// KV cache storage of values; nil picks F16 for `.auto` and F32 for `.f32`.
    public var kvValueType: KVElementType?
    /// Keep every token's keys and values in every layer instead of rings (Self-Extend's near keys, sliding-window
    /// layers): prefix reuse may then branch anywhere, for the memory of whole histories (llama.cpp's `--swa-full`).
    public var keepsFullKVHistory: Bool
    /// Scan every tensor for NaN and infinity while loading (``GGUFFile/checkFinite()``): reads the whole file.
    public var checksTensors: Bool

    /// Creates options; `threads` nil means every active core.
    public init(
        threads: Int? = nil, batchSize: Int = 256, precision: ComputePrecision = .auto,
        kvKeyType: KVElementType? = nil, kvValueType: KVElementType? = nil, checksTensors: Bool = false,
        keepsFullKVHistory: Bool = false
    ) {
        self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.batchSize = batchSize
        self.precision = precision
        self.kvKeyType = kvKeyType
        self.kvValueType = kvValueType
        self.checksTensors = checksTensors
        self.keepsFullKVHistory = keepsFullKVHistory
    }

    /// The key storage these options resolve to.
    public var resolvedKVKeyType: KVElementType { kvKeyType ?? (precision == .f32 ? .f32 : .f16) }
    /// The value storage these options resolve to.
    public var resolvedKVValueType: KVElementType { kvValueType ?? (precision == .f32 ? .f32 : .f16) }

    /// Checks the ranges and the combination of precision and KV type.
    public func validate() throws {
        guard threads >= 1 else { throw ModelError.invalidOption(name: "threads", value: "\(threads)", requirement: "at least 1") }
        guard batchSize >= 1 else {
            throw ModelError.invalidOption(name: "batch size", value: "\(batchSize)", requirement: "at least 1")
        }
        if precision == .f32, let t = [kvKeyType, kvValueType].compactMap({ $0 }).first(where: { $0 != .f32 }) {
            throw ModelError.invalidOption(
                name: "KV cache type", value: t.rawValue, requirement: "f32 precision keeps the KV cache in f32")
        }
    }
}
