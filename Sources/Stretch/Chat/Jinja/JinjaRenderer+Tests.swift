/// jinja2's builtin tests (`is defined`, `is string`, …).
extension JinjaRenderer {
    func applyTest(_ name: String, to value: JinjaValue, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> Bool
    {
        let other = args.value(0, "")
        func needOther() throws(JinjaError) -> JinjaValue {
            guard let other else { throw .runtime("test '\(name)' requires an argument", loc) }
            return other
        }
        func order() throws(JinjaError) -> Int {
            let rhs = try needOther()
            do { return try JinjaOperations.compare(value, rhs) } catch { throw positioned(error, loc) }
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none":
            if case .none = value { return true }
            return false
        case "boolean":
            if case .bool = value { return true }
            return false
        case "true":
            if case .bool(true) = value { return true }
            return false
        case "false":
            if case .bool(false) = value { return true }
            return false
        case "string":
            if case .string = value { return true }
            return false
        case "number":
            switch value {
            case .int, .float, .bool: return true
            default: return false
            }
        case "integer":
            if case .int = value { return true }
            return false
        case "float":
            if case .float = value { return true }
            return false
        case "mapping":
            if case .dict = value { return true }
            return false
        case "sequence":
            switch value {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "iterable":
            switch value {
            case .string, .list, .tuple, .dict, .undefined, .namespace: return true
            default: return false
            }
        case "callable":
            if case .callable = value { return true }
            return false
        case "lower":
            let s = JinjaOperations.str(value)
            return s == s.lowercased()
        case "upper":
            let s = JinjaOperations.str(value)
            return s == s.uppercased()
        case "even", "odd", "divisibleby":
            guard case .int(let i) = value else {
                if case .undefined(let hint) = value { throw .runtime(hint, loc) }
                throw .runtime("test '\(name)' requires an integer, not \(value.typeName)", loc)
            }
            if name == "even" { return i % 2 == 0 }
            if name == "odd" { return i % 2 != 0 }
            guard let divisor = try integerArgument(try needOther(), "divisor", at: loc), divisor != 0 else {
                throw .runtime("divisibleby requires a non-zero integer", loc)
            }
            return i % divisor == 0
        case "eq", "equalto", "==": return JinjaOperations.equals(value, try needOther())
        case "ne", "!=": return !JinjaOperations.equals(value, try needOther())
        case "lt", "lessthan", "<": return try order() < 0
        case "le", "<=": return try order() <= 0
        case "gt", "greaterthan", ">": return try order() > 0
        case "ge", ">=": return try order() >= 0
        case "in":
            let container = try needOther()
            do { return try JinjaOperations.contains(container, value) } catch { throw positioned(error, loc) }
        case "sameas":
            let o = try needOther()
            switch (value, o) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "escaped": return false
        default:
            throw .unsupported("unknown test '\(name)'", loc)
        }
    }
}
