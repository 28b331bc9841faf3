#!/usr/bin/env bash
# Failover timings: starts the cluster with Testcontainers (same images and configuration as the
# AppHost), repeats each fault (default 10 times) and prints min/median/max time from the fault to
# the first write acknowledged through PgBouncer. Arguments go to the bench, e.g.
#   bench/failover.sh --repeat 10 --faults kill,crash,switchover,stop
#   bench/failover.sh --repeat 5 --faults kill --lease-only     # without the dead-leader key release
#   bench/failover.sh --repeat 1 --faults switchover --trace    # where the seconds go: failed writes, node logs
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true
exec dotnet run -c Release --project IshChat.Bench.Failover/IshChat.Bench.Failover.csproj -- "$@"
