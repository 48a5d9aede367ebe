import Logging

/// Supervisor reports through swift-log (`NodeConfiguration.logger`), as Erlang's supervisor reports:
/// child started (info), child terminated abnormally (error; quiet for `normal` and `shutdown` exits),
/// restarting (warning), start failed (error), killed after its shutdown time (warning), restart
/// intensity exceeded (critical). Metadata: `supervisor`, `child`, `pid`, `reason` and the like.
enum SupervisionLog {
    static func started<S: GenServer>(_ child: SupervisedChild, _ server: ServerContext<S>) {
        log(.info, "child started", child, server, ["pid": "\(child.pid.map(String.init(describing:)) ?? "undefined")",
                                                   "restart": "\(child.spec.restart)"])
    }

    static func terminated<S: GenServer>(_ child: SupervisedChild, pid: PID, reason: ExitReason,
                                         _ server: ServerContext<S>) {
        guard !reason.isQuiet else { return }
        log(.error, "child terminated", child, server, ["pid": "\(pid)", "reason": "\(reason)"])
    }

    static func stopped<S: GenServer>(_ child: SupervisedChild, pid: PID, reason: ExitReason,
                                      _ server: ServerContext<S>) {
        // Stopping a child by its policy ends in `shutdown` or `killed` (brutal kill); anything else is news.
        switch (reason, child.spec.shutdown) {
        case (.shutdown, _), (.noproc, _), (.killed, .brutalKill): return
        default: log(.error, "child shutdown error", child, server, ["pid": "\(pid)", "reason": "\(reason)"])
        }
    }

    static func killedAfterTimeout<S: GenServer>(_ child: SupervisedChild?, pid: PID, timeout: Timeout,
                                                 _ server: ServerContext<S>) {
        guard let child else { return }
        log(.warning, "child killed after its shutdown timeout", child, server, ["pid": "\(pid)",
                                                                                 "shutdown": "\(timeout)"])
    }

    static func restarting<S: GenServer>(_ child: SupervisedChild, strategy: RestartStrategy,
                                         _ server: ServerContext<S>) {
        log(.warning, "restarting child", child, server, ["strategy": "\(strategy)"])
        if let instruments = server.node.instruments {
            let name = server.node.registeredName(of: server.pid)
            instruments.restarted(supervisor: name ?? server.pid.description)
        }
    }

    static func backingOff<S: GenServer>(_ child: SupervisedChild, delay: Duration, _ server: ServerContext<S>) {
        log(.notice, "restarting child after its backoff", child, server, ["delay": "\(delay)"])
    }

    static func startFailed<S: GenServer>(_ child: SupervisedChild, _ error: StartError, _ server: ServerContext<S>) {
        log(.error, "child failed to start", child, server, ["reason": "\(error)"])
    }

    static func intensityExceeded<S: GenServer>(_ child: SupervisedChild?, _ intensity: RestartIntensity,
                                                _ server: ServerContext<S>) {
        var metadata = supervisorMetadata(server)
        metadata["max_restarts"] = "\(intensity.maxRestarts)"
        metadata["period"] = "\(intensity.period)"
        if let child { metadata["child"] = "\(child.spec.id)" }
        server.node.configuration.logger.critical("reached max restart intensity, shutting down",
                                                  metadata: metadata)
    }

    private static func log<S: GenServer>(_ level: Logger.Level, _ message: Logger.Message, _ child: SupervisedChild,
                                          _ server: ServerContext<S>, _ extra: Logger.Metadata) {
        var metadata = supervisorMetadata(server)
        metadata["child"] = "\(child.spec.id)"
        metadata["type"] = "\(child.spec.type)"
        metadata.merge(extra) { $1 }
        server.node.configuration.logger.log(level: level, message, metadata: metadata)
    }

    private static func supervisorMetadata<S: GenServer>(_ server: ServerContext<S>) -> Logger.Metadata {
        let name = server.node.registeredName(of: server.pid)
        return ["supervisor": "\(name.map { "\($0) " } ?? "")\(server.pid)"]
    }
}
