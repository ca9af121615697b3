/// A 1-based line and column inside a template's source text.
public struct JinjaSourceLocation: Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line number.
    public let line: Int
    /// The 1-based column, counted in characters.
    public let column: Int

    /// Creates a location from a line and a column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The location formatted as `line:column`.
    public var description: String { "\(line):\(column)" }
}
