#!/usr/bin/env bash
# Replica add and remove, timed on a generated chat database (docs/operations.md, "Replicas added and removed").
# Starts the cluster with Testcontainers (same images and configuration as the AppHost): a leader, --base-replicas
# replicas (default 1: the clone source) and one spare slot; fills it with bench/chat-data.sql (--rows messages,
# default 2,500,000 ≈ 1 GB: the generator bench/backup.sh uses); then, under the Jepsen-style writers, adds a replica
# (cloned from a replica until it streams within the lag limit and HAProxy routes reads to it) and removes it again
# (drained in HAProxy, stopped, gone from Patroni, its slot dropped), --repeat times (default 1). Prints each step, a
# table, the writes' outcome and the machine's load before and after. Everything it starts is removed on exit.
#   flock -x /tmp/ishchat-machine.lock bash bench/replicas.sh                  # ~1 GB
#   flock -x /tmp/ishchat-machine.lock bash bench/replicas.sh --rows 100000    # a quick check of the path
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case $arg in
    --rows | --instances | --base-replicas | --repeat | [0-9]*) ;;
    *) echo "usage: $0 [--rows N] [--instances N] [--base-replicas N] [--repeat N]" >&2; exit 64 ;;
  esac
done
bash eng/setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true
exec dotnet run -c Release --project IshChat.Bench.Failover/IshChat.Bench.Failover.csproj -- --replicas "$@"
