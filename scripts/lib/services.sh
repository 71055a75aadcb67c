# shellcheck shell=bash
# Throwaway Redis and PostgreSQL on free loopback ports, for tests, the demo and benchmarks.
# Source this file, call tp_install_packages (as root, on a fresh Debian machine), then
# tp_start_services; it exports TRAFFIC_POLICE_REDIS_URL and TRAFFIC_POLICE_POSTGRES_URL
# and registers tp_stop_services on EXIT, so both servers stop whatever happens.

TP_PACKAGES=(libhiredis-dev libpq-dev libcurl4-openssl-dev libsystemd-dev redis-server redis-tools
             postgresql postgresql-contrib nginx pkg-config python3 systemd)

tp_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Installs whatever of TP_PACKAGES is missing (needs root and apt-get).
tp_install_packages() {
    local missing=()
    for p in "${TP_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            tp_log "missing packages: ${missing[*]} (run as root to install them)"; return 1
        fi
        tp_log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    command -v swift >/dev/null || { [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"; }
}

# Prints a free TCP port on 127.0.0.1.
tp_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

tp_pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$d" ] || { tp_log "PostgreSQL server binaries not found"; return 1; }
    printf '%s' "$d"
}

# tp_redis_server DIR PORT [OPTION...]: starts a daemonized redis-server on 127.0.0.1:PORT with its
# files (data, redis.pid, redis.log) in DIR and persistence as the OPTIONs say (default: none), and
# waits until it answers PING.
tp_redis_server() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" \
        --logfile "$dir/redis.log" --save "" --appendonly no --maxclients 1000 "$@" >/dev/null
    for _ in $(seq 1 100); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    tp_log "redis-server on port $port did not start:"; tail -n 5 "$dir/redis.log" >&2; return 1
}

# Starts redis-server (AOF on, everysec) in TP_RUN_DIR/redis on a free port.
tp_start_redis() {
    TP_REDIS_PORT=${TP_REDIS_PORT:-$(tp_free_port)}
    tp_redis_server "$TP_RUN_DIR/redis" "$TP_REDIS_PORT" --appendonly yes --appendfsync everysec || return 1
    export TP_REDIS_PORT
    export TRAFFIC_POLICE_REDIS_URL="redis://127.0.0.1:$TP_REDIS_PORT"
    tp_log "redis-server on $TRAFFIC_POLICE_REDIS_URL"
}

# tp_pg_as COMMAND...: runs COMMAND as the postgres user when root (PostgreSQL refuses to run as root).
tp_pg_as() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# tp_pg_ctl ARGS...: pg_ctl on the throwaway cluster (its data directory and server log).
tp_pg_ctl() {
    tp_pg_as "$TP_PG_BIN/pg_ctl" -D "$TP_PG_DIR/data" -l "$TP_PG_DIR/server.log" "$@"
}

# Restarts the throwaway cluster (fast shutdown: sessions are cut, as in a real restart) on the same
# port and options.
tp_pg_restart() {
    tp_pg_ctl -m fast -w -t 60 restart >/dev/null
}

# Starts a throwaway PostgreSQL cluster (initdb as the postgres user) on a free port.
tp_start_postgres() {
    local bin; bin=$(tp_pg_bin) || return 1
    TP_PG_PORT=${TP_PG_PORT:-$(tp_free_port)}
    TP_PG_DIR="$TP_RUN_DIR/pg"
    mkdir -p "$TP_PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$TP_PG_DIR"; chmod 700 "$TP_PG_DIR"; fi
    TP_PG_BIN=$bin
    tp_pg_as "$bin/initdb" -D "$TP_PG_DIR/data" -A trust -U postgres --no-sync >"$TP_RUN_DIR/initdb.log" 2>&1 \
        || { tp_log "initdb failed:"; cat "$TP_RUN_DIR/initdb.log" >&2; return 1; }
    tp_pg_ctl -w -t 30 -o "-p $TP_PG_PORT -k $TP_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
        start >/dev/null || { tp_log "PostgreSQL did not start:"; cat "$TP_PG_DIR/server.log" >&2; return 1; }
    "$bin/psql" -h 127.0.0.1 -p "$TP_PG_PORT" -U postgres -qAt -c "CREATE DATABASE traffic_police" postgres >/dev/null
    export TP_PG_PORT TP_PG_DIR TP_PG_BIN
    export TRAFFIC_POLICE_POSTGRES_URL="postgresql://postgres@127.0.0.1:$TP_PG_PORT/traffic_police"
    tp_log "PostgreSQL on $TRAFFIC_POLICE_POSTGRES_URL"
}

tp_stop_services() {
    local rc=$?
    if [ -n "${TP_RUN_DIR:-}" ]; then
        if [ -f "$TP_RUN_DIR/redis/redis.pid" ]; then kill "$(cat "$TP_RUN_DIR/redis/redis.pid")" 2>/dev/null || true; fi
        if [ -n "${TP_PG_DIR:-}" ] && [ -d "$TP_PG_DIR/data" ]; then
            tp_pg_ctl -m immediate -w stop >/dev/null 2>&1 || true
        fi
        [ -n "${TP_KEEP_RUN_DIR:-}" ] || rm -rf "$TP_RUN_DIR"
    fi
    return $rc
}

# tp_start_services [postgres]: makes TP_RUN_DIR, starts both servers (only PostgreSQL when asked),
# and stops them on exit.
tp_start_services() {
    TP_RUN_DIR=${TP_RUN_DIR:-$(mktemp -d /var/tmp/traffic-police.XXXXXX)}
    chmod 755 "$TP_RUN_DIR"
    export TP_RUN_DIR
    trap tp_stop_services EXIT
    trap 'exit 130' INT TERM
    [ "${1:-}" = postgres ] || tp_start_redis
    tp_start_postgres
}

# Builds the release products (a no-op when they are up to date) and sets TP_BIN to their directory.
tp_build_release() {
    tp_log "building (release)"
    swift build -c release 2>&1 | grep -v 'prohibited flag' | tail -n 3
    TP_BIN=$(swift build -c release --show-bin-path)
}
