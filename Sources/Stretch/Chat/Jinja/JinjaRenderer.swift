import Foundation

/// Executes a parsed template against a context. One instance serves one render call.
final class JinjaRenderer {
    /// The text produced so far.
    var output = ""
    /// Template nodes executed so far, and the current macro nesting (``JinjaLimits``).
    private var steps = 0
    private var callDepth = 0
    /// The innermost loop running (where a step-limit error points).
    private var loopLocation = JinjaSourceLocation(line: 1, column: 1)
    /// The outermost frame: globals plus the caller's context.
    let root: JinjaScope
    /// The moment `strftime_now` reports.
    let now: Date
    /// The time zone `strftime_now` formats in.
    let timeZone: TimeZone

    /// Creates a renderer whose root frame holds the builtin globals and `context`.
    init(context: [String: JinjaValue], now: Date, timeZone: TimeZone) {
        root = JinjaScope(parent: nil)
        self.now = now
        self.timeZone = timeZone
        for name in ["range", "dict", "namespace", "raise_exception", "strftime_now", "cycler", "joiner", "lipsum"] {
            root.set(name, .callable(.builtin(name)))
        }
        for (key, value) in context { root.set(key, value) }
    }

    // MARK: - Statements

    /// Renders `nodes` in `scope`, appending to ``output``.
    func execute(_ nodes: [JinjaNode], in scope: JinjaScope) throws(JinjaError) -> JinjaControlFlow {
        for node in nodes {
            let flow = try execute(node, in: scope)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    private func execute(_ node: JinjaNode, in scope: JinjaScope) throws(JinjaError) -> JinjaControlFlow {
        try step()
        switch node {
        case .text(let text):
            try append(text, at: loopLocation)
        case .output(let expr, let loc):
            try append(JinjaOperations.str(try evaluate(expr, in: scope)), at: loc)
        case .conditional(let branches, let otherwise):
            for (condition, body) in branches where try evaluate(condition, in: scope).isTruthy {
                return try execute(body, in: scope)
            }
            return try execute(otherwise, in: scope)
        case .loop(let loop):
            return try executeLoop(loop, in: scope)
        case .assign(let target, let expr, let loc):
            try assign(target, try evaluate(expr, in: scope), in: scope, at: loc)
        case .assignBlock(let target, let filters, let body, let loc):
            var value = JinjaValue.string(try capture(body, in: scope))
            for filter in filters {
                value = try applyFilter(filter.name, to: value, filter.arguments, in: scope, at: filter.location)
            }
            try assign(target, value, in: scope, at: loc)
        case .macro(let macro):
            scope.set(macro.name, .callable(.macro(JinjaMacroReference(macro: macro, caller: nil))))
        case .callBlock(let caller, let callExpr, let loc):
            guard case .call(let callee, let args, _) = callExpr,
                case .callable(.macro(let ref)) = try evaluate(callee, in: scope)
            else { throw .unsupported("'call' block on something that is not a macro", loc) }
            let withCaller = JinjaMacroReference(macro: ref.macro, caller: caller)
            output += JinjaOperations.str(
                try invokeMacro(withCaller, try evaluateArguments(args, in: scope), at: loc))
        case .filterBlock(let filters, let body):
            var value = JinjaValue.string(try capture(body, in: scope))
            for filter in filters {
                value = try applyFilter(filter.name, to: value, filter.arguments, in: scope, at: filter.location)
            }
            output += JinjaOperations.str(value)
        case .group(let body):
            return try execute(body, in: scope)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Renders `nodes` into a separate buffer and returns the text.
    /// Counts one executed node or loop iteration against the render's step limit.
    private func step() throws(JinjaError) {
        steps += 1
        if steps > JinjaLimits.maxSteps {
            throw .runtime("the template ran more than \(JinjaLimits.maxSteps) steps (an enormous loop?)", loopLocation)
        }
    }

    /// Appends to ``output`` within the render's size limit.
    private func append(_ text: String, at loc: JinjaSourceLocation) throws(JinjaError) {
        if output.utf8.count + text.utf8.count > JinjaLimits.maxStringBytes {
            throw .runtime("the rendering exceeds the \(JinjaLimits.maxStringBytes)-byte limit", loc)
        }
        output += text
    }

    func capture(_ nodes: [JinjaNode], in scope: JinjaScope) throws(JinjaError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        _ = try execute(nodes, in: scope)
        return output
    }

    private func assign(
        _ target: JinjaTarget, _ value: JinjaValue, in scope: JinjaScope, at loc: JinjaSourceLocation
    ) throws(JinjaError) {
        switch target {
        case .name(let name):
            scope.set(name, value)
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let ns) = scope.lookup(name) ?? .undefined("") else {
                throw .runtime("cannot assign attribute on non-namespace object '\(name)'", loc)
            }
            ns.set(attribute, value)
        case .tuple(let targets):
            let items = try iterate(value, at: loc)
            guard items.count == targets.count else {
                throw .runtime("cannot unpack \(items.count) values into \(targets.count) targets", loc)
            }
            for (sub, item) in zip(targets, items) { try assign(sub, item, in: scope, at: loc) }
        }
    }

    private func executeLoop(_ loop: JinjaLoopNode, in scope: JinjaScope) throws(JinjaError) -> JinjaControlFlow {
        let outer = loopLocation
        loopLocation = loop.location
        defer { loopLocation = outer }
        var items = try iterate(try evaluate(loop.iterable, in: scope), at: loop.location)
        if let filter = loop.filter {
            var kept: [JinjaValue] = []
            for item in items {
                let frame = JinjaScope(parent: scope)
                try assign(loop.target, item, in: frame, at: loop.location)
                if try evaluate(filter, in: frame).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try execute(loop.otherwise, in: scope) }
        let count = items.count
        for (index, item) in items.enumerated() {
            let frame = JinjaScope(parent: scope)
            let info: [(String, JinjaValue)] = [
                ("index", .int(index + 1)), ("index0", .int(index)),
                ("revindex", .int(count - index)), ("revindex0", .int(count - index - 1)),
                ("first", .bool(index == 0)), ("last", .bool(index == count - 1)), ("length", .int(count)),
                ("previtem", index > 0 ? items[index - 1] : .undefined("there is no previous item")),
                ("nextitem", index + 1 < count ? items[index + 1] : .undefined("there is no next item")),
                ("depth", .int(1)), ("depth0", .int(0)), ("cycle", .callable(.cycle(index))),
            ]
            frame.set("loop", .object(info))
            try step()
            try assign(loop.target, item, in: frame, at: loop.location)
            if case .breakLoop = try execute(loop.body, in: frame) { break }
        }
        return .normal
    }

    /// Python iteration: lists and tuples yield items, dicts keys, strings characters, undefined nothing.
    func iterate(_ value: JinjaValue, at loc: JinjaSourceLocation) throws(JinjaError) -> [JinjaValue] {
        switch value {
        case .undefined: return []
        case .list(let items), .tuple(let items): return items
        case .dict(let d): return d.keys
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .namespace(let ns): return ns.attributes.keys
        default: throw .runtime("'\(value.typeName)' object is not iterable", loc)
        }
    }

    // MARK: - Expressions

    /// Converts a location-free operation error into a positioned ``JinjaError``.
    func positioned(_ error: JinjaOperationError, _ loc: JinjaSourceLocation) -> JinjaError {
        switch error {
        case .type(let message): return .runtime(message, loc)
        case .undefined(let hint): return .runtime(hint, loc)
        case .unsupported(let message): return .unsupported(message, loc)
        }
    }

    /// Evaluates an expression.
    func evaluate(_ expr: JinjaExpression, in scope: JinjaScope) throws(JinjaError) -> JinjaValue {
        switch expr {
        case .literal(let value):
            return value
        case .name(let name, _):
            return scope.lookup(name) ?? .undefined("'\(name)' is undefined")
        case .list(let items):
            var values: [JinjaValue] = []
            for item in items { values.append(try evaluate(item, in: scope)) }
            return .list(values)
        case .tuple(let items):
            var values: [JinjaValue] = []
            for item in items { values.append(try evaluate(item, in: scope)) }
            return .tuple(values)
        case .dict(let keys, let values):
            var dict = JinjaDict()
            for (key, value) in zip(keys, values) {
                dict[try evaluate(key, in: scope)] = try evaluate(value, in: scope)
            }
            return .dict(dict)
        case .attribute(let objectExpr, let name, let loc):
            return try attribute(of: try evaluate(objectExpr, in: scope), name, at: loc)
        case .item(let objectExpr, let keyExpr, let loc):
            return try subscriptValue(try evaluate(objectExpr, in: scope), try evaluate(keyExpr, in: scope), at: loc)
        case .slice(let objectExpr, let start, let stop, let step, let loc):
            let object = try evaluate(objectExpr, in: scope)
            return try slice(
                object, try start.map { e throws(JinjaError) in try evaluate(e, in: scope) },
                try stop.map { e throws(JinjaError) in try evaluate(e, in: scope) },
                try step.map { e throws(JinjaError) in try evaluate(e, in: scope) }, at: loc)
        case .call(let calleeExpr, let args, let loc):
            let callee = try evaluate(calleeExpr, in: scope)
            return try call(callee, try evaluateArguments(args, in: scope), at: loc)
        case .filter(let valueExpr, let name, let args, let loc):
            return try applyFilter(name, to: try evaluate(valueExpr, in: scope), args, in: scope, at: loc)
        case .test(let valueExpr, let name, let args, let negated, let loc):
            let value = try evaluate(valueExpr, in: scope)
            let result = try applyTest(name, to: value, try evaluateArguments(args, in: scope), at: loc)
            return .bool(result != negated)
        case .unary(let op, let operandExpr, let loc):
            let operand = try evaluate(operandExpr, in: scope)
            switch (op, operand) {
            case ("not", _): return .bool(!operand.isTruthy)
            case ("-", .int(let i)): return .int(-i)
            case ("-", .float(let d)): return .float(-d)
            case ("-", .bool(let b)): return .int(b ? -1 : 0)
            case ("+", .int), ("+", .float): return operand
            case ("+", .bool(let b)): return .int(b ? 1 : 0)
            case (_, .undefined(let hint)): throw .runtime(hint, loc)
            default: throw .runtime("bad operand type for unary \(op): '\(operand.typeName)'", loc)
            }
        case .binary(let op, let leftExpr, let rightExpr, let loc):
            let left = try evaluate(leftExpr, in: scope)
            if op == "and" { return left.isTruthy ? try evaluate(rightExpr, in: scope) : left }
            if op == "or" { return left.isTruthy ? left : try evaluate(rightExpr, in: scope) }
            let right = try evaluate(rightExpr, in: scope)
            do {
                return try JinjaOperations.arithmetic(op, left, right)
            } catch {
                throw positioned(error, loc)
            }
        case .compare(let firstExpr, let ops, let operandExprs, let loc):
            var left = try evaluate(firstExpr, in: scope)
            for (op, operandExpr) in zip(ops, operandExprs) {
                let right = try evaluate(operandExpr, in: scope)
                let holds: Bool
                do {
                    switch op {
                    case "==": holds = JinjaOperations.equals(left, right)
                    case "!=": holds = !JinjaOperations.equals(left, right)
                    case "in": holds = try JinjaOperations.contains(right, left)
                    case "not in": holds = try !JinjaOperations.contains(right, left)
                    case "<": holds = try JinjaOperations.compare(left, right, op: op) < 0
                    case "<=": holds = try JinjaOperations.compare(left, right, op: op) <= 0
                    case ">": holds = try JinjaOperations.compare(left, right, op: op) > 0
                    default: holds = try JinjaOperations.compare(left, right, op: op) >= 0
                    }
                } catch {
                    throw positioned(error, loc)
                }
                if !holds { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, in: scope).isTruthy { return try evaluate(then, in: scope) }
            guard let otherwise else { return .undefined("the inline if-expression evaluated to false") }
            return try evaluate(otherwise, in: scope)
        }
    }

    /// Evaluates call arguments.
    func evaluateArguments(_ args: JinjaArguments, in scope: JinjaScope) throws(JinjaError) -> JinjaCallArguments {
        var result = JinjaCallArguments(positional: [], keywords: [])
        for expr in args.positional { result.positional.append(try evaluate(expr, in: scope)) }
        for (key, expr) in args.keywords { result.keywords.append((key, try evaluate(expr, in: scope))) }
        return result
    }

    // MARK: - Access

    private static let dictMethods: Set<String> = [
        "items", "keys", "values", "get", "copy", "pop", "popitem", "setdefault", "update", "clear",
    ]
    private static let listMethods: Set<String> = [
        "index", "count", "copy", "append", "extend", "pop", "insert", "remove", "sort", "reverse", "clear",
    ]
    static let stringMethods: Set<String> = [
        "startswith", "endswith", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "upper", "lower",
        "title", "capitalize", "replace", "count", "find", "rfind", "index", "rindex", "join", "format",
        "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "swapcase",
        "casefold", "zfill", "center", "ljust", "rjust", "removeprefix", "removesuffix", "partition",
        "rpartition", "expandtabs", "encode",
    ]

    private func typeDescription(_ value: JinjaValue) -> String { "'\(value.typeName) object'" }

    /// jinja2's `getattr`: Python attribute first (methods), then item lookup.
    func attribute(of object: JinjaValue, _ name: String, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaValue
    {
        let missing = JinjaValue.undefined("\(typeDescription(object)) has no attribute '\(name)'")
        switch object {
        case .undefined(let hint):
            throw .runtime("\(hint) (accessing attribute '\(name)')", loc)
        case .dict(let d):
            if JinjaRenderer.dictMethods.contains(name) { return .callable(.method(object, name)) }
            return d[string: name] ?? missing
        case .namespace(let ns):
            return ns.get(name) ?? missing
        case .string:
            return JinjaRenderer.stringMethods.contains(name) ? .callable(.method(object, name)) : missing
        case .list, .tuple:
            return JinjaRenderer.listMethods.contains(name) ? .callable(.method(object, name)) : missing
        default:
            return missing
        }
    }

    /// jinja2's `getitem`: item lookup first, then attribute.
    func subscriptValue(_ object: JinjaValue, _ key: JinjaValue, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaValue
    {
        switch (object, key) {
        case (.undefined(let hint), _):
            throw .runtime("\(hint) (accessing item \(JinjaOperations.repr(key)))", loc)
        case (.dict(let d), _):
            if let value = d[key] { return value }
        case (.list(let items), .int(let i)), (.tuple(let items), .int(let i)):
            let index = i < 0 ? i + items.count : i
            if index >= 0 && index < items.count { return items[index] }
            return .undefined("\(typeDescription(object)) has no element \(i)")
        case (.string(let s), .int(let i)):
            let scalars = Array(s.unicodeScalars)
            let index = i < 0 ? i + scalars.count : i
            if index >= 0 && index < scalars.count { return .string(String(scalars[index])) }
            return .undefined("\(typeDescription(object)) has no element \(i)")
        default:
            break
        }
        if case .string(let name) = key { return try attribute(of: object, name, at: loc) }
        return .undefined("\(typeDescription(object)) has no element \(JinjaOperations.repr(key))")
    }

    private func slice(
        _ object: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?,
        at loc: JinjaSourceLocation
    ) throws(JinjaError) -> JinjaValue {
        func bound(_ value: JinjaValue?) throws(JinjaError) -> Int? {
            switch value {
            case nil, .none?: return nil
            case .int(let i)?: return i
            case .bool(let b)?: return b ? 1 : 0
            case .undefined(let hint)?: throw .runtime(hint, loc)
            default: throw .runtime("slice indices must be integers or None", loc)
            }
        }
        let stepValue = try bound(step) ?? 1
        if stepValue == 0 { throw .runtime("slice step cannot be zero", loc) }
        func indices(_ count: Int) throws(JinjaError) -> [Int] {
            func clamp(_ v: Int?, _ defaultValue: Int) -> Int {
                guard var v else { return defaultValue }
                if v < 0 { v += count }
                if stepValue > 0 { return min(max(v, 0), count) }
                return min(max(v, -1), count - 1)
            }
            let first = try clamp(bound(start), stepValue > 0 ? 0 : count - 1)
            let last = try clamp(bound(stop), stepValue > 0 ? count : -1)
            return Array(stride(from: first, to: last, by: stepValue))
        }
        switch object {
        case .list(let items): return .list(try indices(items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(items.count).map { items[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .undefined(let hint): throw .runtime(hint, loc)
        default: throw .runtime("'\(object.typeName)' object is not subscriptable", loc)
        }
    }

    // MARK: - Calls

    /// Calls a callable value.
    func call(_ callee: JinjaValue, _ args: JinjaCallArguments, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaValue
    {
        switch callee {
        case .callable(.builtin(let name)):
            return try callGlobal(name, args, at: loc)
        case .callable(.method(let receiver, let name)):
            return try callMethod(receiver, name, args, at: loc)
        case .callable(.macro(let ref)):
            return try invokeMacro(ref, args, at: loc)
        case .callable(.cycle(let index)):
            guard !args.positional.isEmpty else { throw .runtime("no items for cycling given", loc) }
            return args.positional[index % args.positional.count]
        case .undefined(let hint):
            throw .runtime(hint, loc)
        default:
            throw .runtime("'\(callee.typeName)' object is not callable", loc)
        }
    }

    /// Runs a macro body in a fresh frame and returns its output.
    func invokeMacro(_ ref: JinjaMacroReference, _ args: JinjaCallArguments, at loc: JinjaSourceLocation)
        throws(JinjaError) -> JinjaValue
    {
        let macro = ref.macro
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > JinjaLimits.maxCallDepth {
            throw .runtime("macro '\(macro.name)' nests deeper than \(JinjaLimits.maxCallDepth) calls (endless recursion?)", loc)
        }
        if args.positional.count > macro.parameters.count {
            throw .runtime("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)", loc)
        }
        let frame = JinjaScope(parent: root)
        for (key, _) in args.keywords where !macro.parameters.contains(key) {
            throw .runtime("macro '\(macro.name)' takes no keyword argument '\(key)'", loc)
        }
        for (index, parameter) in macro.parameters.enumerated() {
            if let value = args.value(index, parameter) {
                frame.set(parameter, value)
            } else if let defaultExpr = macro.defaults[index] {
                frame.set(parameter, try evaluate(defaultExpr, in: frame))
            } else {
                frame.set(parameter, .undefined("parameter '\(parameter)' was not provided"))
            }
        }
        if let caller = ref.caller {
            frame.set("caller", .callable(.macro(JinjaMacroReference(macro: caller, caller: nil))))
        }
        return .string(try capture(macro.body, in: frame))
    }
}
