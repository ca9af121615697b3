/// A parsed Jinja expression.
indirect enum JinjaExpression: Sendable {
    /// A constant (string, number, boolean, none).
    case literal(JinjaValue)
    /// A variable lookup.
    case name(String, JinjaSourceLocation)
    /// `[a, b]`.
    case list([JinjaExpression])
    /// `(a, b)` or a bare `a, b`.
    case tuple([JinjaExpression])
    /// `{k: v}`.
    case dict([JinjaExpression], [JinjaExpression])
    /// `obj.name`.
    case attribute(JinjaExpression, String, JinjaSourceLocation)
    /// `obj[key]`.
    case item(JinjaExpression, JinjaExpression, JinjaSourceLocation)
    /// `obj[start:stop:step]`.
    case slice(JinjaExpression, JinjaExpression?, JinjaExpression?, JinjaExpression?, JinjaSourceLocation)
    /// `callee(args, name=value)`.
    case call(JinjaExpression, JinjaArguments, JinjaSourceLocation)
    /// `value | name(args)`.
    case filter(JinjaExpression, String, JinjaArguments, JinjaSourceLocation)
    /// `value is [not] name(args)`.
    case test(JinjaExpression, String, JinjaArguments, negated: Bool, JinjaSourceLocation)
    /// Unary `-`, `+` or `not`.
    case unary(String, JinjaExpression, JinjaSourceLocation)
    /// Binary arithmetic, `~`, `and`, `or`.
    case binary(String, JinjaExpression, JinjaExpression, JinjaSourceLocation)
    /// A (possibly chained) comparison: `a < b <= c`, `in`, `not in`.
    case compare(JinjaExpression, [String], [JinjaExpression], JinjaSourceLocation)
    /// `then if test else otherwise` (`otherwise` may be missing, yielding undefined).
    case conditional(test: JinjaExpression, then: JinjaExpression, otherwise: JinjaExpression?)
}
