#!/usr/bin/python3
"""scripts/test-dashboard's browser part: headless Chromium (Selenium) on the operator dashboard
through nginx, during a platform-sim ticket drop. Prints PASS/FAIL per check; exit status 1 when
any failed. Uses Debian's python3-selenium and chromium-driver (run with /usr/bin/python3)."""
import argparse, base64, json, os, subprocess, sys, time, traceback, urllib.error, urllib.parse, urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

RESULTS = {"passed": 0, "failed": []}


def check(name, ok, detail=""):
    if ok:
        RESULTS["passed"] += 1
        print(f"[test-dashboard] PASS  {name}", flush=True)
    else:
        RESULTS["failed"].append(name)
        print(f"[test-dashboard] FAIL  {name}{': ' + detail if detail else ''}", flush=True)
    return ok


def show(text):
    print(f"[test-dashboard]       {text}", flush=True)


def eventually(predicate, timeout, interval=0.2):
    """The first truthy value of predicate() within timeout seconds, else None."""
    deadline = time.time() + timeout
    while True:
        try:
            value = predicate()
        except WebDriverException:
            value = None
        if value:
            return value
        if time.time() > deadline:
            return None
        time.sleep(interval)


class Dashboard:
    def __init__(self, args):
        self.a = args
        self.auth = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400",
                     "--disable-dev-shm-usage", "--lang=en-GB"]:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(20)
        # The operator is signed in at the proxy: every request of the browser carries the credentials
        # (the EventSource's too).
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": self.auth}})

    def url(self, path=""):
        return self.a.dashboard + path

    def event_path(self):
        return f"/dashboard/events/{self.a.event}"

    def open_event(self):
        self.driver.get(self.url(self.event_path()))
        self.driver.execute_script("window.__tpNotReloaded = true;")

    def not_reloaded(self):
        return self.driver.execute_script("return window.__tpNotReloaded === true;")

    # Each read is one script, so the live stream cannot replace the part being read halfway.
    def figures(self):
        """The event page's live figures: {label: text} of the first figure list in #live."""
        return self.driver.execute_script("""
            var out = {};
            document.querySelectorAll("#live > dl.figures > div").forEach(function (d) {
              out[d.querySelector("dt").textContent] = d.querySelector("dd").textContent.trim();
            });
            return out;""")

    def platforms(self):
        """The Platforms table: {channel label: [listing, allocation, published, sold]}."""
        return self.driver.execute_script("""
            var out = {};
            document.querySelectorAll("#live h2").forEach(function (h) {
              if (h.textContent !== "Platforms") { return; }
              var table = h.nextElementSibling;
              while (table && table.tagName !== "TABLE") { table = table.nextElementSibling; }
              if (!table) { return; }
              table.querySelectorAll("tr").forEach(function (tr) {
                var cells = Array.from(tr.querySelectorAll("td")).map(function (td) { return td.textContent.trim(); });
                if (cells.length) { out[cells[0]] = cells.slice(1); }
              });
            });
            return out;""")

    def banners(self):
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('.banner')).map(function (b) { return b.className; });")

    def shot(self, name):
        path = os.path.join(self.a.screenshots, f"dashboard-{name}.png")
        self.driver.save_screenshot(path)
        show(f"screenshot {path}")

    def submit(self, action, fields):
        """Fills the form posting to `action` (a path suffix) and submits it; returns the new page's text."""
        form = self.driver.find_element(By.CSS_SELECTOR, f"form[action$='{action}']")
        for name, value in fields.items():
            field = form.find_element(By.NAME, name)
            field.clear()
            field.send_keys(str(value))
        return self.click_and_read(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def click_and_read(self, button):
        """Clicks `button` and returns the text of the page it leads to, once that has loaded."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()

        def left(_):
            # The old document is gone: chromedriver says so with a stale-element error or, during
            # the navigation, "Node with given id does not belong to the document".
            try:
                old.tag_name
                return False
            except WebDriverException:
                return True
        WebDriverWait(self.driver, 15).until(left)
        WebDriverWait(self.driver, 15).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        return self.driver.find_element(By.TAG_NAME, "body").text

    def confirm(self):
        """Clicks the confirmation page's confirming button; returns the result page's text."""
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "form button[type=submit]")
        if not buttons:
            return ""
        return self.click_and_read(buttons[0])


def http(url, method="GET", body=None, headers=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(errors="replace"), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


def control(args, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    status, text, _ = http(args.control + path, "POST" if body is not None else "GET", data,
                           {"Content-Type": "application/json"})
    return json.loads(text)


def event_show(args):
    out = subprocess.run([args.bin + "/traffic-police", "event", "show", args.event, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def box_office_sold(args):
    """Tickets the box office sold (the event's total also moves with late platform orders)."""
    return event_show(args)["platforms"]["box_office"]["sold"]


def ledger(args, sql):
    url = os.environ["TRAFFIC_POLICE_POSTGRES_URL"]
    return subprocess.run(["psql", url, "-qAtc", sql], capture_output=True, text=True, check=True).stdout.strip()


LABELS = {"eventbrite": "Eventbrite", "luma": "Luma", "meetup": "Meetup"}


def page_matches_cli(board, cli):
    """The page's figures and platform rows equal `event show --json`; returns the differences."""
    figures, rows, differences = board.figures(), board.platforms(), []
    for label, key in [("Capacity", "capacity"), ("Sold", "sold"), ("Stock", "stock"),
                       ("Safety stock", "safety_stock"), ("Free for the box office", "free_stock"),
                       ("Soft cap", "soft_cap")]:
        if figures.get(label) != str(cli[key]):
            differences.append(f"{label}: page {figures.get(label)!r}, CLI {cli[key]}")
    for platform, label in LABELS.items():
        state, row = cli["platforms"][platform], rows.get(label)
        expected = [str(state["allocation"]), str(state["published"]), str(state["sold"])]
        if row is None or row[1:4] != expected:
            differences.append(f"{label}: page {row}, CLI allocation/published/sold {expected}")
    return differences


def proxy_checks(a, page, auth):
    status, _, _ = http(page)
    check(f"without credentials {a.proxy} answers 401", status == 401, f"got {status}")
    statuses = [http(a.dashboard + path, headers=auth)[0] for path in ["/api/events/" + a.event, "/metrics"]]
    check("/api/ and /metrics are not forwarded (404)", statuses == [404, 404], f"got {statuses}")
    status, html, _ = http(page, headers=auth)
    check("without JavaScript the page has the figures (server-rendered)",
          status == 200 and "<dt>Sold</dt>" in html and "<dt>Free for the box office</dt>" in html, f"status {status}")


def drop_checks(a, board):
    """A drop: the figures change live, red alert's banner appears, the settled page equals the CLI."""
    control(a, "/control/demand/start", {
        "events": {"eventbrite": "7100001", "luma": "evt-dash", "meetup": "8100001"},
        "rate_per_second": 20, "skew": {"eventbrite": 60, "luma": 30, "meetup": 10},
        "quantity": {"min": 1, "max": 2}, "total": 500, "shape": "steady", "cancel_fraction": 0.02})
    seen, started, normal_shot = [], time.time(), False
    while time.time() - started < 90:
        sold = board.figures().get("Sold")
        if sold is not None and (not seen or seen[-1] != sold):
            seen.append(sold)
        if not normal_shot and sold not in (None, "0") and not board.banners():
            board.shot("normal")
            normal_shot = True
        if any("red-alert" in b for b in board.banners()):
            break
        time.sleep(0.25)
    show(f"Sold on the page, as it changed without a reload: {' → '.join(seen[:12])}{' …' if len(seen) > 12 else ''}")
    check("the figures change live during the drop (no reload)", len(seen) >= 4 and board.not_reloaded(),
          f"{len(seen)} values")
    red = eventually(lambda: any("red-alert" in b for b in board.banners()), 60)
    check("red alert shows its banner live", red and board.not_reloaded(), f"banners {board.banners()}")
    if red:
        show(f"banner: {board.driver.find_element(By.CSS_SELECTOR, '.banner.red-alert').text.replace(chr(10), ' / ')}")
        board.shot("red-alert")

    eventually(lambda: not control(a, "/control/demand")["running"], 120, 0.5)

    def settled():
        before = event_show(a)
        time.sleep(2)
        return before if event_show(a) == before else None
    cli = eventually(settled, 60, 0)
    eventually(lambda: not page_matches_cli(board, event_show(a)), 10)
    final = page_matches_cli(board, event_show(a))
    check("after the drop the page's figures equal `event show --json` (event and each platform)",
          cli is not None and not final, "; ".join(final) or "the ledger did not settle")
    if cli:
        show(f"event show: sold {cli['sold']} of {cli['capacity']}, mode {cli['mode']}, "
             f"free for the box office {cli['free_stock']}")


def box_office_checks(a, board):
    """A sale through the form and its confirmation page, found in the ledger."""
    operator = f"Dana via {a.proxy}"
    board.open_event()
    quantity, sold = min(2, event_show(a)["free_stock"]), box_office_sold(a)
    confirmation = board.submit("/sales", {"quantity": quantity, "operator": operator})
    check("a box-office sale asks for confirmation first",
          f"approved by {operator}?" in confirmation and box_office_sold(a) == sold, confirmation[:200])
    result = board.confirm()
    show(f"result page: {' / '.join(result.splitlines()[1:3])}")
    rows = ledger(a, f"SELECT quantity FROM box_office_sales WHERE event_id = '{a.event}' AND approved_by = '{operator}'")
    check(f"…confirmed, it is in the ledger with the operator's name ({quantity} by {operator})",
          rows == str(quantity) and box_office_sold(a) == sold + quantity, rows)


def rebalance_checks(a, board):
    """"Rebalance now…", confirmed: the page says it was requested and the daemon runs the pass."""
    board.open_event()
    board.submit("/rebalance", {"operator": "Dana Box"})
    text = board.confirm()
    check("Rebalance now, confirmed, is requested", "Rebalancing pass requested" in text, text[:160])

    def ran():
        with open(a.daemon_log, errors="replace") as log:
            return any("rebalance pass asked by an operator ran" in line and "Dana Box" in line for line in log)
    check("…and the daemon runs that pass (its log: asked by an operator ran)", eventually(ran, 10))


def cross_site_checks(a, board, page, auth):
    """Another site's form, and a POST without the form's token, are refused and sell nothing."""
    before = box_office_sold(a)
    board.driver.get(a.evil + "#" + urllib.parse.quote(page + "/sales", safe=""))
    refused = eventually(lambda: "/dashboard/" in board.driver.current_url and
                         "Refused" in board.driver.find_element(By.TAG_NAME, "body").text, 10)
    show(f"after the other site's form: {board.driver.current_url} — "
         f"{board.driver.find_element(By.TAG_NAME, 'body').text[:100]!r}")
    sold_by_mallory = ledger(a, "SELECT count(*) FROM box_office_sales WHERE approved_by = 'mallory'")
    check("a form posted from another origin is refused and sells nothing",
          refused and sold_by_mallory == "0" and box_office_sold(a) == before, f"mallory sales {sold_by_mallory}")
    board.open_event()
    cookies = {c["name"]: c["value"] for c in board.driver.get_cookies()}
    status, _, _ = http(page + "/sales", "POST", b"quantity=1&operator=eve&confirm=yes", {
        **auth, "Content-Type": "application/x-www-form-urlencoded", "Origin": a.dashboard,
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    check("a POST with the session's cookie but no token in the form is refused (403)",
          status == 403 and box_office_sold(a) == before, f"got {status}")


def failsafe_checks(a, board):
    """The operators' switch from the dashboard: banner, box office refused, and off again (by the
    CLI as well, should a step fail, so that later checks do not run in fail-safe)."""
    try:
        failsafe_steps(a, board)
    finally:
        subprocess.run([a.bin + "/traffic-police", "failsafe", "off", "--by", "test-dashboard"],
                       capture_output=True, text=True)


def failsafe_steps(a, board):
    board.open_event()
    board.submit("/dashboard/failsafe", {"operator": "Dana Box", "reason": "browser test"})
    board.confirm()
    board.open_event()
    failsafe = eventually(lambda: any("failsafe" in b for b in board.banners()), 15)
    check("fail-safe turned on from the dashboard shows its banner", failsafe, f"banners {board.banners()}")
    if failsafe:
        show(f"banner: {board.driver.find_element(By.CSS_SELECTOR, '.banner.failsafe').text.replace(chr(10), ' / ')}")
        board.shot("failsafe")
    sold = box_office_sold(a)
    board.submit("/sales", {"quantity": 1, "operator": "Dana Box"})
    text = board.confirm()
    check("in fail-safe the box office is refused and sells nothing",
          box_office_sold(a) == sold and "Not sold: fail-safe" in text, text[:160])
    board.open_event()
    board.submit("/dashboard/failsafe", {"operator": "Dana Box", "reason": "done"})
    board.confirm()
    board.open_event()
    gone = eventually(lambda: not any("failsafe" in b for b in board.banners()), 30)
    check("turned off, the fail-safe banner goes", gone, f"banners {board.banners()}")


def end_sales_checks(a, board):
    """"End sales…", confirmed: the event is closed, the daemon logs who, and every listing on the
    simulator stops selling (its capacity what it sold, Meetup's RSVPs closed); the button goes."""
    board.open_event()
    confirmation = board.submit("/close", {"operator": "Dana Box", "reason": "venue full"})
    check("End sales asks for confirmation first",
          "End the sales of" in confirmation and event_show(a)["mode"] != "closed", confirmation[:200])
    text = board.confirm()
    check("…confirmed, the sales are ended (mode closed)",
          "Sales ended" in text and event_show(a)["mode"] == "closed", text[:160])

    def logged():
        with open(a.daemon_log, errors="replace") as log:
            return any("sales ended" in line and "Dana Box" in line and "SOURCE=dashboard" in line for line in log)
    check("…logged with the operator's name (SOURCE=dashboard)", eventually(logged, 10))
    ids = {name: platform["platform_event_id"] for name, platform in event_show(a)["platforms"].items()
           if platform.get("platform_event_id")}

    def last_changes():
        last = {}
        for change in control(a, "/control/capacity-changes")["capacity_changes"]:
            if ids.get(change["platform"]) == change["event_id"]:
                last[change["platform"]] = change
        return last

    def held():
        """Tickets each listing holds now (the simulator's truth)."""
        totals = {name: 0 for name in ids}
        for sale in control(a, "/control/sales")["sales"]:
            if ids.get(sale["platform"]) == sale["event_id"]:
                totals[sale["platform"]] += sale.get("tickets_held", 0)
        return totals

    def closed():
        last, now = last_changes(), held()
        return len(last) == len(ids) and all(
            change["closed"] or (change["new"] is not None and change["new"] <= now[name]) for name, change in last.items())
    check(f"…and every listing on the simulator stops selling ({', '.join(sorted(ids))})", eventually(closed, 20),
          f"holding {held()}; last changes: " + "; ".join(
              f"{name}: {change.get('call')} {change.get('old')} → {change.get('new')}, closed {change.get('closed')}"
              for name, change in sorted(last_changes().items())))
    board.open_event()
    gone = not board.driver.find_elements(By.CSS_SELECTOR, "form[action$='/close']")
    check("a closed event's page offers no End sales button", gone)


def phone_checks(board):
    board.driver.set_window_size(390, 844)
    board.open_event()
    width = board.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    check("at a phone's width (390 px) nothing overflows sideways", width[0] <= width[1] + 1, f"{width}")
    board.shot("phone")


def main():
    p = argparse.ArgumentParser()
    for name in ["dashboard", "evil", "user", "password", "control", "event", "bin", "screenshots", "proxy",
                 "daemon-log"]:
        p.add_argument("--" + name, required=True)
    p.add_argument("--quick", action="store_true",
                   help="only the proxy's part: credentials, forwarding, the live stream, a sale, a cross-site form")
    a = p.parse_args()
    page = f"{a.dashboard}/dashboard/events/{a.event}"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{a.user}:{a.password}".encode()).decode()}
    print(f"[test-dashboard] through {a.proxy}", flush=True)

    proxy_checks(a, page, auth)
    board = Dashboard(a)
    try:
        board.open_event()
        check(f"the event page loads through {a.proxy} with basic auth",
              board.driver.find_element(By.TAG_NAME, "h1").text == "Dashboard gala", board.driver.title)
        live = eventually(lambda: board.driver.find_element(By.ID, "live-status").text.startswith("Live"), 10)
        check("the live stream is open (Server-Sent Events through the proxy)", live,
              board.driver.find_element(By.ID, "live-status").text)
        if not a.quick:
            drop_checks(a, board)
        box_office_checks(a, board)
        cross_site_checks(a, board, page, auth)
        if not a.quick:
            rebalance_checks(a, board)
            failsafe_checks(a, board)
            phone_checks(board)
            end_sales_checks(a, board)
    except Exception as error:  # a step that could not run is a failed check, reported with the rest
        traceback.print_exc()
        check("the browser session ran to the end", False,
              f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    finally:
        board.driver.quit()

    print(f"[test-dashboard] through {a.proxy}: {RESULTS['passed']} passed, {len(RESULTS['failed'])} failed", flush=True)
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
