/// A callable runtime value.
public indirect enum JinjaCallable: Sendable {
    /// A global function such as `range` or `raise_exception`.
    case builtin(String)
    /// A method bound to its receiver, such as `message.content.strip`.
    case method(JinjaValue, String)
    /// A user macro (also used for `caller`).
    case macro(JinjaMacroReference)
    /// `loop.cycle`, bound to the current zero-based iteration index.
    case cycle(Int)
}
