import HTTPTypes
import Hummingbird

/// An error answered as llama-server does: `{"error": {"code": …, "message": …, "type": …}}` with the
/// HTTP status `code`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// What went wrong, for a person.
    public let message: String
    /// llama-server's error type (`invalid_request_error`, `authentication_error`, …).
    public let type: String
    /// Seconds after which a retry may succeed (503 when the queue is full).
    public var retryAfter: Int?

    public var description: String { "\(status.code) \(type): \(message)" }

    static func badRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error")
    }

    static func notSupported(_ field: String) -> APIError {
        APIError(status: .notImplemented, message: "'\(field)' is not supported yet", type: "not_supported_error")
    }

    static let unauthorized = APIError(status: .unauthorized, message: "Invalid API Key", type: "authentication_error")

    static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, message: message, type: "not_found_error")
    }

    static func unavailable(_ message: String, retryAfter: Int? = nil) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "unavailable_error", retryAfter: retryAfter)
    }

    static func server(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error")
    }

    /// The response body.
    var json: JSON {
        .object([
            ("error", .object([("code", .int(status.code)), ("message", .string(message)), ("type", .string(type))]))
        ])
    }
}
