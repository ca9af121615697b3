import Stretch

/// How `stretch serve` runs: where it listens, its slots and queue, who may call it, and the defaults of
/// each request.
public struct ServerConfiguration: Sendable {
    /// Address to bind (loopback by default).
    public var host = "127.0.0.1"
    /// TCP port (0: any free port; the bound one is reported through `onListening`).
    public var port = 8080
    /// Sessions that generate side by side (`-np`).
    public var slots = 1
    /// Tokens per slot (`-c`; nil: the position map's limit, `L` or Self-Extend's `N_max`).
    public var contextSize: Int?
    /// The position map of every slot unless a request names another (`"none"`, `"self-extend:G=8:W=256"`).
    public var contextExtension = "none"
    /// Origins whose browser pages may call the server (CORS; empty: none, `*`: any).
    public var corsOrigins: [String] = []
    /// Keys accepted in `Authorization: Bearer …` (empty: no key needed).
    public var apiKeys: [String] = []
    /// The model's id in responses and `/v1/models` (nil: the file name).
    public var alias: String?
    /// Serve `GET /metrics`.
    public var metrics = false
    /// Serve `GET /slots`.
    public var slotsEndpoint = false
    /// Requests that may wait for a slot; one more is refused with 503.
    public var queueSize = 64
    /// Largest request body in bytes.
    public var maxBodySize = 10 << 20
    /// Seconds a request may wait for a slot plus generate; past it the wait ends with 503 and a generation
    /// stops (`finish_reason: "length"`).
    public var requestTimeout: Double = 600
    /// Sampling used where a request sets nothing.
    public var sampling = SamplingParameters()
    /// Tokens per reply when a request sets no limit (-1: until an end token or a full context).
    public var maxTokens = -1

    /// A configuration with every default.
    public init() {}
}
