#!/usr/bin/env python3
"""The intake benchmark's peer: the PyPI `bullmq` package's Queue.add rate against a Redis.

Adds --jobs jobs, each a Luma guest.registered payload of the same shape and size as the ones
`reservation-bench intake` posts, with a unique jobId (BullMQ's dedupe, like Webhook-Id), from
--concurrency asyncio tasks that each await one add at a time. Prints one JSON line.
"""
import argparse
import asyncio
import importlib.metadata
import json
import time
import uuid

from bullmq import Queue


def payload(run: str, n: int, event_id: str, tickets: int) -> dict:
    """The same JSON the Swift load generator signs (LumaDelivery in Tests/DaemonTests)."""
    guest = f"gst-{run}-{n}"
    return {
        "type": "guest.registered",
        "data": {
            "id": guest, "user_id": f"usr-{guest}", "user_email": f"{guest}@example.com",
            "user_name": "Guest", "approval_status": "approved",
            "registered_at": "2026-11-28T10:30:00.000Z",
            "event_tickets": [
                {"id": f"evtticket-{guest}-{t}", "event_ticket_type_id": "ttype-ga", "name": "GA",
                 "amount": 0, "amount_discount": 0, "amount_tax": 0, "currency": None,
                 "checked_in_at": None, "is_captured": True}
                for t in range(tickets)
            ],
            "event_ticket_orders": [],
            "event": {"id": event_id, "calendar_id": "cal-test", "name": "Test event"},
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--queue", default="tp-bench-bullmq")
    parser.add_argument("--event-id", default="evt-bench-unlinked")
    parser.add_argument("--tickets", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]  # as long as the Swift side's run id: same payload size
    queue = Queue(args.queue, {"connection": args.redis_url})
    # Build every payload and id before the timed part, as the Swift side pre-signs.
    total = args.warmup + args.jobs
    jobs = [(f"{run}-{n}", payload(run, n, args.event_id, args.tickets)) for n in range(total)]
    body_bytes = len(json.dumps(jobs[0][1], separators=(",", ":")))
    next_index = args.warmup

    async def adder() -> None:
        nonlocal next_index
        while next_index < total:
            job_id, data = jobs[next_index]
            next_index += 1  # one event-loop thread: no lock needed
            await queue.add("guest.registered", data, {"jobId": job_id})

    for job_id, data in jobs[: args.warmup]:  # connection set-up and script loading
        await queue.add("guest.registered", data, {"jobId": job_id})
    start = time.perf_counter()
    await asyncio.gather(*(adder() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - start
    await queue.obliterate({"force": True})
    await queue.close()
    print(json.dumps({
        "peer": "bullmq", "version": importlib.metadata.version("bullmq"),
        "jobs": args.jobs, "concurrency": args.concurrency, "payload_bytes": body_bytes,
        "seconds": round(elapsed, 3), "rate": round(args.jobs / elapsed, 1),
    }))


if __name__ == "__main__":
    asyncio.run(main())
