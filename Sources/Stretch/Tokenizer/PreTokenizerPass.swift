/// One regex pass of a BPE pre-tokenizer, written out by hand with the semantics of the model's own
/// (Hugging Face) regex, which llama.cpp approximates.
///
/// A pass splits each piece left by the previous pass on its own (lookahead stops at the piece's end).
/// A pass keeps both its matches and the unmatched gaps between them as pieces. Where llama.cpp's
/// approximation differs from Hugging Face (unassigned code points, combining marks and non-ASCII case in
/// Tekken/GPT-4o, ASCII `~`, non-ASCII spaces in literal ranges), this follows Hugging Face: the fuzz
/// comparison with `tokenizers` (`TokenizerFuzzTests`) found each of them.
enum PreTokenizerPass: Sendable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (an unassigned
    /// code point is "other", `[^\s\p{L}\p{N}]`, as in Hugging Face; llama.cpp's splitter ends a match there).
    case gpt2
    /// The llama3/qwen2 family:
    /// `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?W+|\p{N}{1,D}
    /// | ?[^\s W \p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+` where `W` is `\p{L}` (or `[\p{L}\p{M}]` with
    /// `marks`, Qwen 3.5) and `D` is `maxDigits`.
    case llama3(maxDigits: Int, marks: Bool)
    /// `P?C{1,max}` (`max == 0`: unbounded) for one-class regexes such as `\s?\p{L}+`, `\p{N}`,
    /// `[\r\n]`; `exact`: exactly `max` (`[0-9][0-9][0-9]`); `atEnd`: only a run that ends the piece (`\s+$`).
    case run(prefix: PreTokenizerCharacterClass?, body: PreTokenizerCharacterClass, max: Int, exact: Bool, atEnd: Bool)
    /// DeepSeek V3's word pattern:
    /// `[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
    /// | ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case deepSeekV3Words
    /// Tekken / GPT-4o: `[^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n/]*
    /// |\s*[\r\n]+|\s+(?!\S)|\s+` with the tokenizer.json classes `U` = `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`,
    /// `L` = `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` and `C` the optional contraction (GPT-4o only). (llama.cpp's rewrite,
    /// "a letter other than a-z / A-Z", splits words at marks and at non-ASCII capitals.)
    case caseSplit(maxDigits: Int, contractions: Bool)

    /// Appends the pieces of `piece` (code-point indexes) to `out`.
    func split(_ piece: Range<Int>, _ cps: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<UInt8>,
               into out: inout [Range<Int>]) {
        let end = piece.upperBound
        switch self {
        case .gpt2:
            var pos = piece.lowerBound
            while pos < end {
                let e = Self.gpt2Match(pos, end, cps, flags)
                out.append(pos..<e)
                pos = e
            }
        case let .llama3(maxDigits, marks):
            var pos = piece.lowerBound
            while pos < end {
                let e = Self.llama3Match(pos, end, cps, flags, maxDigits: maxDigits, marks: marks)
                out.append(pos..<e)
                pos = e
            }
        case let .run(prefix, body, max, exact, atEnd):
            Self.splitKeepingGaps(piece, into: &out) { pos in
                var start = pos
                if let prefix, prefix.contains(cps[pos], flags[pos]), pos + 1 < end, body.contains(cps[pos + 1], flags[pos + 1]) {
                    start = pos + 1
                } else if !body.contains(cps[pos], flags[pos]) {
                    return (false, pos + 1)
                }
                var e = start
                while e < end && (max == 0 || e - start < max) && body.contains(cps[e], flags[e]) { e += 1 }
                if exact && e - start < max { return (false, pos + 1) }
                if atEnd && e != end { return (false, Swift.max(e, pos + 1)) }
                return (true, e)
            }
        case .deepSeekV3Words:
            Self.splitKeepingGaps(piece, into: &out) { pos in
                if let e = Self.deepSeekV3Match(pos, end, cps, flags) { return (true, e) }
                return (false, pos + 1)
            }
        case let .caseSplit(maxDigits, contractions):
            Self.splitKeepingGaps(piece, into: &out) { pos in
                if let e = Self.caseSplitMatch(pos, end, cps, flags, maxDigits: maxDigits, contractions: contractions) {
                    return (true, e)
                }
                return (false, pos + 1)
            }
        }
    }

    /// std::regex_iterator semantics: matches and the gaps between them, in order.
    /// `match(pos)` gives (true, end) for a match at `pos`, else (false, next position worth trying).
    @inline(__always)
    private static func splitKeepingGaps(_ piece: Range<Int>, into out: inout [Range<Int>],
                                         _ match: (Int) -> (Bool, Int)) {
        var pos = piece.lowerBound
        var gapStart = pos
        while pos < piece.upperBound {
            let (matched, e) = match(pos)
            if matched {
                if gapStart < pos { out.append(gapStart..<pos) }
                out.append(pos..<e)
                gapStart = e
            }
            pos = e
        }
        if gapStart < piece.upperBound { out.append(gapStart..<piece.upperBound) }
    }

    private typealias F = PreTokenizerFlags

    @inline(__always)
    private static func isLineBreak(_ cp: UInt32) -> Bool { cp == 0x0A || cp == 0x0D }

    @inline(__always)
    private static func lowerASCII(_ c: UInt32) -> UInt32 { (c >= 0x41 && c <= 0x5A) ? c + 32 : c }

    /// End of `'s|'t|'re|'ve|'m|'ll|'d` at `pos` (case-insensitive if `anyCase`), or nil.
    @inline(__always)
    private static func contraction(_ pos: Int, _ end: Int, _ cps: UnsafeBufferPointer<UInt32>, anyCase: Bool) -> Int? {
        guard cps[pos] == 0x27, pos + 1 < end else { return nil }
        let c1 = anyCase ? lowerASCII(cps[pos + 1]) : cps[pos + 1]
        if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return pos + 2 }  // s t m d
        if pos + 2 < end {
            let c2 = anyCase ? lowerASCII(cps[pos + 2]) : cps[pos + 2]
            if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) { return pos + 3 }
        }
        return nil
    }

    /// Trailing whitespace alternatives `\s*[\r\n]+|\s+(?!\S)|\s+` at `pos`, or nil if `pos` is not whitespace.
    @inline(__always)
    private static func whitespaceMatch(_ pos: Int, _ end: Int, _ cps: UnsafeBufferPointer<UInt32>,
                                        _ flags: UnsafeBufferPointer<UInt8>, lineBreaks: Bool) -> Int? {
        var e = pos
        var lastBreak = -1
        while e < end && flags[e] & F.whitespace != 0 {
            if isLineBreak(cps[e]) { lastBreak = e }
            e += 1
        }
        if e == pos { return nil }
        if lineBreaks && lastBreak >= 0 { return lastBreak + 1 }
        if e - pos >= 2 && e < end { return e - 1 }
        return e
    }

    private static func gpt2Match(_ pos: Int, _ end: Int, _ cps: UnsafeBufferPointer<UInt32>,
                                  _ flags: UnsafeBufferPointer<UInt8>) -> Int {
        if let e = contraction(pos, end, cps, anyCase: false) { return e }
        let space = cps[pos] == 0x20
        let f2: UInt8 = space ? (pos + 1 < end ? flags[pos + 1] : 0) : flags[pos]
        let start = space ? pos + 1 : pos
        if f2 & F.letter != 0 {
            var e = start + 1
            while e < end && flags[e] & F.letter != 0 { e += 1 }
            return e
        }
        if f2 & F.number != 0 {
            var e = start + 1
            while e < end && flags[e] & F.number != 0 { e += 1 }
            return e
        }
        let notOther = F.whitespace | F.letter | F.number
        if f2 & notOther == 0 && (!space || start < end) {
            var e = start + 1
            while e < end && flags[e] & notOther == 0 { e += 1 }
            return e
        }
        return whitespaceMatch(pos, end, cps, flags, lineBreaks: false) ?? pos + 1
    }

    @inline(__always)
    private static func llama3Match(_ pos: Int, _ end: Int, _ cps: UnsafeBufferPointer<UInt32>,
                                    _ flags: UnsafeBufferPointer<UInt8>,
                                    maxDigits: Int, marks: Bool) -> Int {
        if let e = contraction(pos, end, cps, anyCase: true) { return e }
        let word: UInt8 = marks ? F.letter | F.mark : F.letter
        let f = flags[pos]
        // [^\r\n\p{L}\p{N}]?W+
        if f & word != 0 {
            var e = pos + 1
            while e < end && flags[e] & word != 0 { e += 1 }
            return e
        }
        if f & F.number == 0 && !isLineBreak(cps[pos]) && pos + 1 < end && flags[pos + 1] & word != 0 {
            var e = pos + 2
            while e < end && flags[e] & word != 0 { e += 1 }
            return e
        }
        // \p{N}{1,D}
        if f & F.number != 0 {
            var e = pos + 1
            while e < end && e - pos < maxDigits && flags[e] & F.number != 0 { e += 1 }
            return e
        }
        // ' ?[^\s W \p{N}]+[\r\n]*'
        let notOther = F.whitespace | F.number | word
        @inline(__always) func isOther(_ k: Int) -> Bool { flags[k] & notOther == 0 }
        var p = pos
        if cps[pos] == 0x20 && pos + 1 < end && isOther(pos + 1) { p = pos + 1 }
        if isOther(p) {
            while p < end && isOther(p) { p += 1 }
            while p < end && isLineBreak(cps[p]) { p += 1 }
            return p
        }
        return whitespaceMatch(pos, end, cps, flags, lineBreaks: true) ?? pos + 1
    }

    /// `[\p{P}\p{S}]` (llama.cpp's collapsed text misses ASCII `~`; Hugging Face does not).
    @inline(__always)
    private static func isPunctOrSymbol(_ f: UInt8) -> Bool { f & (F.punctuation | F.symbol) != 0 }

    private static func deepSeekV3Match(_ pos: Int, _ end: Int, _ cps: UnsafeBufferPointer<UInt32>,
                                        _ flags: UnsafeBufferPointer<UInt8>) -> Int? {
        let c = cps[pos], f = flags[pos]
        @inline(__always) func isASCIILetter(_ k: Int) -> Bool {
            let x = cps[k] | 0x20
            return x >= 0x61 && x <= 0x7A
        }
        // [ASCII punctuation or symbol][A-Za-z]+
        if c < 0x80 && (f & (F.punctuation | F.symbol)) != 0 && pos + 1 < end && isASCIILetter(pos + 1) {
            var e = pos + 2
            while e < end && isASCIILetter(e) { e += 1 }
            return e
        }
        // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
        let word = F.letter | F.mark
        if f & word != 0 {
            var e = pos + 1
            while e < end && flags[e] & word != 0 { e += 1 }
            return e
        }
        if !isLineBreak(c) && !isPunctOrSymbol(f) && pos + 1 < end && flags[pos + 1] & word != 0 {
            var e = pos + 2
            while e < end && flags[e] & word != 0 { e += 1 }
            return e
        }
        // ' ?[\p{P}\p{S}]+[\r\n]*'
        var p = pos
        if c == 0x20 && pos + 1 < end && isPunctOrSymbol(flags[pos + 1]) { p = pos + 1 }
        if isPunctOrSymbol(flags[p]) {
            while p < end && isPunctOrSymbol(flags[p]) { p += 1 }
            while p < end && isLineBreak(cps[p]) { p += 1 }
            return p
        }
        return whitespaceMatch(pos, end, cps, flags, lineBreaks: true)
    }

    private static func caseSplitMatch(_ pos: Int, _ end: Int, _ cps: UnsafeBufferPointer<UInt32>,
                                       _ flags: UnsafeBufferPointer<UInt8>, maxDigits: Int, contractions: Bool) -> Int? {
        // U: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]; L: [\p{Ll}\p{Lm}\p{Lo}\p{M}]. ASCII needs no table.
        @inline(__always) func isU(_ k: Int) -> Bool {
            let c = cps[k]
            if c < 0x80 { return c >= 0x41 && c <= 0x5A }
            return flags[k] & (F.letter | F.mark) != 0 && Self.caseClass(c) & 1 != 0
        }
        @inline(__always) func isL(_ k: Int) -> Bool {
            let c = cps[k]
            if c < 0x80 { return c >= 0x61 && c <= 0x7A }
            return flags[k] & (F.letter | F.mark) != 0 && Self.caseClass(c) & 2 != 0
        }
        @inline(__always) func withContraction(_ e: Int) -> Int {
            contractions ? (contraction(e, end, cps, anyCase: true) ?? e) : e
        }
        // U*L+ from s, or nil.
        func upperLower(_ s: Int) -> Int? {
            var u = s
            while u < end && isU(u) { u += 1 }
            if u < end && isL(u) {
                var e = u + 1
                while e < end && isL(e) { e += 1 }
                return e
            }
            var k = u - 1
            while k >= s {
                if isL(k) { return k + 1 }
                k -= 1
            }
            return nil
        }
        // U+L* from s, or nil.
        func upperThenLower(_ s: Int) -> Int? {
            var u = s
            while u < end && isU(u) { u += 1 }
            if u == s { return nil }
            var e = u
            while e < end && isL(e) { e += 1 }
            return e
        }
        let c = cps[pos], f = flags[pos]
        let prefixOK = !isLineBreak(c) && f & (F.letter | F.number) == 0 && pos + 1 < end
        if prefixOK, let e = upperLower(pos + 1) { return withContraction(e) }
        if let e = upperLower(pos) { return withContraction(e) }
        if prefixOK, let e = upperThenLower(pos + 1) { return withContraction(e) }
        if let e = upperThenLower(pos) { return withContraction(e) }
        if f & F.number != 0 {
            var e = pos + 1
            while e < end && e - pos < maxDigits && flags[e] & F.number != 0 { e += 1 }
            return e
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
        let notOther = F.whitespace | F.letter | F.number
        var p = pos
        if c == 0x20 && pos + 1 < end && flags[pos + 1] & notOther == 0 { p = pos + 1 }
        if flags[p] & notOther == 0 {
            while p < end && flags[p] & notOther == 0 { p += 1 }
            while p < end && (isLineBreak(cps[p]) || cps[p] == 0x2F) { p += 1 }
            return p
        }
        return whitespaceMatch(pos, end, cps, flags, lineBreaks: true)
    }

    /// Bit 0: in Tekken/GPT-4o's upper class (Lu, Lt, Lm, Lo, M); bit 1: in the lower class (Ll, Lm, Lo, M).
    private static func caseClass(_ cp: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(cp) else { return 0 }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: return 1
        case .lowercaseLetter: return 2
        case .modifierLetter, .otherLetter, .nonspacingMark, .spacingMark, .enclosingMark: return 3
        default: return 0
        }
    }
}
