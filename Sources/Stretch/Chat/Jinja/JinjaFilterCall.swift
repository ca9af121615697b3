/// One filter application as written in `{% filter %}` or `{% set x | f %}` headers.
struct JinjaFilterCall: Sendable {
    /// The filter name.
    let name: String
    /// Its arguments (the filtered value is supplied separately).
    let arguments: JinjaArguments
    /// Where the filter name appears.
    let location: JinjaSourceLocation
}
