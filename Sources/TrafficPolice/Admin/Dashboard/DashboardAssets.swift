/// The dashboard's stylesheet and script, compiled into the binary: nothing is fetched from elsewhere.
enum DashboardAssets {
    /// Served at `/dashboard/assets/{name}`: (content type, bytes).
    static func named(_ name: String) -> (contentType: String, body: String)? {
        switch name {
        case "dashboard.css": ("text/css; charset=utf-8", css)
        case "live.js": ("text/javascript; charset=utf-8", script)
        default: nil
        }
    }

    /// Replaces the live part of an event page with each `update` the server sends; without
    /// JavaScript (or EventSource) the page is simply reloaded by hand.
    static let script = """
        (function () {
          "use strict";
          var live = document.getElementById("live");
          var status = document.getElementById("live-status");
          if (!live || !window.EventSource) { return; }
          var source = new EventSource(live.getAttribute("data-src"));
          function say(text) { if (status) { status.textContent = text; } }
          source.addEventListener("open", function () { say("Live."); });
          source.addEventListener("update", function (event) {
            live.innerHTML = event.data;
            say("Live, updated " + new Date().toLocaleTimeString() + ".");
          });
          source.addEventListener("error", function () {
            say("Live updates interrupted, reconnecting\\u2026 (reload the page to refresh)");
          });
        })();

        """

    static let css = """
        :root { --eventbrite: #f05537; --luma: #7b61ff; --meetup: #00798a; --box_office: #5a5a5a; --red: #b00020; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; background: #f6f6f4; }
        header { background: #1b1b1b; padding: .6rem 1rem; }
        header a { color: #fff; font-weight: 700; text-decoration: none; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; display: block; overflow-x: auto; }
        th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e2e2e2; vertical-align: top; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .muted { color: #666; font-size: .9em; }
        .warn { color: var(--red); font-weight: 600; }
        .badge { display: inline-block; white-space: nowrap; padding: .1rem .5rem; border-radius: 1rem; font-size: .85em; background: #ddd; }
        .badge.mode-open { background: #d7f0dc; } .badge.mode-red_alert, .badge.mode-failsafe { background: var(--red); color: #fff; }
        .badge.mode-closed { background: #444; color: #fff; }
        .banner { padding: .9rem 1rem; margin: .75rem 0; border-radius: .3rem; color: #fff; font-size: 1.05rem; }
        .banner strong { display: block; font-size: 1.2rem; }
        .banner.failsafe { background: var(--red); border: 4px solid #000; }
        .banner.red-alert { background: #d32f2f; }
        .figures { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
        .figures > div { background: #fff; padding: .4rem .8rem; border-radius: .3rem; min-width: 8rem; }
        dt { font-size: .8em; color: #666; } dd { margin: 0; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
        .bar { display: flex; height: 1.4rem; background: #e6e6e6; border-radius: .2rem; overflow: hidden; min-width: 8rem; }
        .seg { height: 100%; border-right: 1px solid #fff; background-color: var(--box_office);
          background-image: linear-gradient(rgba(255,255,255,.65), rgba(255,255,255,.65)); }
        .seg .fill { height: 100%; background-color: var(--box_office); }
        .seg.ch-eventbrite, .seg.ch-eventbrite .fill { background-color: var(--eventbrite); }
        .seg.ch-luma, .seg.ch-luma .fill { background-color: var(--luma); }
        .seg.ch-meetup, .seg.ch-meetup .fill { background-color: var(--meetup); }
        .legend { list-style: none; padding: 0; margin: .3rem 0; display: flex; flex-wrap: wrap; gap: .8rem; font-size: .85em; }
        .legend li::before { content: ""; display: inline-block; width: .8em; height: .8em; margin-right: .3em; background: var(--box_office); }
        .legend li.ch-eventbrite::before { background: var(--eventbrite); } .legend li.ch-luma::before { background: var(--luma); }
        .legend li.ch-meetup::before { background: var(--meetup); }
        .actions form { background: #fff; padding: .8rem; border-radius: .3rem; display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; }
        label span { display: block; font-size: .85em; color: #444; }
        input { font: inherit; padding: .35rem .5rem; border: 1px solid #aaa; border-radius: .2rem; }
        button { font: inherit; padding: .45rem 1rem; border: 0; border-radius: .2rem; background: #1b1b1b; color: #fff; cursor: pointer; }
        button.danger { background: var(--red); }
        .notice { padding: 1rem; border-radius: .3rem; background: #fff; border-left: 6px solid #2e7d32; }
        .notice.refused { border-left-color: var(--red); }
        .confirm { font-size: 1.15rem; font-weight: 600; }
        tr.outcome-overbooked td { color: var(--red); }
        .chart { width: 100%; height: 14rem; background: #fff; border-radius: .3rem; }
        .chart polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; stroke: var(--box_office); }
        .chart polyline.ch-eventbrite { stroke: var(--eventbrite); } .chart polyline.ch-luma { stroke: var(--luma); }
        .chart polyline.ch-meetup { stroke: var(--meetup); }
        .chart line { stroke-width: 1; vector-effect: non-scaling-stroke; }
        .chart line.soft-cap { stroke: var(--red); stroke-dasharray: 6 4; }
        .chart line.change { stroke: #bbb; } .chart line.change.red_alert { stroke: var(--red); stroke-width: 2; }
        @media (max-width: 40rem) {
          main { padding: .5rem; } .figures > div { min-width: 45%; } th, td { padding: .3rem; }
          .actions form { flex-direction: column; align-items: stretch; }
        }

        """
}
