#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process memory figures.
public enum MemoryUsage {
    /// Peak resident set size of this process in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        return Int(usage.ru_maxrss)  // bytes on macOS
        #endif
    }

    /// Memory this process can still allocate without swapping, in bytes, or nil when unknown.
    ///
    /// Linux: `MemAvailable` from `/proc/meminfo` (free memory plus reclaimable page cache). macOS: physical
    /// memory (`hw.memsize`), an upper bound, since the kernel's own "available" figure is not public there.
    public static func availableBytes() -> Int? {
        #if os(Linux)
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("MemAvailable:") else { continue }
            let fields = text.split(separator: " ")
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
        #elseif canImport(Darwin)
        var bytes: UInt64 = 0
        var size = MemoryLayout<UInt64>.size
        guard sysctlbyname("hw.memsize", &bytes, &size, nil, 0) == 0 else { return nil }
        return Int(clamping: bytes)
        #else
        return nil
        #endif
    }
}
