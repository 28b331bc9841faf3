#!/usr/bin/env bash
# The README's first command: prepares the machine (Docker engine, base image), then runs the
# AppHost, which builds the cluster's images and starts etcd, Patroni, HAProxy, PgBouncer, Redis
# and the API. Ctrl+C stops everything and removes the containers and the network; the data
# volumes stay (eng/down.sh --volumes removes them).
# Extra arguments go to the AppHost, e.g. `eng/run.sh --headless` for no dashboard, `eng/run.sh --single`
# for one PostgreSQL instead of the HA cluster (README: when to use which).
set -euo pipefail
cd "$(dirname "$0")/.."

# The AppHost's ready line also counts from here, so it reports the whole first run.
export ISHCHAT_RUN_STARTED_AT="${ISHCHAT_RUN_STARTED_AT:-$(date +%s)}"
# The build needs neither the engine nor the base image: it runs beside eng/setup.sh (on a fresh
# machine the engine's install and debootstrap wait on the network, the build on the CPU).
mkdir -p TestResults
build_log=TestResults/run-build.log
echo "[run] building the solution beside the machine's setup (log: $build_log)"
build_started=$SECONDS
dotnet build IshChat.AppHost/IshChat.AppHost.csproj -nologo -v quiet -clp:ErrorsOnly >"$build_log" 2>&1 &
build_pid=$!
trap 'kill "$build_pid" 2>/dev/null || true' EXIT
bash eng/setup.sh
# On Linux the development certificate eng/setup.sh trusted counts only for processes that read
# ~/.aspnet/dev-certs/trust: with it the dashboard shows no "untrusted certificate" banner.
if [ "$(uname -s)" = Linux ]; then
  export SSL_CERT_DIR="$HOME/.aspnet/dev-certs/trust:${SSL_CERT_DIR:-$(openssl version -d 2>/dev/null | sed -E 's/^OPENSSLDIR: "(.*)"$/\1/')/certs}"
fi
# etcd serves its peers over TLS since issue 10, and a member keeps the peer URLs it joined with:
# the developer's etcd volumes from an older checkout (no peers-use-tls marker beside the member's
# data) can't rejoin, and each member would stop at start. Say so here, before twenty containers
# start, instead of in etcd's log; wiping is the developer's call (the volumes hold the dev data).
# Only the default volume set: a run with its own (--IshChat:Volumes:Prefix=…) starts empty.
if [[ " $* " != *"Volumes:Prefix"* && " $* " != *" --single "* ]]; then
  stale=()
  for volume in $(docker volume ls -q --filter label=io.ishchat.volume-set=ishchat | grep -E '^ishchat-etcd-[0-9]+-data$' || true); do
    docker run --rm --network none -v "$volume:/v:ro" "${ISHCHAT_BASE_IMAGE:-ishchat/debian-trixie:base}" \
      sh -c 'test ! -d /v/data/member || test -e /v/peers-use-tls' || stale+=("$volume")
  done
  if ((${#stale[@]})); then
    echo "[run] ${stale[*]}: etcd data from before etcd used TLS (plain-HTTP peer URLs); it cannot rejoin." >&2
    echo "[run] Wipe the cluster's volumes once, then run again: eng/down.sh --volumes   (this removes the dev data and backups)" >&2
    exit 1
  fi
fi
if ! wait "$build_pid"; then
  cat "$build_log" >&2
  echo "[run] dotnet build failed" >&2
  exit 1
fi
trap - EXIT
echo "[run] dotnet build: $(( SECONDS - build_started )) s (beside the setup)"
echo "[run] starting the AppHost (dashboard: http://localhost:18888 unless --headless); it builds every missing image at once"
exec dotnet run --no-build --project IshChat.AppHost/IshChat.AppHost.csproj --launch-profile http -- "$@"
