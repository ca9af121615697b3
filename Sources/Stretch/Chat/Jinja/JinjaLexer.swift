/// Splits template source into tokens, applying jinja2's whitespace rules as Hugging Face configures them
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`).
struct JinjaLexer {
    private let chars: [Character]
    private let lineStarts: [Int]
    private var pos = 0
    private var tokens: [JinjaToken] = []
    /// Mirrors jinja2's `line_starting`: the previous tag ended with a newline (or we are at the start).
    private var lineStarting = true

    /// Prepares to lex `source`, normalising newlines and dropping one trailing newline as jinja2 does.
    init(source: String) {
        var text = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if text.hasSuffix("\n") { text.removeLast() }
        chars = Array(text)
        var starts = [0]
        for (index, char) in chars.enumerated() where char == "\n" { starts.append(index + 1) }
        lineStarts = starts
    }

    /// Lexes the whole source.
    static func tokenize(_ source: String) throws(JinjaError) -> [JinjaToken] {
        var lexer = JinjaLexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    func location(_ index: Int) -> JinjaSourceLocation {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return JinjaSourceLocation(line: low + 1, column: index - lineStarts[low] + 1)
    }

    private func at(_ index: Int) -> Character? { index < chars.count ? chars[index] : nil }

    private func matches(_ text: String, at index: Int) -> Bool {
        var i = index
        for char in text {
            guard i < chars.count, chars[i] == char else { return false }
            i += 1
        }
        return true
    }

    private mutating func run() throws(JinjaError) {
        while pos < chars.count {
            guard let (tagStart, kind) = nextTagStart(from: pos) else {
                emitText(String(chars[pos...]), at: pos)
                pos = chars.count
                break
            }
            var text = String(chars[pos..<tagStart])
            let signIndex = tagStart + 2
            let sign = at(signIndex)
            let hasSign = sign == "-" || sign == "+"
            if sign == "-" {
                while let last = text.last, last.isWhitespace { text.removeLast() }
            } else if sign != "+" && kind != "{" {
                // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
                let lastNewline = text.lastIndex(of: "\n")
                let lineStart = lastNewline.map { text.index(after: $0) } ?? text.startIndex
                if lastNewline != nil || lineStarting {
                    let tail = text[lineStart...]
                    if !tail.isEmpty && tail.allSatisfy({ $0.isWhitespace }) {
                        text = String(text[..<lineStart])
                    }
                }
            }
            emitText(text, at: pos)
            let bodyStart = signIndex + (hasSign ? 1 : 0)
            switch kind {
            case "#":
                try lexComment(from: bodyStart, openedAt: tagStart)
            case "{":
                tokens.append(JinjaToken(kind: .variableBegin, location: location(tagStart)))
                try lexExpression(from: bodyStart, block: false, openedAt: tagStart)
            default:
                if let rawBodyStart = rawBlockBodyStart(from: bodyStart) {
                    try lexRaw(from: rawBodyStart, openedAt: tagStart)
                } else {
                    tokens.append(JinjaToken(kind: .blockBegin, location: location(tagStart)))
                    try lexExpression(from: bodyStart, block: true, openedAt: tagStart)
                }
            }
        }
        tokens.append(JinjaToken(kind: .eof, location: location(chars.count)))
    }

    private mutating func emitText(_ text: String, at index: Int) {
        guard !text.isEmpty else { return }
        tokens.append(JinjaToken(kind: .text(text), location: location(index)))
    }

    private func nextTagStart(from start: Int) -> (Int, Character)? {
        var i = start
        while i + 1 < chars.count {
            if chars[i] == "{" {
                let next = chars[i + 1]
                if next == "{" || next == "%" || next == "#" { return (i, next) }
            }
            i += 1
        }
        return nil
    }

    /// Returns where the body of `{% raw %}` starts when the block tag at `index` is a raw tag.
    private func rawBlockBodyStart(from index: Int) -> Int? {
        var i = index
        while let c = at(i), c.isWhitespace { i += 1 }
        guard matches("raw", at: i) else { return nil }
        i += 3
        while let c = at(i), c.isWhitespace { i += 1 }
        if matches("-%}", at: i) {
            i += 3
            while let c = at(i), c.isWhitespace { i += 1 }
            return i
        }
        return matches("%}", at: i) ? i + 2 : nil
    }

    /// Consumes a tag end such as `-%}` / `+%}` / `%}` at `index`; returns the index after it and its whitespace.
    private mutating func consumeTagEnd(_ end: String, at index: Int, trims: Bool) -> Int? {
        var i = index
        if matches("-" + end, at: i) {
            i += end.count + 1
            while let c = at(i), c.isWhitespace { i += 1 }
        } else if trims && matches("+" + end, at: i) {
            i += end.count + 1
        } else if matches(end, at: i) {
            i += end.count
            if trims && at(i) == "\n" { i += 1 }
        } else {
            return nil
        }
        lineStarting = i > 0 && chars[i - 1] == "\n"
        return i
    }

    private mutating func lexComment(from start: Int, openedAt: Int) throws(JinjaError) {
        var i = start
        while i < chars.count {
            if let end = consumeTagEnd("#}", at: i, trims: true) {
                pos = end
                return
            }
            i += 1
        }
        throw .syntax("missing end of comment tag", location(openedAt))
    }

    private mutating func lexRaw(from start: Int, openedAt: Int) throws(JinjaError) {
        var i = start
        while i < chars.count {
            if chars[i] == "{" && at(i + 1) == "%" {
                var j = i + 2
                let sign = at(j)
                if sign == "-" || sign == "+" { j += 1 }
                while let c = at(j), c.isWhitespace { j += 1 }
                if matches("endraw", at: j) {
                    j += 6
                    while let c = at(j), c.isWhitespace { j += 1 }
                    if let end = consumeTagEnd("%}", at: j, trims: true) {
                        var text = String(chars[start..<i])
                        if sign == "-" {
                            while let last = text.last, last.isWhitespace { text.removeLast() }
                        } else if sign != "+" {
                            let lastNewline = text.lastIndex(of: "\n")
                            let lineStart = lastNewline.map { text.index(after: $0) } ?? text.startIndex
                            let tail = text[lineStart...]
                            if lastNewline != nil && !tail.isEmpty && tail.allSatisfy({ $0.isWhitespace }) {
                                text = String(text[..<lineStart])
                            }
                        }
                        emitText(text, at: start)
                        pos = end
                        return
                    }
                }
            }
            i += 1
        }
        throw .syntax("missing end of raw directive", location(openedAt))
    }

    private static let operators = [
        "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
        "<", ">", "=", ".", ":", "|", ",", ";",
    ]

    private mutating func lexExpression(from start: Int, block: Bool, openedAt: Int) throws(JinjaError) {
        var i = start
        let endText = block ? "%}" : "}}"
        // Open brackets; like jinja2, the closing delimiter only ends the tag outside of them,
        // so `{{ {'a': {'b': 1}} }}` lexes the inner `}}` as two closing braces.
        var brackets: [String] = []
        while i < chars.count {
            // jinja2 checks for the closing delimiter before any other token.
            if brackets.isEmpty, let end = consumeTagEnd(endText, at: i, trims: block) {
                tokens.append(JinjaToken(kind: block ? .blockEnd : .variableEnd, location: location(i)))
                pos = end
                return
            }
            let c = chars[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            let loc = location(i)
            if c.isASCII && (c.isLetter || c == "_") {
                var j = i
                while let d = at(j), d.isASCII && (d.isLetter || d.isNumber || d == "_") { j += 1 }
                tokens.append(JinjaToken(kind: .name(String(chars[i..<j])), location: loc))
                i = j
            } else if c.isASCII && c.isNumber {
                i = try lexNumber(from: i)
            } else if c == "'" || c == "\"" {
                i = try lexString(from: i, quote: c)
            } else if let op = JinjaLexer.operators.first(where: { matches($0, at: i) }) {
                if op == "(" || op == "[" || op == "{" {
                    brackets.append(op)
                } else if op == ")" || op == "]" || op == "}" {
                    let opener = op == ")" ? "(" : op == "]" ? "[" : "{"
                    guard brackets.last == opener else {
                        throw .syntax(brackets.isEmpty ? "unexpected '\(op)'" : "unexpected '\(op)', expected '\(brackets.last! == "(" ? ")" : brackets.last! == "[" ? "]" : "}")'", loc)
                    }
                    brackets.removeLast()
                }
                tokens.append(JinjaToken(kind: .op(op), location: loc))
                i += op.count
            } else {
                throw .syntax("unexpected character '\(c)'", loc)
            }
        }
        throw .syntax(block ? "missing end of block tag '%}'" : "missing end of print tag '}}'", location(openedAt))
    }

    private func digits(from start: Int) -> Int {
        var j = start
        while let d = at(j), (d.isASCII && d.isNumber) || (d == "_" && at(j + 1)?.isNumber == true) { j += 1 }
        return j
    }

    private mutating func lexNumber(from start: Int) throws(JinjaError) -> Int {
        let loc = location(start)
        var j = digits(from: start)
        var isFloat = false
        if at(j) == ".", let d = at(j + 1), d.isASCII && d.isNumber {
            isFloat = true
            j = digits(from: j + 1)
        }
        if at(j) == "e" || at(j) == "E" {
            var k = j + 1
            if at(k) == "+" || at(k) == "-" { k += 1 }
            if let d = at(k), d.isASCII && d.isNumber {
                isFloat = true
                j = digits(from: k)
            }
        }
        let text = String(chars[start..<j]).replacingOccurrences(of: "_", with: "")
        if isFloat {
            guard let value = Double(text) else { throw .syntax("invalid float literal '\(text)'", loc) }
            tokens.append(JinjaToken(kind: .float(value), location: loc))
        } else {
            guard let value = Int(text) else { throw .syntax("integer literal '\(text)' is too large", loc) }
            tokens.append(JinjaToken(kind: .integer(value), location: loc))
        }
        return j
    }

    private mutating func lexString(from start: Int, quote: Character) throws(JinjaError) -> Int {
        let loc = location(start)
        var j = start + 1
        var out = ""
        while j < chars.count {
            let c = chars[j]
            if c == quote {
                tokens.append(JinjaToken(kind: .string(out), location: loc))
                return j + 1
            }
            if c == "\\", j + 1 < chars.count {
                j = decodeEscape(at: j + 1, into: &out)
                continue
            }
            out.append(c)
            j += 1
        }
        throw .syntax("unterminated string literal", loc)
    }

    /// Decodes a Python `unicode-escape` sequence whose first character (after the backslash) is at `index`.
    private func decodeEscape(at index: Int, into out: inout String) -> Int {
        let c = chars[index]
        let simple: [Character: String] = [
            "n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", "\"": "\"", "a": "\u{07}", "b": "\u{08}",
            "f": "\u{0C}", "v": "\u{0B}", "\n": "",
        ]
        if let replacement = simple[c] {
            out += replacement
            return index + 1
        }
        let hexLengths: [Character: Int] = ["x": 2, "u": 4, "U": 8]
        if let length = hexLengths[c], index + length < chars.count {
            let hex = String(chars[(index + 1)...(index + length)])
            if let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) {
                out.unicodeScalars.append(scalar)
                return index + 1 + length
            }
        }
        if let first = c.wholeNumberValue, first < 8, c.isASCII {
            var value = 0
            var j = index
            while j < index + 3, let d = at(j), d.isASCII, let n = d.wholeNumberValue, n < 8 {
                value = value * 8 + n
                j += 1
            }
            if let scalar = Unicode.Scalar(UInt32(value)) { out.unicodeScalars.append(scalar) }
            return j
        }
        // Unknown escapes keep their backslash, as Python does.
        out.append("\\")
        out.append(c)
        return index + 1
    }
}
