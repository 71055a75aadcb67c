import TrafficPoliceCore
import NIOCore
import NIOHTTP1

/// Drives one keep-alive connection of an intake run on its event loop: sends pre-signed requests
/// (open loop: when due; closed loop: back to back), matches answers to requests in order, and
/// closes the channel when its share is done or the grace time is over.
final class IntakeConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let plan: IntakePlan
    private let connection: Int
    private let sink: Locked<IntakeTally>
    private var tally = IntakeTally()
    /// Requests sent and not yet answered, oldest first, with the time their latency counts from.
    private var inFlight = CircularBuffer<NIODeadline>()
    /// Open loop: requests due but not sent because `depth` are in flight.
    private var backlog = CircularBuffer<(index: Int, due: NIODeadline)>()
    private var status: UInt = 0
    private var t0 = NIODeadline.distantFuture
    private var nextIndex: Int
    private var exhausted = false
    private var finished = false
    private var tick: Scheduled<Void>?
    private var deadline: Scheduled<Void>?

    init(plan: IntakePlan, connection: Int, sink: Locked<IntakeTally>) {
        self.plan = plan
        self.connection = connection
        self.sink = sink
        self.nextIndex = connection
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? IntakeStart else { return context.fireUserInboundEventTriggered(event) }
        t0 = start.t0
        let loop = context.eventLoop.assumeIsolated()
        deadline = loop.scheduleTask(deadline: t0 + plan.duration + plan.grace) { self.finish(context) }
        tick = loop.scheduleTask(deadline: t0) { self.onTick(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status.code
        case .body: break
        case .end:
            let now = NIODeadline.now()
            guard let from = inFlight.popFirst() else {
                tally.errors.append("connection \(connection): an answer with no request")
                return finish(context)
            }
            tally.latencies.append((now - from).nanoseconds)
            tally.statuses[status, default: 0] += 1
            tally.lastAnswer = now
            pump(context)
            finishIfDone(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { tally.errors.append("connection \(connection): closed by the server") }
        finish(context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tally.errors.append("connection \(connection): \(error)")
        finish(context)
    }

    // MARK: Sending

    /// Open loop: queues what is due, sends, and sleeps until the next due time.
    private func onTick(_ context: ChannelHandlerContext) {
        tick = nil
        if case .open = plan.mode {
            let now = NIODeadline.now()
            while nextIndex < plan.requests.count, plan.due(nextIndex, from: t0) <= now {
                backlog.append((nextIndex, plan.due(nextIndex, from: t0)))
                nextIndex += plan.connections
            }
            exhausted = nextIndex >= plan.requests.count
            if !exhausted {
                let at = plan.due(nextIndex, from: t0)
                tick = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { self.onTick(context) }
            }
        }
        pump(context)
        finishIfDone(context)
    }

    /// Fills the connection up to `depth` requests in flight.
    private func pump(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        var wrote = false
        fill: while inFlight.count < plan.depth {
            let now = NIODeadline.now()
            let index: Int
            let from: NIODeadline
            switch plan.mode {
            case .open:
                guard let next = backlog.popFirst() else { break fill }
                index = next.index
                from = next.due
                tally.maxSendLag = max(tally.maxSendLag, (now - next.due).nanoseconds)
            case .closed:
                guard now < t0 + plan.duration, let next = plan.take() else { exhausted = true; break fill }
                index = next
                from = now
            }
            send(plan.requests[index], context: context)
            inFlight.append(from)
            wrote = true
        }
        if wrote { context.flush() }
    }

    private func send(_ request: IntakeRequest, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
    }

    // MARK: Ending

    private func finishIfDone(_ context: ChannelHandlerContext) {
        if exhausted, backlog.isEmpty, inFlight.isEmpty { finish(context) }
    }

    /// Counts what is left as unanswered, hands the tally over once, and closes the channel.
    private func finish(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        tick?.cancel()
        deadline?.cancel()
        tally.unanswered += inFlight.count + backlog.count
        if case .open = plan.mode, nextIndex < plan.requests.count {
            tally.unanswered += (plan.requests.count - 1 - nextIndex) / plan.connections + 1
        }
        let mine = tally
        sink.withLock { $0.merge(mine) }
        context.close(promise: nil)
    }
}
