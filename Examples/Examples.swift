import OTP

/// The seed documents' GenServer examples, ported to Swift. Each runs on a node given to it, from the
/// node's loop thread outside any process (the demo's main code, or a test), and writes what it does to
/// `print`, so that the demo shows it and the tests assert it line by line.
public enum Examples {
    public typealias Example = (name: String, run: @Sendable (Node, (String) -> Void) throws -> Void)

    /// Every example, in the order of the seed tutorial and design document.
    public static let all: [Example] = [
        ("counter", CounterExample.run),
        ("logger", LoggerExample.run),
        ("key-value store", KeyValueStoreExample.run),
        ("delayed reply", DelayedReplyExample.run),
        ("stopping", StoppingExample.run),
        ("call timeouts", CallTimeoutExample.run),
        ("request-response server", RequestResponseExample.run),
        ("event processor", EventProcessorExample.run),
        ("debugging", DebuggingExample.run),
        ("sessions by key", SessionsExample.run),
        ("code lock", CodeLockExample.run),
        ("connection", ConnectionExample.run),
    ]
}
