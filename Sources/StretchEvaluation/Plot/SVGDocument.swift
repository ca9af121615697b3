import Foundation

/// A minimal SVG 1.1 writer: shapes and text in user units, rendered as one well-formed XML string.
///
/// Only what the plots need: rectangles, lines, polylines, circles, text and groups. Every attribute
/// value and text node is escaped, and numbers are written with at most two decimals, so the output
/// is stable enough to compare in tests.
public struct SVGDocument: Sendable {
    /// Width of the drawing in pixels.
    public let width: Double
    /// Height of the drawing in pixels.
    public let height: Double
    /// Font family used by every text element.
    public var fontFamily = "Helvetica, Arial, sans-serif"
    private var elements: [String] = []
    private var depth = 0

    /// Creates an empty drawing of `width` × `height` pixels.
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Formats a coordinate or size: integers without a fraction, otherwise at most two decimals.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        var s = String(format: "%.2f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    /// Escapes `&`, `<`, `>`, `"` and `'` for use in XML text and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func attributes(_ attrs: KeyValuePairs<String, String?>) -> String {
        attrs.compactMap { k, v in v.map { " \(k)=\"\(escape($0))\"" } }.joined()
    }

    private mutating func append(_ line: String) {
        elements.append(String(repeating: "  ", count: depth + 1) + line)
    }

    /// A filled and/or stroked rectangle.
    public mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String = "none", stroke: String? = nil,
        strokeWidth: Double? = nil, title: String? = nil
    ) {
        let a = Self.attributes([
            "x": Self.number(x), "y": Self.number(y), "width": Self.number(max(0, width)),
            "height": Self.number(max(0, height)), "fill": fill, "stroke": stroke,
            "stroke-width": strokeWidth.map(Self.number),
        ])
        if let title {
            append("<rect\(a)><title>\(Self.escape(title))</title></rect>")
        } else {
            append("<rect\(a)/>")
        }
    }

    /// A straight line segment.
    public mutating func line(
        x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, strokeWidth: Double = 1,
        dash: String? = nil
    ) {
        append(
            "<line"
                + Self.attributes([
                    "x1": Self.number(x1), "y1": Self.number(y1), "x2": Self.number(x2), "y2": Self.number(y2),
                    "stroke": stroke, "stroke-width": Self.number(strokeWidth), "stroke-dasharray": dash,
                ]) + "/>")
    }

    /// An open polyline through `points`.
    public mutating func polyline(
        _ points: [(x: Double, y: Double)], stroke: String, strokeWidth: Double = 1.5, dash: String? = nil
    ) {
        guard !points.isEmpty else { return }
        let p = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        append(
            "<polyline"
                + Self.attributes([
                    "points": p, "fill": "none", "stroke": stroke, "stroke-width": Self.number(strokeWidth),
                    "stroke-linejoin": "round", "stroke-dasharray": dash,
                ]) + "/>")
    }

    /// A filled circle.
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String) {
        append(
            "<circle"
                + Self.attributes([
                    "cx": Self.number(cx), "cy": Self.number(cy), "r": Self.number(r), "fill": fill,
                ]) + "/>")
    }

    /// Horizontal text alignment relative to the anchor point.
    public enum TextAnchor: String, Sendable {
        /// Text starts at the point.
        case start
        /// Text is centred on the point.
        case middle
        /// Text ends at the point.
        case end
    }

    /// A text label whose baseline starts, centres or ends at (`x`, `y`); `rotate` turns it about that point.
    public mutating func text(
        _ s: String, x: Double, y: Double, size: Double = 12, anchor: TextAnchor = .start, fill: String = "#222",
        bold: Bool = false, rotate: Double? = nil
    ) {
        let a = Self.attributes([
            "x": Self.number(x), "y": Self.number(y), "font-size": Self.number(size), "text-anchor": anchor.rawValue,
            "fill": fill, "font-weight": bold ? "bold" : nil,
            "transform": rotate.map { "rotate(\(Self.number($0)) \(Self.number(x)) \(Self.number(y)))" },
        ])
        append("<text\(a)>\(Self.escape(s))</text>")
    }

    /// Opens a `<g>` group (close it with ``endGroup()``); `id` names it for tests and stylesheets.
    public mutating func beginGroup(id: String? = nil, className: String? = nil) {
        append("<g" + Self.attributes(["id": id, "class": className]) + ">")
        depth += 1
    }

    /// Closes the innermost group.
    public mutating func endGroup() {
        precondition(depth > 0, "endGroup() without beginGroup()")
        depth -= 1
        append("</g>")
    }

    /// The complete document, with an XML declaration, a white background and every open group closed.
    public func render() -> String {
        var doc = self
        while doc.depth > 0 { doc.endGroup() }
        let w = Self.number(width)
        let h = Self.number(height)
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(w)\" height=\"\(h)\" "
        s += "viewBox=\"0 0 \(w) \(h)\" font-family=\"\(Self.escape(fontFamily))\">\n"
        s += "  <rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"white\"/>\n"
        s += doc.elements.joined(separator: "\n")
        s += doc.elements.isEmpty ? "</svg>\n" : "\n</svg>\n"
        return s
    }
}
