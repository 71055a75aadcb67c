#!/usr/bin/env bash
# The processes of one fault run, as fault_drop.py drives them: `ctl.sh ACTION [ARG...]` with the
# run described by the environment scripts/faults exports (TP_BIN, TP_PG_*, FAULT_DIR, FAULT_API,
# FAULT_CONTROL, FAULT_REDIS_PORT, FAULT_REDIS_OPTS, FAULT_POSTGRES_URL). Actions:
#   redis-start      start the run's redis-server on its port and directory (FAULT_REDIS_OPTS: persistence)
#   daemon-start     start `traffic-police serve` (the previous log kept as daemon.log.N), wait until ready
#   webhooks JSON    send the simulator's webhooks to the daemon with JSON as the delivery settings
#   postgres-restart restart the PostgreSQL cluster (pg_ctl restart -m fast)
#   cli ARG...       run `traffic-police ARG...` with the daemon's environment
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/services.sh
. scripts/lib/drop.sh

redis_url="redis://127.0.0.1:$FAULT_REDIS_PORT"
run_env=(TRAFFIC_POLICE_REDIS_URL="$redis_url" TRAFFIC_POLICE_POSTGRES_URL="$FAULT_POSTGRES_URL"
    TRAFFIC_POLICE_PLATFORMS_MEETUP_POINTS_PER_MINUTE=5000)

action=$1
shift
case $action in
    redis-start)
        read -r -a opts <<<"${FAULT_REDIS_OPTS:-}"
        tp_redis_server "$FAULT_DIR/redis" "$FAULT_REDIS_PORT" "${opts[@]}" ;;
    daemon-start)
        if [ -f "$FAULT_DIR/daemon.log" ]; then
            n=1
            while [ -e "$FAULT_DIR/daemon.log.$n" ]; do n=$((n + 1)); done
            mv "$FAULT_DIR/daemon.log" "$FAULT_DIR/daemon.log.$n"
        fi
        tp_daemon_start "$FAULT_DIR" "$FAULT_API" "${run_env[@]}" ;;
    webhooks)
        tp_sim_webhooks "$FAULT_CONTROL" "$FAULT_DIR/webhook.sock" "$1" ;;
    postgres-restart)
        tp_pg_restart ;;
    cli)
        tp_sim_env "$FAULT_DIR" "$FAULT_API"
        exec env "${TP_SIM_ENV[@]}" "${run_env[@]}" "$TP_BIN/traffic-police" "$@" ;;
    *)
        tp_log "ctl.sh: unknown action $action"; exit 64 ;;
esac
