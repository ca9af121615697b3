/// The token table shared by both tokenizer implementations: texts (as bytes), scores and kinds.
// @unchecked: immutable after init; the byte table is only read.
final class Vocabulary: @unchecked Sendable {
    /// Token texts by id, plus byte-exact lookup.
    let table: ByteStringTable
    /// SentencePiece scores (0 when the file has none).
    let scores: [Float]
    /// Token kinds after llama.cpp's load-time overrides.
    let kinds: [TokenKind]

    var count: Int { kinds.count }

    init(table: ByteStringTable, scores: [Float], kinds: [TokenKind]) {
        self.table = table
        self.scores = scores
        self.kinds = kinds
    }

    /// The id whose text is exactly `bytes`, or -1.
    @inline(__always)
    func id(_ bytes: UnsafeBufferPointer<UInt8>) -> Int { table.lookup(bytes) }

    /// The id whose text is exactly `bytes`, or -1.
    func id(_ bytes: [UInt8]) -> Int { table.lookup(bytes) }

    /// The id whose text is exactly `text`, or -1.
    func id(_ text: String) -> Int { id(Array(text.utf8)) }

    /// The raw text bytes of a token.
    func text(_ id: Int) -> ArraySlice<UInt8> { table.bytes(id) }
}
