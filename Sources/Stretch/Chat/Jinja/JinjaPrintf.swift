import Foundation

/// Python's printf-style `str % args` (`%s`, `%r`, `%d`/`%i`, `%f`/`%F`, `%e`, `%x`/`%X`, `%o`, `%c`, `%%`,
/// `%(key)s` with a mapping; flags `-`, `0`, `+`, space; width and precision).
enum JinjaPrintf {
    /// Formats `template` with `argument` (a tuple spreads over the conversions; a dict serves `%(key)s`).
    static func format(_ template: String, _ argument: JinjaValue) throws(JinjaOperationError) -> JinjaValue {
        var positional: [JinjaValue]
        var mapping: JinjaDict?
        switch argument {
        case .tuple(let items): positional = items
        case .dict(let d): positional = [argument]; mapping = d
        default: positional = [argument]
        }
        var next = 0
        var out = ""
        let chars = Array(template)
        var i = 0
        func take() throws(JinjaOperationError) -> JinjaValue {
            guard next < positional.count else { throw .type("not enough arguments for format string") }
            next += 1
            return positional[next - 1]
        }
        while i < chars.count {
            let c = chars[i]
            i += 1
            guard c == "%" else { out.append(c); continue }
            guard i < chars.count else { throw .type("incomplete format") }
            var value: JinjaValue?
            if chars[i] == "(" {
                guard let close = chars[i...].firstIndex(of: ")") else { throw .type("incomplete format key") }
                let key = String(chars[(i + 1)..<close])
                guard let mapping else { throw .type("format requires a mapping") }
                guard let found = mapping[string: key] else { throw .type("KeyError: '\(key)'") }
                value = found
                i = close + 1
            }
            var flags = Set<Character>()
            while i < chars.count, "-0+ #".contains(chars[i]) { flags.insert(chars[i]); i += 1 }
            var width = 0
            while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII { width = width * 10 + d; i += 1 }
            var precision: Int?
            if i < chars.count, chars[i] == "." {
                i += 1
                var p = 0
                while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII { p = p * 10 + d; i += 1 }
                precision = p
            }
            guard i < chars.count else { throw .type("incomplete format") }
            let conversion = chars[i]
            i += 1
            if conversion == "%" { out += "%"; continue }
            let arg: JinjaValue
            if let value { arg = value } else { arg = try take() }
            var body: String
            var numeric = false
            switch conversion {
            case "s": body = JinjaOperations.str(arg)
            case "r", "a": body = JinjaOperations.repr(arg)
            case "d", "i", "u", "x", "X", "o":
                numeric = true
                let n: Int
                switch arg {
                case .int(let v): n = v
                case .bool(let b): n = b ? 1 : 0
                case .float(let d) where conversion != "x" && conversion != "X" && conversion != "o" && d.isFinite:
                    n = Int(d.rounded(.towardZero))
                default: throw .type("%\(conversion) format: a real number is required, not \(arg.typeName)")
                }
                let radix = conversion == "x" || conversion == "X" ? 16 : conversion == "o" ? 8 : 10
                body = String(n.magnitude, radix: radix, uppercase: conversion == "X")
                if n < 0 { body = "-" + body } else if flags.contains("+") { body = "+" + body }
                else if flags.contains(" ") { body = " " + body }
            case "f", "F", "e", "E", "g", "G":
                numeric = true
                let d: Double
                switch arg {
                case .int(let v): d = Double(v)
                case .float(let v): d = v
                case .bool(let b): d = b ? 1 : 0
                default: throw .type("must be real number, not \(arg.typeName)")
                }
                body = String(format: "%\(flags.contains("+") ? "+" : "").*\(conversion)", precision ?? 6, d)
            case "c":
                if case .int(let v) = arg, let scalar = Unicode.Scalar(v) { body = String(Character(scalar)) }
                else if case .string(let s) = arg, s.count == 1 { body = s }
                else { throw .type("%c requires int or char") }
            default:
                throw .type("unsupported format character '\(conversion)'")
            }
            if !numeric, let precision { body = String(body.prefix(precision)) }
            let pad = width - body.count
            if pad > 0 {
                if flags.contains("-") {
                    body += String(repeating: " ", count: pad)
                } else if numeric && flags.contains("0") {
                    let signed = body.first == "-" || body.first == "+" || body.first == " "
                    let sign = signed ? String(body.removeFirst()) : ""
                    body = sign + String(repeating: "0", count: pad) + body
                } else {
                    body = String(repeating: " ", count: pad) + body
                }
            }
            out += body
        }
        if mapping == nil && next < positional.count {
            throw .type("not all arguments converted during string formatting")
        }
        return .string(out)
    }
}
