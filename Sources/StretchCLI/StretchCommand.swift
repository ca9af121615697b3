import ArgumentParser

/// `stretch`: run RoPE language models past their trained context, on CPU.
@main
struct StretchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stretch",
        abstract: "Run GGUF language models on CPU, past their trained context with Self-Extend.",
        subcommands: [
            GenerateCommand.self, ChatCommand.self, InspectCommand.self, TokenizeCommand.self, PerplexityCommand.self,
            PasskeyCommand.self, BenchCommand.self, ServeCommand.self,
        ],
        defaultSubcommand: nil
    )

    /// Parses and runs the subcommand; library errors are printed with the flags that fix them.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: ErrorHints.withHint(error))
        }
    }
}
