#!/usr/bin/env bash
# A region loss, timed (docs/operations.md, "Standby cluster in a second region"). Starts with Testcontainers (the same
# images and configuration as the AppHost) a primary region (3 etcd, a leader and --primary-replicas replicas, HAProxy,
# PgBouncer) and a standby region (1 etcd, 2 Patroni nodes, HAProxy, PgBouncer; Patroni's standby_cluster) on an
# inter-region network, optionally with --latency-ms one-way delay on that link (tc netem from the host, as root).
# Under --writers writers into the primary region it measures, --repeat times: the delay until a row written in the
# primary region is on the standby leader (20 samples), the promotion of the standby region after the whole primary
# region is SIGKILLed, the time from the loss to the first write the promoted region accepts (RTO), the acknowledged
# rows it lacks (RPO), and the old region's return as the fenced standby. Everything it starts is removed on exit.
#   flock -x /tmp/ishchat-machine.lock bash bench/standby.sh
#   flock -x /tmp/ishchat-machine.lock bash bench/standby.sh --latency-ms 40 --repeat 3
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case $arg in
    --repeat | --latency-ms | --primary-replicas | --writers | [0-9]*) ;;
    *) echo "usage: $0 [--repeat N] [--latency-ms MS] [--primary-replicas N] [--writers N]" >&2; exit 64 ;;
  esac
done
bash eng/setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true
exec dotnet run -c Release --project IshChat.Bench.Failover/IshChat.Bench.Failover.csproj -- --standby "$@"
