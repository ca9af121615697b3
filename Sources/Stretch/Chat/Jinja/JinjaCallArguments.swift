/// Evaluated arguments of a filter, test, method or function call.
struct JinjaCallArguments {
    /// Positional values.
    var positional: [JinjaValue]
    /// Keyword values, in source order.
    var keywords: [(String, JinjaValue)]

    /// The argument at `position`, or the keyword argument `name`.
    func value(_ position: Int, _ name: String) -> JinjaValue? {
        if position < positional.count { return positional[position] }
        return keywords.first { $0.0 == name }?.1
    }
}
