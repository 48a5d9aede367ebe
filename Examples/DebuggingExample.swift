import OTP

/// The design document's debugging section: is a server alive, the process list, finding it by name.
enum DebuggingExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let server = try node.start(CounterServer(count: 0), options: StartOptions(name: "debug_counter"))
        let pid = server.pid!
        print("is alive: \(node.isAlive(pid))")
        print("in the process list: \(node.processes().contains(pid))")
        print("whereis(\"debug_counter\") finds it: \(node.whereis("debug_counter") == pid)")
        if let info = node.processInfo(pid) {
            print("status: \(info.status), mailbox: \(info.mailboxLength), name: \(info.registeredName ?? "-")")
        }
        try node.stop(server)
        print("after stop: alive \(node.isAlive(pid)), whereis \(node.whereis("debug_counter").map(String.init(describing:)) ?? "nil")")
    }
}
