/// llama.cpp's byte-level BPE (`gpt2` vocabulary) algorithm with the pre-tokenizer named by `tokenizer.ggml.pre`.
///
/// Each pre-tokenized word is mapped byte by byte to GPT-2's printable stand-in characters; adjacent
/// symbols are merged by merge rank (lowest first; ties: leftmost first) until no listed merge applies.
/// Symbols are tracked as ids: vocabulary ids, or "virtual" ids past the vocabulary for merge operands
/// that are not vocabulary entries (never the case in well-formed files, but llama.cpp allows it).
struct BytePairTokenizer {
    let vocab: Vocabulary
    /// How text is split into words before merging.
    let preTokenizer: BytePairPreTokenizer
    /// Id of the stand-in character of each byte.
    private let byteSymbols: [Int32]
    /// Merge table: key `left << 32 | right`, value `rank << 32 | merged`.
    private let merges: [UInt64: UInt64]
    /// Texts of virtual ids (`vocab.count + i`), stored in GPT-2 stand-in form.
    private let virtualTexts: ByteStringTable

    init(vocab: Vocabulary, mergeList: [String], preTokenizer: BytePairPreTokenizer) {
        self.vocab = vocab
        self.preTokenizer = preTokenizer
        var virtual = ByteStringTable(expectedCount: 16)
        let base = vocab.count

        func symbolID(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            let id = vocab.id(bytes)
            if id >= 0 { return id }
            let v = virtual.lookup(bytes)
            if v >= 0 { return base + v }
            virtual.append(bytes)
            return base + virtual.count - 1
        }

        var byteSymbols = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            byteSymbols[b] = ByteLevelMapping.utf8ForByte[b].withUnsafeBufferPointer { Int32(symbolID($0)) }
        }
        self.byteSymbols = byteSymbols

        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergeList.count)
        var joined: [UInt8] = []
        for (rank, merge) in mergeList.enumerated() {
            var merge = merge
            merge.withUTF8 { m in
                // Split at the first space after the first byte (llama.cpp: find(' ', 1)).
                var split = -1
                var k = 1
                while k < m.count {
                    if m[k] == 0x20 { split = k; break }
                    k += 1
                }
                let left: UnsafeBufferPointer<UInt8>
                let right: UnsafeBufferPointer<UInt8>
                if split < 0 {
                    left = UnsafeBufferPointer(rebasing: m[0..<0])
                    right = left
                } else {
                    left = UnsafeBufferPointer(rebasing: m[0..<split])
                    right = UnsafeBufferPointer(rebasing: m[(split + 1)...])
                }
                if left.isEmpty || right.isEmpty { return }
                let l = symbolID(left), r = symbolID(right)
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: left)
                joined.append(contentsOf: right)
                let merged = joined.withUnsafeBufferPointer { symbolID($0) }
                let key = UInt64(l) << 32 | UInt64(r)
                if table[key] == nil {  // first listing wins, as with std::unordered_map::emplace
                    table[key] = UInt64(rank) << 32 | UInt64(merged)
                }
            }
        }
        merges = table
        virtualTexts = virtual
    }

    fileprivate struct Bigram: HeapElement {
        var rank: Int32
        var left: Int32
        var right: Int32
        var leftID: Int32
        var rightID: Int32
        var merged: Int32

        @inline(__always)
        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
    }

    /// Reusable buffers for one encode call.
    struct Scratch {
        fileprivate var ids: [Int32] = []
        fileprivate var prev: [Int32] = []
        fileprivate var next: [Int32] = []
        fileprivate var queue = BinaryHeap<Bigram>()
        /// Word → ids cache (BPE of a word does not depend on its context).
        fileprivate var cache: [[UInt8]: [Int32]] = [:]
        init() {}
    }

    /// Tokenizes one raw text fragment, appending ids to `output`.
    func tokenize(_ text: UnsafeBufferPointer<UInt8>, scratch: inout Scratch, into output: inout [Int]) {
        for word in preTokenizer.split(text) {
            let bytes = UnsafeBufferPointer(rebasing: text[word])
            if bytes.count == 1 {
                appendSymbol(byteSymbols[Int(bytes[0])], into: &output)
                continue
            }
            let key = [UInt8](bytes)
            if let cached = scratch.cache[key] {
                for id in cached { appendSymbol(id, into: &output) }
                continue
            }
            let ids = preTokenizer.ignoresMerges ? (wholeWord(bytes) ?? mergeWord(bytes, scratch: &scratch))
                : mergeWord(bytes, scratch: &scratch)
            if scratch.cache.count > 100_000 { scratch.cache.removeAll(keepingCapacity: true) }
            scratch.cache[key] = ids
            for id in ids { appendSymbol(id, into: &output) }
        }
    }

    @inline(__always)
    private func appendSymbol(_ id: Int32, into output: inout [Int]) {
        let id = Int(id)
        if id < vocab.count {
            output.append(id)
            return
        }
        // A symbol that is not a vocabulary entry: llama.cpp looks up each byte of its stand-in text alone.
        for b in virtualTexts.bytes(id - vocab.count) {
            let single = vocab.id([b])
            if single >= 0 { output.append(single) }
        }
    }

    /// The id of the vocabulary entry spelling the whole word (llama.cpp's `ignore_merges`), if any.
    private func wholeWord(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int32]? {
        var mapped: [UInt8] = []
        mapped.reserveCapacity(bytes.count * 2)
        for b in bytes { mapped.append(contentsOf: ByteLevelMapping.utf8ForByte[Int(b)]) }
        let id = vocab.id(mapped)
        return id >= 0 ? [Int32(id)] : nil
    }

    private func mergeWord(_ bytes: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> [Int32] {
        let n = bytes.count
        scratch.ids.removeAll(keepingCapacity: true)
        scratch.prev.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        for k in 0..<n {
            scratch.ids.append(byteSymbols[Int(bytes[k])])
            scratch.prev.append(Int32(k - 1))
            scratch.next.append(k == n - 1 ? -1 : Int32(k + 1))
        }
        scratch.queue.removeAll()

        @inline(__always)
        func tryAdd(_ l: Int32, _ r: Int32, _ s: inout Scratch) {
            if l < 0 || r < 0 { return }
            let li = s.ids[Int(l)], ri = s.ids[Int(r)]
            guard let v = merges[UInt64(UInt32(li)) << 32 | UInt64(UInt32(ri))] else { return }
            s.queue.push(Bigram(rank: Int32(truncatingIfNeeded: v >> 32), left: l, right: r,
                                leftID: li, rightID: ri, merged: Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)))
        }

        for k in 1..<n { tryAdd(Int32(k - 1), Int32(k), &scratch) }

        while let b = scratch.queue.pop() {
            let l = Int(b.left), r = Int(b.right)
            // Stale if either side has been merged away or changed since the pair was queued.
            if scratch.ids[l] != b.leftID || scratch.ids[r] != b.rightID || scratch.next[l] != b.right { continue }
            scratch.ids[l] = b.merged
            scratch.ids[r] = -1
            let rn = scratch.next[r]
            scratch.next[l] = rn
            if rn >= 0 { scratch.prev[Int(rn)] = b.left }
            scratch.next[r] = -1
            scratch.prev[r] = -1
            tryAdd(scratch.prev[l], b.left, &scratch)
            tryAdd(b.left, rn, &scratch)
        }

        var result: [Int32] = []
        var k: Int32 = 0
        while k >= 0 {
            result.append(scratch.ids[Int(k)])
            k = scratch.next[Int(k)]
        }
        return result
    }
}
