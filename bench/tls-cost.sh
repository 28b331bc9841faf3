#!/usr/bin/env bash
# What TLS costs through the chat API (issue 10; docs/security.md): the API bench on the HA cluster
# (bench/api.sh --self-hosted cluster: API → PgBouncer → HAProxy → Patroni leader + 3 replicas) with this
# checkout (every hop TLS, verify-full) and with a checkout from before TLS (--base, default the commit
# before TLS landed), interleaved round by round so a machine getting busier or quieter weighs on both
# alike; then the medians of posts/s and post p99 and TLS's cost. The other checkout is a `git archive`
# of --base in a folder of its own (kept for the next run; no worktree, nothing in this one changes),
# built there, with its own images (content tags; ISHCHAT_KEEP_SUPERSEDED_IMAGES=1 keeps both sets).
# Every run's full report stays in the log directory it names. Run it alone on the machine.
#   bench/tls-cost.sh                         # 3 rounds × 2 builds, 16 clients, 30 s each (~12 min)
#   bench/tls-cost.sh --rounds 5 --seconds 60 --base 62f7e3a
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/api-rounds.sh

# The last commit without TLS: main when the TLS work landed on it.
base=62f7e3a rounds=3 seconds=30 clients=16 prepare_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --prepare-only) prepare_only=1; shift ;;   # unpack and build the other checkout, measure nothing
    *) echo "usage: bench/tls-cost.sh [--base REV] [--rounds N] [--seconds S] [--clients C] [--prepare-only]" >&2; exit 2 ;;
  esac
done
export ISHCHAT_KEEP_SUPERSEDED_IMAGES=1

rev=$(git rev-parse --short=12 "$base^{commit}")
plain="/tmp/ishchat-tls-cost-$rev"
if [[ ! -e $plain/.unpacked ]]; then
  echo "[tls-cost] unpacking $rev (no TLS) into $plain"
  rm -rf "$plain" && mkdir -p "$plain"
  git archive "$rev" | tar -x -C "$plain"
  touch "$plain/.unpacked"
fi
echo "[tls-cost] building both checkouts (Release)"
for tree in . "$plain"; do
  for project in IshChat.Api IshChat.MigrationService IshChat.Bench; do
    dotnet build "$tree/$project/$project.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
  done
done
((prepare_only)) && { echo "[tls-cost] prepared $plain"; exit 0; }

logs=$(mktemp -d /tmp/ishchat-tls-cost.XXXXXX)
echo "[tls-cost] $rounds rounds × tls (this checkout, $(git rev-parse --short=12 HEAD)), plain ($rev); $clients clients, $seconds s each; reports in $logs"
for round in $(seq 1 "$rounds"); do
  for variant in tls plain; do
    tree=.; [[ $variant == plain ]] && tree=$plain
    log="$logs/$variant-$round.log"
    echo "[tls-cost] round $round, $variant: load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
    bash "$tree/bench/api.sh" --self-hosted cluster --clients "$clients" --seconds "$seconds" \
      --label "$variant round $round" > "$log" 2>&1 || echo "[tls-cost] round $round, $variant FAILED (see $log)"
    api_round_line tls-cost "$round" "$variant" "$log" | tee -a "$logs/summary"
  done
done

echo
api_rounds_table "$logs/summary" build plain tls | tee "$logs/table"
awk -F'|' '{ gsub(/ /, "", $2); split($4, m, " "); posts[$2] = m[1]; split($6, q, " "); p99[$2] = q[1] } END {
  if (posts["plain"] > 0) printf "\nTLS costs %.1f %% of posts/s; post p99 %+.1f ms\n",
    100 * (1 - posts["tls"] / posts["plain"]), p99["tls"] - p99["plain"] }' "$logs/table"
