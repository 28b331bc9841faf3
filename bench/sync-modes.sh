#!/usr/bin/env bash
# What synchronous replication costs through the chat API (issue 11, item 7; docs/failover.md): the API bench on the
# HA cluster in asynchronous, synchronous (one named standby) and quorum (ANY 1) mode, the modes interleaved round by
# round so that a machine getting busier or quieter during the run weighs on each mode alike, then one table of the
# medians per mode and quorum's cost relative to asynchronous (the issue's rule: quorum becomes the default if it
# costs < 10 % of posts/s). Every run's full report stays in the log directory it names.
#   bench/sync-modes.sh                      # 3 rounds × 3 modes, 16 clients, 30 s each (~15 min)
#   bench/sync-modes.sh --rounds 5 --seconds 60
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/api-rounds.sh

rounds=3 seconds=30 clients=16
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    *) echo "usage: bench/sync-modes.sh [--rounds N] [--seconds S] [--clients C]" >&2; exit 2 ;;
  esac
done

logs=$(mktemp -d /tmp/ishchat-sync-modes.XXXXXX)
echo "[sync-modes] $rounds rounds × off, on, quorum; $clients clients, $seconds s each; reports in $logs"
for round in $(seq 1 "$rounds"); do
  for mode in off on quorum; do
    log="$logs/$mode-$round.log"
    echo "[sync-modes] round $round, $mode: load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
    bash bench/api.sh --self-hosted cluster --synchronous "$mode" --clients "$clients" --seconds "$seconds" \
      --label "synchronous=$mode round $round" > "$log" 2>&1 || echo "[sync-modes] round $round, $mode FAILED (see $log)"
    api_round_line sync-modes "$round" "$mode" "$log" | tee -a "$logs/summary"
  done
done

echo
api_rounds_table "$logs/summary" replication off on quorum | tee "$logs/table"
awk -F'|' '{ gsub(/ /, "", $2); split($4, m, " "); median[$2] = m[1] } END {
  if (median["off"] > 0) printf "\nquorum costs %.1f %% of asynchronous posts/s, synchronous %.1f %%\n",
    100 * (1 - median["quorum"] / median["off"]), 100 * (1 - median["on"] / median["off"]) }' "$logs/table"
