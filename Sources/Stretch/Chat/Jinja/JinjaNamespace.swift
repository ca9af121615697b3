import Foundation

/// The object created by `namespace(...)`. It is a reference type because jinja2 namespaces are
/// shared: `set ns.x = 1` inside a loop must be visible after the loop.
public final class JinjaNamespace: Sendable {
    private let lock = NSLock()
    // Guarded by `lock`, which is what makes the class safely Sendable.
    nonisolated(unsafe) private var storage: JinjaDict

    /// Creates a namespace holding `attributes`.
    public init(_ attributes: JinjaDict) {
        storage = attributes
    }

    /// A snapshot of the attributes.
    public var attributes: JinjaDict {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    /// Reads an attribute.
    public func get(_ name: String) -> JinjaValue? {
        lock.lock()
        defer { lock.unlock() }
        return storage[string: name]
    }

    /// Writes an attribute.
    public func set(_ name: String, _ value: JinjaValue) {
        lock.lock()
        defer { lock.unlock() }
        storage[.string(name)] = value
    }
}
