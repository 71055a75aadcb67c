# shellcheck shell=bash
# A platform-sim and a `traffic-police serve` wired to it, for the demo's drops. Source after
# services.sh; set TP_BIN to the release bin directory. Every process started here is recorded in
# TP_DROP_PIDS; tp_drop_stop stops them all (TERM, then KILL after 10 s).

TP_DROP_PIDS=()

# tp_sim_start DIR: starts platform-sim (seed 2026) with its output in DIR/sim.out and sets
# TP_SIM_PID, TP_SIM_API and TP_SIM_CONTROL (base URLs of the API and control listeners).
tp_sim_start() {
    local dir=$1
    mkdir -p "$dir"
    "$TP_BIN/platform-sim" serve --api-port 0 --control-port 0 --seed 2026 >"$dir/sim.out" 2>&1 &
    TP_SIM_PID=$!
    TP_DROP_PIDS+=("$TP_SIM_PID")
    for _ in $(seq 1 100); do grep -q '^{"api"' "$dir/sim.out" 2>/dev/null && break; sleep 0.1; done
    TP_SIM_API=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["api"])' "$dir/sim.out")
    TP_SIM_CONTROL=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["control"])' "$dir/sim.out")
}

# tp_sim_env DIR API: sets TP_SIM_ENV to the environment (NAME=VALUE words) that points
# traffic-police at the simulated platforms at API (base URLs, credentials), with its sockets and
# state in DIR; for the daemon and for CLI commands that talk to the platforms.
tp_sim_env() {
    local dir=$1 api=$2
    TP_SIM_ENV=(TRAFFIC_POLICE_INTAKE_SOCKET="$dir/webhook.sock" TRAFFIC_POLICE_ADMIN_SOCKET="$dir/admin.sock"
        STATE_DIRECTORY="$dir" TRAFFIC_POLICE_CONFIG=/dev/null
        TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_BASE_URL="$api/eventbrite/v3"
        TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL="$api/luma"
        TRAFFIC_POLICE_PLATFORMS_MEETUP_BASE_URL="$api/meetup/gql-ext"
        TRAFFIC_POLICE_CREDENTIAL_EVENTBRITE_TOKEN=eb-token TRAFFIC_POLICE_CREDENTIAL_LUMA_API_KEY=luma-key
        TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET=whsec_test TRAFFIC_POLICE_CREDENTIAL_MEETUP_TOKEN=meetup-token)
}

# tp_daemon_start DIR API [NAME=VALUE...]: starts `traffic-police serve` against the simulated
# platforms at API, with its sockets and state in DIR, its log in DIR/daemon.log and the extra
# environment given; waits until it is ready and sets TP_DAEMON_PID (also written to DIR/daemon.pid).
tp_daemon_start() {
    local dir=$1 api=$2
    shift 2
    mkdir -p "$dir"
    tp_sim_env "$dir" "$api"
    env "${TP_SIM_ENV[@]}" "$@" "$TP_BIN/traffic-police" serve >"$dir/daemon.log" 2>&1 &
    TP_DAEMON_PID=$!
    TP_DROP_PIDS+=("$TP_DAEMON_PID")
    echo "$TP_DAEMON_PID" >"$dir/daemon.pid"
    for _ in $(seq 1 300); do
        curl -fsS --unix-socket "$dir/webhook.sock" http://localhost/readyz >/dev/null 2>&1 && return 0
        kill -0 "$TP_DAEMON_PID" 2>/dev/null || { tp_log "the daemon exited:"; tail -n 20 "$dir/daemon.log" >&2; return 1; }
        sleep 0.1
    done
    tp_log "the daemon in $dir was not ready in 30 s"; return 1
}

# tp_sim_webhooks CONTROL SOCKET WEBHOOKS: sends Eventbrite's and Luma's webhooks to the daemon's
# intake socket, with WEBHOOKS (a JSON object: delays, duplicates, drops) as the delivery settings.
tp_sim_webhooks() {
    curl -fsS -X POST "$1/control/config" -H 'Content-Type: application/json' -d "{
      \"eventbrite\": {\"webhook\": {\"unix_socket\": \"$2\", \"path\": \"/webhooks/eventbrite\"}},
      \"luma\": {\"webhook\": {\"unix_socket\": \"$2\", \"path\": \"/webhooks/luma\"}},
      \"webhooks\": $3
    }" >/dev/null
}

# tp_drop_stop: stops every process started here, newest first.
tp_drop_stop() {
    local i pid
    for ((i = ${#TP_DROP_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${TP_DROP_PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    TP_DROP_PIDS=()
}
