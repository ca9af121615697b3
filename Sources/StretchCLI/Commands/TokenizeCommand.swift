import ArgumentParser
import Foundation
import Stretch

/// `stretch tokenize`: print token ids as a JSON array, like llama.cpp's `llama-tokenize --ids`.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text as a JSON array.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: [.customShort("p"), .customLong("prompt")], help: "Text to tokenize.") var prompt: String?
    @Option(name: [.customShort("f"), .customLong("file")], help: "Read the text from a file.") var file: String?
    @Flag(name: .customLong("pieces"), help: "Print [id, piece] pairs instead of bare ids.") var pieces = false
    @Flag(name: .customLong("no-bos"), help: "Do not add the BOS token even if the model asks for it.") var noBOS = false
    @Flag(name: .customLong("parse-special"), help: "Turn special-token text such as <|im_start|> into its id.")
    var parseSpecial = false

    func validate() throws {
        if (prompt == nil) == (file == nil) { throw ValidationError("give the text with exactly one of -p or -f") }
    }

    func run() throws {
        let gguf = try modelOptions.openFile()
        let tokenizer = try Tokenizer(gguf: gguf)
        let text = try prompt ?? CommandSupport.readText(file!)
        let ids = tokenizer.encode(text, addSpecial: !noBOS, parseSpecial: parseSpecial)
        if pieces {
            let items = ids.map { id -> String in
                let data = try! JSONSerialization.data(withJSONObject: [tokenizer.piece(id)], options: [.withoutEscapingSlashes])
                let quoted = String(decoding: data, as: UTF8.self).dropFirst().dropLast()
                return "[\(id), \(quoted)]"
            }
            Console.out("[" + items.joined(separator: ", ") + "]\n")
        } else {
            Console.out("[" + ids.map(String.init).joined(separator: ", ") + "]\n")
        }
    }
}
