#!/usr/bin/env bash
# Chat API throughput and latency (docs/bench-api.md). With no --url, the bench starts each stack
# itself with Testcontainers, one after another, and runs the same workload on the same Release
# build of the API: the HA cluster (PgBouncer → HAProxy → Patroni leader + 3 replicas) and one
# plain PostgreSQL. Arguments go to the bench, e.g.
#   bench/api.sh                                   # --self-hosted cluster,single --clients 16 --seconds 30
#   bench/api.sh --self-hosted single --clients 32 --seconds 60
#   bench/api.sh --url http://localhost:5080 --admin-key "$KEY"    # against a running AppHost
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/setup.sh
export TESTCONTAINERS_RYUK_DISABLED=true

echo "[bench] building the API, the migration service and the bench (Release)"
for project in IshChat.Api IshChat.MigrationService IshChat.Bench; do
  dotnet build "$project/$project.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
done

args=("$@")
if [[ " $* " != *" --url "* && " $* " != *" --self-hosted "* ]]; then
  args=(--self-hosted cluster,leader,single "${args[@]}")
fi
exec dotnet IshChat.Bench/bin/Release/net10.0/IshChat.Bench.dll "${args[@]}"
