#!/usr/bin/env bash
# The README's first command: prepares the machine (Docker engine, base image), then runs the
# AppHost, which builds the cluster's images and starts etcd, Patroni, HAProxy, PgBouncer, Redis
# and the API. Ctrl+C stops everything and removes the containers and the network.
# Extra arguments go to the AppHost, e.g. `eng/run.sh --headless` for no dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."

bash eng/setup.sh
echo "[run] building the solution"
dotnet build IshChat.AppHost/IshChat.AppHost.csproj -nologo -v quiet -clp:ErrorsOnly
echo "[run] starting the AppHost (dashboard: http://localhost:18888 unless --headless)"
exec dotnet run --no-build --project IshChat.AppHost/IshChat.AppHost.csproj --launch-profile http -- "$@"
