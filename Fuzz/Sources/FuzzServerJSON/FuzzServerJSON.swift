import Foundation
import StretchServer
import FuzzSupport

/// libFuzzer entry: a request body as the server receives it, decoded for each completion endpoint.
/// A 400-style error is a correct answer; a crash or hang is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServerJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = size == 0 ? Data() : Data(bytes: data!, count: size)
    _ = try? RequestDecoding.check(body)
    return 0
}

@_cdecl("FuzzServerJSON_main")
func fuzzServerJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzServerJSON)
}
