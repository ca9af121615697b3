/// Builds the statement tree from tokens, following jinja2's grammar and operator precedence.
struct JinjaParser {
    private let tokens: [JinjaToken]
    private var index = 0

    /// Parses a full template.
    static func parse(_ source: String) throws(JinjaError) -> [JinjaNode] {
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
        let (nodes, end) = try parser.parseBody(until: [])
        if let end { throw .syntax("unexpected '\(end.0)'", end.1) }
        return nodes
    }

    private init(tokens: [JinjaToken]) {
        self.tokens = tokens
    }

    // MARK: - Token helpers

    private var current: JinjaToken { tokens[index] }
    private var location: JinjaSourceLocation { current.location }

    private func peek(_ offset: Int = 1) -> JinjaToken {
        tokens[min(index + offset, tokens.count - 1)]
    }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func isOp(_ op: String) -> Bool { current.kind == .op(op) }
    private func isName(_ name: String) -> Bool { current.kind == .name(name) }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    private func describe(_ token: JinjaToken) -> String {
        switch token.kind {
        case .text: return "template data"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string: return "string"
        case .integer, .float: return "number"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    private mutating func expectOp(_ op: String) throws(JinjaError) {
        guard skipOp(op) else { throw .syntax("expected '\(op)', got \(describe(current))", location) }
    }

    private mutating func expectName() throws(JinjaError) -> String {
        guard case .name(let name) = current.kind else {
            throw .syntax("expected a name, got \(describe(current))", location)
        }
        advance()
        return name
    }

    private mutating func expectBlockEnd() throws(JinjaError) {
        guard current.kind == .blockEnd else {
            throw .syntax("expected end of block '%}', got \(describe(current))", location)
        }
        advance()
    }

    // MARK: - Statements

    /// Parses nodes until a block tag whose keyword is in `endNames`; returns that keyword (consumed,
    /// with the tag's remaining tokens left for the caller) or nil at end of input.
    private mutating func parseBody(
        until endNames: Set<String>
    ) throws(JinjaError) -> ([JinjaNode], (String, JinjaSourceLocation)?) {
        var nodes: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case .eof:
                if !endNames.isEmpty {
                    let expected = endNames.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw .syntax("unexpected end of template, expected \(expected)", token.location)
                }
                return (nodes, nil)
            case .text(let text):
                nodes.append(.text(text))
                advance()
            case .variableBegin:
                advance()
                let expr = try parseTuple()
                guard current.kind == .variableEnd else {
                    throw .syntax("expected end of print statement '}}', got \(describe(current))", location)
                }
                advance()
                nodes.append(.output(expr, token.location))
            case .blockBegin:
                advance()
                let keywordLocation = location
                let keyword = try expectName()
                if endNames.contains(keyword) { return (nodes, (keyword, keywordLocation)) }
                nodes.append(try parseStatement(keyword, at: keywordLocation))
            default:
                throw .syntax("unexpected \(describe(token))", token.location)
            }
        }
    }

    private mutating func parseStatement(_ keyword: String, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaNode
    {
        switch keyword {
        case "if": return try parseIf()
        case "for": return try parseFor(at: loc)
        case "set": return try parseSet(at: loc)
        case "macro": return try parseMacro(at: loc)
        case "call": return try parseCallBlock(at: loc)
        case "filter":
            let filters = try parseFilterChain()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(filters, body)
        case "generation":
            // Hugging Face's AssistantTracker extension: the body renders normally.
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return .group(body)
        case "break", "continue":
            try expectBlockEnd()
            return keyword == "break" ? .breakLoop : .continueLoop
        case "endif", "endfor", "endset", "endmacro", "endcall", "endfilter", "endgeneration", "else", "elif":
            throw .syntax("unexpected '\(keyword)'", loc)
        default:
            throw .unsupported("unknown tag '\(keyword)'", loc)
        }
    }

    private mutating func parseIf() throws(JinjaError) -> JinjaNode {
        var branches: [(JinjaExpression, [JinjaNode])] = []
        var condition = try parseTuple()
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end?.0 {
            case "elif":
                condition = try parseTuple()
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return .conditional(branches, otherwise)
            default:
                try expectBlockEnd()
                return .conditional(branches, [])
            }
        }
    }

    private mutating func parseFor(at loc: JinjaSourceLocation) throws(JinjaError) -> JinjaNode {
        let target = try parseAssignTarget(endName: "in", withNamespace: false)
        guard skipName("in") else { throw .syntax("expected 'in', got \(describe(current))", location) }
        let iterable = try parseTuple(withCondition: false, endNames: ["recursive", "if"])
        var filter: JinjaExpression?
        if skipName("if") { filter = try parseExpression() }
        if isName("recursive") { throw .unsupported("recursive for loops are not supported", location) }
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["else", "endfor"])
        var otherwise: [JinjaNode] = []
        if end?.0 == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"])
        }
        try expectBlockEnd()
        return .loop(JinjaLoopNode(
            target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, location: loc))
    }

    private mutating func parseSet(at loc: JinjaSourceLocation) throws(JinjaError) -> JinjaNode {
        let target = try parseAssignTarget(endName: nil, withNamespace: true)
        if skipOp("=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return .assign(target, value, loc)
        }
        let filters = try parseFilterChain()
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return .assignBlock(target, filters, body, loc)
    }

    private mutating func parseFilterChain() throws(JinjaError) -> [JinjaFilterCall] {
        var filters: [JinjaFilterCall] = []
        if current.kind != .blockEnd && !isOp("|") {
            filters.append(try parseFilterCall())
        }
        while skipOp("|") { filters.append(try parseFilterCall()) }
        return filters
    }

    private mutating func parseFilterCall() throws(JinjaError) -> JinjaFilterCall {
        let loc = location
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        let args = isOp("(") ? try parseCallArguments() : JinjaArguments()
        return JinjaFilterCall(name: name, arguments: args, location: loc)
    }

    private mutating func parseMacroSignature(name: String, at loc: JinjaSourceLocation) throws(JinjaError) -> (
        [String], [JinjaExpression?]
    ) {
        var params: [String] = []
        var defaults: [JinjaExpression?] = []
        try expectOp("(")
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            params.append(try expectName())
            defaults.append(skipOp("=") ? try parseExpression() : nil)
        }
        try expectOp(")")
        return (params, defaults)
    }

    private mutating func parseMacro(at loc: JinjaSourceLocation) throws(JinjaError) -> JinjaNode {
        let name = try expectName()
        let (params, defaults) = try parseMacroSignature(name: name, at: loc)
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endmacro"])
        try expectBlockEnd()
        return .macro(JinjaMacro(name: name, parameters: params, defaults: defaults, body: body, location: loc))
    }

    private mutating func parseCallBlock(at loc: JinjaSourceLocation) throws(JinjaError) -> JinjaNode {
        var params: [String] = []
        var defaults: [JinjaExpression?] = []
        if isOp("(") { (params, defaults) = try parseMacroSignature(name: "caller", at: loc) }
        let call = try parseExpression()
        guard case .call = call else { throw .syntax("expected a call after 'call'", loc) }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endcall"])
        try expectBlockEnd()
        let caller = JinjaMacro(name: "caller", parameters: params, defaults: defaults, body: body, location: loc)
        return .callBlock(caller, call, loc)
    }

    private mutating func parseAssignTarget(endName: String?, withNamespace: Bool) throws(JinjaError) -> JinjaTarget {
        var targets: [JinjaTarget] = []
        var isTuple = false
        while true {
            if !targets.isEmpty { try expectOp(",") }
            if let endName, isName(endName) { break }
            if current.kind == .blockEnd || isOp("=") || isOp("|") || isOp(")") { break }
            targets.append(try parseSingleTarget(withNamespace: withNamespace))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple, let only = targets.first { return only }
        if targets.isEmpty { throw .syntax("expected an assignment target, got \(describe(current))", location) }
        return .tuple(targets)
    }

    private mutating func parseSingleTarget(withNamespace: Bool) throws(JinjaError) -> JinjaTarget {
        if skipOp("(") {
            let inner = try parseAssignTarget(endName: nil, withNamespace: withNamespace)
            try expectOp(")")
            return inner
        }
        let loc = location
        let name = try expectName()
        if ["true", "false", "True", "False", "none", "None"].contains(name) {
            throw .syntax("cannot assign to '\(name)'", loc)
        }
        if withNamespace && skipOp(".") {
            return .namespaceAttribute(name, try expectName())
        }
        return .name(name)
    }

    // MARK: - Expressions

    private func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(")"), .op("]"), .op("}"): return true
        case .name(let n): return endNames.contains(n)
        default: return false
        }
    }

    private mutating func parseTuple(
        withCondition: Bool = true, endNames: Set<String> = [], explicitParentheses: Bool = false
    ) throws(JinjaError) -> JinjaExpression {
        var items: [JinjaExpression] = []
        var isTuple = false
        let loc = location
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw .syntax("expected an expression, got \(describe(current))", loc) }
        }
        return .tuple(items)
    }

    private mutating func parseExpression() throws(JinjaError) -> JinjaExpression {
        var expr = try parseOr()
        while skipName("if") {
            let test = try parseOr()
            let otherwise: JinjaExpression? = skipName("else") ? try parseExpression() : nil
            expr = .conditional(test: test, then: expr, otherwise: otherwise)
        }
        return expr
    }

    private mutating func parseOr() throws(JinjaError) -> JinjaExpression {
        var left = try parseAnd()
        while isName("or") {
            let loc = location
            advance()
            left = .binary("or", left, try parseAnd(), loc)
        }
        return left
    }

    private mutating func parseAnd() throws(JinjaError) -> JinjaExpression {
        var left = try parseNot()
        while isName("and") {
            let loc = location
            advance()
            left = .binary("and", left, try parseNot(), loc)
        }
        return left
    }

    private mutating func parseNot() throws(JinjaError) -> JinjaExpression {
        if isName("not") {
            let loc = location
            advance()
            return .unary("not", try parseNot(), loc)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(JinjaError) -> JinjaExpression {
        let loc = location
        let first = try parseMath1()
        var ops: [String] = []
        var operands: [JinjaExpression] = []
        while true {
            if case .op(let op) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(op) {
                advance()
                ops.append(op)
            } else if skipName("in") {
                ops.append("in")
            } else if isName("not") && peek().kind == .name("in") {
                advance()
                advance()
                ops.append("not in")
            } else {
                break
            }
            operands.append(try parseMath1())
        }
        return ops.isEmpty ? first : .compare(first, ops, operands, loc)
    }

    private mutating func parseBinaryLevel(
        _ ops: Set<String>, next: (inout JinjaParser) throws(JinjaError) -> JinjaExpression
    ) throws(JinjaError) -> JinjaExpression {
        var left = try next(&self)
        while case .op(let op) = current.kind, ops.contains(op) {
            let loc = location
            advance()
            left = .binary(op, left, try next(&self), loc)
        }
        return left
    }

    private mutating func parseMath1() throws(JinjaError) -> JinjaExpression {
        try parseBinaryLevel(["+", "-"]) { (p: inout JinjaParser) throws(JinjaError) in try p.parseConcat() }
    }

    private mutating func parseConcat() throws(JinjaError) -> JinjaExpression {
        try parseBinaryLevel(["~"]) { (p: inout JinjaParser) throws(JinjaError) in try p.parseMath2() }
    }

    private mutating func parseMath2() throws(JinjaError) -> JinjaExpression {
        try parseBinaryLevel(["*", "/", "//", "%"]) { (p: inout JinjaParser) throws(JinjaError) in try p.parsePow() }
    }

    private mutating func parsePow() throws(JinjaError) -> JinjaExpression {
        try parseBinaryLevel(["**"]) { (p: inout JinjaParser) throws(JinjaError) in try p.parseUnary() }
    }

    private mutating func parseUnary(withFilter: Bool = true) throws(JinjaError) -> JinjaExpression {
        let loc = location
        var node: JinjaExpression
        if skipOp("-") {
            node = .unary("-", try parseUnary(withFilter: false), loc)
        } else if skipOp("+") {
            node = .unary("+", try parseUnary(withFilter: false), loc)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    private mutating func parsePrimary() throws(JinjaError) -> JinjaExpression {
        let token = current
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name, token.location)
            }
        case .string(let text):
            advance()
            var combined = text
            while case .string(let more) = current.kind {
                combined += more
                advance()
            }
            return .literal(.string(combined))
        case .integer(let i):
            advance()
            return .literal(.int(i))
        case .float(let d):
            advance()
            return .literal(.float(d))
        case .op("("):
            advance()
            let expr = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return expr
        case .op("["):
            advance()
            var items: [JinjaExpression] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var keys: [JinjaExpression] = []
            var values: [JinjaExpression] = []
            while !isOp("}") {
                if !keys.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                keys.append(try parseExpression())
                try expectOp(":")
                values.append(try parseExpression())
            }
            try expectOp("}")
            return .dict(keys, values)
        default:
            throw .syntax("unexpected \(describe(token))", token.location)
        }
    }

    private mutating func parsePostfix(_ start: JinjaExpression) throws(JinjaError) -> JinjaExpression {
        var node = start
        while true {
            let loc = location
            if skipOp(".") {
                switch current.kind {
                case .name(let name):
                    advance()
                    node = .attribute(node, name, loc)
                case .integer(let i):
                    advance()
                    node = .item(node, .literal(.int(i)), loc)
                default:
                    throw .syntax("expected a name after '.', got \(describe(current))", location)
                }
            } else if skipOp("[") {
                node = try parseSubscript(node, at: loc)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments(), loc)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: JinjaExpression, at loc: JinjaSourceLocation) throws(JinjaError)
        -> JinjaExpression
    {
        var parts: [JinjaExpression?] = []
        var isSlice = false
        var current: JinjaExpression? = nil
        var keys: [JinjaExpression] = []
        while !isOp("]") {
            if skipOp(":") {
                isSlice = true
                parts.append(current)
                current = nil
                continue
            }
            if isOp(",") && !isSlice {
                advance()
                if let current { keys.append(current) }
                current = nil
                continue
            }
            current = try parseExpression()
        }
        try expectOp("]")
        if isSlice {
            parts.append(current)
            guard parts.count <= 3 else { throw .syntax("invalid slice", loc) }
            while parts.count < 3 { parts.append(nil) }
            return .slice(target, parts[0], parts[1], parts[2], loc)
        }
        if let current { keys.append(current) }
        guard !keys.isEmpty else { throw .syntax("expected a subscript expression", loc) }
        return .item(target, keys.count == 1 ? keys[0] : .tuple(keys), loc)
    }

    private mutating func parseCallArguments() throws(JinjaError) -> JinjaArguments {
        try expectOp("(")
        var args = JinjaArguments()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if isOp("*") || isOp("**") {
                throw .unsupported("'*args' and '**kwargs' call syntax is not supported", location)
            }
            if case .name(let key) = current.kind, peek().kind == .op("=") {
                advance()
                advance()
                args.keywords.append((key, try parseExpression()))
            } else {
                if !args.keywords.isEmpty {
                    throw .syntax("positional argument follows keyword argument", location)
                }
                args.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return args
    }

    private mutating func parseFilterExpression(_ start: JinjaExpression) throws(JinjaError) -> JinjaExpression {
        var node = start
        while true {
            if isOp("|") {
                advance()
                let call = try parseFilterCall()
                node = .filter(node, call.name, call.arguments, call.location)
            } else if isName("is") {
                advance()
                let negated = skipName("not")
                let loc = location
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                var args = JinjaArguments()
                if isOp("(") {
                    args = try parseCallArguments()
                } else if startsBareTestArgument {
                    if isName("is") { throw .syntax("you cannot chain multiple tests with 'is'", location) }
                    args.positional = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name, args, negated: negated, loc)
            } else if isOp("(") {
                let loc = location
                node = .call(node, try parseCallArguments(), loc)
            } else {
                return node
            }
        }
    }

    private var startsBareTestArgument: Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and"].contains(n)
        case .string, .integer, .float, .op("("), .op("["), .op("{"): return true
        default: return false
        }
    }
}
