/// The lexical category of a ``JinjaToken``.
enum JinjaTokenKind: Sendable, Equatable {
    /// Literal template text outside of tags.
    case text(String)
    /// `{{`.
    case variableBegin
    /// `}}`.
    case variableEnd
    /// `{%`.
    case blockBegin
    /// `%}`.
    case blockEnd
    /// An identifier or keyword.
    case name(String)
    /// A string literal, escapes already decoded.
    case string(String)
    /// An integer literal.
    case integer(Int)
    /// A float literal.
    case float(Double)
    /// An operator or punctuation symbol.
    case op(String)
    /// The end of the template.
    case eof
}
