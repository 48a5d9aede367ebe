import Foundation
import OTPTLS

/// A certificate authority and node certificates made for one test run with the `openssl` command (Debian's
/// `openssl`, installed with libssl-dev by `make test`), in a temporary directory: P-256 keys, valid for a
/// day. Two authorities: `trusted` signs the certificates the nodes accept; `rogue` signs one they must
/// refuse.
final class TestPKI: Sendable {
    let directory: String

    /// Made once per test run.
    static let shared: TestPKI = {
        do { return try TestPKI() } catch { fatalError("cannot make the test certificates: \(error)") }
    }()

    private init() throws {
        directory = NSTemporaryDirectory() + "swift-otp-pki-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try authority("ca", subject: "/CN=swift-otp test CA")
        try authority("rogue-ca", subject: "/CN=somebody else's CA")
        // Both uses: a node is the server when called and the client when it calls.
        try leaf("node", by: "ca", names: "DNS:localhost,IP:127.0.0.1")
        try leaf("rogue", by: "rogue-ca", names: "DNS:localhost,IP:127.0.0.1")
        try leaf("elsewhere", by: "ca", names: "DNS:elsewhere.example")
        // A key under a passphrase: refused at configuration, never prompted for.
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-128-cbc",
                     "-pass", "pass:secret", "-out", path("encrypted.key")])
    }

    func path(_ file: String) -> String { directory + "/" + file }

    /// The configuration of a node presenting `leaf` (`node`, `rogue`, `elsewhere`) and trusting `ca`.
    func configuration(_ leaf: String = "node", trusting ca: String = "ca") -> TLSConfiguration {
        TLSConfiguration(certificateFile: path(leaf + ".pem"), privateKeyFile: path(leaf + ".key"),
                         trustedCAFile: path(ca + ".pem"))
    }

    /// An `-ssl_dist_optfile` for an Erlang node presenting `leaf`: both sides verify the peer, as this
    /// library does by default.
    func erlangOptionsFile(_ leaf: String = "node") throws -> String {
        let file = path("\(leaf)-ssl-dist.conf")
        let common = "{certfile, \"\(path(leaf + ".pem"))\"}, {keyfile, \"\(path(leaf + ".key"))\"}, "
            + "{cacertfile, \"\(path("ca.pem"))\"}, {verify, verify_peer}"
        let text = "[{server, [\(common), {fail_if_no_peer_cert, true}]}, {client, [\(common)]}].\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    private func authority(_ name: String, subject: String) throws {
        try openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", path(name + ".key"), "-out", path(name + ".pem"), "-days", "1", "-subj", subject,
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func leaf(_ name: String, by ca: String, names: String) throws {
        try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", path(name + ".key"), "-out", path(name + ".csr"), "-subj", "/CN=\(name)"])
        let extensions = path(name + ".ext")
        try """
            subjectAltName = \(names)
            basicConstraints = CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth, clientAuth

            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"),
                     "-CAcreateserial", "-out", path(name + ".pem"), "-days", "1", "-extfile", extensions])
    }

    private func openssl(_ arguments: [String]) throws {
        let status = ErlangPeer.run("/usr/bin/openssl", arguments)
        guard status == 0 else { throw PKIError(command: "openssl " + arguments.joined(separator: " "), status: status) }
    }

    struct PKIError: Error {
        let command: String
        let status: Int32
    }
}
