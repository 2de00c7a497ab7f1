/// Why a model file could not be imported. The message names the file and the problem (and, for
/// unsupported models, the feature that is not supported), so the user can act on it as is.
public struct ImportError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
