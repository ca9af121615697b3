/// The left-hand side of a `set` or the loop variables of a `for`.
indirect enum JinjaTarget: Sendable {
    /// A plain variable name.
    case name(String)
    /// `namespace.attribute`, which writes through to a namespace object.
    case namespaceAttribute(String, String)
    /// Tuple unpacking: `a, b` or `(a, b)`.
    case tuple([JinjaTarget])
}
