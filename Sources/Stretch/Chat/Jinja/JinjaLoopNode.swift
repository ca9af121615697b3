/// The parts of a `for` statement.
struct JinjaLoopNode: Sendable {
    /// The loop variable(s).
    let target: JinjaTarget
    /// The expression iterated over.
    let iterable: JinjaExpression
    /// The optional inline `if` filter.
    let filter: JinjaExpression?
    /// The body rendered per item.
    let body: [JinjaNode]
    /// The body rendered when no item was iterated.
    let otherwise: [JinjaNode]
    /// Where the `for` keyword appears.
    let location: JinjaSourceLocation
}
