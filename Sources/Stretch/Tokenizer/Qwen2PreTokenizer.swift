/// The `qwen2` BPE pre-tokenizer: splits text into words exactly like llama.cpp does with the regex
///
///     (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
///     | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// llama.cpp runs that pattern through `std::regex` over a "collapsed" text in which each non-ASCII
/// code point is replaced by a stand-in for its class, so the classes here are: ASCII letters/digits
/// and C-locale `\s` (`\t\n\v\f\r` and space) for ASCII; for other code points White_Space first,
/// then general category L* (letter) or N* (number); everything else is "other".
/// The alternatives are tried in order at each position, with the regex's backtracking worked out by hand.
enum Qwen2PreTokenizer {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let space: UInt8 = 3
    static let other: UInt8 = 4

    @inline(__always)
    static func classify(_ cp: UInt32) -> UInt8 {
        if cp < 0x80 {
            switch cp {
            case 0x41...0x5A, 0x61...0x7A: return letter
            case 0x30...0x39: return number
            case 0x09...0x0D, 0x20: return space
            default: return other
            }
        }
        guard let scalar = Unicode.Scalar(cp) else { return other }
        let props = scalar.properties
        if props.isWhitespace { return space }
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return number
        default:
            return other
        }
    }

    /// Splits `text` (valid UTF-8) into words, returned as byte ranges in order covering the text.
    static func split(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        // Decode code points, remembering byte offsets.
        var cps: [UInt32] = []
        var starts: [Int] = []
        cps.reserveCapacity(text.count)
        starts.reserveCapacity(text.count + 1)
        var i = 0
        let n = text.count
        while i < n {
            let b0 = UInt32(text[i])
            starts.append(i)
            if b0 < 0x80 {
                cps.append(b0); i += 1
            } else if b0 < 0xE0, i + 1 < n {
                cps.append(((b0 & 0x1F) << 6) | (UInt32(text[i + 1]) & 0x3F)); i += 2
            } else if b0 < 0xF0, i + 2 < n {
                cps.append(((b0 & 0x0F) << 12) | ((UInt32(text[i + 1]) & 0x3F) << 6) | (UInt32(text[i + 2]) & 0x3F)); i += 3
            } else if i + 3 < n {
                cps.append(((b0 & 0x07) << 18) | ((UInt32(text[i + 1]) & 0x3F) << 12)
                           | ((UInt32(text[i + 2]) & 0x3F) << 6) | (UInt32(text[i + 3]) & 0x3F)); i += 4
            } else {
                cps.append(0xFFFD); i += 1
            }
        }
        starts.append(n)
        let count = cps.count
        var cls = [UInt8](repeating: 0, count: count)
        for k in 0..<count { cls[k] = classify(cps[k]) }

        var words: [Range<Int>] = []
        words.reserveCapacity(count / 3 + 1)

        @inline(__always) func isCRLF(_ k: Int) -> Bool { cps[k] == 0x0A || cps[k] == 0x0D }
        @inline(__always) func lowerASCII(_ c: UInt32) -> UInt32 { (c >= 0x41 && c <= 0x5A) ? c + 32 : c }

        var pos = 0
        while pos < count {
            let end = matchEnd(at: pos)
            words.append(starts[pos]..<starts[end])
            pos = end
        }
        return words

        func matchEnd(at pos: Int) -> Int {
            let c = cps[pos]
            // (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
            if c == 0x27, pos + 1 < count {
                let c1 = lowerASCII(cps[pos + 1])
                if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return pos + 2 }  // s t m d
                if pos + 2 < count {
                    let c2 = lowerASCII(cps[pos + 2])
                    if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) {
                        return pos + 3  // re ve ll
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if cls[pos] == letter {
                var e = pos + 1
                while e < count && cls[e] == letter { e += 1 }
                return e
            }
            if !isCRLF(pos) && cls[pos] != number && pos + 1 < count && cls[pos + 1] == letter {
                var e = pos + 2
                while e < count && cls[e] == letter { e += 1 }
                return e
            }
            // \p{N}
            if cls[pos] == number { return pos + 1 }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            var p = pos
            if c == 0x20 && pos + 1 < count && cls[pos + 1] == other { p = pos + 1 }
            if cls[p] == other {
                while p < count && cls[p] == other { p += 1 }
                while p < count && isCRLF(p) { p += 1 }
                return p
            }
            // Whitespace run.
            var e = pos
            var lastCRLF = -1
            while e < count && cls[e] == space {
                if isCRLF(e) { lastCRLF = e }
                e += 1
            }
            // \s*[\r\n]+
            if lastCRLF >= 0 { return lastCRLF + 1 }
            // \s+(?!\S)
            if e - pos >= 2 && e < count { return e - 1 }
            // \s+
            return max(e, pos + 1)
        }
    }
}
