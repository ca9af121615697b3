import Stretch
import StretchEvaluation

/// Maps library errors and warnings to the flags that change them. The library speaks of tokens,
/// limits, G, W and L; only the command line knows which flag sets each.
enum ErrorHints {
    /// The flags to try for `error`, or nil when no flag helps.
    static func hint(for error: Error) -> String? {
        switch error {
        case PositionError.sequenceTooLong:
            // Thrown both for a -c above the scheme's maximum and for input longer than -c.
            return "set -c to at most the maximum and at least the tokens needed, or use a larger G (-gan)"
        case let PositionError.invalidParameter(scheme, parameter, _, _) where scheme == "self-extend":
            return parameter.hasPrefix("G") ? "set G with -gan (--grp-attn-n)" : "set W with -gaw (--grp-attn-w)"
        case ModelError.contextExceeded:
            return "raise -c, lower -n, or use Self-Extend (-gan/-gaw)"
        case GenerationError.emptyPrompt:
            return "give a prompt with -p"
        case let GenerationError.invalidParameter(name, _, _):
            let flags = [
                "temperature": "--temp", "top-p": "--top-p", "min-p": "--min-p",
                "repetition penalty": "--repeat-penalty", "repetition window": "--repeat-last-n",
            ]
            return flags[name].map { "set it with \($0)" }
        case let EvaluationError.invalidSetting(name, _, _):
            let flags = [
                "window size": "-c", "chunks": "--chunks", "trials": "--trials", "lengths/depths": "--lengths/--depths",
                "repetitions": "-r", "prompt/generation lengths": "-p/-n",
            ]
            return flags[name].map { "set it with \($0)" }
        case EvaluationError.inputTooShort:
            return "lower -c or --chunks, or give more text"
        default:
            return nil
        }
    }

    /// `error`'s message followed by its flag hint, if it has one.
    static func message(_ error: Error) -> String {
        guard let hint = hint(for: error) else { return "\(error)" }
        return "\(error); \(hint)"
    }

    /// `error` itself when it has no hint (argument-parser errors and exits keep their meaning), else an
    /// error whose message carries the hint.
    static func withHint(_ error: Error) -> Error {
        hint(for: error) == nil ? error : HintedError(description: message(error))
    }

    /// A context plan's warning with the flags that avoid it (Self-Extend for plain attention).
    static func warning(_ plan: ContextPlan, positions: PositionMap) -> String? {
        guard let w = plan.warning else { return nil }
        return positions is PlainPositions ? w + " (use --grp-attn-n/--grp-attn-w for Self-Extend)" : w
    }
}

/// A library error's message with the flag hint appended, as printed by `stretch`.
struct HintedError: Error, CustomStringConvertible {
    let description: String
}
