import Foundation
import XCTest

/// A real `stretch serve` started on a free loopback port (`--port 0`; the bound port is read from its
/// "listening on" line), stopped with SIGTERM.
final class ServerProcess: @unchecked Sendable {
    // @unchecked Sendable: `log` is only touched under `lock`; the rest is set once in init.
    let process = Process()
    private(set) var port = 0
    private let lock = NSLock()
    private var log = Data()

    /// Starts `stretch serve ARGS --port 0` and waits until it listens and, unless `waitForModel` is
    /// false, until its model is loaded.
    init(
        _ arguments: [String], environment: [String: String] = [:], waitForModel: Bool = true,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        process.executableURL = CLIRunner.binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        process.currentDirectoryURL = TestFiles.repositoryRoot
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.withLock { self.log.append(data) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let range = stderr.range(of: "listening on http://127.0.0.1:") {
                let digits = stderr[range.upperBound...].prefix { $0.isNumber }
                port = Int(digits) ?? 0
                break
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard port > 0 else {
            if process.isRunning { process.terminate() }
            throw ServerFailed(description: "stretch serve did not start: \(stderr)")
        }
        if waitForModel { try waitUntilLoaded(deadline: deadline) }
    }

    /// Waits for the "model loaded" line.
    func waitUntilLoaded(deadline: Date = Date().addingTimeInterval(120)) throws {
        while Date() < deadline {
            if stderr.contains("model loaded: ready") { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning { process.terminate() }
        throw ServerFailed(description: "stretch serve did not load its model: \(stderr)")
    }

    struct ServerFailed: Error, CustomStringConvertible { let description: String }

    /// What the server printed on stderr so far.
    var stderr: String { lock.withLock { String(decoding: log, as: UTF8.self) } }

    /// Sends SIGTERM and returns the exit status.
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func request(
        _ method: String, _ path: String, json: String? = nil, headers: [String: String] = [:]
    ) throws -> HTTPReply {
        try HTTPReply.exchange(method, path, port: port, body: json.map { Data($0.utf8) }, headers: headers)
    }

    /// POSTs `body` (a JSON object) and decodes the JSON answer.
    func post(_ path: String, _ body: [String: Any], headers: [String: String] = [:]) throws -> HTTPReply {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try HTTPReply.exchange("POST", path, port: port, body: data, headers: headers)
    }
}

/// One HTTP/1.1 exchange over a plain loopback socket (`Connection: close`), chunked bodies decoded.
struct HTTPReply {
    let status: Int
    let headers: [String: String]
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    /// The `data:` payloads of a Server-Sent Events body.
    var events: [String] {
        text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }
    var eventObjects: [[String: Any]] {
        events.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// Opens a connection to 127.0.0.1:`port` (receive timeout 120 s).
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// Writes a request; returns the open socket.
    static func open(
        _ method: String, _ path: String, port: Int, body: Data?, headers: [String: String] = [:]
    ) throws -> Int32 {
        let fd = try connect(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        var bytes = Data((head + "\r\n").utf8)
        if let body { bytes.append(body) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return fd
    }

    static func exchange(
        _ method: String, _ path: String, port: Int, body: Data?, headers: [String: String] = [:]
    ) throws -> HTTPReply {
        let fd = try open(method, path, port: port, body: body, headers: headers)
        defer { close(fd) }
        var raw = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            raw.append(contentsOf: buffer[0..<n])
        }
        return try parse(raw)
    }

    static func parse(_ raw: Data) throws -> HTTPReply {
        guard let split = raw.range(of: Data("\r\n\r\n".utf8)) else { throw POSIXError(.EBADMSG) }
        let lines = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body = Data(raw[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var decoded = Data()
            var rest = body[...]
            while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
                let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
                if size == 0 { break }
                let start = lineEnd.upperBound
                decoded.append(rest[start..<min(start + size, rest.endIndex)])
                rest = rest[min(start + size + 2, rest.endIndex)...]
            }
            body = decoded
        }
        return HTTPReply(status: status, headers: headers, body: body)
    }
}
