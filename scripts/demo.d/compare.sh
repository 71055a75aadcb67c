# shellcheck shell=bash
# Rebalancing compared with a static split (sourced by scripts/demo after services.sh and drop.sh,
# with TP_BIN set). Each mode gets its own platform-sim, Redis database, PostgreSQL database and
# daemon: `static` runs with TRAFFIC_POLICE_REBALANCER_INTERVAL_MS=0, `rebalancing` with the
# default interval. scripts/demo.d/compare.py creates the drops' events, runs them and prints the table.

tp_log "comparison: one platform-sim and one daemon per mode (static split, rebalancing)"
compare_modes=()
compare_db=1
for mode in static rebalancing; do
    dir=$TP_RUN_DIR/compare-$mode
    mkdir -p "$dir"
    redis_url="redis://127.0.0.1:$TP_REDIS_PORT/$compare_db"
    postgres_url="postgresql://postgres@127.0.0.1:$TP_PG_PORT/tp_$mode"
    compare_db=$((compare_db + 1))
    "$TP_PG_BIN/psql" -h 127.0.0.1 -p "$TP_PG_PORT" -U postgres -qAt -c "CREATE DATABASE tp_$mode" postgres >/dev/null
    TRAFFIC_POLICE_REDIS_URL=$redis_url TRAFFIC_POLICE_POSTGRES_URL=$postgres_url "$TP_BIN/traffic-police" migrate >/dev/null
    tp_sim_start "$dir"
    compare_modes+=(--mode "$mode,$TP_SIM_CONTROL,$TP_SIM_API,$redis_url,$postgres_url,$dir")
done

python3 scripts/demo.d/compare.py prepare --bin "$TP_BIN" "${compare_modes[@]}"

for spec in "${compare_modes[@]}"; do
    [ "$spec" = --mode ] && continue
    IFS=, read -r mode control api redis_url postgres_url dir <<<"$spec"
    interval=()
    # A drop lasts seconds, not hours: the rebalancing daemon passes every 2 s, measures velocities
    # over 10 s and looks 60 s ahead (longer than the platforms' reporting lag: webhooks up to 5 s
    # late, Eventbrite read in batches, Meetup polled). The defaults (10 s, 60 s, 300 s) suit sales
    # that run for days.
    interval=(TRAFFIC_POLICE_REBALANCER_INTERVAL_MS=2000 TRAFFIC_POLICE_REBALANCER_VELOCITY_WINDOW_MS=10000
        TRAFFIC_POLICE_REBALANCER_HORIZON_SECONDS=60)
    [ "$mode" = static ] && interval=(TRAFFIC_POLICE_REBALANCER_INTERVAL_MS=0)
    tp_log "starting the $mode daemon (log: $dir/daemon.log)"
    # Meetup's 500 points a minute would take minutes to read back a drop's waitlisted RSVPs; the
    # comparison is about quota, so both sides get ten times that.
    curl -fsS -X POST "$control/control/config" -H 'Content-Type: application/json' \
        -d '{"meetup": {"points_per_window": 5000}}' >/dev/null
    tp_daemon_start "$dir" "$api" TRAFFIC_POLICE_REDIS_URL="$redis_url" TRAFFIC_POLICE_POSTGRES_URL="$postgres_url" \
        TRAFFIC_POLICE_PLATFORMS_MEETUP_POINTS_PER_MINUTE=5000 "${interval[@]}"
    tp_sim_webhooks "$control" "$dir/webhook.sock" \
        '{"duplicate_probability": 0.05, "drop_probability": 0, "delay_ms": {"min": 100, "max": 5000}}'
done

python3 scripts/demo.d/compare.py run --bin "$TP_BIN" "${compare_modes[@]}"
