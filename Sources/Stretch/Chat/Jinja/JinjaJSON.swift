/// Python's `json.dumps`, as Hugging Face's `tojson` filter calls it.
enum JinjaJSON {
    /// Serialises `value`; `indent` nil means single-line output with `", "`/`": "` separators.
    static func dumps(
        _ value: JinjaValue, indent: String?, ensureASCII: Bool, separators: (String, String)?, sortKeys: Bool
    ) throws(JinjaOperationError) -> String {
        let seps = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        try write(value, into: &out, indent: indent, level: 0, ensureASCII: ensureASCII, seps: seps,
            sortKeys: sortKeys)
        return out
    }

    private static func write(
        _ value: JinjaValue, into out: inout String, indent: String?, level: Int, ensureASCII: Bool,
        seps: (String, String), sortKeys: Bool
    ) throws(JinjaOperationError) {
        func newline(_ depth: Int) {
            if let indent { out += "\n" + String(repeating: indent, count: depth) }
        }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d):
            if d.isNaN {
                out += "NaN"
            } else if d.isInfinite {
                out += d < 0 ? "-Infinity" : "Infinity"
            } else {
                out += JinjaOperations.formatFloat(d)
            }
        case .string(let s): out += quote(s, ensureASCII: ensureASCII)
        case .list(let items), .tuple(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += seps.0 }
                newline(level + 1)
                try write(item, into: &out, indent: indent, level: level + 1, ensureASCII: ensureASCII, seps: seps,
                    sortKeys: sortKeys)
            }
            newline(level)
            out += "]"
        case .dict(let d):
            if d.isEmpty {
                out += "{}"
                return
            }
            var entries: [(String, JinjaValue)] = []
            for (key, item) in d.pairs {
                switch key {
                case .string(let s): entries.append((s, item))
                case .int, .float, .bool, .none:
                    var text = ""
                    try write(key, into: &text, indent: nil, level: 0, ensureASCII: ensureASCII, seps: seps,
                        sortKeys: false)
                    entries.append((text, item))
                default:
                    throw .type("keys must be str, int, float, bool or None, not \(key.typeName)")
                }
            }
            if sortKeys {
                entries.sort { a, b in a.0.unicodeScalars.lexicographicallyPrecedes(b.0.unicodeScalars) }
            }
            out += "{"
            for (index, entry) in entries.enumerated() {
                if index > 0 { out += seps.0 }
                newline(level + 1)
                out += quote(entry.0, ensureASCII: ensureASCII) + seps.1
                try write(entry.1, into: &out, indent: indent, level: level + 1, ensureASCII: ensureASCII,
                    seps: seps, sortKeys: sortKeys)
            }
            newline(level)
            out += "}"
        case .undefined, .namespace, .callable:
            throw .type("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    /// A JSON string literal with Python's escaping rules.
    static func quote(_ s: String, ensureASCII: Bool) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7e) {
                    for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ unit: UInt16) -> String {
        let hex = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }
}
