import Foundation

/// Python `str` operations, implemented on Unicode scalars because Python indexes code points.
enum JinjaStrings {
    /// Python's `str.isspace` for one code point.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        (0x1c...0x1f).contains(scalar.value) || scalar.properties.isWhitespace
    }

    /// Python `strip`/`lstrip`/`rstrip`; `chars` nil means whitespace.
    static func strip(_ s: String, _ chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let shouldStrip = { (c: Unicode.Scalar) -> Bool in set?.contains(c) ?? isSpace(c) }
        var scalars = Array(s.unicodeScalars)[...]
        if leading { while let first = scalars.first, shouldStrip(first) { scalars = scalars.dropFirst() } }
        if trailing { while let last = scalars.last, shouldStrip(last) { scalars = scalars.dropLast() } }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Python `str.split(sep, maxsplit)`.
    static func split(_ s: String, _ separator: String?, maxSplit: Int = -1) -> [String] {
        guard let separator else {
            var parts: [String] = []
            var current = String.UnicodeScalarView()
            var inWord = false
            var remaining = Array(s.unicodeScalars)[...]
            while let c = remaining.first {
                if isSpace(c) {
                    if inWord {
                        parts.append(String(current))
                        current = String.UnicodeScalarView()
                        inWord = false
                        if maxSplit >= 0 && parts.count >= maxSplit {
                            let rest = String(String.UnicodeScalarView(remaining))
                            let trimmed = strip(rest, nil, trailing: false)
                            if !trimmed.isEmpty { parts.append(trimmed) }
                            return parts
                        }
                    }
                } else {
                    current.append(c)
                    inWord = true
                }
                remaining = remaining.dropFirst()
            }
            if inWord { parts.append(String(current)) }
            return parts
        }
        var parts: [String] = []
        var rest = Substring(s)
        while maxSplit < 0 || parts.count < maxSplit, let range = rest.range(of: separator, options: .literal) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }

    /// Python `str.replace(old, new, count)`.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            var out = ""
            var done = 0
            for scalar in s.unicodeScalars {
                if count < 0 || done < count {
                    out += new
                    done += 1
                }
                out.unicodeScalars.append(scalar)
            }
            if count < 0 || done < count { out += new }
            return out
        }
        var out = ""
        var rest = Substring(s)
        var done = 0
        while count < 0 || done < count, let range = rest.range(of: old, options: .literal) {
            out += rest[..<range.lowerBound] + new
            rest = rest[range.upperBound...]
            done += 1
        }
        return out + rest
    }

    /// Python `str.splitlines()` (without keepends).
    static func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousWasCR = false
        for c in s.unicodeScalars {
            if c == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = c == "\r"
            if [0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029].contains(c.value) {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// Python `str.title()`: upper-case a letter that follows an uncased character, lower-case the rest.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased
            out += previousCased ? String(c).lowercased() : String(c).uppercased()
            previousCased = cased
        }
        return out
    }

    /// Python `str.capitalize()`.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// jinja2's `title` filter: capitalise each run that follows `-`, whitespace or an opening bracket.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        var inDelimiters = false
        for c in s.unicodeScalars {
            let isDelimiter = isSpace(c) || "-({[<".unicodeScalars.contains(c)
            if isDelimiter != inDelimiters { atWordStart = true }
            inDelimiters = isDelimiter
            out += atWordStart ? String(c).uppercased() : String(c).lowercased()
            atWordStart = false
        }
        return out
    }

    /// Python `len(str)`.
    static func length(_ s: String) -> Int { s.unicodeScalars.count }

    /// Python `str.find`.
    static func find(_ s: String, _ sub: String, reverse: Bool = false) -> Int {
        guard let range = s.range(of: sub, options: reverse ? [.literal, .backwards] : .literal) else {
            return sub.isEmpty ? (reverse ? length(s) : 0) : -1
        }
        return s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: range.lowerBound)
    }

    /// Python `str.count`.
    static func count(_ s: String, _ sub: String) -> Int {
        if sub.isEmpty { return length(s) + 1 }
        return split(s, sub).count - 1
    }

    /// Python `str.center(width)`.
    static func center(_ s: String, _ width: Int, fill: String = " ") -> String {
        let margin = width - length(s)
        guard margin > 0 else { return s }
        let left = margin / 2 + (margin & width & 1)
        return String(repeating: fill, count: left) + s + String(repeating: fill, count: margin - left)
    }

    /// HTML escaping as jinja2's `escape` filter (markupsafe) does it.
    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Counts runs of word characters, as jinja2's `wordcount` (`\w+`) does.
    static func wordCount(_ s: String) -> Int {
        var count = 0
        var inWord = false
        for c in s.unicodeScalars {
            let word = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
            if word && !inWord { count += 1 }
            inWord = word
        }
        return count
    }
}
