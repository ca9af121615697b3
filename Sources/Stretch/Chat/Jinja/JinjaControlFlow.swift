/// How a rendered statement finished, so `break`/`continue` can unwind to the enclosing loop.
enum JinjaControlFlow {
    /// Normal completion.
    case normal
    /// A `{% break %}` was executed.
    case breakLoop
    /// A `{% continue %}` was executed.
    case continueLoop
}
