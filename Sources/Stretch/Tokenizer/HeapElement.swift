/// An element of a ``BinaryHeap``: `precedes` is true when `a` must be popped before `b`.
protocol HeapElement {
    static func precedes(_ a: Self, _ b: Self) -> Bool
}
