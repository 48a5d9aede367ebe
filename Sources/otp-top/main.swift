// otp-top: a live, read-only view of a running swift-otp node, refreshing like `top`.
//
//   otp-top [--once] [--sort mailbox|rate|memory] [--filter TEXT] [--all] [--interval SECONDS] [SOCKET]
//
// The node serves its view with `node.startView()` (the demo: `otp-demo --view`). Without SOCKET, otp-top
// connects to the only live socket in the default directory ($XDG_RUNTIME_DIR/swift-otp or
// /tmp/swift-otp-<uid>); a socket no node listens on any more (a node that died) is removed.
// Keys: m sort by mailbox length, r by message rate, s by memory; j/k or arrows scroll a row, space/b a
// page, g to the top; / filters by name or type (Enter applies, Esc clears); i shows the runtime's internal
// processes; t folds or expands the supervision tree; q quits. The screen always fits the terminal.
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
var options = ViewOptions()
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
        options.sort = order
    case "--filter":
        guard let value = arguments.popFirst() else { fail("--filter takes a text", code: 2) }
        options.filter = value
    case "--all": options.showSystem = true
    case "--interval":
        guard let value = arguments.popFirst().flatMap(Double.init), value >= 0.1 else {
            fail("--interval takes a number of seconds, at least 0.1", code: 2)
        }
        interval = value
    case "-h", "--help":
        output("usage: otp-top [--once] [--sort mailbox|rate|memory] [--filter TEXT] [--all] [--interval SECONDS] [SOCKET]\n")
        exit(0)
    default:
        if argument.hasPrefix("-") { fail("unknown option \(argument)", code: 2) }
        socketPath = argument
    }
}

/// The only live socket in the default directory. A socket nobody listens on (its node died without closing)
/// is removed: the directory is this user's own (mode 0700), and the socket is dead.
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
    sockets = sockets.filter { path in
        do throws(ClientError) {
            _ = try ViewClient(path: path)
            return true
        } catch {
            if error.refused { unlink(path) }  // stale: no node listens there any more
            return !error.refused
        }
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
        let snapshot = try client.snapshot(limit: 50_000)
        let size = terminalSize()
        let screen = TopScreen(socket: path, snapshot: snapshot, previous: nil, options: options, width: size.width,
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
/// The filter being typed after `/`, until Enter or Esc.
var typing: String?
var page = 10
loop: while true {
    do {
        let snapshot = try client.snapshot(limit: 50_000)
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
        var screen = TopScreen(socket: path, snapshot: last, previous: previous, options: options, width: size.width,
                               height: size.height)
        screen.notice = typing.map { "filter: \($0)_   (Enter applies, Esc clears)" } ?? notice
        page = screen.pageSize
        var frame = "\u{1B}[?25l\u{1B}[H\u{1B}[2J"
        frame += screen.lines().joined(separator: "\n")
        output(frame)
    }
    // Wait for a key or the next refresh; after a key, redraw at once.
    var input = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    if poll(&input, 1, Int32(interval * 1000)) > 0 {
        var keys = [UInt8](repeating: 0, count: 16)
        let count = read(0, &keys, keys.count)
        guard count > 0 else { break loop }  // end of input
        var pending = keys[..<count]
        while let key = pending.popFirst() {
            if var text = typing {  // typing a filter
                switch key {
                case 13, 10: options.filter = text; options.scroll = 0; typing = nil
                case 27: options.filter = ""; typing = nil; pending.removeAll()
                case 127, 8: text = String(text.dropLast()); typing = text
                case 32...126: typing = text + String(UnicodeScalar(key))
                default: break
                }
                continue
            }
            switch key {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"): break loop
            case UInt8(ascii: "m"): options.sort = .mailbox
            case UInt8(ascii: "r"): options.sort = .rate
            case UInt8(ascii: "s"): options.sort = .memory
            case UInt8(ascii: "j"): options.scroll += 1
            case UInt8(ascii: "k"): options.scroll = max(0, options.scroll - 1)
            case UInt8(ascii: " "): options.scroll += page
            case UInt8(ascii: "b"): options.scroll = max(0, options.scroll - page)
            case UInt8(ascii: "g"): options.scroll = 0
            case UInt8(ascii: "/"): typing = ""
            case UInt8(ascii: "i"): options.showSystem.toggle()
            case UInt8(ascii: "t"): options.treeExpanded = options.treeExpanded == true ? false : true
            case 27:  // an arrow: ESC [ A (up) or ESC [ B (down)
                if pending.first == UInt8(ascii: "["), pending.count >= 2 {
                    pending.removeFirst()
                    let arrow = pending.removeFirst()
                    if arrow == UInt8(ascii: "A") { options.scroll = max(0, options.scroll - 1) }
                    if arrow == UInt8(ascii: "B") { options.scroll += 1 }
                }
            default: break
            }
        }
        if let last {  // keep the scroll within the table
            let rows = TopScreen(socket: path, snapshot: last, previous: previous, options: options, width: 1,
                                 height: 1).tableRows([:]).count
            options.scroll = min(options.scroll, max(0, rows - 1))
        }
    }
}
restoreTerminal()
output("\n")
