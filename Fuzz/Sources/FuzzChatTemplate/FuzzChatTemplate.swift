import Stretch
import FuzzSupport

/// libFuzzer entry: the bytes up to the first 0 are the template, the rest are messages separated by 0
/// bytes (roles alternate user, assistant). A Jinja error is a correct answer; a crash or hang is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let template = parts.first ?? ""
    let messages = parts.dropFirst().enumerated().map { k, text in
        ChatMessage(role: k % 2 == 0 ? "user" : "assistant", content: text)
    }
    guard let formatter = try? ChatFormatter(ggufTemplate: nil, override: template, bosToken: "<s>", eosToken: "</s>")
    else { return 0 }
    _ = try? formatter.render(messages, addGenerationPrompt: true)
    return 0
}

@_cdecl("FuzzChatTemplate_main")
func fuzzChatTemplateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzDriver.run(argc, argv, fuzzChatTemplate)
}
