#!/usr/bin/env bash
# The chaos matrix (docs/failover.md, "Chaos matrix"): starts the whole AppHost (the test suite's fixture: random
# ports, volumes of its own, removed afterwards), runs the API load (posts, read-backs with the consistency token,
# cursor polls) and hits each component in turn: SIGKILL, a freeze longer than the lease, a cut from the network.
# Prints one markdown table (component × fault → client-visible errors, longest write and read pause, acknowledged
# posts lost, duplicates, sequence numbers reused, messages a cursor poll missed, goal met) and exits non-zero when
# a row misses its goal. About a minute a row; the full matrix is 34 rows (asynchronous), 37 (on) or 34 (quorum: every replica is a quorum standby).
#   bench/chaos.sh                                  # quorum commit, ANY 1 (the AppHost's default), every row
#   bench/chaos.sh --mode off                       # asynchronous replication
#   bench/chaos.sh --rows "leader,kill redis"       # only rows whose name contains one of these
# Run it alone on the machine (flock -x /tmp/ishchat-machine.lock bash bench/chaos.sh …): faults are timed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=quorum  # the AppHost's default
rows=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) mode="${2:?--mode takes off, on or quorum}"; shift 2 ;;
    --rows) rows="${2:?--rows takes a comma-separated list of name parts}"; shift 2 ;;
    *) echo "[chaos] unknown argument '$1' (use --mode off|on|quorum, --rows FILTER)" >&2; exit 2 ;;
  esac
done
case "$mode" in
  off|on|quorum) ;;
  *) echo "[chaos] --mode must be off, on or quorum, not '$mode'" >&2; exit 2 ;;
esac

bash eng/setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true
# Read by the AppHost (IshChat:SynchronousMode), by the benchmark test that runs the matrix, and for its table.
export IshChat__SynchronousMode="$mode" ISHCHAT_CHAOS_BENCH=1 ISHCHAT_CHAOS_ROWS="$rows"
mkdir -p TestResults
export ISHCHAT_CHAOS_TABLE="$PWD/TestResults/chaos-$mode.md"
rm -f "$ISHCHAT_CHAOS_TABLE"

echo "[chaos] building the tests (the AppHost, the API and the services come with them)"
dotnet build IshChat.Tests/IshChat.Tests.csproj -nologo -v quiet -clp:ErrorsOnly

echo "[chaos] replication '$mode', rows '${rows:-all}'; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
dotnet test IshChat.Tests/IshChat.Tests.csproj --no-build -nologo \
  --filter "FullyQualifiedName~IshChat.Tests.Chaos.ChaosMatrixBenchmark" \
  --logger "console;verbosity=detailed" || status=$?
echo "[chaos] load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# HACK: an API replica's launcher is `dotnet run`; a kill that misses the API under it orphans the API, which then
# outlives the AppHost (seen before the rows killed the whole tree: docs/failover.md). A safety net: only this checkout's
# own API binary, orphaned (parent 1), is stopped, by pid.
api_binary="$PWD/IshChat.Api/bin/Debug/net10.0/IshChat.Api"
for proc in /proc/[0-9]*; do
  [ "$(readlink "$proc/exe" 2>/dev/null)" = "$api_binary" ] || continue
  [ "$(awk '{print $4}' "$proc/stat" 2>/dev/null)" = 1 ] || continue
  echo "[chaos] stopping an orphaned API replica left by the AppHost (pid ${proc#/proc/})"
  kill -KILL "${proc#/proc/}" 2>/dev/null || true
done
echo
if [ -f "$ISHCHAT_CHAOS_TABLE" ]; then
  cat "$ISHCHAT_CHAOS_TABLE"
else
  echo "[chaos] no table: the AppHost did not start or no row finished (see above)" >&2
  [ "$status" -ne 0 ] || status=1
fi
[ "$status" -eq 0 ] || echo "[chaos] FAILED: a row missed its goal, or the run did not finish (exit $status)" >&2
exit "$status"
