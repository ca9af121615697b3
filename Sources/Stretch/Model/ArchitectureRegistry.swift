/// The architectures Stretch runs, by GGUF `general.architecture`.
///
/// Adding one is a file in `Model/Architectures/` defining a static ``Architecture`` and one line here.
public enum ArchitectureRegistry {
    /// Every supported architecture.
    public static let all: [Architecture] = [
        .llama,
        .mistral,
        .qwen2,
        .qwen3,
        .gemma2,
        .gemma3,
        .phi3,
        .granite,
        .smollm3,
    ]

    /// The architecture named `name`, or nil when unsupported.
    public static func architecture(named name: String) -> Architecture? {
        all.first { $0.name == name }
    }

    /// The names of the supported architectures, in registry order.
    public static var names: [String] { all.map(\.name) }
}
