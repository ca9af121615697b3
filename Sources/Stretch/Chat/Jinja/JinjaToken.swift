/// One token produced by ``JinjaLexer``, with the position where it starts.
struct JinjaToken: Sendable, Equatable {
    /// What the token is.
    let kind: JinjaTokenKind
    /// Where the token starts in the source.
    let location: JinjaSourceLocation
}
