import Foundation

/// Python semantics for equality, ordering, arithmetic and `str`/`repr` conversion of ``JinjaValue``s.
enum JinjaOperations {
    // MARK: - Conversion to text

    /// Python `str(value)` as jinja2 prints it (`Undefined` prints as the empty string).
    static func str(_ value: JinjaValue) -> String {
        switch value {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr(value)
        }
    }

    /// Python `repr(value)`.
    static func repr(_ value: JinjaValue) -> String {
        switch value {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return formatFloat(d)
        case .string(let s): return reprString(s)
        case .list(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
        case .tuple(let items):
            if items.count == 1 { return "(" + repr(items[0]) + ",)" }
            return "(" + items.map(repr).joined(separator: ", ") + ")"
        case .dict(let d):
            return "{" + d.pairs.map { repr($0.0) + ": " + repr($0.1) }.joined(separator: ", ") + "}"
        case .namespace(let ns):
            let body = ns.attributes.pairs.map { str($0.0) + "=" + repr($0.1) }.joined(separator: ", ")
            return "<Namespace(" + body + ")>"
        case .callable: return "<function>"
        }
    }

    /// Python's shortest round-tripping `float.__repr__`.
    static func formatFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description already yields the shortest round-trip digits; only the layout differs.
        var text = abs(d).description
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var pointPosition = text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? text.count
        var digits = Array(text.filter { $0 != "." })
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        let decimalExponent = pointPosition + exponent - 1
        var out = d < 0 ? "-" : ""
        if decimalExponent >= -4 && decimalExponent < 16 {
            if decimalExponent >= 0 {
                let intCount = decimalExponent + 1
                let padded = digits + Array(repeating: "0", count: max(0, intCount - digits.count))
                out += String(padded[..<intCount]) + "."
                out += intCount < padded.count ? String(padded[intCount...]) : "0"
            } else {
                out += "0." + String(repeating: "0", count: -decimalExponent - 1) + String(digits)
            }
        } else {
            out += String(digits[0])
            if digits.count > 1 { out += "." + String(digits[1...]) }
            let magnitude = abs(decimalExponent)
            out += "e" + (decimalExponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        return out
    }

    /// Python `repr(str)`: single quotes unless the text contains a single quote and no double quote.
    static func reprString(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if isPrintable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += escapeCode(scalar.value)
                }
            }
        }
        out.append(quote)
        return out
    }

    private static func escapeCode(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        if value <= 0xff { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
        if value <= 0xffff { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Python's `str.isprintable` for one code point.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            return false
        default:
            return true
        }
    }

    // MARK: - Comparison

    private static func number(_ value: JinjaValue) -> Double? {
        switch value {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: return nil
        }
    }

    private static func integer(_ value: JinjaValue) -> Int? {
        switch value {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }

    /// Python `==`.
    static func equals(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && x.pairs.allSatisfy { key, value in
                y[key].map { equals(value, $0) } ?? false
            }
        case (.namespace(let x), .namespace(let y)): return x === y
        default:
            if let i = integer(a), let j = integer(b) { return i == j }
            if let x = number(a), let y = number(b) { return x == y }
            return false
        }
    }

    /// Python ordering (`<` is `-1`), throwing for unorderable types.
    static func compare(_ a: JinjaValue, _ b: JinjaValue, op: String = "<") throws(JinjaOperationError) -> Int {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            let xs = Array(x.unicodeScalars)
            let ys = Array(y.unicodeScalars)
            for (p, q) in zip(xs, ys) where p != q { return p.value < q.value ? -1 : 1 }
            return xs.count == ys.count ? 0 : (xs.count < ys.count ? -1 : 1)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !equals(p, q) { return try compare(p, q, op: op) }
            return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
        default:
            if let i = integer(a), let j = integer(b) { return i == j ? 0 : (i < j ? -1 : 1) }
            if let x = number(a), let y = number(b) { return x == y ? 0 : (x < y ? -1 : 1) }
            if case .undefined(let hint) = a { throw .undefined(hint) }
            if case .undefined(let hint) = b { throw .undefined(hint) }
            throw .type("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// Python `item in container`.
    static func contains(_ container: JinjaValue, _ item: JinjaValue) throws(JinjaOperationError) -> Bool {
        switch container {
        case .undefined: return false
        case .string(let s):
            guard case .string(let sub) = item else {
                throw .type("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return sub.isEmpty || s.contains(sub)
        case .list(let items), .tuple(let items): return items.contains { equals($0, item) }
        case .dict(let d): return d[item] != nil
        case .namespace(let ns): return ns.attributes[item] != nil
        default: throw .type("argument of type '\(container.typeName)' is not iterable")
        }
    }

    // MARK: - Arithmetic

    /// Applies a binary arithmetic operator with Python semantics.
    static func arithmetic(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws(JinjaOperationError) -> JinjaValue {
        if op == "~" {
            let (x, y) = (str(a), str(b))
            try JinjaLimits.checkString(bytes: x.utf8.count + y.utf8.count)
            return .string(x + y)
        }
        if case .undefined(let hint) = a { throw .undefined(hint) }
        if case .undefined(let hint) = b { throw .undefined(hint) }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)):
            try JinjaLimits.checkString(bytes: x.utf8.count + y.utf8.count)
            return .string(x + y)
        case ("+", .list(let x), .list(let y)):
            try JinjaLimits.checkList(items: x.count + y.count)
            return .list(x + y)
        case ("+", .tuple(let x), .tuple(let y)):
            try JinjaLimits.checkList(items: x.count + y.count)
            return .tuple(x + y)
        case ("*", .string(let s), _) where integer(b) != nil: return .string(try repeated(s, integer(b)!))
        case ("*", _, .string(let s)) where integer(a) != nil: return .string(try repeated(s, integer(a)!))
        case ("*", .list(let items), _) where integer(b) != nil:
            let n = max(0, integer(b)!)
            try JinjaLimits.checkList(items: items.count.multipliedReportingOverflow(by: n).overflow ? .max : items.count * n)
            return .list(Array([[JinjaValue]](repeating: items, count: n).joined()))
        default: break
        }
        if let i = integer(a), let j = integer(b) { return try intArithmetic(op, i, j) }
        if let x = number(a), let y = number(b) { return try floatArithmetic(op, x, y) }
        if op == "%", case .string(let template) = a { return try JinjaPrintf.format(template, b) }
        throw .type("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    private static func repeated(_ s: String, _ n: Int) throws(JinjaOperationError) -> String {
        guard n > 0 else { return "" }
        let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
        try JinjaLimits.checkString(bytes: overflow ? .max : bytes)
        return String(repeating: s, count: n)
    }

    private static func intArithmetic(_ op: String, _ i: Int, _ j: Int) throws(JinjaOperationError) -> JinjaValue {
        func checked(_ result: (Int, Bool)) throws(JinjaOperationError) -> JinjaValue {
            if result.1 { throw .type("integer overflow") }
            return .int(result.0)
        }
        switch op {
        case "+": return try checked(i.addingReportingOverflow(j))
        case "-": return try checked(i.subtractingReportingOverflow(j))
        case "*": return try checked(i.multipliedReportingOverflow(by: j))
        case "/":
            if j == 0 { throw .type("division by zero") }
            return .float(Double(i) / Double(j))
        case "//", "%":
            if j == 0 { throw .type("integer division or modulo by zero") }
            var q = i / j
            var r = i % j
            if r != 0 && ((r < 0) != (j < 0)) {
                q -= 1
                r += j
            }
            return .int(op == "//" ? q : r)
        case "**":
            if j < 0 { return .float(pow(Double(i), Double(j))) }
            var result = 1
            for _ in 0..<j {
                let (next, overflow) = result.multipliedReportingOverflow(by: i)
                if overflow { throw .type("integer overflow") }
                result = next
            }
            return .int(result)
        default: throw .type("unknown operator \(op)")
        }
    }

    private static func floatArithmetic(_ op: String, _ x: Double, _ y: Double) throws(JinjaOperationError)
        -> JinjaValue
    {
        switch op {
        case "+": return .float(x + y)
        case "-": return .float(x - y)
        case "*": return .float(x * y)
        case "/":
            if y == 0 { throw .type("float division by zero") }
            return .float(x / y)
        case "//":
            if y == 0 { throw .type("float floor division by zero") }
            return .float((x / y).rounded(.down))
        case "%":
            if y == 0 { throw .type("float modulo") }
            let r = x.truncatingRemainder(dividingBy: y)
            return .float(r != 0 && ((r < 0) != (y < 0)) ? r + y : r)
        case "**": return .float(pow(x, y))
        default: throw .type("unknown operator \(op)")
        }
    }
}
