#!/usr/bin/env bash
# Migration throughput: ishchat-migrate import against pgloader 3.6 on the same legacy SQLite file
# into the same cluster (leader + 1 streaming replica behind HAProxy), then the time of verify and
# of a sync after 1 % of the messages changed (half edited, half new). Prints a Markdown table.
#   bench/migration.sh                     # 1 M messages
#   bench/migration.sh 1000000 10000000    # 1 M and 10 M (10 M needs ~4 GB in /tmp and ~20 min)
# pgloader gets the three chat tables only (devices, sessions, messages), so both load the same rows;
# it copies them as SQLite typed them, without the validation ishchat-migrate does. The file is clean
# by default (DIRT=0): pgloader stops a table at its first invalid UTF-8 and fails the devices key on
# a 7/'7' duplicate, so a dirty file (e.g. DIRT=0.02) times only ishchat-migrate meaningfully.
# ishchat-migrate runs as in production: ishchat_admin, and ishchat_importer for the messages' COPY.
# LEGACY_CACHE=DIR keeps each generated file there and copies it for the next run (the same size, dirt and
# seed give the same file; 10 M messages take minutes to generate): the run changes its own copy only.
# VERIFY_AND_SYNC=0 times the two imports only (the pgloader cells then hold its wall time alone).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000}")
results=${RESULTS_DIR:-/tmp/ishchat-migration-bench-results}

for tool in pgloader sqlite3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install $tool" >&2; exit 1; }
done
bash eng/setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true

work=$(mktemp -d /tmp/ishchat-migration-bench.XXXXXX)
echo "Building (Release) and starting the cluster; scratch files in $work" >&2
dotnet build -c Release -v quiet -clp:ErrorsOnly IshChat.Migrate/IshChat.Migrate.csproj
dotnet build -c Release -v quiet -clp:ErrorsOnly IshChat.Bench.Migration/IshChat.Bench.Migration.csproj
migrate=(dotnet IshChat.Migrate/bin/Release/net10.0/ishchat-migrate.dll)

# The cluster lives as long as the harness's stdin is open: fd 3 holds it; closing it removes everything.
mkfifo "$work/hold"
dotnet IshChat.Bench.Migration/bin/Release/net10.0/IshChat.Bench.Migration.dll "$work/env" <"$work/hold" &
cluster=$!
exec 3>"$work/hold"
trap 'exec 3>&-; wait "$cluster" || true; rm -rf "$work"' EXIT
until [[ -s "$work/env" ]]; do
  kill -0 "$cluster" 2>/dev/null || { echo "the cluster did not start" >&2; exit 1; }
  sleep 1
done
# shellcheck disable=SC1091
source "$work/env"

# The leader and the replica, for their CPU time (cgroup v1, cgroupfs driver: what this machine's engine uses).
leader_ip=$(PGPASSWORD="$BENCH_PG_SUPERUSER_PASSWORD" psql -h "$BENCH_PG_HOST" -p "$BENCH_PG_PORT" -U "$BENCH_PG_SUPERUSER" -d postgres -Atc 'SELECT host(inet_server_addr())')
for id in $BENCH_NODE_CONTAINERS; do
  if docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id" | grep -qw "$leader_ip"; then leader=$id; else replica=$id; fi
done
container_cpu() { cat "/sys/fs/cgroup/cpuacct/docker/$1/cpuacct.usage" 2>/dev/null || echo 0; }
load() { cut -d' ' -f1 /proc/loadavg; }

# seconds LABEL COMMAND...: runs it, keeps its output in $work/LABEL.{out,err}, prints the wall time; appends to
# $results/cpu.md the CPU seconds of the command itself, of the leader and of the replica, and the 1-min load before and after.
seconds() {
  local label=$1 start end load0 leader0 replica0 tool
  shift
  load0=$(load); leader0=$(container_cpu "$leader"); replica0=$(container_cpu "$replica")
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err" || { echo "$label failed:" >&2; tail -20 "$work/$label.err" >&2; return 1; }
  end=$(date +%s.%N)
  tool=$(tail -1 "$work/$label.time" | awk '{print $1 + $2}')
  mkdir -p "$results"
  printf '| %s | %s | %.1f | %.1f | %.1f | %.1f | %s → %s | %s |\n' "$label" "$(date -u -d @"${start%.*}" +%H:%M:%S)" "$(echo "$end - $start" | bc)" "$tool" \
    "$(echo "($(container_cpu "$leader") - $leader0) / 1000000000" | bc -l)" "$(echo "($(container_cpu "$replica") - $replica0) / 1000000000" | bc -l)" \
    "$load0" "$(load)" "$(date -u -d @"${end%.*}" +%H:%M:%S)" >>"$results/cpu.md"
  echo "$end - $start" | bc
}

rate() { echo "scale=0; $1 / $2" | bc; }

mkdir -p "$results"
echo "| step | start (UTC) | wall (s) | tool CPU (s) | leader CPU (s) | replica CPU (s) | load (1 min) | end (UTC) |" >"$results/cpu.md"
echo "|---|---|---:|---:|---:|---:|---|---|" >>"$results/cpu.md"
echo "| messages | file (MB) | rows | ishchat-migrate import (s) | rows/s | MB/s | pgloader (s) | rows/s | MB/s | verify (s) | sync after 1 % (s) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
  db="$work/legacy-$n.db"
  if [[ -n ${LEGACY_CACHE:-} ]]; then
    cached="$LEGACY_CACHE/legacy-$n-dirt${DIRT:-0}-seed1.db"
    if [[ ! -s $cached ]]; then
      mkdir -p "$LEGACY_CACHE"
      "${migrate[@]}" generate --out "$cached.partial" --messages "$n" --dirt "${DIRT:-0}" --seed 1 --no-progress >/dev/null
      mv "$cached.partial" "$cached"
    fi
    cp "$cached" "$db"
  else
    "${migrate[@]}" generate --out "$db" --messages "$n" --dirt "${DIRT:-0}" --seed 1 --no-progress >/dev/null
  fi
  mb=$(echo "scale=1; $(stat -c %s "$db") / 1000000" | bc)
  rows=$(sqlite3 "$db" "SELECT (SELECT count(*) FROM devices) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM messages)")
  instance="bench-$n-$(date +%s)"
  args=(--sqlite "$db" --instance "$instance" --connection "$BENCH_APP_CONNECTION" --rejects "$work/rejects-$n.jsonl" --no-progress --json)

  cat >"$work/pgloader-$n.load" <<LOAD
LOAD DATABASE
  FROM sqlite://$db
  INTO pgsql://$BENCH_PG_SUPERUSER@$BENCH_PG_HOST:$BENCH_PG_PORT/pgloader_target
  WITH include drop, create tables, create indexes, reset sequences
  INCLUDING ONLY TABLE NAMES LIKE 'devices', 'sessions', 'messages';
LOAD
  ours=$(seconds "import-$n" "${migrate[@]}" import "${args[@]}" --importer-connection "$BENCH_IMPORTER_CONNECTION")
  # Keep what each tool said (the scratch folder goes when the script ends): the summary, and the time of each step.
  mkdir -p "$results" && cp "$work/import-$n.out" "$results/import-$n.json" && cp "$work/import-$n.err" "$results/import-$n.log"
  # pgloader's default 1 GB heap (SBCL) is exhausted at 10 M messages ("Heap exhausted, game over"): give it 4 GB. If it
  # fails all the same, the line says so and the rest still runs.
  if theirs=$(PGPASSWORD="$BENCH_PG_SUPERUSER_PASSWORD" seconds "pgloader-$n" pgloader --dynamic-space-size "${PGLOADER_HEAP_MB:-4096}" \
      --root-dir "$work/pgloader" "$work/pgloader-$n.load"); then
    cp "$work/pgloader-$n.out" "$results/pgloader-$n.txt"
  else
    cp "$work/pgloader-$n.err" "$results/pgloader-$n.err"
    theirs=failed
  fi
  if [[ ${VERIFY_AND_SYNC:-1} == 0 ]]; then
    echo "| $n | $mb | $rows | $ours | $(rate "$rows" "$ours") | $(echo "scale=1; $mb / $ours" | bc) | $theirs | – | – | – | – |"
    continue
  fi
  verify=$(seconds "verify-$n" "${migrate[@]}" verify "${args[@]}")

  # 1 % of the messages change: every 200th edited, one new message for every other 200th.
  sqlite3 "$db" "UPDATE messages SET body = body || ' (edited)' WHERE id % 200 = 0 AND typeof(body) = 'text';
                 INSERT INTO messages (session_id, sender_id, client_msg_id, body, created_at, deleted)
                 SELECT session_id, sender_id, NULL, 'new ' || id, created_at, 0 FROM messages WHERE id % 200 = 1;"
  sync=$(seconds "sync-$n" "${migrate[@]}" sync "${args[@]}")
  seconds "verify-after-sync-$n" "${migrate[@]}" verify "${args[@]}" >/dev/null

  if [[ $theirs == failed ]]; then
    pgloader_cells="failed | – | –"
  else
    pgloader_cells="$theirs | $(rate "$rows" "$theirs") | $(echo "scale=1; $mb / $theirs" | bc)"
  fi
  echo "| $n | $mb | $rows | $ours | $(rate "$rows" "$ours") | $(echo "scale=1; $mb / $ours" | bc) | $pgloader_cells | $verify | $sync |"
  grep -E '"(rejected_total|messages_per_s|rows_per_s)"' "$work/import-$n.out" >&2 || true
  grep -iE 'Total import time|errors' "$work/pgloader-$n.out" "$work/pgloader-$n.err" >&2 || true
done
cat "$results/cpu.md" >&2
