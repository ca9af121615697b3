/// Bounds on one render, so a template from an untrusted GGUF cannot recurse, loop or grow without end.
///
/// Real chat templates stay orders of magnitude below each: they render a few kilobytes, nest macros a few
/// levels (tool schemas), and run a few thousand nodes.
enum JinjaLimits {
    /// Longest string (UTF-8 bytes) or rendered output a render may build: far above any context window.
    static let maxStringBytes = 16 << 20
    /// Most items a list built by `+`, `*` or a filter may hold.
    static let maxListItems = 1 << 20
    /// Deepest macro call nesting (Python's own limit is ~1,000 frames; engine threads have small stacks).
    static let maxCallDepth = 64
    /// Most template nodes and loop iterations executed in one render (~5 µs each: a runaway loop stops within
    /// seconds; a 1,000-message conversation with tools needs ~100k).
    static let maxSteps = 500_000

    /// Checks a string about to be built.
    static func checkString(bytes: Int) throws(JinjaOperationError) {
        if bytes > maxStringBytes {
            throw .type("the result would be \(bytes) bytes, more than the \(maxStringBytes)-byte limit of a render")
        }
    }

    /// Checks a list about to be built.
    static func checkList(items: Int) throws(JinjaOperationError) {
        if items > maxListItems {
            throw .type("the result would have \(items) items, more than the \(maxListItems)-item limit of a render")
        }
    }
}
