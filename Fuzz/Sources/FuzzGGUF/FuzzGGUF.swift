import Stretch
import FuzzSupport

/// libFuzzer entry: parse the bytes as a GGUF, then read what a model load reads first.
/// Any thrown error is a correct answer; a crash, sanitizer report, hang or huge allocation is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? GGUFFile(mapping: MappedFile(copying: bytes, name: "fuzz.gguf")) else { return 0 }
    for tensor in file.tensors.prefix(4) where tensor.elementCount <= 1 << 16 {
        _ = file.floats(of: tensor)
    }
    _ = try? ModelConfig(file: file)
    if let tokenizer = try? Tokenizer(gguf: file) {
        let ids = tokenizer.encode("Hello world, héllo ✓ 123", addSpecial: true, parseSpecial: true)
        _ = tokenizer.decode(ids, renderSpecial: true)
    }
    return 0
}

@_cdecl("FuzzGGUF_main")
func fuzzGGUFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzGGUF)
}
