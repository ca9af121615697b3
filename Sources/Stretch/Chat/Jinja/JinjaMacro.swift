/// A macro definition: a named, callable template fragment.
struct JinjaMacro: Sendable {
    /// The macro's name.
    let name: String
    /// Parameter names, in order.
    let parameters: [String]
    /// Default value expressions, aligned with `parameters` (nil where there is no default).
    let defaults: [JinjaExpression?]
    /// The macro body.
    let body: [JinjaNode]
    /// Where the macro is defined.
    let location: JinjaSourceLocation
}
