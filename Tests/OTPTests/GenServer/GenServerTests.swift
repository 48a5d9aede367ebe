import Testing
@testable import OTP

@Suite("GenServer basics")
struct GenServerBasicsTests {
    @Test("start, call and cast a counter")
    func counter() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "counter"))
        #expect(try node.call(counter, .get) == 0)
        #expect(try node.call(counter, .add(5)) == 5)
        #expect(node.cast(counter, .add(2)) == .delivered)
        #expect(try node.call(.named("counter") as ServerRef<Counter>, .get) == 7)
        try node.send(.add(1), to: counter)
        #expect(try node.call(counter, .get) == 8)
    }
}
