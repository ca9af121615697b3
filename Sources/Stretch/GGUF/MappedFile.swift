#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. Weights stay in the page cache, never copied.
// @unchecked: the mapping is read-only (PROT_READ) and unmapped only in deinit.
public final class MappedFile: @unchecked Sendable {
    /// Start of the mapping (nil for an empty file).
    package let base: UnsafeRawPointer?
    /// Size of the file in bytes.
    public let size: Int
    /// Path the file was opened from.
    public let path: String
    /// Whether `base` is an mmap (else a heap copy from ``init(copying:name:)``).
    private let isMapped: Bool

    /// Maps `path` read-only.
    public init(path: String) throws {
        self.path = path
        isMapped = true
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw GGUFError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw GGUFError.cannotOpen(file: path, reason: "is a directory")
        }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw GGUFError.cannotOpen(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    /// A heap copy of `bytes` read as if it were the file `name`: for fuzzing, where each input is parsed
    /// once and an address sanitizer should see every read past its end.
    public init(copying bytes: [UInt8], name: String) {
        path = name
        size = bytes.count
        isMapped = false
        if bytes.isEmpty {
            base = nil
        } else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            base = UnsafeRawPointer(p)
        }
    }

    deinit {
        guard let base else { return }
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: base), size) } else { base.deallocate() }
    }
}
