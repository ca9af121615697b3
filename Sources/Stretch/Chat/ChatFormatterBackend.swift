/// What a ``ChatFormatter`` renders with.
public enum ChatFormatterBackend: Sendable {
    /// A Jinja template.
    case jinja(ChatTemplate)
    /// A hard-coded format.
    case builtin(BuiltinChatFormat)
}
