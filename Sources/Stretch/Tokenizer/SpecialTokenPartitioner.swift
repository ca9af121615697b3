/// Splits text into raw fragments and special-token ids before per-fragment tokenization, with the
/// same result as llama.cpp's `tokenizer_st_partition`.
///
/// llama.cpp takes the special tokens one at a time, longest text first, and cuts every
/// non-overlapping occurrence (leftmost first) out of the text fragments still unclaimed. Here all
/// occurrences are found in one pass with a byte trie, then accepted in that same priority order.
/// User-defined tokens always take part; control and unknown tokens only with `parseSpecial`.
struct SpecialTokenPartitioner {
    /// A piece of the partitioned text.
    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    private struct Entry {
        let id: Int
        let length: Int
        let alwaysActive: Bool
    }

    /// Tokens in llama.cpp's processing order (longest text first; equal lengths by id).
    private let entries: [Entry]
    /// Trie edges: key `node << 8 | byte` → child node.
    private let edges: [Int: Int32]
    /// Root children by first byte (-1: none), to skip most positions quickly.
    private let rootChildren: [Int32]
    /// Per node: index into `entries` of the token ending there, or -1.
    private let terminal: [Int32]

    init(vocab: Vocabulary) {
        var ids: [Int] = []
        for id in 0..<vocab.count {
            switch vocab.kinds[id] {
            case .control, .userDefined, .unknown:
                if vocab.table.length(id) > 0 { ids.append(id) }
            default: break
            }
        }
        ids.sort { a, b in
            let la = vocab.table.length(a), lb = vocab.table.length(b)
            return la != lb ? la > lb : a < b
        }
        entries = ids.map { Entry(id: $0, length: vocab.table.length($0), alwaysActive: vocab.kinds[$0] == .userDefined) }

        var edges: [Int: Int32] = [:]
        var terminal: [Int32] = [-1]
        var root = [Int32](repeating: -1, count: 256)
        for (index, entry) in entries.enumerated() {
            var node = 0
            for b in vocab.text(entry.id) {
                let key = node << 8 | Int(b)
                if let child = edges[key] {
                    node = Int(child)
                } else {
                    let child = terminal.count
                    terminal.append(-1)
                    edges[key] = Int32(child)
                    if node == 0 { root[Int(b)] = Int32(child) }
                    node = child
                }
            }
            if terminal[node] < 0 { terminal[node] = Int32(index) }
        }
        self.edges = edges
        self.terminal = terminal
        self.rootChildren = root
    }

    /// Whether any token could ever be cut out (with or without `parseSpecial`).
    var isEmpty: Bool { entries.isEmpty }

    /// Partitions `text` into fragments.
    func partition(_ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        let n = text.count
        guard n > 0 else { return [] }
        // (priority, position) of every occurrence of an active token.
        var occurrences: [(priority: Int32, position: Int32)] = []
        for start in 0..<n {
            var node = Int(rootChildren[Int(text[start])])
            if node < 0 { continue }
            var k = start + 1
            while true {
                let t = terminal[node]
                if t >= 0 && (parseSpecial || entries[Int(t)].alwaysActive) {
                    occurrences.append((t, Int32(start)))
                }
                if k >= n { break }
                guard let child = edges[node << 8 | Int(text[k])] else { break }
                node = Int(child)
                k += 1
            }
        }
        guard !occurrences.isEmpty else { return [.text(0..<n)] }
        occurrences.sort { $0.priority != $1.priority ? $0.priority < $1.priority : $0.position < $1.position }

        var claimed = [Bool](repeating: false, count: n)
        var accepted: [(position: Int, length: Int, id: Int)] = []
        for occurrence in occurrences {
            let entry = entries[Int(occurrence.priority)]
            let p = Int(occurrence.position)
            var free = true
            for k in p..<(p + entry.length) where claimed[k] { free = false; break }
            if !free { continue }
            for k in p..<(p + entry.length) { claimed[k] = true }
            accepted.append((p, entry.length, entry.id))
        }
        accepted.sort { $0.position < $1.position }

        var fragments: [Fragment] = []
        var cursor = 0
        for a in accepted {
            if a.position > cursor { fragments.append(.text(cursor..<a.position)) }
            fragments.append(.token(a.id))
            cursor = a.position + a.length
        }
        if cursor < n { fragments.append(.text(cursor..<n)) }
        return fragments
    }
}
