/// One frame of variables. Loops and macros get child frames, so their assignments do not leak out,
/// exactly as jinja2 scopes them.
final class JinjaScope {
    private var variables: [String: JinjaValue] = [:]
    private let parent: JinjaScope?

    /// Creates a frame whose lookups fall back to `parent`.
    init(parent: JinjaScope?) {
        self.parent = parent
    }

    /// Finds a variable in this frame or its ancestors.
    func lookup(_ name: String) -> JinjaValue? {
        var scope: JinjaScope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }

    /// Defines or overwrites a variable in this frame.
    func set(_ name: String, _ value: JinjaValue) {
        variables[name] = value
    }
}
