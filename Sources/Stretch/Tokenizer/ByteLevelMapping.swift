/// GPT-2's reversible byte ↔ printable-character mapping used by byte-level BPE vocabularies.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves; the remaining 68 bytes map,
/// in byte order, to U+0100, U+0101, …, so every byte has a visible, single-character stand-in.
enum ByteLevelMapping {
    /// `scalar[b]` is the code point standing for byte `b`.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var extra: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = 256 + extra
                extra += 1
            }
        }
        return table
    }()

    /// UTF-8 encoding of the stand-in character of each byte.
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

    /// The byte a stand-in code point represents, or nil if it is not part of the mapping.
    static func byte(for scalar: UInt32) -> UInt8? {
        if scalar < 0x100 {
            let b = Int(scalar)
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            return printable ? UInt8(b) : nil
        }
        return byteForExtra[Int(scalar)]
    }

    private static let byteForExtra: [Int: UInt8] = {
        var map: [Int: UInt8] = [:]
        for b in 0..<256 where scalarForByte[b] >= 256 { map[Int(scalarForByte[b])] = UInt8(b) }
        return map
    }()

    /// Decodes a byte-level token text back into raw bytes. Characters outside the mapping are
    /// kept as their own UTF-8 (llama.cpp would print an `[UNK_BYTE_…]` marker).
    static func decode(_ text: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var it = text.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case let .scalarValue(s):
                if let b = byte(for: s.value) {
                    out.append(b)
                } else {
                    out.append(contentsOf: String(s).utf8)
                }
            case .emptyInput:
                return
            case .error:
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
        }
    }
}
