import Foundation

/// A grid of coloured cells (rows × columns) with a colour bar, like needle-in-a-haystack charts.
///
/// Values run from ``minimum`` (red) through the middle (yellow) to ``maximum`` (green); a nil value
/// is drawn grey and labelled "n/a".
public struct Heatmap: Sendable {
    /// Chart title.
    public var title: String
    /// Label under the column labels.
    public var xLabel: String
    /// Label beside the row labels.
    public var yLabel: String
    /// One label per column, left to right.
    public var columns: [String]
    /// One label per row, top to bottom.
    public var rows: [String]
    /// `values[row][column]`.
    public var values: [[Double?]]
    /// Value drawn red.
    public var minimum: Double = 0
    /// Value drawn green.
    public var maximum: Double = 1
    /// Text drawn in each cell for a value.
    public var cellLabel: @Sendable (Double) -> String = { String(format: "%.0f%%", $0 * 100) }
    /// Colour-bar title.
    public var scaleLabel = "accuracy"
    /// Optional headings over runs of columns, as (label, number of columns), e.g. one per scheme.
    public var columnGroups: [(label: String, count: Int)] = []

    /// Creates a heatmap; `values` must have `rows.count` rows of `columns.count` entries.
    public init(title: String, xLabel: String, yLabel: String, columns: [String], rows: [String], values: [[Double?]]) {
        precondition(
            values.count == rows.count && values.allSatisfy { $0.count == columns.count },
            "heatmap values must be rows × columns")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.columns = columns
        self.rows = rows
        self.values = values
    }

    /// Cell size in pixels.
    public var cellSize: (width: Double, height: Double) {
        (max(48, min(110, 560 / Double(max(1, columns.count)))), max(30, min(60, 320 / Double(max(1, rows.count)))))
    }

    /// The colour for `value`: red → yellow → green between ``minimum`` and ``maximum``.
    public func colour(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "#cccccc" }
        let t = max(0, min(1, (value - minimum) / max(1e-12, maximum - minimum)))
        // Stops: #d73027 (red), #fee08b (yellow), #1a9850 (green).
        let stops: [(Double, Double, Double)] = [(215, 48, 39), (254, 224, 139), (26, 152, 80)]
        let (a, b, u) = t < 0.5 ? (stops[0], stops[1], t * 2) : (stops[1], stops[2], (t - 0.5) * 2)
        func mix(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * u).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// Renders the chart as a standalone SVG document.
    public func svg() -> String {
        let (cw, ch) = cellSize
        let left = 90.0
        let top = columnGroups.isEmpty ? 46.0 : 70.0
        let gridW = cw * Double(columns.count)
        let gridH = ch * Double(rows.count)
        let barH = max(120, gridH)
        let width = left + gridW + 120
        let height = top + max(gridH, barH) + 62
        var doc = SVGDocument(width: width, height: height)
        doc.text(title, x: left + gridW / 2, y: 26, size: 15, anchor: .middle, bold: true)

        doc.beginGroup(id: "cells")
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let x = left + Double(c) * cw
                let y = top + Double(r) * ch
                let text = v.map(cellLabel) ?? "n/a"
                doc.rect(
                    x: x, y: y, width: cw, height: ch, fill: colour(v), stroke: "white", strokeWidth: 1.5,
                    title: "\(rows[r]), \(columns[c]): \(text)")
                doc.text(text, x: x + cw / 2, y: y + ch / 2 + 4, size: 11, anchor: .middle, fill: "#111")
            }
        }
        doc.endGroup()

        if !columnGroups.isEmpty {
            doc.beginGroup(id: "column-groups")
            var c = 0
            for g in columnGroups {
                let x0 = left + Double(c) * cw
                let x1 = left + Double(c + g.count) * cw
                doc.text(g.label, x: (x0 + x1) / 2, y: top - 10, size: 12, anchor: .middle, bold: true)
                doc.line(x1: x0 + 4, y1: top - 4, x2: x1 - 4, y2: top - 4, stroke: "#666")
                c += g.count
            }
            doc.endGroup()
        }

        doc.beginGroup(id: "x-axis")
        for (c, label) in columns.enumerated() {
            doc.text(label, x: left + (Double(c) + 0.5) * cw, y: top + gridH + 18, size: 11, anchor: .middle)
        }
        doc.text(xLabel, x: left + gridW / 2, y: top + gridH + 42, size: 13, anchor: .middle)
        doc.endGroup()

        doc.beginGroup(id: "y-axis")
        for (r, label) in rows.enumerated() {
            doc.text(label, x: left - 8, y: top + (Double(r) + 0.5) * ch + 4, size: 11, anchor: .end)
        }
        doc.text(yLabel, x: 20, y: top + gridH / 2, size: 13, anchor: .middle, rotate: -90)
        doc.endGroup()

        doc.beginGroup(id: "colour-bar")
        let bx = left + gridW + 30
        let steps = 20
        for k in 0..<steps {
            let v = maximum - (maximum - minimum) * (Double(k) + 0.5) / Double(steps)
            doc.rect(
                x: bx, y: top + Double(k) * barH / Double(steps), width: 16, height: barH / Double(steps) + 0.5,
                fill: colour(v))
        }
        doc.rect(x: bx, y: top, width: 16, height: barH, stroke: "#333", strokeWidth: 0.8)
        doc.text(cellLabel(maximum), x: bx + 22, y: top + 10, size: 11)
        doc.text(cellLabel(minimum), x: bx + 22, y: top + barH, size: 11)
        doc.text(scaleLabel, x: bx + 8, y: top - (columnGroups.isEmpty ? 8 : 30), size: 11, anchor: .middle)
        doc.endGroup()
        return doc.render()
    }
}
