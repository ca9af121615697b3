/// The positional and keyword arguments of a call, filter or test.
struct JinjaArguments: Sendable {
    /// Positional arguments, in order.
    var positional: [JinjaExpression] = []
    /// Keyword arguments, in source order.
    var keywords: [(String, JinjaExpression)] = []
}
