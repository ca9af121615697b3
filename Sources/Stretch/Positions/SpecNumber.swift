/// Formats numbers in position specs the way users write them (`4`, not `4.0`).
enum SpecNumber {
    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
