/// A line chart: one line per series, axes with ticks and labels, a legend, and vertical markers.
///
/// Used for NLL/perplexity against position, with a marker at the trained context L.
public struct LinePlot: Sendable {
    /// One line of the chart.
    public struct Series: Sendable {
        /// Legend text.
        public var name: String
        /// Points in data units; a nil `y` leaves a gap in the line.
        public var points: [(x: Double, y: Double?)]

        /// Creates a series.
        public init(name: String, points: [(x: Double, y: Double?)]) {
            self.name = name
            self.points = points
        }
    }

    /// A dashed vertical line at `x` with a label at its top.
    public struct Marker: Sendable {
        /// Position in data units.
        public var x: Double
        /// Label drawn beside the line.
        public var label: String

        /// Creates a marker.
        public init(x: Double, label: String) {
            self.x = x
            self.label = label
        }
    }

    /// Chart title (top).
    public var title: String
    /// X-axis label.
    public var xLabel: String
    /// Y-axis label.
    public var yLabel: String
    /// Lines to draw, in legend order.
    public var series: [Series]
    /// Vertical markers.
    public var markers: [Marker] = []
    /// Y-axis spacing (log for perplexity spanning decades).
    public var yScale: AxisScale.Kind = .linear
    /// Smallest x the axis must show (e.g. 0 for positions), if any.
    public var xFloor: Double?
    /// When set, x ticks are this value times a power of two (e.g. the trained context for positions).
    public var xTickBase: Double?
    /// Smallest y the axis must show (e.g. 0 for NLL), if any.
    public var yFloor: Double?
    /// Drawing width in pixels.
    public var width: Double = 760
    /// Drawing height in pixels.
    public var height: Double = 440

    /// Line colours, cycled (Tableau 10).
    public static let palette = [
        "#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    /// Creates a chart.
    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// The plotting area in pixels: left, top, right, bottom.
    public var plotArea: (left: Double, top: Double, right: Double, bottom: Double) {
        (72, 44, width - 190, height - 56)
    }

    /// The axes this chart will draw, covering every finite point and marker.
    public func axes() -> (x: AxisScale, y: AxisScale) {
        let xs =
            series.flatMap { $0.points.map(\.x) }.filter(\.isFinite) + markers.map(\.x) + (xFloor.map { [$0] } ?? [])
        var ys = series.flatMap { $0.points.compactMap(\.y) }.filter(\.isFinite)
        if yScale == .log { ys = ys.filter { $0 > 0 } }
        if let yFloor { ys.append(yFloor) }
        let a = plotArea
        let x = AxisScale(
            minimum: xs.min() ?? 0, maximum: xs.max() ?? 1, tickCount: 9, pixels: a.left...a.right,
            stepBase: xTickBase)
        let y = AxisScale(
            kind: yScale, minimum: ys.min() ?? 0, maximum: ys.max() ?? 1, tickCount: 6,
            pixels: a.top...a.bottom, flipped: true)
        return (x, y)
    }

    /// Renders the chart as a standalone SVG document.
    public func svg() -> String {
        let (xAxis, yAxis) = axes()
        let a = plotArea
        var doc = SVGDocument(width: width, height: height)
        doc.text(title, x: (a.left + a.right) / 2, y: 24, size: 15, anchor: .middle, bold: true)

        doc.beginGroup(id: "grid")
        for t in yAxis.ticks {
            let y = yAxis.pixel(t)
            doc.line(x1: a.left, y1: y, x2: a.right, y2: y, stroke: "#e5e5e5")
        }
        for t in xAxis.ticks {
            let x = xAxis.pixel(t)
            doc.line(x1: x, y1: a.top, x2: x, y2: a.bottom, stroke: "#f0f0f0")
        }
        doc.endGroup()

        doc.beginGroup(id: "x-axis")
        doc.line(x1: a.left, y1: a.bottom, x2: a.right, y2: a.bottom, stroke: "#333")
        for t in xAxis.ticks {
            let x = xAxis.pixel(t)
            doc.line(x1: x, y1: a.bottom, x2: x, y2: a.bottom + 5, stroke: "#333")
            doc.text(xAxis.label(t), x: x, y: a.bottom + 19, size: 11, anchor: .middle)
        }
        doc.text(xLabel, x: (a.left + a.right) / 2, y: height - 14, size: 13, anchor: .middle)
        doc.endGroup()

        doc.beginGroup(id: "y-axis")
        doc.line(x1: a.left, y1: a.top, x2: a.left, y2: a.bottom, stroke: "#333")
        for t in yAxis.ticks {
            let y = yAxis.pixel(t)
            doc.line(x1: a.left - 5, y1: y, x2: a.left, y2: y, stroke: "#333")
            doc.text(yAxis.label(t), x: a.left - 8, y: y + 4, size: 11, anchor: .end)
        }
        doc.text(yLabel, x: 18, y: (a.top + a.bottom) / 2, size: 13, anchor: .middle, rotate: -90)
        doc.endGroup()

        doc.beginGroup(id: "markers")
        for m in markers {
            let x = xAxis.pixel(m.x)
            doc.line(x1: x, y1: a.top, x2: x, y2: a.bottom, stroke: "#555", strokeWidth: 1.2, dash: "6,4")
            doc.text(m.label, x: x + 4, y: a.top + 12, size: 11, fill: "#555")
        }
        doc.endGroup()

        doc.beginGroup(id: "series")
        for (k, s) in series.enumerated() {
            let colour = Self.palette[k % Self.palette.count]
            // Split at gaps (nil or non-positive on a log axis) so a line never bridges missing data.
            var run: [(x: Double, y: Double)] = []
            func flush() {
                if run.count == 1 { doc.circle(cx: run[0].x, cy: run[0].y, r: 2.5, fill: colour) }
                if run.count > 1 { doc.polyline(run, stroke: colour, strokeWidth: 2) }
                run.removeAll()
            }
            for p in s.points {
                guard let y = p.y, y.isFinite, yScale == .linear || y > 0 else {
                    flush()
                    continue
                }
                run.append((xAxis.pixel(p.x), yAxis.pixel(y)))
            }
            flush()
        }
        doc.endGroup()

        doc.beginGroup(id: "legend")
        let lx = a.right + 16
        for (k, s) in series.enumerated() {
            let y = a.top + 8 + Double(k) * 20
            doc.line(x1: lx, y1: y, x2: lx + 22, y2: y, stroke: Self.palette[k % Self.palette.count], strokeWidth: 3)
            doc.text(s.name, x: lx + 28, y: y + 4, size: 11)
        }
        doc.endGroup()
        return doc.render()
    }
}
