import Foundation

/// jinja2's builtin filters plus Hugging Face's `tojson`.
extension JinjaRenderer {
    func applyFilter(
        _ name: String, to value: JinjaValue, _ argExprs: JinjaArguments, in scope: JinjaScope,
        at loc: JinjaSourceLocation
    ) throws(JinjaError) -> JinjaValue {
        let args = try evaluateArguments(argExprs, in: scope)
        return try filter(name, value, args, at: loc)
    }

    private func requireDefined(_ value: JinjaValue, at loc: JinjaSourceLocation) throws(JinjaError) {
        if case .undefined(let hint) = value { throw .runtime(hint, loc) }
    }

    /// Looks up `attribute` (dotted path, integer parts allowed) on `value`, as jinja2's `make_attrgetter`.
    func attributePath(_ value: JinjaValue, _ path: JinjaValue, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaValue
    {
        if case .int = path { return try subscriptValue(value, path, at: loc) }
        var current = value
        for part in JinjaOperations.str(path).split(separator: ".", omittingEmptySubsequences: false) {
            let key: JinjaValue = Int(part).map { .int($0) } ?? .string(String(part))
            current = try subscriptValue(current, key, at: loc)
        }
        return current
    }

    private func sortKey(_ value: JinjaValue, caseSensitive: Bool) -> JinjaValue {
        if !caseSensitive, case .string(let s) = value { return .string(s.lowercased()) }
        return value
    }

    private func sorted(_ items: [JinjaValue], keys: [JinjaValue], reverse: Bool, at loc: JinjaSourceLocation)
        throws(JinjaError) -> [JinjaValue]
    {
        var order = Array(items.indices)
        var failure: JinjaOperationError?
        // Insertion sort keeps equal elements in place (Python's sort is stable) and lets comparison throw.
        for i in 1..<max(order.count, 1) {
            var j = i
            while j > 0 {
                do {
                    var result = try JinjaOperations.compare(keys[order[j]], keys[order[j - 1]])
                    if reverse { result = -result }
                    if result >= 0 { break }
                } catch {
                    failure = error
                    break
                }
                order.swapAt(j, j - 1)
                j -= 1
            }
        }
        if let failure { throw positioned(failure, loc) }
        return order.map { items[$0] }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func filter(_ name: String, _ value: JinjaValue, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        let first = args.value(0, "")
        switch name {
        case "safe": return value
        case "e", "escape", "forceescape":
            return .string(JinjaStrings.htmlEscape(JinjaOperations.str(value)))
        case "default", "d":
            let fallback = args.value(0, "default_value") ?? .string("")
            let boolean = args.value(1, "boolean")?.isTruthy ?? false
            if value.isUndefined || (boolean && !value.isTruthy) { return fallback }
            return value
        case "trim":
            let chars = try stringArgument(args.value(0, "chars"), "trim chars", at: loc)
            return .string(JinjaStrings.strip(JinjaOperations.str(value), chars))
        case "upper": return .string(JinjaOperations.str(value).uppercased())
        case "lower": return .string(JinjaOperations.str(value).lowercased())
        case "title": return .string(JinjaStrings.jinjaTitle(JinjaOperations.str(value)))
        case "capitalize": return .string(JinjaStrings.capitalize(JinjaOperations.str(value)))
        case "string": return .string(JinjaOperations.str(value))
        case "wordcount": return .int(JinjaStrings.wordCount(JinjaOperations.str(value)))
        case "center":
            let width = try integerArgument(args.value(0, "width"), "width", at: loc) ?? 80
            return .string(JinjaStrings.center(JinjaOperations.str(value), width))
        case "replace":
            guard let old = args.value(0, "old"), let new = args.value(1, "new") else {
                throw .runtime("replace filter needs 'old' and 'new'", loc)
            }
            let count = try integerArgument(args.value(2, "count"), "count", at: loc) ?? -1
            return .string(JinjaStrings.replace(JinjaOperations.str(value), JinjaOperations.str(old),
                JinjaOperations.str(new), count: count))
        case "indent":
            return try indent(value, args, at: loc)
        case "length", "count":
            switch value {
            case .undefined: return .int(0)
            case .string(let s): return .int(JinjaStrings.length(s))
            case .list(let items), .tuple(let items): return .int(items.count)
            case .dict(let d): return .int(d.count)
            default: throw .runtime("object of type '\(value.typeName)' has no len()", loc)
            }
        case "list": return .list(try iterate(value, at: loc))
        case "first":
            return try iterate(value, at: loc).first ?? .undefined("no first item, sequence was empty")
        case "last":
            try requireDefined(value, at: loc)
            return try iterate(value, at: loc).last ?? .undefined("no last item, sequence was empty")
        case "reverse":
            if case .string(let s) = value {
                return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            }
            return .list(try iterate(value, at: loc).reversed())
        case "join":
            var items = try iterate(value, at: loc)
            if let attribute = args.value(1, "attribute") {
                var mapped: [JinjaValue] = []
                for item in items { mapped.append(try attributePath(item, attribute, at: loc)) }
                items = mapped
            }
            let separator = JinjaOperations.str(args.value(0, "d") ?? .string(""))
            return .string(items.map(JinjaOperations.str).joined(separator: separator))
        case "items":
            switch value {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.pairs.map { .tuple([$0.0, $0.1]) })
            default: throw .runtime("can only get item pairs from a mapping", loc)
            }
        case "dictsort":
            guard case .dict(let d) = value else { throw .runtime("dictsort requires a mapping", loc) }
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            let byValue = JinjaOperations.str(args.value(1, "by") ?? .string("key")) == "value"
            let reverse = args.value(2, "reverse")?.isTruthy ?? false
            let pairs = d.pairs.map { JinjaValue.tuple([$0.0, $0.1]) }
            let keys = d.pairs.map { sortKey(byValue ? $0.1 : $0.0, caseSensitive: caseSensitive) }
            return .list(try sorted(pairs, keys: keys, reverse: reverse, at: loc))
        case "tojson":
            return try toJSON(value, args, at: loc)
        case "int":
            let fallback = args.value(0, "default") ?? .int(0)
            switch value {
            case .int: return value
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d)) : fallback
            case .string(let s):
                let text = JinjaStrings.strip(s, nil).replacingOccurrences(of: "_", with: "")
                let base = try integerArgument(args.value(1, "base"), "base", at: loc) ?? 10
                if let i = Int(text, radix: base) { return .int(i) }
                if base == 10, let d = Double(text), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = args.value(0, "default") ?? .float(0)
            switch value {
            case .float: return value
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s): return Double(JinjaStrings.strip(s, nil)).map { .float($0) } ?? fallback
            default: return fallback
            }
        case "abs":
            switch value {
            case .int(let i): return .int(abs(i))
            case .float(let d): return .float(abs(d))
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw .runtime("bad operand type for abs(): '\(value.typeName)'", loc)
            }
        case "round":
            return try round(value, args, at: loc)
        case "sum":
            var total = args.value(1, "start") ?? .int(0)
            for item in try iterate(value, at: loc) {
                let term = try args.value(0, "attribute").map { a throws(JinjaError) in
                    try attributePath(item, a, at: loc)
                } ?? item
                do { total = try JinjaOperations.arithmetic("+", total, term) } catch { throw positioned(error, loc) }
            }
            return total
        case "min", "max":
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            var items = try iterate(value, at: loc)
            if let attribute = args.value(1, "attribute") {
                var mapped: [JinjaValue] = []
                for item in items { mapped.append(try attributePath(item, attribute, at: loc)) }
                items = mapped
            }
            let ordered = try sorted(items, keys: items.map { sortKey($0, caseSensitive: caseSensitive) },
                reverse: false, at: loc)
            return (name == "min" ? ordered.first : ordered.last) ?? .undefined("no \(name) item, sequence was empty")
        case "sort":
            let reverse = args.value(0, "reverse")?.isTruthy ?? false
            let caseSensitive = args.value(1, "case_sensitive")?.isTruthy ?? false
            let items = try iterate(value, at: loc)
            var keys: [JinjaValue] = []
            for item in items {
                let key = try args.value(2, "attribute").map { a throws(JinjaError) in
                    try attributePath(item, a, at: loc)
                } ?? item
                keys.append(sortKey(key, caseSensitive: caseSensitive))
            }
            return .list(try sorted(items, keys: keys, reverse: reverse, at: loc))
        case "unique":
            let caseSensitive = args.value(0, "case_sensitive")?.isTruthy ?? false
            var seen: [JinjaValue] = []
            var out: [JinjaValue] = []
            for item in try iterate(value, at: loc) {
                let key = sortKey(try args.value(1, "attribute").map { a throws(JinjaError) in
                    try attributePath(item, a, at: loc)
                } ?? item, caseSensitive: caseSensitive)
                if !seen.contains(where: { JinjaOperations.equals($0, key) }) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .list(out)
        case "map":
            var out: [JinjaValue] = []
            let items = try iterate(value, at: loc)
            if let attribute = args.keywords.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = args.keywords.first { $0.0 == "default" }?.1
                for item in items {
                    let mapped = try attributePath(item, attribute, at: loc)
                    out.append(mapped.isUndefined ? (fallback ?? mapped) : mapped)
                }
                return .list(out)
            }
            guard case .string(let filterName)? = first else { throw .runtime("map requires a filter name", loc) }
            let rest = JinjaCallArguments(positional: Array(args.positional.dropFirst()), keywords: args.keywords)
            for item in items { out.append(try filter(filterName, item, rest, at: loc)) }
            return .list(out)
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var rest = args.positional
            var attribute: JinjaValue?
            if byAttribute {
                guard !rest.isEmpty else { throw .runtime("\(name) requires an attribute name", loc) }
                attribute = rest.removeFirst()
            }
            let testName: String? = rest.isEmpty ? nil : JinjaOperations.str(rest.removeFirst())
            let testArgs = JinjaCallArguments(positional: rest, keywords: args.keywords)
            var out: [JinjaValue] = []
            for item in try iterate(value, at: loc) {
                let subject = try attribute.map { a throws(JinjaError) in try attributePath(item, a, at: loc) } ?? item
                let passed = try testName.map { t throws(JinjaError) in
                    try applyTest(t, to: subject, testArgs, at: loc)
                } ?? subject.isTruthy
                if passed == keep { out.append(item) }
            }
            return .list(out)
        case "batch":
            guard let size = try integerArgument(args.value(0, "linecount"), "linecount", at: loc), size > 0 else {
                throw .runtime("batch requires a positive size", loc)
            }
            let fill = args.value(1, "fill_with")
            var out: [JinjaValue] = []
            var current: [JinjaValue] = []
            for item in try iterate(value, at: loc) {
                current.append(item)
                if current.count == size {
                    out.append(.list(current))
                    current = []
                }
            }
            if !current.isEmpty {
                if let fill, !fill.isUndefined, case .none = fill {} else if let fill {
                    current += Array(repeating: fill, count: size - current.count)
                }
                out.append(.list(current))
            }
            return .list(out)
        case "attr":
            guard case .string(let attributeName)? = first else { throw .runtime("attr requires a name", loc) }
            return try attribute(of: value, attributeName, at: loc)
        case "pprint":
            return .string(JinjaOperations.repr(value))
        default:
            throw .unsupported("unknown filter '\(name)'", loc)
        }
    }

    private func toJSON(_ value: JinjaValue, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        // Hugging Face's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
        let ensureASCII = args.value(0, "ensure_ascii")?.isTruthy ?? false
        var indentText: String?
        switch args.value(1, "indent") {
        case nil, .none?: indentText = nil
        case .int(let n)?: indentText = String(repeating: " ", count: max(0, n))
        case .string(let s)?: indentText = s
        default: throw .runtime("tojson indent must be an int or a string", loc)
        }
        var separators: (String, String)?
        if let seps = args.value(2, "separators"), !(seps.isUndefined) {
            if case .none = seps {} else {
                let parts = try iterate(seps, at: loc).map(JinjaOperations.str)
                guard parts.count == 2 else { throw .runtime("tojson separators must be a pair", loc) }
                separators = (parts[0], parts[1])
            }
        }
        let sortKeys = args.value(3, "sort_keys")?.isTruthy ?? false
        do {
            return .string(try JinjaJSON.dumps(value, indent: indentText, ensureASCII: ensureASCII,
                separators: separators, sortKeys: sortKeys))
        } catch {
            throw positioned(error, loc)
        }
    }

    private func indent(_ value: JinjaValue, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        let indentation: String
        switch args.value(0, "width") {
        case .string(let s)?: indentation = s
        case let other?: indentation = String(repeating: " ", count: try integerArgument(other, "width", at: loc) ?? 4)
        case nil: indentation = "    "
        }
        let indentFirst = args.value(1, "first")?.isTruthy ?? false
        let blank = args.value(2, "blank")?.isTruthy ?? false
        let lines = JinjaStrings.splitLines(JinjaOperations.str(value) + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                result += "\n" + rest.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        if indentFirst { result = indentation + result }
        return .string(result)
    }

    private func round(_ value: JinjaValue, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        let precision = try integerArgument(args.value(0, "precision"), "precision", at: loc) ?? 0
        let method = JinjaOperations.str(args.value(1, "method") ?? .string("common"))
        let number: Double
        switch value {
        case .int(let i):
            if method == "common" { return .int(i) }
            number = Double(i)
        case .bool(let b): number = b ? 1 : 0
        case .float(let d): number = d
        default: throw .runtime("round filter requires a number, not \(value.typeName)", loc)
        }
        var scale = 1.0
        for _ in 0..<abs(precision) { scale *= 10 }
        let scaled = precision >= 0 ? number * scale : number / scale
        let rule: FloatingPointRoundingRule
        switch method {
        case "common": rule = .toNearestOrEven
        case "ceil": rule = .up
        case "floor": rule = .down
        default: throw .runtime("method must be 'common', 'ceil' or 'floor'", loc)
        }
        let rounded = scaled.rounded(rule)
        return .float(precision >= 0 ? rounded / scale : rounded * scale)
    }
}
