/// An insertion-ordered dictionary, as Python's `dict` is.
public struct JinjaDict: Sendable {
    /// Keys in insertion order.
    public private(set) var keys: [JinjaValue] = []
    /// Values aligned with `keys`.
    public private(set) var values: [JinjaValue] = []
    /// Fast lookup for string keys, the overwhelmingly common case.
    private var stringIndex: [String: Int] = [:]

    /// Creates an empty dictionary.
    public init() {}

    /// The number of entries.
    public var count: Int { keys.count }
    /// Whether there are no entries.
    public var isEmpty: Bool { keys.isEmpty }

    /// Key–value pairs in insertion order.
    public var pairs: [(JinjaValue, JinjaValue)] { Array(zip(keys, values)) }

    private func index(of key: JinjaValue) -> Int? {
        if case .string(let s) = key { return stringIndex[s] }
        return keys.firstIndex { JinjaOperations.equals($0, key) }
    }

    /// Reads or writes the value for `key`; writing nil removes nothing (entries are never removed).
    public subscript(key: JinjaValue) -> JinjaValue? {
        get { index(of: key).map { values[$0] } }
        set {
            guard let newValue else { return }
            if let i = index(of: key) {
                values[i] = newValue
            } else {
                if case .string(let s) = key { stringIndex[s] = keys.count }
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Convenience lookup by string key.
    public subscript(string key: String) -> JinjaValue? {
        stringIndex[key].map { values[$0] }
    }
}
