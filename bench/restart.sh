#!/usr/bin/env bash
# Times a restart with data: `eng/run.sh --headless` on a volume set of its own, a table written
# on the leader, then Ctrl+C (SIGTERM to the run's process group, handled the same) and
# `eng/run.sh --headless` again (which rebuilds nothing but still runs `dotnet build`).
# Measures Ctrl+C -> every container gone, and the second start -> the AppHost's ready line, and checks
# the second run is the same cluster: same system identifier, the table's rows, no bootstrap.
# Its volumes (set ishchat-bench-restart-<pid>) are removed at the end; no other volume is touched.
# Host ports are left to Docker, so it runs beside another AppHost. Prints one line:
#   "stop <s> start <s> total <s>". Figures: docs/backup.md ("Restart with volumes").
set -euo pipefail
cd "$(dirname "$0")/.."

export IshChat__Volumes__Prefix="ishchat-bench-restart-$$"
for port in PgBouncer HAProxyReadWrite HAProxyReadOnly HAProxyStats Redis Prometheus Alertmanager Grafana PatroniRestFirstNode EtcdClientFirstMember; do
  export "IshChat__HostPorts__$port="
done
rows=${ROWS:-100000}
run=""

say() { echo "[restart] $*" >&2; }
containers_of_set() { docker ps -aq --filter "volume=$IshChat__Volumes__Prefix-pg-0-data" --filter "volume=$IshChat__Volumes__Prefix-etcd-0-data"; }
leader() {
  local c
  for c in $(docker ps -q --filter label=io.ishchat.component=patroni); do
    docker inspect -f '{{range .Mounts}}{{.Name}} {{end}}' "$c" | grep -q "$IshChat__Volumes__Prefix-pg-" || continue
    [ "$(docker exec "$c" psql -Atc 'select pg_is_in_recovery()' 2>/dev/null)" = f ] && { echo "$c"; return; }
  done
  return 1
}
start() {
  log=$(mktemp /tmp/ishchat-restart.XXXXXX.log)
  setsid bash eng/run.sh --headless >"$log" 2>&1 &
  run=$!
  until grep -q "IshChat cluster ready after" "$log"; do
    kill -0 "$run" 2>/dev/null || { tail -n 30 "$log" >&2; say "eng/run.sh ended before the ready line (log: $log)"; exit 1; }
    sleep 1
  done
}
stop() {
  [ -n "$run" ] || return 0
  # SIGTERM, which the AppHost handles as Ctrl+C: a background job of a script ignores SIGINT.
  kill -TERM -- "-$run" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$run" 2>/dev/null || break; sleep 1; done
  # The orchestrator removes the containers a little after the AppHost exits.
  for _ in $(seq 1 300); do [ -z "$(containers_of_set)" ] && break; sleep 1; done
  [ -z "$(containers_of_set)" ] || { say "error: the first run's containers are still there after 10 minutes"; exit 1; }
  run=""
}
cleanup() {
  stop
  # A container the orchestrator is still removing holds its volume a moment longer.
  for _ in $(seq 1 60); do
    docker volume ls -q --filter "label=io.ishchat.volume-set=$IshChat__Volumes__Prefix" | xargs -r docker volume rm >/dev/null 2>&1 && break
    sleep 2
  done
  docker volume ls -q --filter "label=io.ishchat.volume-set=$IshChat__Volumes__Prefix" | grep . >&2 && say "warning: volumes left behind (above)" || true
}
trap cleanup EXIT

say "first run on volume set $IshChat__Volumes__Prefix"
start
sql() { docker exec "$(leader)" psql -d ishchat -Atc "$1"; }
sql "create table bench_restart as select g as id from generate_series(1, $rows) g" >/dev/null
system_before=$(sql "select system_identifier from pg_control_system()")
say "wrote $rows rows; system identifier $system_before"

interrupted=$(date +%s.%N)
stop
stopped=$(date +%s.%N)
start
ready=$(date +%s.%N)

system_after=$(sql "select system_identifier from pg_control_system()")
count_after=$(sql "select count(*) from bench_restart")
[ "$system_after" = "$system_before" ] || { say "error: system identifier changed: $system_before -> $system_after"; exit 1; }
[ "$count_after" = "$rows" ] || { say "error: $count_after rows after the restart, expected $rows"; exit 1; }
grep -E "IshChat cluster ready" "$log" | sed -E 's/(streaming replicas\.).*/\1/' >&2 || true
grep -E "^\[run\] dotnet build" "$log" >&2 || true
say "same system identifier, $count_after rows"
awk -v a="$interrupted" -v b="$stopped" -v c="$ready" 'BEGIN { printf "stop %.0f start %.0f total %.0f\n", b - a, c - b, c - a }'
