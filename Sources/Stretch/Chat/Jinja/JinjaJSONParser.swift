/// Parses JSON text into ``JinjaValue``s, keeping object key order (which `tojson` output depends on).
public struct JinjaJSONParser {
    private let scalars: [Unicode.Scalar]
    private var pos = 0

    /// Parses one JSON document.
    public static func parse(_ text: String) throws(JinjaError) -> JinjaValue {
        var parser = JinjaJSONParser(scalars: Array(text.unicodeScalars))
        let value = try parser.parseValue()
        parser.skipSpace()
        guard parser.pos == parser.scalars.count else { throw parser.failure("trailing characters") }
        return value
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private func failure(_ message: String) -> JinjaError {
        .syntax("invalid JSON: \(message)", JinjaSourceLocation(line: 1, column: pos + 1))
    }

    private mutating func skipSpace() {
        while pos < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[pos]) { pos += 1 }
    }

    private mutating func consume(_ literal: String) -> Bool {
        let expected = Array(literal.unicodeScalars)
        guard pos + expected.count <= scalars.count, Array(scalars[pos..<pos + expected.count]) == expected else {
            return false
        }
        pos += expected.count
        return true
    }

    private mutating func parseValue() throws(JinjaError) -> JinjaValue {
        skipSpace()
        guard pos < scalars.count else { throw failure("unexpected end") }
        switch scalars[pos] {
        case "{":
            pos += 1
            var dict = JinjaDict()
            skipSpace()
            if consume("}") { return .dict(dict) }
            while true {
                skipSpace()
                guard pos < scalars.count, scalars[pos] == "\"" else { throw failure("expected a key") }
                let key = try parseString()
                skipSpace()
                guard consume(":") else { throw failure("expected ':'") }
                dict[.string(key)] = try parseValue()
                skipSpace()
                if consume("}") { return .dict(dict) }
                guard consume(",") else { throw failure("expected ',' or '}'") }
            }
        case "[":
            pos += 1
            var items: [JinjaValue] = []
            skipSpace()
            if consume("]") { return .list(items) }
            while true {
                items.append(try parseValue())
                skipSpace()
                if consume("]") { return .list(items) }
                guard consume(",") else { throw failure("expected ',' or ']'") }
            }
        case "\"":
            return .string(try parseString())
        default:
            if consume("true") { return .bool(true) }
            if consume("false") { return .bool(false) }
            if consume("null") { return .none }
            return try parseNumber()
        }
    }

    private mutating func parseNumber() throws(JinjaError) -> JinjaValue {
        let start = pos
        while pos < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[pos]) { pos += 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<pos])
        let text = String(view)
        if let i = Int(text) { return .int(i) }
        if let d = Double(text) { return .float(d) }
        throw failure("bad number '\(text)'")
    }

    private mutating func parseString() throws(JinjaError) -> String {
        pos += 1
        var out = String.UnicodeScalarView()
        while pos < scalars.count {
            let c = scalars[pos]
            pos += 1
            if c == "\"" { return String(out) }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard pos < scalars.count else { break }
            let e = scalars[pos]
            pos += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "u":
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), consume("\\u") {
                    let low = try hex4()
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: out.append(e)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func hex4() throws(JinjaError) -> UInt32 {
        guard pos + 4 <= scalars.count else { throw failure("bad \\u escape") }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[pos..<pos + 4])
        pos += 4
        guard let code = UInt32(String(view), radix: 16) else { throw failure("bad \\u escape") }
        return code
    }
}
