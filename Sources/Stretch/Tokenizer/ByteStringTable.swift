/// An append-only set of byte strings with dense ids, looked up by exact bytes.
///
/// Token texts are compared as bytes, never as Swift `String`s: `String` equality is canonical
/// equivalence, which would merge distinct vocabulary entries such as precomposed and decomposed "é".
struct ByteStringTable {
    /// All strings, concatenated.
    private(set) var storage: [UInt8] = []
    /// `offsets[i]..<offsets[i+1]` is string `i` in `storage`.
    private(set) var offsets: [Int32] = [0]
    /// Open-addressing slots holding ids, -1 when empty.
    private var slots: [Int32]
    private var mask: Int

    init(expectedCount: Int, expectedBytes: Int = 0) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        storage.reserveCapacity(max(expectedBytes, expectedCount * 6))
        offsets.reserveCapacity(expectedCount + 1)
    }

    /// Number of strings stored.
    var count: Int { offsets.count - 1 }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// Appends `bytes` as the next id. Returns the id of an earlier equal string if there was one
    /// (that earlier id keeps owning the lookup), otherwise nil.
    @discardableResult
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let id = count
        let existing = lookup(bytes)
        storage.append(contentsOf: bytes)
        offsets.append(Int32(storage.count))
        if existing >= 0 { return existing }
        if (count + 1) * 2 > slots.count { rehash(capacity: slots.count * 2) }
        insertSlot(id: id, hash: Self.hash(bytes))
        return nil
    }

    /// Appends a byte array (convenience for small strings).
    @discardableResult
    mutating func append(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    private mutating func insertSlot(id: Int, hash: Int) {
        var i = hash & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(id)
    }

    private mutating func rehash(capacity: Int) {
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        let n = count
        storage.withUnsafeBufferPointer { s in
            for id in 0..<n {
                let start = Int(offsets[id]), end = Int(offsets[id + 1])
                let h = Self.hash(UnsafeBufferPointer(rebasing: s[start..<end]))
                var i = h & mask
                while slots[i] >= 0 {
                    // Keep only the first of equal strings.
                    i = (i + 1) & mask
                }
                slots[i] = Int32(id)
            }
        }
    }

    /// The id of `bytes`, or -1.
    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let n = bytes.count
        var i = Self.hash(bytes) & mask
        return storage.withUnsafeBufferPointer { s -> Int in
            slots.withUnsafeBufferPointer { slots -> Int in
                while true {
                    let id = Int(slots[i])
                    if id < 0 { return -1 }
                    let start = Int(offsets[id])
                    if Int(offsets[id + 1]) - start == n {
                        var equal = true
                        var k = 0
                        while k < n {
                            if s[start + k] != bytes[k] { equal = false; break }
                            k += 1
                        }
                        if equal { return id }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    /// The id of a byte array, or -1.
    func lookup(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { lookup($0) }
    }

    /// The bytes of string `id`.
    func bytes(_ id: Int) -> ArraySlice<UInt8> {
        storage[Int(offsets[id])..<Int(offsets[id + 1])]
    }

    /// Byte length of string `id`.
    func length(_ id: Int) -> Int { Int(offsets[id + 1] - offsets[id]) }
}
