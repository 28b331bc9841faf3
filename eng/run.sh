#!/usr/bin/env bash
# The README's first command: prepares the machine (Docker engine, base image), then runs the
# AppHost, which builds the cluster's images and starts etcd, Patroni, HAProxy, PgBouncer, Redis
# and the API. Ctrl+C stops everything and removes the containers and the network; the data
# volumes stay (eng/down.sh --volumes removes them).
# Extra arguments go to the AppHost, e.g. `eng/run.sh --headless` for no dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."

# The AppHost's ready line also counts from here, so it reports the whole first run.
export ISHCHAT_RUN_STARTED_AT="${ISHCHAT_RUN_STARTED_AT:-$(date +%s)}"
bash eng/setup.sh
# On Linux the development certificate eng/setup.sh trusted counts only for processes that read
# ~/.aspnet/dev-certs/trust: with it the dashboard shows no "untrusted certificate" banner.
if [ "$(uname -s)" = Linux ]; then
  export SSL_CERT_DIR="$HOME/.aspnet/dev-certs/trust:${SSL_CERT_DIR:-$(openssl version -d 2>/dev/null | sed -E 's/^OPENSSLDIR: "(.*)"$/\1/')/certs}"
fi
echo "[run] building the solution"
started=$SECONDS
dotnet build IshChat.AppHost/IshChat.AppHost.csproj -nologo -v quiet -clp:ErrorsOnly
echo "[run] dotnet build: $(( SECONDS - started )) s"
echo "[run] starting the AppHost (dashboard: http://localhost:18888 unless --headless); it builds every missing image at once"
exec dotnet run --no-build --project IshChat.AppHost/IshChat.AppHost.csproj --launch-profile http -- "$@"
