import OTP

/// The code lock of Erlang's gen_statem guide: buttons unlock the door when they spell the code; the door
/// locks itself again after a state timeout; a half-typed code is forgotten after an event timeout; a
/// button pressed while the door is open is postponed until it locks.
public struct CodeLock: StateMachine {
    public enum State: Sendable, Equatable { case locked, open }
    public enum Cast: Sendable { case button(Int) }
    public enum Call: Sendable { case status }
    public typealias Reply = String
    public enum TimeoutEvent: Sendable { case lock, forget }
    public static var enterCalls: Bool { true }

    public let code: [Int]
    public var pressed: [Int] = []
    /// What the door did, for the example's output.
    public var log: [String] = []
    public let openTime: Timeout

    public static func initialize(_ argument: (code: [Int], openTime: Timeout), _ machine: MachineContext<CodeLock>)
        throws -> MachineStart<CodeLock>
    {
        .ok(CodeLock(code: argument.code, openTime: argument.openTime), .locked)
    }

    public mutating func handleEvent(_ event: StateMachineEvent<CodeLock>, in state: State,
                                     _ machine: MachineContext<CodeLock>) throws -> Transition<CodeLock>
    {
        switch (state, event) {
        case (.locked, .enter):
            pressed = []
            log.append("locked")
            return .keep
        case (.locked, .cast(.button(let digit))):
            pressed.append(digit)
            if pressed == code { return .next(.open) }
            if pressed.count >= code.count {
                log.append("wrong code")
                pressed = []
                return .keep
            }
            return .keep(.eventTimeout(.seconds(30), .forget))  // a pause forgets a half-typed code
        case (.locked, .eventTimeout(.forget)):
            pressed = []
            return .keep
        case (.open, .enter):
            log.append("open")
            return .keep(.stateTimeout(openTime, .lock))
        case (.open, .stateTimeout(.lock)):
            return .next(.locked)
        case (.open, .cast(.button)):
            return .keep(.postpone)  // handled once the door has locked
        case (_, .call(.status, let caller)):
            return .keep(.reply(caller, "\(state)"))
        default:
            return .keep
        }
    }
}

enum CodeLockExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let lock = try node.startMachine(CodeLock.self, (code: [1, 2, 3], openTime: .milliseconds(100)))
        for digit in [1, 2, 3] { node.cast(lock, .button(digit)) }
        print("after 1 2 3: \(try node.call(lock, .status))")
        node.cast(lock, .button(9))  // pressed while open: postponed
        print("a button while open is postponed: \(try node.call(lock, .status))")
        // The door locks itself after its open time; the postponed button then counts.
        if node.configuration.clock == .manual { node.advance(by: .milliseconds(150)) } else { node.run(for: .milliseconds(150)) }
        print("after the open time: \(try node.call(lock, .status)), pressed since: \(try node.getState(lock).data.pressed)")
        for digit in [2, 3] { node.cast(lock, .button(digit)) }  // 9 2 3: wrong
        print("door: \(try node.getState(lock).data.log.joined(separator: ", "))")
        try node.stop(lock)
    }
}
