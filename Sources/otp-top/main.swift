// otp-top: a live, read-only view of a running swift-otp node, refreshing like `top`.
//
//   otp-top [--once] [--sort mailbox|rate|memory] [--interval SECONDS] [SOCKET]
//
// The node serves its view with `node.startView()` (the demo: `otp-demo --view`). Without SOCKET, otp-top
// connects to the only socket in the default directory ($XDG_RUNTIME_DIR/swift-otp or /tmp/swift-otp-<uid>).
// Keys: m sort by mailbox length, r by message rate, s by memory, q quit.
#if canImport(Glibc)
import Glibc
#endif
import OTP

/// Writes `text` to a file descriptor (standard output by default), unbuffered.
func output(_ text: String, to descriptor: Int32 = 1) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

func fail(_ text: String, code: Int32 = 1) -> Never {
    output("otp-top: \(text)\n", to: 2)
    exit(code)
}

var once = false
var sort = SortOrder.mailbox
var interval = 1.0
var socketPath: String?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--once": once = true
    case "--sort":
        guard let value = arguments.popFirst(), let order = SortOrder(rawValue: value) else {
            fail("--sort takes one of: \(SortOrder.allCases.map(\.rawValue).joined(separator: ", "))", code: 2)
        }
        sort = order
    case "--interval":
        guard let value = arguments.popFirst().flatMap(Double.init), value >= 0.1 else {
            fail("--interval takes a number of seconds, at least 0.1", code: 2)
        }
        interval = value
    case "-h", "--help":
        output("usage: otp-top [--once] [--sort mailbox|rate|memory] [--interval SECONDS] [SOCKET]\n")
        exit(0)
    default:
        if argument.hasPrefix("-") { fail("unknown option \(argument)", code: 2) }
        socketPath = argument
    }
}

/// The only socket in the default directory.
func defaultSocket() -> String {
    let directory = ViewProtocol.defaultDirectory
    var sockets: [String] = []
    if let dir = opendir(directory) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".sock") { sockets.append(directory + "/" + name) }
        }
        closedir(dir)
    }
    guard sockets.count == 1 else {
        fail(sockets.isEmpty ? "no node serves a view in \(directory) (start one with node.startView())"
                             : "several nodes serve a view; name one: \(sockets.sorted().joined(separator: " "))", code: 2)
    }
    return sockets[0]
}

let path = socketPath ?? defaultSocket()
let client: ViewClient
do {
    client = try ViewClient(path: path)
} catch {
    fail(error.description)
}

/// Terminal size, or 50 x 140 when standard output is not a terminal.
func terminalSize() -> (width: Int, height: Int) {
    var size = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return (Int(size.ws_col), Int(size.ws_row)) }
    return (140, 50)
}

if once {
    do {
        let snapshot = try client.snapshot(limit: 10_000)
        let size = terminalSize()
        let screen = TopScreen(socket: path, snapshot: snapshot, previous: nil, sort: sort, width: size.width,
                               height: size.height)
        output(screen.lines().joined(separator: "\n") + "\n")
        exit(0)
    } catch {
        fail(error.description)
    }
}

// Interactive: keys without Enter and without echo; the terminal is restored on q, on the end of input
// and on Ctrl-C.
nonisolated(unsafe) var savedTerminal = termios()
let interactive = isatty(0) != 0
func restoreTerminal() {
    if interactive { tcsetattr(0, TCSANOW, &savedTerminal) }
    output("\u{1B}[?25h")
}
if interactive {
    tcgetattr(0, &savedTerminal)
    var raw = savedTerminal
    raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
    tcsetattr(0, TCSANOW, &raw)
}
signal(SIGINT) { _ in
    tcsetattr(0, TCSANOW, &savedTerminal)
    _exit(0)
}

var previous: NodeSnapshot?
var last: NodeSnapshot?
var notice: String?
loop: while true {
    do {
        let snapshot = try client.snapshot(limit: 10_000)
        previous = last
        last = snapshot
        notice = nil
    } catch {
        if !error.notAnswering {
            restoreTerminal()
            fail(error.description)
        }
        notice = "the node is not answering: a handler holds its loop"
    }
    if let last {
        let size = terminalSize()
        var screen = TopScreen(socket: path, snapshot: last, previous: previous, sort: sort, width: size.width,
                               height: size.height)
        screen.notice = notice
        var frame = "\u{1B}[?25l\u{1B}[H\u{1B}[2J"
        frame += screen.lines().joined(separator: "\n")
        output(frame)
    }
    // Wait for a key or the next refresh.
    var input = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    if poll(&input, 1, Int32(interval * 1000)) > 0 {
        var key: UInt8 = 0
        guard read(0, &key, 1) == 1 else { break loop }  // end of input
        switch key {
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): break loop
        case UInt8(ascii: "m"): sort = .mailbox
        case UInt8(ascii: "r"): sort = .rate
        case UInt8(ascii: "s"): sort = .memory
        default: break
        }
    }
}
restoreTerminal()
output("\n")
