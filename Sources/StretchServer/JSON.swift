import Foundation

/// A JSON value as requests carry it (numbers kept apart from booleans) and as responses are written:
/// compact, on one line (Server-Sent Events need that), with object keys in the order given.
public indirect enum JSON: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.rendered == b.rendered }

    /// Deepest nesting of arrays and objects a body may have. Requests nest three or four levels (tool schemas
    /// a few more); decoding recurses once per level on a server thread's stack, so a hostile body must not
    /// choose the depth.
    public static let maxDepth = 64

    /// Thrown while decoding a value nested deeper than ``maxDepth``.
    struct NestingTooDeep: Error {}

    public init(from decoder: any Decoder) throws {
        guard decoder.codingPath.count < Self.maxDepth else { throw NestingTooDeep() }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSON] = []
            while !array.isAtEnd { items.append(try array.decode(JSON.self)) }
            self = .array(items)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            self = .object(try object.allKeys.map { ($0.stringValue, try object.decode(JSON.self, forKey: $0)) })
            return
        }
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let b = try? value.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? value.decode(Int.self) {
            self = .int(i)
        } else if let d = try? value.decode(Double.self) {
            self = .double(d)
        } else {
            self = .string(try value.decode(String.self))
        }
    }

    /// Parses a request body; the error is the 400 answer naming what is wrong.
    static func decode(_ data: Data) throws(APIError) -> JSON {
        do {
            return try JSONDecoder().decode(JSON.self, from: data)
        } catch is NestingTooDeep {
            throw .badRequest("the request body nests arrays and objects more than \(maxDepth) levels deep")
        } catch {
            throw .badRequest("the request body is not valid JSON")
        }
    }

    /// The member `key` of an object (nil for a missing key or a non-object).
    subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The compact JSON text.
    public var rendered: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
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
                out += "\(d)"
            }
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (k, v) in items.enumerated() {
                if k > 0 { out += "," }
                v.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (k, (key, v)) in members.enumerated() {
                if k > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
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
        out += "\""
    }

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Any key of a JSON object.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
