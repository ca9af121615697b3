import Foundation

/// A parsed Jinja template, rendered with jinja2 semantics as configured by Hugging Face transformers.
public struct JinjaTemplate: Sendable {
    private let nodes: [JinjaNode]

    /// Parses `source`; throws ``JinjaError`` for syntax errors and unknown tags.
    public init(source: String) throws(JinjaError) {
        nodes = try JinjaParser.parse(source)
    }

    /// Renders with `context` as the template's variables. `now` and `timeZone` drive `strftime_now`.
    public func render(
        _ context: [String: JinjaValue], now: Date = Date(), timeZone: TimeZone = .current
    ) throws(JinjaError) -> String {
        let renderer = JinjaRenderer(context: context, now: now, timeZone: timeZone)
        _ = try renderer.execute(nodes, in: renderer.root)
        return renderer.output
    }
}
