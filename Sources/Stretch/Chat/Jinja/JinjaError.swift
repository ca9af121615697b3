/// An error raised while lexing, parsing or rendering a Jinja template.
public enum JinjaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The template text is not valid Jinja syntax.
    case syntax(String, JinjaSourceLocation)
    /// The template uses a construct (tag, filter, test, method) this interpreter does not implement.
    case unsupported(String, JinjaSourceLocation)
    /// An operation failed at render time (type error, undefined access, bad argument).
    case runtime(String, JinjaSourceLocation)
    /// The template called `raise_exception(message)`.
    case raised(String, JinjaSourceLocation)

    /// The human-readable message, without the location.
    public var message: String {
        switch self {
        case .syntax(let text, _), .unsupported(let text, _), .runtime(let text, _), .raised(let text, _):
            return text
        }
    }

    /// Where in the template source the error happened.
    public var location: JinjaSourceLocation {
        switch self {
        case .syntax(_, let loc), .unsupported(_, let loc), .runtime(_, let loc), .raised(_, let loc):
            return loc
        }
    }

    /// The message followed by ` at line:column`.
    public var description: String {
        switch self {
        case .syntax(let text, let loc): return "syntax error: \(text) at \(loc)"
        case .unsupported(let text, let loc): return "\(text) at \(loc)"
        case .runtime(let text, let loc): return "\(text) at \(loc)"
        case .raised(let text, let loc): return "template raised exception: \(text) at \(loc)"
        }
    }
}
