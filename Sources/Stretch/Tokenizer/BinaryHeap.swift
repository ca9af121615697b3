/// A minimal array-backed binary heap (the top is the element that precedes all others).
struct BinaryHeap<Element: HeapElement> {
    private(set) var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func reserve(_ n: Int) { items.reserveCapacity(n) }

    mutating func push(_ e: Element) {
        items.append(e)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) >> 1
            if Element.precedes(items[child], items[parent]) {
                items.swapAt(child, parent)
                child = parent
            } else {
                break
            }
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            let n = items.count
            while true {
                let l = 2 * parent + 1
                if l >= n { break }
                var best = l
                let r = l + 1
                if r < n && Element.precedes(items[r], items[l]) { best = r }
                if Element.precedes(items[best], items[parent]) {
                    items.swapAt(best, parent)
                    parent = best
                } else {
                    break
                }
            }
        }
        return top
    }
}
