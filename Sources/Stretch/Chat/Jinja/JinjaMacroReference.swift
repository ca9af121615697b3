/// An opaque handle to a macro defined in a template, stored inside values.
public struct JinjaMacroReference: Sendable {
    /// The macro definition.
    let macro: JinjaMacro
    /// The `caller` macro when this is invoked from a `{% call %}` block.
    let caller: JinjaMacro?
}
