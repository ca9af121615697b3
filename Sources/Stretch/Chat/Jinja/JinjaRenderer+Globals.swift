/// Global functions and Python methods on strings, dicts and lists.
extension JinjaRenderer {
    func integerArgument(_ value: JinjaValue?, _ what: String, at loc: JinjaSourceLocation) throws(JinjaError)
        -> Int?
    {
        switch value {
        case nil, .none?: return nil
        case .int(let i)?: return i
        case .bool(let b)?: return b ? 1 : 0
        default: throw .runtime("\(what) must be an integer, not \(value!.typeName)", loc)
        }
    }

    func stringArgument(_ value: JinjaValue?, _ what: String, at loc: JinjaSourceLocation) throws(JinjaError)
        -> String?
    {
        switch value {
        case nil, .none?: return nil
        case .string(let s)?: return s
        default: throw .runtime("\(what) must be a string, not \(value!.typeName)", loc)
        }
    }

    func callGlobal(_ name: String, _ args: JinjaCallArguments, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaValue
    {
        switch name {
        case "range":
            var bounds: [Int] = []
            for value in args.positional {
                guard let i = try integerArgument(value, "range() argument", at: loc) else {
                    throw .runtime("range() arguments must be integers", loc)
                }
                bounds.append(i)
            }
            let (start, stop, step): (Int, Int, Int)
            switch bounds.count {
            case 1: (start, stop, step) = (0, bounds[0], 1)
            case 2: (start, stop, step) = (bounds[0], bounds[1], 1)
            case 3: (start, stop, step) = (bounds[0], bounds[1], bounds[2])
            default: throw .runtime("range expected 1 to 3 arguments, got \(bounds.count)", loc)
            }
            if step == 0 { throw .runtime("range() arg 3 must not be zero", loc) }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            if count > 100_000 { throw .runtime("range too big (the sandbox limits ranges to 100000 items)", loc) }
            return .list(Array(stride(from: start, to: stop, by: step)).map { .int($0) })
        case "dict", "namespace":
            var dict = JinjaDict()
            for value in args.positional {
                guard case .dict(let d) = value else {
                    throw .runtime("\(name)() positional argument must be a dict", loc)
                }
                for (k, v) in d.pairs { dict[k] = v }
            }
            for (key, value) in args.keywords { dict[.string(key)] = value }
            return name == "dict" ? .dict(dict) : .namespace(JinjaNamespace(dict))
        case "raise_exception":
            throw .raised(JinjaOperations.str(args.positional.first ?? .string("")), loc)
        case "strftime_now":
            guard case .string(let format)? = args.positional.first else {
                throw .runtime("strftime_now() requires a format string", loc)
            }
            return .string(JinjaStrftime.format(format, date: now, timeZone: timeZone))
        default:
            throw .unsupported("unsupported global function '\(name)'", loc)
        }
    }

    func callMethod(_ receiver: JinjaValue, _ name: String, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        let first = args.positional.first
        switch receiver {
        case .string(let s):
            return try callStringMethod(s, name, args, at: loc)
        case .dict(let d):
            switch name {
            case "items": return .list(d.pairs.map { .tuple([$0.0, $0.1]) })
            case "keys": return .list(d.keys)
            case "values": return .list(d.values)
            case "get":
                guard let key = first else { throw .runtime("get expected at least 1 argument", loc) }
                return d[key] ?? args.value(1, "default") ?? .none
            case "copy": return receiver
            default: break
            }
        case .list(let items), .tuple(let items):
            switch name {
            case "count":
                guard let item = first else { throw .runtime("count() takes exactly one argument", loc) }
                return .int(items.filter { JinjaOperations.equals($0, item) }.count)
            case "index":
                guard let item = first, let i = items.firstIndex(where: { JinjaOperations.equals($0, item) }) else {
                    throw .runtime("value is not in list", loc)
                }
                return .int(i)
            case "copy": return receiver
            default: break
            }
        default: break
        }
        throw .unsupported(
            "method '\(name)' of \(receiver.typeName) is not supported (the immutable sandbox forbids mutation)", loc)
    }

    private func callStringMethod(_ s: String, _ name: String, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        let first = args.positional.first
        func requiredString(_ index: Int, _ key: String) throws(JinjaError) -> String {
            guard let value = try stringArgument(args.value(index, key), "\(name)() argument", at: loc) else {
                throw .runtime("\(name)() missing required argument '\(key)'", loc)
            }
            return value
        }
        switch name {
        case "startswith", "endswith":
            var candidates: [String] = []
            switch first {
            case .string(let p)?: candidates = [p]
            case .tuple(let items)?, .list(let items)?:
                for item in items {
                    guard case .string(let p) = item else { throw .runtime("\(name) arguments must be str", loc) }
                    candidates.append(p)
                }
            default: throw .runtime("\(name) first arg must be str or a tuple of str", loc)
            }
            let scalars = Array(s.unicodeScalars)
            return .bool(candidates.contains { p in
                let ps = Array(p.unicodeScalars)
                guard ps.count <= scalars.count else { return false }
                let edge = name == "startswith" ? Array(scalars.prefix(ps.count)) : Array(scalars.suffix(ps.count))
                return edge == ps
            })
        case "strip", "lstrip", "rstrip":
            let chars = try stringArgument(first, "\(name) arg", at: loc)
            return .string(JinjaStrings.strip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let separator = try stringArgument(args.value(0, "sep"), "separator", at: loc)
            if separator == "" { throw .runtime("empty separator", loc) }
            let maxSplit = try integerArgument(args.value(1, "maxsplit"), "maxsplit", at: loc) ?? -1
            if name == "rsplit" && maxSplit >= 0 {
                let reversedParts = JinjaStrings.split(
                    String(s.reversed()), separator.map { String($0.reversed()) }, maxSplit: maxSplit)
                return .list(reversedParts.reversed().map { .string(String($0.reversed())) })
            }
            return .list(JinjaStrings.split(s, separator, maxSplit: maxSplit).map { .string($0) })
        case "splitlines": return .list(JinjaStrings.splitLines(s).map { .string($0) })
        case "upper": return .string(s.uppercased())
        case "lower", "casefold": return .string(s.lowercased())
        case "title": return .string(JinjaStrings.pythonTitle(s))
        case "capitalize": return .string(JinjaStrings.capitalize(s))
        case "swapcase":
            return .string(s.unicodeScalars.map { c in
                let t = String(c)
                return c.properties.isUppercase ? t.lowercased() : t.uppercased()
            }.joined())
        case "replace":
            let count = try integerArgument(args.value(2, "count"), "count", at: loc) ?? -1
            return .string(JinjaStrings.replace(s, try requiredString(0, "old"), try requiredString(1, "new"),
                count: count))
        case "count": return .int(JinjaStrings.count(s, try requiredString(0, "sub")))
        case "find", "index": 
            let index = JinjaStrings.find(s, try requiredString(0, "sub"))
            if index < 0 && name == "index" { throw .runtime("substring not found", loc) }
            return .int(index)
        case "rfind", "rindex":
            let index = JinjaStrings.find(s, try requiredString(0, "sub"), reverse: true)
            if index < 0 && name == "rindex" { throw .runtime("substring not found", loc) }
            return .int(index)
        case "join":
            var parts: [String] = []
            for item in try iterate(first ?? .list([]), at: loc) {
                guard case .string(let part) = item else {
                    throw .runtime("sequence item: expected str instance, \(item.typeName) found", loc)
                }
                parts.append(part)
            }
            return .string(parts.joined(separator: s))
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic || $0.properties.numericType != nil
            })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(JinjaStrings.isSpace))
        case "isupper", "islower":
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            let wantUpper = name == "isupper"
            return .bool(!cased.isEmpty && cased.allSatisfy {
                wantUpper ? !$0.properties.isLowercase : !$0.properties.isUppercase
            })
        case "center":
            let width = try integerArgument(first, "width", at: loc) ?? 0
            return .string(JinjaStrings.center(s, width, fill: try stringArgument(args.value(1, "fillchar"), "fill",
                at: loc) ?? " "))
        case "ljust", "rjust", "zfill":
            let width = try integerArgument(first, "width", at: loc) ?? 0
            let pad = max(0, width - s.unicodeScalars.count)
            if name == "zfill" {
                let signed = s.hasPrefix("-") || s.hasPrefix("+")
                return .string((signed ? String(s.prefix(1)) : "") + String(repeating: "0", count: pad)
                    + (signed ? String(s.dropFirst()) : s))
            }
            let fill = try stringArgument(args.value(1, "fillchar"), "fill", at: loc) ?? " "
            let padding = String(repeating: fill, count: pad)
            return .string(name == "ljust" ? s + padding : padding + s)
        case "format":
            return .string(try formatString(s, args, at: loc))
        case "removeprefix":
            let p = try requiredString(0, "prefix")
            return .string(s.hasPrefix(p) && !p.isEmpty ? String(s.unicodeScalars.dropFirst(p.unicodeScalars.count)
                .map(String.init).joined()) : s)
        case "removesuffix":
            let p = try requiredString(0, "suffix")
            return .string(s.hasSuffix(p) && !p.isEmpty ? String(s.unicodeScalars.dropLast(p.unicodeScalars.count)
                .map(String.init).joined()) : s)
        default:
            throw .unsupported("unsupported string method '\(name)'", loc)
        }
    }

    /// Python `str.format`: `{}`, `{0}`, `{name}`, `{{`/`}}` and the `!s`/`!r` conversions (no format specs).
    private func formatString(_ s: String, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> String
    {
        var out = ""
        var auto = 0
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "}" {
                guard i + 1 < chars.count, chars[i + 1] == "}" else {
                    throw .runtime("Single '}' encountered in format string", loc)
                }
                out += "}"
                i += 2
                continue
            }
            guard c == "{" else { out.append(c); i += 1; continue }
            if i + 1 < chars.count, chars[i + 1] == "{" { out += "{"; i += 2; continue }
            guard let close = chars[i...].firstIndex(of: "}") else {
                throw .runtime("Single '{' encountered in format string", loc)
            }
            var field = String(chars[(i + 1)..<close])
            i = close + 1
            if field.contains(":") { throw .unsupported("format spec in str.format field '{\(field)}'", loc) }
            var conversion: Character = "s"
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first ?? "s"
                field = String(field[..<bang])
            }
            let value: JinjaValue
            if field.isEmpty || field.allSatisfy({ $0.isASCII && $0.isNumber }) {
                let index = field.isEmpty ? auto : Int(field)!
                if field.isEmpty { auto += 1 }
                guard index < args.positional.count else {
                    throw .runtime("Replacement index \(index) out of range for positional args tuple", loc)
                }
                value = args.positional[index]
            } else {
                guard let found = args.keywords.first(where: { $0.0 == field })?.1 else {
                    throw .runtime("KeyError: '\(field)'", loc)
                }
                value = found
            }
            out += conversion == "r" ? JinjaOperations.repr(value) : JinjaOperations.str(value)
        }
        return out
    }
}
