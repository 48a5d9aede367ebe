#if canImport(Glibc)
import Glibc
#endif
import OTP
import OTPExamples

/// `otp-demo --node NAME [--cookie COOKIE] [--node-seconds N]`: joins a cluster as NAME (EPMD must run:
/// `epmd -daemon`) with a `counter` (`ClusterCounter`) that Erlang and Elixir shells can call. Runs until
/// interrupted, or for N seconds. The cookie is never printed: the banner names where it came from.
enum ClusterNode {
    static func run(name: String, cookie: String?, seconds: Int64?) throws {
        let node = Node()
        var started: Result<Void, DistributionError>?
        try node.startDistribution(DistributionOptions(name: name, cookie: cookie.map(CookieSource.value) ?? .default)) {
            started = $0
        }
        while started == nil { _ = node.runOnce(blocking: true) }
        try started!.get()
        _ = try node.start(ClusterCounter.self, ClusterCounter(), options: StartOptions(name: "counter"))
        let short = name.split(separator: "@").last.map(String.init) ?? "localhost"
        // Written at once (not through print's buffer): scripts wait for this line before they call.
        say("""
          \(name) is in the cluster (port \(node.distributionPort)), serving `counter`. From another terminal:
            erl -sname shell@\(short)\(cookie == nil ? "" : " -setcookie <the cookie given to --cookie>")
            1> net_adm:ping('\(name)').
            2> gen_server:call({counter, '\(name)'}, {add, 5}).

        """)
        if let seconds {
            // A process that stops the loop after `seconds` (no thread of its own).
            _ = try node.spawn(of: Never.self) { _ in
                .receive(timeout: .seconds(seconds), after: { process in
                    process.currentNode.stopLoop()
                    return .exit(.normal)
                }) { _, _ in .same }
            }
        }
        node.run()
        node.stopDistribution()
        say("  \(name) left the cluster\n")
    }

    private static func say(_ text: String) {
        fflush(nil)  // what print buffered goes first
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
    }
}
