/// Per-code-point class bits used by the BPE pre-tokenizers, as llama.cpp's `unicode_cpt_flags`:
/// one general-category bit (letter L*, number N*, punctuation P*, symbol S*, mark M*, control C*
/// other than Cn, separator Z*) plus a separate White_Space bit. Unassigned code points have no bits.
enum PreTokenizerFlags {
    static let letter: UInt8 = 0x01
    static let number: UInt8 = 0x02
    static let punctuation: UInt8 = 0x04
    static let symbol: UInt8 = 0x08
    static let mark: UInt8 = 0x10
    static let control: UInt8 = 0x20
    static let separator: UInt8 = 0x40
    static let whitespace: UInt8 = 0x80

    /// Flags of the ASCII code points, computed once (read the table once per text, not per code point).
    static let ascii: [UInt8] = (0..<128).map { compute(UInt32($0)) }

    /// The flags of a code point, from Swift's Unicode tables.
    static func compute(_ cp: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(cp) else { return 0 }
        let props = scalar.properties
        // Hugging Face's regex engine (Oniguruma, in `tokenizers` 0.23) has Unicode 16.0 and Swift's tables
        // are newer: a code point assigned later is unassigned there, so it is here (TokenizerFuzzTests).
        if let age = props.age, (age.major, age.minor) > (16, 0) { return 0 }
        var bits: UInt8 = props.isWhitespace ? whitespace : 0
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: bits |= letter
        case .decimalNumber, .letterNumber, .otherNumber: bits |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: bits |= punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: bits |= symbol
        case .nonspacingMark, .spacingMark, .enclosingMark: bits |= mark
        case .control, .format, .privateUse, .surrogate: bits |= control
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: bits |= separator
        case .unassigned: break
        @unknown default: break
        }
        return bits
    }
}
