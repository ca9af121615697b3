/// llama.cpp's SentencePiece (`llama` vocabulary) algorithm.
///
/// The text (already whitespace-escaped to U+2581 by the caller) is split into UTF-8 characters;
/// adjacent pairs whose concatenation is a vocabulary entry are merged greedily, best score first
/// (ties: leftmost pair first). Leftover pieces that are not tokens become `<0xXX>` byte tokens.
struct SentencePieceTokenizer {
    let vocab: Vocabulary
    /// `byteTokens[b]` is the id of `<0xXX>` (or of the one-byte string), or the unknown id.
    let byteTokens: [Int]

    init(vocab: Vocabulary, unknownID: Int?) {
        self.vocab = vocab
        var bytes = [Int](repeating: unknownID ?? 0, count: 256)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in 0..<256 {
            let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]  // "<0xXX>"
            var id = vocab.id(name)
            if id < 0 { id = vocab.id([UInt8(b)]) }
            if id >= 0 { bytes[b] = id }
        }
        byteTokens = bytes
    }

    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
    }

    private struct Bigram: HeapElement {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        @inline(__always)
        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    /// Tokenizes escaped text, appending ids to `output`.
    func tokenize(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        let n = text.count
        guard n > 0 else { return }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(n)
        var offset = 0
        var index: Int32 = 0
        while offset < n {
            let lead = text[offset]
            let width: Int = lead < 0xC0 ? 1 : (lead < 0xE0 ? 2 : (lead < 0xF0 ? 3 : 4))
            let len = min(width, n - offset)
            offset += len
            symbols.append(Symbol(start: Int32(offset - len), length: Int32(len),
                                  prev: index - 1, next: offset == n ? -1 : index + 1))
            index += 1
        }

        var queue = BinaryHeap<Bigram>()
        queue.reserve(symbols.count)

        symbols.withUnsafeMutableBufferPointer { sym in
            @inline(__always)
            func tryAdd(_ left: Int32, _ right: Int32) {
                if left < 0 || right < 0 { return }
                let start = Int(sym[Int(left)].start)
                let size = Int(sym[Int(left)].length + sym[Int(right)].length)
                let id = vocab.id(UnsafeBufferPointer(rebasing: text[start..<(start + size)]))
                if id < 0 { return }
                queue.push(Bigram(score: vocab.scores[id], left: left, right: right, size: Int32(size)))
            }

            for i in 1..<max(1, sym.count) { tryAdd(Int32(i - 1), Int32(i)) }

            while let bigram = queue.pop() {
                let l = Int(bigram.left), r = Int(bigram.right)
                if sym[l].length == 0 || sym[r].length == 0 || sym[l].length + sym[r].length != bigram.size {
                    continue
                }
                sym[l].length += sym[r].length
                sym[r].length = 0
                sym[l].next = sym[r].next
                if sym[r].next >= 0 { sym[Int(sym[r].next)].prev = bigram.left }
                tryAdd(sym[l].prev, bigram.left)
                tryAdd(bigram.left, sym[l].next)
            }

            var i = 0
            while i != -1 {
                let s = sym[i]
                let start = Int(s.start), len = Int(s.length)
                let id = vocab.id(UnsafeBufferPointer(rebasing: text[start..<(start + len)]))
                if id >= 0 {
                    output.append(id)
                } else {
                    // Only unmerged single characters can miss the vocabulary: fall back to bytes.
                    for k in start..<(start + len) { output.append(byteTokens[Int(text[k])]) }
                }
                i = Int(s.next)
            }
        }
    }
}
