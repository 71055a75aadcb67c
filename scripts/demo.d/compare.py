#!/usr/bin/env python3
"""Rebalancing compared with a static split: the same four drops (skew 60/30/10, 10/30/60, 60/30/10
shifting to 10/30/60 after half the buyers, and 60/30/10 with the soft cap at 85%) against one
platform-sim + daemon pair per mode.

Usage: compare.py prepare|run --bin DIR --mode NAME,CONTROL,API,REDIS_URL,POSTGRES_URL,DIR [--mode ...]

`prepare` creates each drop's event (capacity 1,000, equal split), links it and creates the simulated
platform events at their allocations, before the daemons start; `run` drives the drops (those of one
mode one after another, the modes at the same time), waits for each ledger to settle and prints one
table row per drop and mode from the simulator's truth. It exits 1 when a drop oversold (Σ sold > C,
or a platform sold past what the ledger accepted or absorbed) or broke G2 at a capacity change.
TP_COMPARE_BUYERS (2000, quantities 1–2: 3,000 tickets of demand) and TP_COMPARE_RATE (67/s) size
the drops.
"""
import argparse, datetime, json, math, os, re, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drop  # noqa: E402 — the single drop's control-API call

CAPACITY = 1000
PLATFORMS = ("eventbrite", "luma", "meetup")
# (name, skew, skew after the shift, soft cap). With the default soft cap (90%) the soft cap is C − S:
# it is reached only when every platform has sold all it was given, so nothing is left to close. The
# last drop lowers it to 85%: the platforms still hold 50 unsold tickets when it is crossed, and the
# closes have something to stop.
DROPS = [
    ("60/30/10", {"eventbrite": 60, "luma": 30, "meetup": 10}, None, "0.90"),
    ("10/30/60", {"eventbrite": 10, "luma": 30, "meetup": 60}, None, "0.90"),
    ("60/30/10 → 10/30/60", {"eventbrite": 60, "luma": 30, "meetup": 10}, {"eventbrite": 10, "luma": 30, "meetup": 60}, "0.90"),
    ("60/30/10, soft cap 85%", {"eventbrite": 60, "luma": 30, "meetup": 10}, None, "0.85"),
]
BUYERS = int(os.environ.get("TP_COMPARE_BUYERS", "2000"))
RATE = float(os.environ.get("TP_COMPARE_RATE", "67"))
SETTLE_TIMEOUT = 90


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def call(base, path, body=None):
    return drop.call(base, path, body, timeout=30)


def seconds(stamp):
    """Unix seconds of a simulator timestamp (2022-10-19T03:27:13.673Z)."""
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class Mode:
    def __init__(self, spec, binary):
        self.name, self.control, self.api, self.redis, self.postgres, self.dir = spec.split(",")
        self.binary = binary
        self.env = dict(os.environ, TRAFFIC_POLICE_REDIS_URL=self.redis, TRAFFIC_POLICE_POSTGRES_URL=self.postgres,
                        TRAFFIC_POLICE_CONFIG="/dev/null")

    def event(self, index):
        return f"cmp-{self.name}-{index + 1}"

    @staticmethod
    def platform_ids(index):
        return {"eventbrite": str(7100001 + index), "luma": f"evt-cmp{index + 1}", "meetup": str(8100001 + index)}

    def cli(self, *args):
        return subprocess.run([self.binary + "/traffic-police", *args], env=self.env, capture_output=True, text=True,
                              check=True).stdout

    def show(self, event):
        return json.loads(self.cli("event", "show", event, "--json"))

    def sql(self, query):
        """The rows of `query` against the mode's database, as lists of strings."""
        psql = os.path.join(os.environ.get("TP_PG_BIN", "/usr/bin"), "psql")
        out = subprocess.run([psql, self.postgres, "-qAt", "-F", "\t", "-c", query], capture_output=True, text=True,
                             check=True, timeout=30)
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def absorbed(self, event):
        """Σ excess of the ledger's absorbed orders of the event."""
        rows = self.sql(f"SELECT coalesce(sum(excess), 0) FROM orders WHERE event_id = '{event}' AND outcome = 'absorbed'")
        return int(rows[0][0]) if rows else 0

    def red_alert_closed_ms(self, event):
        """The daemon's own figure: milliseconds from when it saw the event in red alert until every
        platform had confirmed its close (its "red alert: every platform is closed" line), or None."""
        pattern = re.compile(r"ELAPSED_MS=(\d+)")
        try:
            with open(os.path.join(self.dir, "daemon.log"), encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if "every platform is closed" in line and f"EVENT_ID={event} " in line + " ":
                        found = pattern.search(line)
                        if found:
                            return int(found.group(1))
        except OSError:
            return None
        return None

    def prepare(self):
        for index, (skew, _, _, soft_cap) in enumerate(DROPS):
            self.create_event(self.event(index), f"Comparison {skew}", CAPACITY, "eventbrite=1,luma=1,meetup=1",
                              self.platform_ids(index), soft_cap)

    def create_event(self, event, name, capacity, split, ids, soft_cap="0.90"):
        """Creates the event, links it to `ids` (platform → simulated event id) and creates the simulated
        platform events at their allocations."""
        self.cli("event", "create", event, "--name", name, "--capacity", str(capacity), "--split", split,
                 "--soft-cap", soft_cap)
        for platform in PLATFORMS:
            self.cli("event", "link", event, "--platform", platform, "--platform-event", ids[platform])
        snapshot = self.show(event)
        for platform in PLATFORMS:
            created = call(self.control, "/control/events", {
                "platform": platform, "id": ids[platform],
                "capacity": snapshot["platforms"][platform]["allocation"]})
            if "error" in created:
                sys.exit(f"{self.name}: platform-sim refused {platform} event {ids[platform]}: {created['error']}")


def held_by_platform(sales):
    held = {platform: 0 for platform in PLATFORMS}
    for sale in sales:
        held[sale["platform"]] += sale.get("tickets_held", 0)
    return held


def drive(mode, index):
    """Runs drop `index` on `mode` and returns its table row's figures."""
    skew_name, skew, skew_after, _ = DROPS[index]
    event, ids = mode.event(index), Mode.platform_ids(index)
    demand = {"events": ids, "rate_per_second": RATE, "skew": skew, "quantity": {"min": 1, "max": 2},
              "total": BUYERS, "shape": "steady", "cancel_fraction": 0}
    if skew_after:
        demand.update(skew_after=skew_after, shift_at=0.5)
    log(f"{mode.name}: drop {skew_name} ({BUYERS} buyers at {RATE:g}/s) on {event}")
    started = time.time()
    answer = call(mode.control, "/control/demand/start", demand)
    if "error" in answer:
        sys.exit(f"{mode.name}: platform-sim refused the demand: {answer['error']}")
    while call(mode.control, "/control/demand")["running"]:
        time.sleep(0.5)
    status = call(mode.control, "/control/demand")

    def mine():
        return [sale for sale in call(mode.control, "/control/sales")["sales"] if sale["event_id"] == ids[sale["platform"]]]

    deadline = time.time() + SETTLE_TIMEOUT
    while True:
        held = held_by_platform(mine())
        snapshot = mode.show(event)
        ledger = {platform: snapshot["platforms"][platform]["sold"] for platform in PLATFORMS}
        if ledger == held or time.time() > deadline:
            break
        time.sleep(1)
    if ledger != held:
        log(f"{mode.name}: {event} did not settle in {SETTLE_TIMEOUT} s: platforms {held}, ledger {ledger}")
    time.sleep(2)  # red-alert closes and the last rebalancer tick reach the platforms
    sales = sorted(mine(), key=lambda sale: sale["time"])
    changes = [change for change in call(mode.control, "/control/capacity-changes")["capacity_changes"]
               if change["event_id"] == ids[change["platform"]]]
    snapshot = mode.show(event)
    figures = measure(snapshot, sales, changes, mode.absorbed(event), status, started)
    closed_ms = mode.red_alert_closed_ms(event)
    figures["daemon_close"] = "-" if closed_ms is None else f"{closed_ms / 1000:.1f} s"
    return figures


def measure(snapshot, sales, changes, absorbed, status, started):
    capacity, safety, soft_cap = snapshot["capacity"], snapshot["safety_stock"], snapshot["soft_cap"]
    sellable = capacity - safety
    held = held_by_platform(sales)
    ledger = {platform: snapshot["platforms"][platform]["sold"] for platform in PLATFORMS}
    total = sum(held.values())
    timeline = [(seconds(sale["time"]), sale["platform"], sale.get("tickets_held", 0)) for sale in sales]

    def sold_at(platform, instant):
        return sum(tickets for at, name, tickets in timeline if name == platform and at <= instant)

    def crossing(threshold):
        running = 0
        for at, _, tickets in timeline:
            running += tickets
            if running >= threshold:
                return at
        return None

    # Published capacities over time: the allocation each simulated event was created with, then
    # every change the platforms recorded (null, or Meetup's editEvent limit 0, is unlimited).
    soft = crossing(soft_cap)
    # Each listing starts at the capacity it was created with: the first change's `old`, or for a
    # listing never changed its share of the equal split (a Luma null or a Meetup 0 is no limit).
    ordered = sorted(changes, key=lambda change: change["time"])
    published = {platform: sellable // len(PLATFORMS) for platform in PLATFORMS}
    for platform in PLATFORMS:
        first = next((change for change in ordered if change["platform"] == platform), None)
        if first is not None:
            old = first.get("old")
            published[platform] = math.inf if old is None or (platform == "meetup" and old == 0) else old
    initial = dict(published)
    closed_rsvps = False
    violations = 0
    offered_changes = {platform: [] for platform in PLATFORMS}
    for change in ordered:
        platform, instant, new = change["platform"], seconds(change["time"]), change["new"]
        call_name = change.get("call", "")
        if platform == "meetup" and "closeEventRsvps" in call_name:
            closed_rsvps = True
        elif platform == "meetup" and "openEventRsvps" in call_name:
            closed_rsvps = False
            published[platform] = math.inf if not new else new
        elif platform == "meetup":
            published[platform] = math.inf if not new else new
        else:
            published[platform] = math.inf if new is None else new
        sold = {name: sold_at(name, instant) for name in PLATFORMS}
        if change.get("sold") is not None:
            sold[platform] = change["sold"]
        offered = {name: 0 if (name == "meetup" and closed_rsvps) else published[name] for name in PLATFORMS}
        offered_changes[platform].append((instant, offered[platform]))
        # Before the soft cap nothing may come out of the safety stock; after it, closing at a count
        # that lags the platforms' own is covered by it (the late orders are absorbed).
        allowed = sellable if soft is None or instant < soft else sellable + absorbed
        if sum(max(offered[name], sold[name]) for name in PLATFORMS) > allowed:
            violations += 1

    def closed_for_good(platform):
        """When the platform stopped offering anything for good: from then on its offered capacity
        (the last change's) never exceeded what it held, whether a close or its own last sale did it."""
        offered = initial[platform]
        held_now, closed_at = 0, None
        events = [(at, 1, value) for at, value in offered_changes[platform]]
        events += [(at, 0, tickets) for at, name, tickets in timeline if name == platform]
        for at, kind, value in sorted(events, key=lambda event: (event[0], event[1])):
            if kind == 1:
                offered = value
            else:
                held_now += value
            if offered <= held_now:
                closed_at = at if closed_at is None else closed_at
            else:
                closed_at = None
        return closed_at

    if soft is None:
        close = "-"
    else:
        closes = {platform: closed_for_good(platform) for platform in PLATFORMS}
        if any(at is None for at in closes.values()):
            close = "not closed"
        else:
            close = f"{max(0.0, max(closes.values()) - soft):.1f} s"
    near_all = crossing(math.ceil(0.99 * sellable))
    return {
        "held": held, "through": total / sellable, "oversold": max(0, total - capacity),
        "past_ledger": sum(max(0, held[platform] - ledger[platform]) for platform in PLATFORMS),
        "changes": len(changes), "violations": violations, "close": close,
        "near_all": "-" if near_all is None else f"{near_all - started:.1f} s",
        "turned_away": status["refused"] + status.get("waitlisted", 0), "buyers": status["attempted"],
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("phase", choices=["prepare", "run"])
    p.add_argument("--bin", required=True)
    p.add_argument("--mode", action="append", required=True)
    a = p.parse_args()
    modes = [Mode(spec, a.bin) for spec in a.mode]
    if a.phase == "prepare":
        for mode in modes:
            mode.prepare()
        return

    results = {}

    def run_mode(mode):
        for index in range(len(DROPS)):
            results[(mode.name, index)] = drive(mode, index)

    threads = [threading.Thread(target=run_mode, args=(mode,)) for mode in modes]
    began = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(results) != len(modes) * len(DROPS):
        sys.exit("a mode did not finish its drops")
    print()
    print(f"capacity {CAPACITY}, safety stock 10% (C − S = 900), soft cap 900 unless the row says otherwise, equal split; {BUYERS} buyers of 1–2 "
          f"tickets at {RATE:g}/s per drop; webhooks delayed 100–5000 ms, 5% duplicated ({time.time() - began:.0f} s)")
    print()
    print("| mode | skew | eventbrite | luma | meetup | sell-through | oversold | past the ledger | "
          "G2 violations / capacity changes | soft cap → all closed | red alert → all closed (daemon) | "
          "99% of C − S | turned away |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    for index, (skew, _, _, _) in enumerate(DROPS):
        for mode in modes:
            r = results[(mode.name, index)]
            held = r["held"]
            print(f"| {mode.name} | {skew} | {held['eventbrite']} | {held['luma']} | {held['meetup']} | "
                  f"{100 * r['through']:.1f}% | {r['oversold']} | {r['past_ledger']} | {r['violations']} / {r['changes']} | "
                  f"{r['close']} | {r['daemon_close']} | {r['near_all']} | {r['turned_away']} of {r['buyers']} |")
            failed = failed or r["oversold"] > 0 or r["past_ledger"] > 0 or r["violations"] > 0
    print()
    print("no drop oversold or offered more than C − S:", "NO" if failed else "yes")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
