/// A runtime value of the template language, modelled on the Python objects jinja2 manipulates.
public indirect enum JinjaValue: Sendable {
    /// jinja2's `Undefined`; the payload names what was missing, for error messages.
    case undefined(String)
    /// Python `None`.
    case none
    /// Python `bool`.
    case bool(Bool)
    /// Python `int` (limited to 64 bits).
    case int(Int)
    /// Python `float`.
    case float(Double)
    /// Python `str`.
    case string(String)
    /// Python `list`.
    case list([JinjaValue])
    /// Python `tuple`.
    case tuple([JinjaValue])
    /// Python `dict` (insertion ordered).
    case dict(JinjaDict)
    /// A `namespace(...)` object, mutable through `set ns.attr = value`.
    case namespace(JinjaNamespace)
    /// Something callable: a global function, a bound method or a macro.
    case callable(JinjaCallable)

    /// Builds a dict value from string keys, keeping the given order.
    public static func object(_ pairs: [(String, JinjaValue)]) -> JinjaValue {
        var dict = JinjaDict()
        for (key, value) in pairs { dict[.string(key)] = value }
        return .dict(dict)
    }

    /// Python truthiness (`Undefined` is falsy).
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let items), .tuple(let items): return !items.isEmpty
        case .dict(let d): return !d.isEmpty
        case .namespace, .callable: return true
        }
    }

    /// Whether this is jinja2's `Undefined`.
    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The Python type name, used in error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    /// Creates a string value.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Creates an int value.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// Creates a bool value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates a float value.
    public init(floatLiteral value: Double) { self = .float(value) }
    /// Creates a list value.
    public init(arrayLiteral elements: JinjaValue...) { self = .list(elements) }
    /// Creates `None`.
    public init(nilLiteral: ()) { self = .none }
}
