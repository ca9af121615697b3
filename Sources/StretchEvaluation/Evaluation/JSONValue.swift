import Foundation
import Stretch

/// A JSON value with ordered object keys, rendered deterministically (reports, test fixtures).
///
/// Objects keep insertion order and arrays of scalars are written on one line, so reports stay
/// readable and diffable; numbers are finite (non-finite doubles become `null`).
public indirect enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A floating-point number, written with up to `significantDigits` significant digits.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object with keys in the given order.
    case object([(String, JSONValue)])

    /// Significant digits written for ``double(_:)``.
    public static let significantDigits = 8

    /// A double, or `null` when absent.
    public static func number(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered() == b.rendered() }

    /// The JSON text, pretty-printed with two-space indentation and a trailing newline at top level.
    public func rendered() -> String {
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if !d.isFinite {
                out += "null"
            } else if d == d.rounded(), abs(d) < 1e15 {
                out += String(Int(d))
            } else {
                out += String(format: "%.\(Self.significantDigits)g", d)
            }
        case .string(let s): out += Self.quote(s)
        case .array(let items):
            if items.isEmpty {
                out += "[]"
            } else if items.allSatisfy(\.isScalar) {
                out += "["
                for (k, v) in items.enumerated() {
                    if k > 0 { out += ", " }
                    v.write(into: &out, indent: indent + 1)
                }
                out += "]"
            } else {
                out += "[\n"
                for (k, v) in items.enumerated() {
                    out += pad
                    v.write(into: &out, indent: indent + 1)
                    out += k + 1 < items.count ? ",\n" : "\n"
                }
                out += close + "]"
            }
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (k, (key, v)) in members.enumerated() {
                out += pad + Self.quote(key) + ": "
                v.write(into: &out, indent: indent + 1)
                out += k + 1 < members.count ? ",\n" : "\n"
            }
            out += close + "}"
        }
    }

    /// A JSON string literal for `s`.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
