/// Incremental detokenizer for generated tokens: returns text as soon as it is complete UTF-8.
///
/// Byte-fallback and byte-level BPE tokens can split one character over several tokens (a CJK
/// character is often three `<0xXX>` tokens); `append` holds back such an incomplete tail until the
/// rest arrives. Control tokens contribute nothing unless `renderSpecial` is set.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private let renderSpecial: Bool
    private var pending: [UInt8] = []
    private var stripLeadingSpace: Bool

    /// - Parameters:
    ///   - stripLeadingSpace: drop the space a SentencePiece `add_space_prefix` model put before the first
    ///     piece (use when streaming a sequence from its start; leave false for continuations of a prompt).
    ///   - renderSpecial: include the text of control tokens.
    public init(tokenizer: Tokenizer, stripLeadingSpace: Bool = false, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
        self.stripLeadingSpace = stripLeadingSpace && tokenizer.addSpacePrefix
    }

    /// Adds one token and returns the newly completed text (possibly empty).
    public mutating func append(_ id: Int) -> String {
        var piece = tokenizer.pieceBytes(id, renderSpecial: renderSpecial)
        if stripLeadingSpace && id != tokenizer.bosID {
            if piece.first == 0x20 { piece.removeFirst() }
            stripLeadingSpace = false
        }
        pending.append(contentsOf: piece)
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[0..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns whatever is still held back (an incomplete sequence becomes U+FFFD) and resets.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a possibly-incomplete UTF-8 sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // Look back at most 3 bytes for the lead byte of the last sequence.
        var i = n - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && bytes[i] & 0xC0 == 0x80 {
            continuation += 1
            i -= 1
        }
        guard i >= 0 else { return n }  // only continuation bytes: nothing to wait for
        let lead = bytes[i]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n  // ASCII or invalid lead: nothing will complete it
        }
        return continuation + 1 < need ? i : n
    }
}
