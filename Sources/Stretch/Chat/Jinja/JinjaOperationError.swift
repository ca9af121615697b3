/// A location-free failure inside a value operation; the renderer attaches the source position.
enum JinjaOperationError: Error, Sendable {
    /// A Python `TypeError`/`ValueError` equivalent.
    case type(String)
    /// An operation on `Undefined` (jinja2's `UndefinedError`), with the undefined value's hint.
    case undefined(String)
    /// A construct this interpreter does not implement.
    case unsupported(String)
}
