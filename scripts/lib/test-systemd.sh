# shellcheck shell=bash
# The container, the simulator and the checks of scripts/test-systemd (sourced by it; CACHE, MIRROR and
# STAMP set). The container is a booted Debian 12 in systemd-nspawn with its own network namespace.

EVENT=systemd-gala
LUMA_EVENT=evt-systemd
LUMA_SECRET=whsec_test           # the simulator's default Luma webhook secret
SIM_API=http://127.0.0.1:8700     # inside the container's network namespace
SIM_CONTROL=http://127.0.0.1:8701
WEBHOOK_SOCKET=/run/traffic-police/webhook.sock

log() { printf '[test-systemd %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
# show TEXT: a measurement or an excerpt, printed between the checks.
show() { printf '[test-systemd]       %s\n' "$*"; }

PASSED=0
FAILED=()
# check NAME COMMAND...: runs COMMAND and prints PASS or FAIL with NAME.
check() {
    local name=$1
    shift
    if "$@"; then
        PASSED=$((PASSED + 1)); printf '[test-systemd] PASS  %s\n' "$name"
    else
        FAILED+=("$name"); printf '[test-systemd] FAIL  %s\n' "$name"
    fi
}
not() { ! "$@"; }
# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds; fails (saying WHAT) after SECONDS.
wait_for() {
    local what=$1 deadline=$(($(date +%s%3N) + $2 * 1000))
    shift 2
    until "$@" 2>/dev/null; do
        if [ "$(date +%s%3N)" -ge "$deadline" ]; then log "no $what within the time allowed"; return 1; fi
        sleep 0.2
    done
}

# finish: prints the tally; exit status 0 when every check passed.
finish() {
    printf '[test-systemd] %d passed, %d failed\n' "$PASSED" "${#FAILED[@]}"
    [ "${#FAILED[@]}" -eq 0 ] || { printf '[test-systemd]   failed: %s\n' "${FAILED[@]}"; exit 1; }
}

# ---- the cached Debian tree ----

# Runs COMMAND in ROOT without booting it (the host's network), without nspawn's exit notice.
nspawn_run() {
    local root=$1
    shift
    {
        systemd-nspawn -q -D "$root" --register=no --keep-unit --as-pid2 --console=pipe \
            --setenv=DEBIAN_FRONTEND=noninteractive -- "$@" </dev/null 2>&1 >&3 3>&- \
            | { grep -v 'Attempted to remove disk file system' || true; } >&2 3>&-
        return "${PIPESTATUS[0]}"
    } 3>&1
}

build_rootfs() {
    log "building the Debian tree in $CACHE (debootstrap, then redis-server and postgresql)"
    rm -rf "$CACHE.new"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$CACHE.new" "$MIRROR" >/dev/null \
        || die "debootstrap failed"
    printf '#!/bin/sh\nexit 101\n' >"$CACHE.new/usr/sbin/policy-rc.d"
    chmod 0755 "$CACHE.new/usr/sbin/policy-rc.d"
    # The runtime libraries too, so that installing the package needs nothing from the mirror.
    nspawn_run "$CACHE.new" sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends \
            redis-server postgresql libhiredis0.14 libpq5 libcurl4 libsystemd0 && apt-get clean' \
        >"$CACHE.log" 2>&1 || { tail -n 25 "$CACHE.log" >&2; die "apt-get in the new tree failed ($CACHE.log)"; }
    rm -f "$CACHE.new/usr/sbin/policy-rc.d"
    printf '%s\n' "$STAMP" >"$CACHE.new/.tp-rootfs"
    rm -rf "$CACHE"
    mv "$CACHE.new" "$CACHE"
}

# build_simulator: prints the path of a platform-sim built like the package's binary (release, the
# Swift runtime linked in: the container has no Swift toolchain).
build_simulator() {
    log "swift build -c release --static-swift-stdlib --product platform-sim"
    swift build -c release --static-swift-stdlib --product platform-sim >"${TMPDIR:-/tmp}/tp-systemd-sim-build.log" 2>&1 \
        || { grep error "${TMPDIR:-/tmp}/tp-systemd-sim-build.log" | head -n 20 >&2; die "building platform-sim failed"; }
    printf '%s/platform-sim\n' "$(swift build -c release --show-bin-path)"
}

# ---- the container ----

NSPAWN=""
LEADER=""
OVERLAY=""
# start_container: an overlay of the cached tree in WORK/root (a copy where overlayfs is missing).
start_container() {
    WORK=$(mktemp -d /var/tmp/tp-systemd.XXXXXX)
    ROOT=$WORK/root
    mkdir -p "$WORK/upper" "$WORK/overlay-work" "$ROOT"
    trap cleanup EXIT
    trap 'exit 124' TERM INT
    if mount -t overlay overlay -o "lowerdir=$CACHE,upperdir=$WORK/upper,workdir=$WORK/overlay-work" "$ROOT" 2>/dev/null; then
        OVERLAY=1
    else
        log "no overlayfs: copying $CACHE"
        cp -a "$CACHE/." "$ROOT/"
    fi
}

ct_run() { nspawn_run "$ROOT" "$@"; }
in_ct() { nsenter -t "$LEADER" -a "$@"; }

boot_container() {
    log "booting (systemd-nspawn -b --private-network)"
    systemd-nspawn -D "$ROOT" -b --register=no --keep-unit --console=pipe --private-network \
        >"$WORK/console.log" 2>&1 &
    NSPAWN=$!
    for _ in $(seq 1 100); do
        LEADER=$(pgrep -P "$NSPAWN" -x systemd || true)
        [ -n "$LEADER" ] && break
        sleep 0.1
    done
    [ -n "$LEADER" ] || { cat "$WORK/console.log" >&2; die "the container's systemd did not start"; }
    local state=""
    for _ in $(seq 1 150); do
        state=$(in_ct systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) break ;; esac
        sleep 0.2
    done
    log "container up (systemd PID $LEADER on the host, nspawn $NSPAWN): $state"
    [ "$state" = running ] || in_ct systemctl --failed --no-pager >&2 || true
}

cleanup() {
    local rc=$?
    if [ -n "$NSPAWN" ] && [ "${TP_SYSTEMD_KEEP:-}" = 1 ]; then
        log "left running: nspawn PID $NSPAWN, root $ROOT (kill -TERM $NSPAWN; umount $ROOT; rm -rf $WORK)"
        return "$rc"
    fi
    if [ -n "$NSPAWN" ] && kill -TERM "$NSPAWN" 2>/dev/null; then
        for _ in $(seq 1 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$NSPAWN" 2>/dev/null || true
        wait "$NSPAWN" 2>/dev/null || true
    fi
    if [ -n "$OVERLAY" ]; then umount "$ROOT" 2>/dev/null || umount -l "$ROOT" 2>/dev/null || true; fi
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
    return "$rc"
}

# ---- the simulator, inside ----

start_simulator() {
    # Its user is a dynamic one in the traffic-police group, as the reverse proxy's user is.
    in_ct systemd-run --quiet --unit=platform-sim -p DynamicUser=yes -p SupplementaryGroups=traffic-police \
        /usr/local/bin/platform-sim serve --api-port 8700 --control-port 8701 --seed 2026
    wait_for "platform-sim" 20 sim_call GET /control/health >/dev/null || die "the simulator did not start"
    sim_call POST /control/config "{\"luma\": {\"webhook\": {\"unix_socket\": \"$WEBHOOK_SOCKET\", \"path\": \"/webhooks/luma\"}}}" \
        >/dev/null
}

# sim_call METHOD PATH [JSON]: the simulator's control API, from the container's network namespace.
sim_call() {
    nsenter -t "$LEADER" -n curl -fsS -X "$1" "$SIM_CONTROL$2" -H 'Content-Type: application/json' ${3:+-d "$3"}
}

# json_field A.B.C: that field of the JSON on stdin.
json_field() {
    python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(v)' "$1"
}

# ---- what the checks ask ----

# signal NAME PID: sends SIGNAME to PID (a PID of the container's namespace; the tree has no procps).
signal() { in_ct sh -c 'kill -s "$1" "$2"' sh "$1" "$2"; }

unit_state() { in_ct systemctl show -P ActiveState "$1"; }
unit_is() { test "$(unit_state "$1")" = "$2"; }

# webhook_answered ORDER: the simulator's delivery about ORDER was answered 2xx.
webhook_answered() {
    sim_call GET /control/webhooks/outcomes | python3 -c 'import json,sys
hits = [o for o in json.load(sys.stdin)["outcomes"] if o["order_id"] == sys.argv[1] and o["acknowledged"]]
sys.exit(0 if hits else 1)' "$1"
}

event_sold_is() {
    test "$(in_ct runuser -u traffic-police -- traffic-police event show "$EVENT" --json | json_field sold)" = "$1"
}

# journal_now PATTERN: an entry of the service's current run (its invocation) matches PATTERN.
journal_now() {
    in_ct journalctl -u traffic-police --no-pager -o cat \
        "_SYSTEMD_INVOCATION_ID=$(in_ct systemctl show -P InvocationID traffic-police.service)" | grep -q -- "$1"
}
journal_has() { in_ct journalctl -u traffic-police -b --no-pager -o cat | grep -q -- "$1"; }

# forged_webhook_status: the HTTP status of a Luma webhook signed with the wrong secret, sent from the
# host through the container's socket.
forged_webhook_status() {
    local body='{"type":"guest.registered","data":{"api_id":"gst-forged","event_api_id":"evt-systemd"}}'
    local t sig
    t=$(date +%s)
    sig=$(python3 -c 'import hmac,hashlib,sys
print(hmac.new(b"not-the-secret", sys.argv[1].encode(), hashlib.sha256).hexdigest())' "$t.$body")
    curl -sS -o /dev/null -w '%{http_code}' --unix-socket "/proc/$LEADER/root$WEBHOOK_SOCKET" \
        -H 'Content-Type: application/json' -H "Webhook-Signature: t=$t,v1=$sig" \
        --data-binary "$body" http://localhost/webhooks/luma
}

# stop_cleanly [UNIT...]: systemctl stop (the service and UNITs), then the unit's result is success,
# the daemon's exit status 0 and its last line "stopped".
stop_cleanly() {
    in_ct systemctl stop "$@" traffic-police.service
    local result
    result="$(in_ct systemctl show -P Result traffic-police.service)/$(in_ct systemctl show -P ExecMainCode traffic-police.service)/$(in_ct systemctl show -P ExecMainStatus traffic-police.service)"
    local last
    last=$(in_ct journalctl -u traffic-police -b --no-pager -o cat -n 1 SYSLOG_IDENTIFIER=traffic-police)
    show "after systemctl stop: Result/ExecMainCode/ExecMainStatus = $result (1 = exited); the daemon's last line: $last"
    test "$result/$last" = success/1/0/stopped
}
