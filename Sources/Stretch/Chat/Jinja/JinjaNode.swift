/// A parsed template statement.
indirect enum JinjaNode: Sendable {
    /// Literal text.
    case text(String)
    /// `{{ expression }}`.
    case output(JinjaExpression, JinjaSourceLocation)
    /// `if`/`elif`/`else`: the condition–body pairs, then the else body.
    case conditional([(JinjaExpression, [JinjaNode])], [JinjaNode])
    /// `for target in iterable [if filter] … [else …]`.
    case loop(JinjaLoopNode)
    /// `set target = value`.
    case assign(JinjaTarget, JinjaExpression, JinjaSourceLocation)
    /// `set target [| filters] … endset`.
    case assignBlock(JinjaTarget, [JinjaFilterCall], [JinjaNode], JinjaSourceLocation)
    /// `macro name(params) … endmacro`.
    case macro(JinjaMacro)
    /// `call [(params)] macro(args) … endcall`.
    case callBlock(JinjaMacro, JinjaExpression, JinjaSourceLocation)
    /// `filter f … endfilter`.
    case filterBlock([JinjaFilterCall], [JinjaNode])
    /// A sequence of nodes rendered in place (used for `generation` blocks).
    case group([JinjaNode])
    /// `break`.
    case breakLoop
    /// `continue`.
    case continueLoop
}
